#pragma once
// The replicated configuration store and the array event log as the routes use them
// (sp/config_service.hpp, ipc/proto/config.proto): reading records with GetConfig, writing
// them with ConfigWrite, and the event every change carries so the event log says what
// changed. Values are JSON text.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/config.pb.h"
#include "webserver/http_types.hpp"
#include "webserver/json.hpp"
#include "webserver/request_body.hpp"  // jsonObjectBody, valueText: what every write route uses
#include "webserver/service_context.hpp"

namespace dualsp::web {

// A write waits longer than a read: the active SP answers once the passive has written the
// change too, waiting up to peer_link.change_wait_ms (2 s) for a passive it hears but cannot
// reach, and a passive SP forwards the change to the active one first (its forward timeout
// covers the active's wait, a resynchronisation and one more attempt: about 4.5 s).
inline constexpr std::chrono::milliseconds kConfigWriteTimeout{6000};

// The ResourceEvent message a change records; none of the three takes arguments.
enum class ChangeKind { Changed, Created, Removed };

// The live records under `prefix` (GetConfig), key -> value. A value that is not JSON is left
// out (and logged). nullopt, with the error set on `res`, when spd does not answer.
std::optional<std::map<std::string, Json>> readConfig(const RequestContext& ctx,
                                                      std::string_view prefix, Response& res,
                                                      std::string_view resource_type,
                                                      std::string_view resource_id);

struct ConfigChange {
  std::vector<std::pair<std::string, Json>> puts;  // key, new value
  std::vector<std::string> removals;               // keys
  // POST: create one record whose key is create_prefix + an id spd picks; its value is
  // puts[0]'s (whose key is then ignored).
  std::string create_prefix;
  ChangeKind kind = ChangeKind::Changed;
  std::string origin;  // @odata.id of the resource changed
  std::string detail;  // what changed, appended to the event's message: "AssetTag = 'R7'"
};

// The event a change records: the ResourceEvent registry's message id and text (generated:
// platform/redfish/generated/registries/resource_event.hpp) plus " (detail)",
// severity OK, origin the resource.
proto::Event changeEvent(ChangeKind kind, const std::string& origin, const std::string& detail);

// One ConfigWrite (target SP_UNKNOWN: the array's store). spd's answer, or nullopt with the
// error set on `res` (503 unreachable, 404, 400, 507 disk full, ...).
std::optional<proto::ConfigWriteAnswer> writeConfig(const RequestContext& ctx,
                                                    const ConfigChange& change, Response& res,
                                                    std::string_view resource_type,
                                                    std::string_view resource_id);

// One ConfigWrite carrying `event` and no record (EventService.SubmitTestEvent): spd records
// it in the array event log like any other event (an id from the active SP, replicated, on
// the SSE stream and to subscribers). False with the error set on `res` as for writeConfig.
bool recordEvent(const RequestContext& ctx, const proto::Event& event, Response& res,
                 std::string_view resource_type, std::string_view resource_id);

// The answer to a change spd acknowledged: the resource as `read` renders it now. When that
// read fails (spweb stopping closed its bus, spd slow), the change still stands, so the answer
// is 204 No Content, never the read's 503, whose promise is that nothing changed.
void answerChanged(const RequestContext& ctx, Response& res,
                   void (*read)(const RequestContext&, Response&));

}  // namespace dualsp::web
