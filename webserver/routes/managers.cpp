// /redfish/v1/Managers: the two service processors, SPA and SPB. This SP describes itself from
// its status board; it describes its peer from what the heartbeats told it, marked stale,
// until the command path forwards the query to the peer (DESIGN.md "The command path").

#include <cstring>
#include <optional>

#include "ipc/status_board.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kManagerType = "#Manager.v1_19_0.Manager";
constexpr std::string_view kManagerCollectionType = "#ManagerCollection.ManagerCollection";

// Heartbeat path bits of StatusSnapshot::paths_configured / paths_alive.
enum class HeartbeatPath : uint8_t { Peer = 0, Mgmt = 1, Midplane = 2 };

// OEM enum (DualSP): what this SP hears from its peer on one heartbeat path.
enum class PathState { Alive, Silent, NotConfigured };
NLOHMANN_JSON_SERIALIZE_ENUM(PathState, {
                                            {PathState::Alive, "Alive"},
                                            {PathState::Silent, "Silent"},
                                            {PathState::NotConfigured, "NotConfigured"},
                                        })

PathState pathState(const ipc::StatusSnapshot& s, HeartbeatPath path) {
  const unsigned bit = 1u << static_cast<unsigned>(path);
  if (!(s.paths_configured & bit)) return PathState::NotConfigured;
  return (s.paths_alive & bit) ? PathState::Alive : PathState::Silent;
}

// Active serves; a passive or starting SP is the spare; an SP fencing its peer is on its way
// to serving.
ResourceState stateOfRole(Role role) {
  switch (role) {
    case Role::Active:
      return ResourceState::Enabled;
    case Role::TakingOver:
      return ResourceState::Starting;
    case Role::Passive:
    case Role::Starting:
      return ResourceState::StandbySpare;
  }
  return ResourceState::StandbySpare;
}

HealthState healthState(Health health) {
  switch (health) {
    case Health::Ok:
      return HealthState::OK;
    case Health::Warning:
      return HealthState::Warning;
    case Health::Critical:
      return HealthState::Critical;
  }
  return HealthState::Critical;
}

// The char fields of the board, or null when spd left them empty.
template <size_t N>
Json optionalField(const char (&field)[N]) {
  std::string value(field, strnlen(field, N));
  return value.empty() ? Json(nullptr) : Json(value);
}

std::string spLetterString(SpId sp) {
  return std::string(1, spLetter(sp));
}

Json managerCommon(const RequestContext& ctx, SpId sp) {
  return {
      {"@odata.id", managerPath(sp)},
      {"@odata.type", kManagerType},
      {"Id", managerId(sp)},
      {"Name", "Service processor " + std::string(spName(sp))},
      {"ManagerType", ManagerType::ManagementController},
      {"UUID", managerUuid(ctx.config.array_id, sp)},
      {"ServiceEntryPointUUID", serviceRootUuid(ctx.config.array_id)},
  };
}

// This SP, first hand.
void renderOwnManager(const RequestContext& ctx, Response& res) {
  const ipc::StatusSnapshot& s = ctx.status;
  Json body = managerCommon(ctx, ctx.config.sp);
  body["FirmwareVersion"] = optionalField(s.firmware_version);
  body["Status"] = {{"State", stateOfRole(s.role)}, {"Health", healthState(s.health)}};
  body["PowerState"] = PowerState::On;
  body["DateTime"] = dateTimeString(ctx.now_ms);
  body["DateTimeLocalOffset"] = "+00:00";
  if (s.boot_time_ms > 0) body["LastResetTime"] = dateTimeString(s.boot_time_ms);
  body["Oem"]["DualSP"] = {
      {"Role", roleName(s.role)},
      {"Epoch", s.epoch},
      {"BootId", optionalField(s.boot_id)},
      {"UptimeSeconds", s.boot_time_ms > 0 && ctx.now_ms > s.boot_time_ms
                            ? (ctx.now_ms - s.boot_time_ms) / 1000
                            : 0},
      {"HoldsFloatingIp", s.holds_floating},
      {"ManagementAddress", optionalField(s.management_address)},
      {"FloatingAddress", optionalField(s.floating_address)},
      {"Paths",
       {
           {"Peer", pathState(s, HeartbeatPath::Peer)},
           {"Mgmt", pathState(s, HeartbeatPath::Mgmt)},
           {"Midplane", pathState(s, HeartbeatPath::Midplane)},
       }},
      {"Stale", false},
      {"AgeMs", 0},
      {"AnsweredBy", spLetterString(ctx.config.sp)},
  };
  res.body = std::move(body);
}

// The peer, as this SP last heard it on the heartbeat paths: stale by construction.
void renderPeerManager(const RequestContext& ctx, Response& res) {
  const ipc::StatusSnapshot& s = ctx.status;
  const bool ever_heard = s.peer_last_heard_ms > 0;
  Json body = managerCommon(ctx, peerOf(ctx.config.sp));
  Json status;
  status["State"] = s.peer_alive ? stateOfRole(s.peer_role) : ResourceState::UnavailableOffline;
  status["Health"] = ever_heard ? Json(healthState(s.peer_health)) : nullptr;
  body["Status"] = std::move(status);
  Json age = nullptr;
  if (ever_heard) age = ctx.now_ms > s.peer_last_heard_ms ? ctx.now_ms - s.peer_last_heard_ms : 0;
  body["Oem"]["DualSP"] = {
      {"Role", ever_heard ? Json(roleName(s.peer_role)) : nullptr},
      {"Epoch", ever_heard ? Json(s.peer_epoch) : nullptr},
      {"BootId", optionalField(s.peer_boot_id)},
      {"Stale", true},
      {"AgeMs", age},
      {"AnsweredBy", spLetterString(ctx.config.sp)},
      {"Source", "heartbeat"},
  };
  res.body = std::move(body);
}

void handleManagerCollectionGet(const RequestContext& ctx, Response& res) {
  res.body = {
      {"@odata.id", "/redfish/v1/Managers"},
      {"@odata.type", kManagerCollectionType},
      {"Name", "Manager Collection"},
      {"Members@odata.count", 2},
      {"Members", {odataLink(managerPath(SpId::A)), odataLink(managerPath(SpId::B))}},
  };
}

void handleManagerGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  if (id == managerId(ctx.config.sp))
    renderOwnManager(ctx, res);
  else if (id == managerId(peerOf(ctx.config.sp)))
    renderPeerManager(ctx, res);
  else
    messages::resourceNotFound(res, "Manager", id);
}

}  // namespace

void requestRoutesManagers(RouteTable& routes) {
  routes.add({.pattern = "/redfish/v1/Managers",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .handler = handleManagerCollectionGet});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::ThisSpOnly,
              .handler = handleManagerGet});
}

}  // namespace dualsp::web
