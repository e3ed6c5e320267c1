#pragma once
// Commands from spweb to spd over the local bus (docs/DESIGN.md "The command path"): building a
// command for a request, sending it, and the one mapping from a CommandResult to HTTP.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/local_bus.hpp"
#include "ipc/sp_id_proto.hpp"
#include "platform/sp_types.hpp"
#include "webserver/http_types.hpp"
#include "webserver/json.hpp"
#include "webserver/service_context.hpp"

namespace dualsp::web {

// How long a request waits for spd. spd answers a peer query from its last known state when
// the peer is silent for its peer-link deadline (peer_link.request_timeout_ms, 500 ms by
// default; spweb leaves the choice to spd), so a live spd answers well within this.
inline constexpr std::chrono::milliseconds kBusTimeout{1500};
// spd restarting, or the peer slow: a client retrying after this usually gets an answer.
inline constexpr int kRetryAfterNoAnswerSeconds = 2;

// Command names in spd's registry (sp/commands/).
inline constexpr std::string_view kGetSpStatus = "GetSpStatus";
inline constexpr std::string_view kGetLog = "GetLog";
inline constexpr std::string_view kResetSp = "ResetSp";
inline constexpr std::string_view kForceFailover = "ForceFailover";
inline constexpr std::string_view kGetSensors = "GetSensors";
inline constexpr std::string_view kGetInventory = "GetInventory";
// CPU %, memory % and the shelf's I/O rates; about the peer only its own fresh answer.
inline constexpr std::string_view kGetSpMetrics = "GetSpMetrics";
// The replicated configuration store and event log (sp/config_service.hpp): the array's,
// not one SP's, so they go to spd with target SP_UNKNOWN (makeArrayCommand).
inline constexpr std::string_view kConfigWrite = "ConfigWrite";
inline constexpr std::string_view kGetConfig = "GetConfig";
inline constexpr std::string_view kGetEvents = "GetEvents";
// The array's storage (sp/storage_service.hpp): the model, and a change to it.
inline constexpr std::string_view kGetStorage = "GetStorage";
inline constexpr std::string_view kStorageWrite = "StorageWrite";
// The HTTPS certificate spweb serves (sp/https_certificate.hpp).
inline constexpr std::string_view kGetHttpsCertificate = "GetHttpsCertificate";
inline constexpr std::string_view kReplaceHttpsCertificate = "ReplaceHttpsCertificate";

using ipc::fromProto;
using ipc::toProto;
Role fromProto(proto::Role role);
Health fromProto(proto::Health health);
// "A", "B", or null when the SP is not known (SP_UNKNOWN).
Json spLetterOrNull(proto::SpId sp);

// The Oem.DualSP members that say how fresh an answer is and who gave it, the same on every
// resource built from a command: {"Stale", "AgeMs", "AnsweredBy" (whose data), "ServedBy"
// (the SP that answered the client)}.
Json freshnessOf(const proto::CommandResult& result);

// A command about SP `target` from this request's client ("web 198.18.0.100").
proto::Command makeCommand(const RequestContext& ctx, std::string_view name, SpId target);

// A command about the array rather than one SP (target SP_UNKNOWN: spd decides which SP
// takes it; the configuration store is the active SP's).
proto::Command makeArrayCommand(const RequestContext& ctx, std::string_view name);

// Sends it to spd; nullopt when spd did not answer within `timeout`.
std::optional<proto::CommandResult> runCommand(const RequestContext& ctx,
                                               const proto::Command& command,
                                               std::chrono::milliseconds timeout = kBusTimeout);

// A read whose answer's payload is JSON (GetStorage): the answer without its payload, and the
// payload parsed (a discarded value when it is not JSON; null without an answer). Within a GET
// identical reads are sent and parsed once for the whole request (request_read_cache.hpp), so
// a thousand handlers share one parsed model. An unanswered read is no answer, as runCommand.
struct JsonAnswer {
  std::optional<proto::CommandResult> result;
  std::shared_ptr<const Json> payload;
};
JsonAnswer runJsonCommand(const RequestContext& ctx, const proto::Command& command,
                          std::chrono::milliseconds timeout = kBusTimeout);

// The one mapping of a command's outcome to HTTP (docs/WEB.md "Commands"). True when the
// result is an answer to render (OK, ACCEPTED); otherwise the Redfish error is set on `res`:
//   no answer, TIMEOUT, UNAVAILABLE -> 503 + Retry-After   NOT_FOUND -> 404 (type, id)
//   BAD_REQUEST -> 400   FORBIDDEN -> 403   INSUFFICIENT_STORAGE -> 507
//   INTERNAL, anything else -> 500
bool commandSucceeded(const std::optional<proto::CommandResult>& result, Response& res,
                      std::string_view resource_type, std::string_view resource_id);

}  // namespace dualsp::web
