// /redfish/v1/Managers: the two service processors, SPA and SPB, and their Manager.Reset
// action. The collection is static; each Manager is spd's answer to GetSpStatus over the local
// bus: first hand for this SP, forwarded to the peer for the other one, or the peer's last
// known state, marked stale, when it does not answer (DESIGN.md "The command path").

#include <optional>

#include "platform/log.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kManagerType = "#Manager.v1_19_0.Manager";
constexpr std::string_view kManagerCollectionType = "#ManagerCollection.ManagerCollection";
constexpr std::string_view kResetAction = "Manager.Reset";
constexpr std::string_view kResetTypeParameter = "ResetType";

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

Json stringOrNull(const std::string& value) {
  return value.empty() ? Json(nullptr) : Json(value);
}

std::string resetTarget(SpId sp) {
  return managerPath(sp) + "/Actions/" + std::string(kResetAction);
}

// What every Manager carries, whatever spd knows about the SP.
Json managerCommon(const RequestContext& ctx, SpId sp) {
  Json allowed = Json::array();
  for (ResetType type : kAllowedResetTypes) allowed.push_back(type);
  return {
      {"@odata.id", managerPath(sp)},
      {"@odata.type", kManagerType},
      {"Id", managerId(sp)},
      {"Name", "Service processor " + std::string(spName(sp))},
      {"ManagerType", ManagerType::ManagementController},
      {"UUID", managerUuid(ctx.config.array_id, sp)},
      {"ServiceEntryPointUUID", serviceRootUuid(ctx.config.array_id)},
      {"LogServices", odataLink(managerPath(sp) + "/LogServices")},
      {"Actions",
       {{"#Manager.Reset",
         {{"target", resetTarget(sp)}, {"ResetType@Redfish.AllowableValues", allowed}}}}},
  };
}

Json temperaturesOf(const proto::SpStatus& s) {
  Json out = Json::array();
  for (const proto::Temperature& t : s.temperatures())
    out.push_back({{"Name", t.name()}, {"ReadingCelsius", t.celsius()}});
  return out;
}

Json faultsOf(const proto::SpStatus& s) {
  Json out = Json::array();
  for (const proto::Fault& f : s.faults())
    out.push_back({{"MessageId", f.message_id()},
                   {"Message", f.text()},
                   {"Severity", healthState(fromProto(f.severity()))}});
  return out;
}

// spd's SpStatus of the SP, fresh or (for a silent peer) its last known state.
void renderManager(const RequestContext& ctx, SpId sp, const proto::CommandResult& result,
                   Response& res) {
  const proto::SpStatus& s = result.sp_status();
  Json body = managerCommon(ctx, sp);
  body["FirmwareVersion"] = stringOrNull(s.firmware_version());
  body["Status"] = {{"State", stateOfRole(fromProto(s.role()))},
                    {"Health", healthState(fromProto(s.health()))}};
  if (!result.stale()) {
    // It answered just now, so it is powered and its clock is ours (both SPs run NTP).
    body["PowerState"] = PowerState::On;
    body["DateTime"] = dateTimeString(ctx.now_ms);
    body["DateTimeLocalOffset"] = "+00:00";
  }
  if (s.boot_time_ms() > 0) body["LastResetTime"] = dateTimeString(s.boot_time_ms());
  Json oem = {
      {"Role", roleName(fromProto(s.role()))},
      {"Epoch", s.epoch()},
      {"BootId", stringOrNull(s.boot_id())},
      {"UptimeSeconds", s.uptime_s()},
      {"HoldsFloatingIp", s.holds_floating()},
      {"ManagementAddress", stringOrNull(s.management_address())},
      {"CpuLoad1m", s.cpu_load_1m()},
      {"MemoryTotalKiB", s.memory_total_kb()},
      {"MemoryAvailableKiB", s.memory_available_kb()},
      {"Temperatures", temperaturesOf(s)},
      {"Faults", faultsOf(s)},
  };
  oem.update(freshnessOf(result));
  body["Oem"]["DualSP"] = std::move(oem);
  res.body = std::move(body);
}

// The peer, when spd has nothing at all about it (never heard since spd started).
void renderUnavailableManager(const RequestContext& ctx, SpId sp,
                              const proto::CommandResult& result, Response& res) {
  Json body = managerCommon(ctx, sp);
  body["Status"] = {{"State", ResourceState::UnavailableOffline}, {"Health", nullptr}};
  Json oem = {{"Role", nullptr}};
  oem.update(freshnessOf(result));
  oem["Stale"] = true;
  oem["AgeMs"] = nullptr;
  body["Oem"]["DualSP"] = std::move(oem);
  res.body = std::move(body);
}

// The Manager.Reset body, {"ResetType": ...}; no body at all is a graceful restart. Sets the
// error on `res` and answers nullopt when the body is not acceptable.
std::optional<ResetType> resetTypeOfBody(const std::string& body, Response& res) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return ResetType::GracefulRestart;
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    messages::malformedJson(res);
    return std::nullopt;
  }
  ResetType type = ResetType::GracefulRestart;
  for (const auto& [key, value] : json.items()) {
    if (key != kResetTypeParameter) {
      messages::actionParameterNotSupported(res, key, kResetAction);
      return std::nullopt;
    }
    std::optional<ResetType> parsed =
        value.is_string() ? parseResetType(value.get<std::string>()) : std::nullopt;
    if (!parsed) {
      messages::actionParameterValueNotInList(
          res, value.is_string() ? value.get<std::string>() : value.dump(), kResetTypeParameter,
          kResetAction);
      return std::nullopt;
    }
    type = *parsed;
  }
  return type;
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
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) {
    messages::resourceNotFound(res, "Manager", id);
    return;
  }
  std::optional<proto::CommandResult> result = runCommand(ctx, makeCommand(ctx, kGetSpStatus, *sp));
  if (result && result->status() == proto::CommandResult::UNAVAILABLE && *sp != ctx.config.sp) {
    renderUnavailableManager(ctx, *sp, *result, res);
    return;
  }
  if (!commandSucceeded(result, res, "Manager", id)) return;
  if (!result->has_sp_status()) {
    LOG_ERROR << kGetSpStatus << " about " << id << " answered without an SpStatus";
    messages::internalError(res);
    return;
  }
  renderManager(ctx, *sp, *result, res);
}

void handleManagerResetPost(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) {
    messages::resourceNotFound(res, "Manager", id);
    return;
  }
  std::optional<ResetType> type = resetTypeOfBody(ctx.request.body, res);
  if (!type) return;
  proto::Command command = makeCommand(ctx, kResetSp, *sp);
  (*command.mutable_args())["type"] = Json(*type).get<std::string>();
  if (!commandSucceeded(runCommand(ctx, command), res, "Manager", id)) return;
  res.status = 204;  // DSP0266: an action that returns no body
  res.body = nullptr;
}

}  // namespace

void requestRoutesManagers(RouteTable& routes) {
  routes.add({.pattern = "/redfish/v1/Managers",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::StatusBoard,
              .handler = handleManagerCollectionGet});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::LocalBus,
              .handler = handleManagerGet});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/Actions/Manager.Reset",
              .methods = {HttpMethod::Post},
              .privilege = Privilege::ConfigureManager,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::LocalBus,
              .handler = handleManagerResetPost});
}

}  // namespace dualsp::web
