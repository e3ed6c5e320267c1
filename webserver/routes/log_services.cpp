// /redfish/v1/Managers/{ManagerId}/LogServices: each SP's log (the syslog-style lines of spd
// and spweb, platform/log.hpp), read through spd with GetLog. Part of the rescue subset: an
// unhealthy SP's log is where it says why.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "ipc/event_json.hpp"
#include "platform/log.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kLogServiceCollectionType = "#LogServiceCollection.LogServiceCollection";
constexpr std::string_view kLogServiceType = "#LogService.v1_8_0.LogService";
constexpr std::string_view kLogEntryCollectionType = "#LogEntryCollection.LogEntryCollection";
constexpr std::string_view kLogEntryType = "#LogEntry.v1_17_0.LogEntry";
constexpr std::string_view kLogServiceId = "Log";
constexpr std::string_view kOemRecordFormat = "DualSP syslog";
constexpr std::string_view kTopParameter = "$top";
constexpr std::string_view kSkipParameter = "$skip";

// The array event log (spd's replicated event log, GetEvents): array-wide, the same under
// both Managers.
constexpr std::string_view kEventLogId = "Events";
constexpr uint64_t kDefaultEventEntries = 50;
constexpr uint64_t kMaxEventEntries = 1000;  // spd's GetEvents page limit

// The newest lines one request returns at most: 1000 log lines fit one bus reply
// (ipc::kBusReplyMessageBytes). Also what MaxNumberOfRecords reports.
constexpr uint64_t kMaxLogLines = 1000;
constexpr uint64_t kDefaultLogLines = 200;

std::string logServicesPath(SpId sp) {
  return managerPath(sp) + "/LogServices";
}

std::string logServicePath(SpId sp) {
  return logServicesPath(sp) + "/" + std::string(kLogServiceId);
}

std::string eventLogPath(SpId sp) {
  return logServicesPath(sp) + "/" + std::string(kEventLogId);
}
std::string eventEntriesPath(SpId sp) {
  return eventLogPath(sp) + "/Entries";
}

// A non-negative integer query parameter; `fallback` when absent; nullopt, with the error set,
// when it is not a number or above `max`.
std::optional<uint64_t> countParameter(const Request& request, std::string_view name,
                                       uint64_t fallback, std::optional<uint64_t> max,
                                       Response& res) {
  std::optional<std::string> text = request.queryParameter(name);
  if (!text) return fallback;
  uint64_t n = 0;
  const char* end = text->data() + text->size();
  auto [stop, ec] = std::from_chars(text->data(), end, n);
  const bool too_big = ec == std::errc::result_out_of_range && stop == end;
  if (!too_big && (ec != std::errc() || stop != end || text->empty())) {
    messages::queryParameterValueTypeError(res, *text, name);
    return std::nullopt;
  }
  if (max && (too_big || n > *max)) {
    messages::queryParameterOutOfRange(res, *text, name, "0 to " + std::to_string(*max));
    return std::nullopt;
  }
  if (too_big) return UINT64_MAX;
  return n;
}

// An EventPage from a GetEvents answer; nullopt, with 500 set, when it is unreadable.
std::optional<proto::EventPage> eventPageOf(const proto::CommandResult& result, Response& res) {
  proto::EventPage page;
  if (!page.ParseFromString(result.payload())) {
    LOG_ERROR << kGetEvents << " answered an unreadable payload";
    messages::internalError(res);
    return std::nullopt;
  }
  return page;
}

// The leading timestamp of a log line, "2026-11-22T02:38:38.123Z ...", as an
// Edm.DateTimeOffset ("2026-11-22T02:38:38.123+00:00"); nullopt when the line has none.
std::optional<std::string> createdOf(std::string_view line) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (line.size() <= kShape.size()) return std::nullopt;
  for (size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(line[i])) != 0;
    if (kShape[i] == 'd' ? !digit : line[i] != kShape[i]) return std::nullopt;
  }
  size_t end = kShape.size();
  if (line[end] == '.') {
    const size_t fraction = ++end;
    while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
    if (end == fraction) return std::nullopt;
  }
  if (end >= line.size() || line[end] != 'Z') return std::nullopt;
  return std::string(line.substr(0, end)) + "+00:00";
}

