#pragma once
// The array event log's events as Redfish JSON: one rendering for the SSE stream and the
// log entries (spweb) and for push deliveries to subscribers (spd), so both say the same.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "proto/config.pb.h"

namespace dualsp::ipc {

using EventJson = nlohmann::ordered_json;

// "2026-11-22T05:31:36.123Z"
std::string isoTime(int64_t ms_since_epoch);

// One member of an Event's "Events" array (Event.v1_13_0 EventRecord).
EventJson eventRecordJson(const proto::Event& event);

// A whole Event resource as SSE and push subscribers receive it: Id = the newest event's
// id, Context = the subscription's context (empty: left out).
EventJson eventPayloadJson(const std::vector<proto::Event>& events, const std::string& context);

// The same event as a LogEntry.v1_21_0 of /redfish/v1/Managers/{id}/LogServices/Events.
EventJson logEntryJson(const proto::Event& event, const std::string& entries_uri);

}  // namespace dualsp::ipc
