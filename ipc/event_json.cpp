#include "ipc/event_json.hpp"

#include <ctime>

namespace dualsp::ipc {

std::string isoTime(int64_t ms) {
  time_t seconds = static_cast<time_t>(ms / 1000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
  return text;
}

EventJson eventRecordJson(const proto::Event& e) {
  EventJson args = EventJson::array();
  for (const auto& a : e.args()) args.push_back(a);
  EventJson record{{"EventId", std::to_string(e.id())},
                   {"EventTimestamp", isoTime(e.time_ms())},
                   {"MessageSeverity", e.severity().empty() ? "OK" : e.severity()},
                   {"Message", e.message()},
                   {"MessageId", e.message_id()},
                   {"MessageArgs", std::move(args)}};
  if (!e.origin().empty()) record["OriginOfCondition"] = {{"@odata.id", e.origin()}};
  return record;
}

EventJson eventPayloadJson(const std::vector<proto::Event>& events, const std::string& context) {
  EventJson records = EventJson::array();
  for (const auto& e : events) records.push_back(eventRecordJson(e));
  std::string id = events.empty() ? "0" : std::to_string(events.back().id());
  EventJson payload{
      {"@odata.type", "#Event.v1_13_0.Event"}, {"Id", id}, {"Name", "DualSP array events"}};
  if (!context.empty()) payload["Context"] = context;
  payload["Events"] = std::move(records);
  return payload;
}

EventJson logEntryJson(const proto::Event& e, const std::string& entries_uri) {
  EventJson args = EventJson::array();
  for (const auto& a : e.args()) args.push_back(a);
  std::string id = std::to_string(e.id());
  EventJson entry{{"@odata.id", entries_uri + "/" + id},
                  {"@odata.type", "#LogEntry.v1_21_0.LogEntry"},
                  {"Id", id},
                  {"Name", "Array event " + id},
                  {"EntryType", "Event"},
                  {"Severity", e.severity().empty() ? "OK" : e.severity()},
                  {"Created", isoTime(e.time_ms())},
                  {"Message", e.message()},
                  {"MessageId", e.message_id()},
                  {"MessageArgs", std::move(args)}};
  // LogEntry keeps it under Links (an EventRecord has it at the top).
  if (!e.origin().empty()) entry["Links"] = {{"OriginOfCondition", {{"@odata.id", e.origin()}}}};
  if (e.restored()) entry["Oem"] = {{"DualSP", {{"Restored", true}}}};
  return entry;
}

}  // namespace dualsp::ipc