// The line's syslog level ("SP-A spd[12]: <warning> ...") as a LogEntry Severity.
HealthState severityOf(std::string_view line) {
  const size_t open = line.find('<');
  const size_t close = line.find('>', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return HealthState::OK;
  const std::string_view level = line.substr(open + 1, close - open - 1);
  if (level == "warning") return HealthState::Warning;
  if (level == "crit" || level == "error" || level == "err" || level == "alert" || level == "emerg")
    return HealthState::Critical;
  return HealthState::OK;
}

// How many of the newest lines to ask for: $top, at most kMaxLogLines, else kDefaultLogLines.
// nullopt, with the error set on `res`, when $top is not a number.
std::optional<uint64_t> linesWanted(const Request& request, Response& res) {
  std::optional<std::string> top = request.queryParameter(kTopParameter);
  if (!top) return kDefaultLogLines;
  uint64_t n = 0;
  const char* end = top->data() + top->size();
  auto [stop, ec] = std::from_chars(top->data(), end, n);
  if (ec == std::errc::result_out_of_range && stop == end) return kMaxLogLines;
  if (ec != std::errc() || stop != end || top->empty()) {
    messages::queryParameterValueTypeError(res, *top, kTopParameter);
    return std::nullopt;
  }
  return std::min(n, kMaxLogLines);
}

Json logEntry(SpId sp, uint64_t number, const std::string& line) {
  const std::string id = std::to_string(number);
  Json entry = {
      {"@odata.id", logServicePath(sp) + "/Entries/" + id},
      {"@odata.type", kLogEntryType},
      {"Id", id},
      {"Name", "Log entry " + id},
      {"EntryType", LogEntryType::Oem},
      {"OemRecordFormat", kOemRecordFormat},
      {"Severity", severityOf(line)},
  };
  if (std::optional<std::string> created = createdOf(line)) entry["Created"] = *created;
  entry["Message"] = line;
  return entry;
}

// The SP a route's {ManagerId} names; nullopt, with 404 set on `res`, for an unknown id.
std::optional<SpId> managerOf(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) messages::resourceNotFound(res, "Manager", id);
  return sp;
}

void handleLogServiceCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  res.body = {
      {"@odata.id", logServicesPath(*sp)},
      {"@odata.type", kLogServiceCollectionType},
      {"Name", "Log services of " + std::string(spName(*sp))},
      {"Members@odata.count", 2},
      {"Members", {odataLink(logServicePath(*sp)), odataLink(eventLogPath(*sp))}},
  };
}

void handleLogServiceGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  res.body = {
      {"@odata.id", logServicePath(*sp)},
      {"@odata.type", kLogServiceType},
      {"Id", kLogServiceId},
      {"Name", "Log of " + std::string(spName(*sp))},
      {"Description", "The lines logged by spd and spweb on this SP, newest last"},
      {"MaxNumberOfRecords", kMaxLogLines},
      {"OverWritePolicy", OverWritePolicy::WrapsWhenFull},
      {"ServiceEnabled", true},
      {"Entries", odataLink(logServicePath(*sp) + "/Entries")},
  };
}

void handleLogEntryCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  std::optional<uint64_t> lines = linesWanted(ctx.request, res);
  if (!lines) return;
  proto::Command command = makeCommand(ctx, kGetLog, *sp);
  (*command.mutable_args())["lines"] = std::to_string(*lines);
  std::optional<proto::CommandResult> result = runCommand(ctx, command);
  if (!commandSucceeded(result, res, "Manager", ctx.params.at(0))) return;

  const proto::LogLines& log = result->log();  // an empty log may come without a body
  const uint64_t count = static_cast<uint64_t>(log.lines_size());
  const uint64_t total = std::max<uint64_t>(log.total(), count);
  Json members = Json::array();
  for (uint64_t i = 0; i < count; ++i)
    members.push_back(logEntry(*sp, total - count + i + 1, log.lines(static_cast<int>(i))));
  Json oem = freshnessOf(*result);
  oem["TotalLines"] = total;
  res.body = {
      {"@odata.id", logServicePath(*sp) + "/Entries"},
      {"@odata.type", kLogEntryCollectionType},
      {"Name", "Log entries of " + std::string(spName(*sp))},
      {"Members@odata.count", count},
      {"Members", std::move(members)},
      {"Oem", {{"DualSP", std::move(oem)}}},
  };
}

// An array event as a LogEntry. The degraded web server serves few of the resources an
// event is about, and links only to what it serves: there the entry keeps its message but
// not its OriginOfCondition link.
Json eventEntry(const RequestContext& ctx, const proto::Event& event, const std::string& entries) {
  Json entry = ipc::logEntryJson(event, entries);
  if (ctx.config.mode == ServeMode::Degraded) entry.erase("Links");
  return entry;
}

// A log entry id: a decimal number from 1; anything else names no entry (404).
std::optional<uint64_t> entryNumber(const std::string& id, Response& res) {
  uint64_t number = 0;
  auto [stop, ec] = std::from_chars(id.data(), id.data() + id.size(), number);
  if (ec != std::errc() || stop != id.data() + id.size() || number == 0) {
    messages::resourceNotFound(res, "LogEntry", id);
    return std::nullopt;
  }
  return number;
}

// One line of the log by its number: the newest kMaxLogLines lines are the ones a client can
// read one by one (the ones the collection lists); an older or future number is 404.
void handleLogEntryGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  std::optional<uint64_t> entry = entryNumber(ctx.params.at(1), res);
  if (!entry) return;
  const uint64_t number = *entry;
  const std::string& id = ctx.params.at(1);
  proto::Command command = makeCommand(ctx, kGetLog, *sp);
  (*command.mutable_args())["lines"] = std::to_string(kMaxLogLines);
  std::optional<proto::CommandResult> result = runCommand(ctx, command);
  if (!commandSucceeded(result, res, "Manager", ctx.params.at(0))) return;

  const proto::LogLines& log = result->log();
  const uint64_t count = static_cast<uint64_t>(log.lines_size());
  const uint64_t total = std::max<uint64_t>(log.total(), count);
  const uint64_t first = total - count + 1;  // the number of the oldest line returned
  if (number < first || number > total) {
    messages::resourceNotFound(res, "LogEntry", id);
    return;
  }
  res.body = logEntry(*sp, number, log.lines(static_cast<int>(number - first)));
  res.body["Oem"]["DualSP"] = freshnessOf(*result);
}

void handleEventLogGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  res.body = {
      {"@odata.id", eventLogPath(*sp)},
      {"@odata.type", kLogServiceType},
      {"Id", kEventLogId},
      {"Name", "Array event log"},
      {"Description",
       "The array's events (changes, failovers, faults), kept on both SPs: the same under "
       "either Manager"},
      {"LogEntryType", "Event"},
      {"ServiceEnabled", true},
      {"Entries", odataLink(eventEntriesPath(*sp))},
  };
}

// ?$skip=N&$top=M, oldest first; Members@odata.count is the whole log's.
void handleEventLogEntryCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  std::optional<uint64_t> top =
      countParameter(ctx.request, kTopParameter, kDefaultEventEntries, kMaxEventEntries, res);
  if (!top) return;
  std::optional<uint64_t> skip = countParameter(ctx.request, kSkipParameter, 0, std::nullopt, res);
  if (!skip) return;
  proto::Command command = makeArrayCommand(ctx, kGetEvents);
  (*command.mutable_args())["skip"] = std::to_string(*skip);
  (*command.mutable_args())["top"] = std::to_string(*top);
  std::optional<proto::CommandResult> result = runCommand(ctx, command);
  if (!commandSucceeded(result, res, "LogService", kEventLogId)) return;
  std::optional<proto::EventPage> page = eventPageOf(*result, res);
  if (!page) return;

  const std::string entries = eventEntriesPath(*sp);
  Json members = Json::array();
  for (const proto::Event& e : page->events()) members.push_back(eventEntry(ctx, e, entries));
  const uint64_t shown = static_cast<uint64_t>(page->events_size());
  res.body = {
      {"@odata.id", entries},
      {"@odata.type", kLogEntryCollectionType},
      {"Name", "Array event log entries"},
      {"Members@odata.count", page->total()},
      {"Members", std::move(members)},
  };
  // More after this page: where the next one starts (DSP0266 "Collections").
  if (*top > 0 && *skip < page->total() && page->total() - *skip > shown && shown > 0)
    res.body["Members@odata.nextLink"] =
        entries + "?$skip=" + std::to_string(*skip + shown) + "&$top=" + std::to_string(*top);
}

void handleEventLogEntryGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  std::optional<uint64_t> entry = entryNumber(ctx.params.at(1), res);
  if (!entry) return;
  const uint64_t number = *entry;
  const std::string& id = ctx.params.at(1);
  proto::Command command = makeArrayCommand(ctx, kGetEvents);
  (*command.mutable_args())["after"] = std::to_string(number - 1);
  (*command.mutable_args())["top"] = "1";
  std::optional<proto::CommandResult> result = runCommand(ctx, command);
  if (!commandSucceeded(result, res, "LogEntry", id)) return;
  std::optional<proto::EventPage> page = eventPageOf(*result, res);
  if (!page) return;
  if (page->events_size() == 0 || page->events(0).id() != number) {
    messages::resourceNotFound(res, "LogEntry", id);
    return;
  }
  res.body = eventEntry(ctx, page->events(0), eventEntriesPath(*sp));
}

}  // namespace

void requestRoutesLogServices(RouteTable& routes) {
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/LogServices",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::None,
              .handler = handleLogServiceCollectionGet});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/LogServices/Log",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::None,
              .handler = handleLogServiceGet});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/LogServices/Log/Entries",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::LocalBus,
              .handler = handleLogEntryCollectionGet,
              .queries = {kTopParameter}});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/LogServices/Log/Entries/{EntryId}",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::LocalBus,
              .handler = handleLogEntryGet});
  // The array event log: read in degraded mode too, under either Manager (it is array-wide).
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/LogServices/Events",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleEventLogGet});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/LogServices/Events/Entries",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleEventLogEntryCollectionGet,
              .queries = {kTopParameter, kSkipParameter}});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/LogServices/Events/Entries/{EntryId}",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleEventLogEntryGet});
}

}  // namespace dualsp::web
