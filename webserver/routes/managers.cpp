// /redfish/v1/Managers: the two service processors, SPA and SPB, their failover Redundancy
// and their Manager.Reset and Manager.ForceFailover actions. Each Manager is spd's answer to
// GetSpStatus over the local bus: first hand for this SP, forwarded to the peer for the other
// one, or the peer's last known state, marked stale, when it does not answer (docs/DESIGN.md
// "The command path"); the other SP's part of the redundancy set comes from the status board.
// A degraded SP describes itself only: its collection lists it alone and its Manager links to
// nothing it does not serve (no peer, no chassis, no ForceFailover).

#include <algorithm>
#include <array>
#include <map>
#include <optional>

#include "platform/log.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/request_body.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/routes/telemetry.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kManagerType = "#Manager.v1_19_0.Manager";
constexpr std::string_view kManagerCollectionType = "#ManagerCollection.ManagerCollection";
constexpr std::string_view kRedundancyType = "#Redundancy.v1_7_0.Redundancy";
constexpr std::string_view kResetAction = "Manager.Reset";
constexpr std::string_view kResetTypeParameter = "ResetType";
constexpr std::string_view kForceFailoverAction = "Manager.ForceFailover";
constexpr std::string_view kNewManagerParameter = "NewManager";
constexpr std::string_view kServiceIdentificationProperty = "ServiceIdentification";
// Properties a Manager shows that DualSP does not let a client set (Manager_v1.xml has them
// ReadWrite): a PATCH of one is PropertyNotWritable rather than PropertyUnknown.
constexpr std::array<std::string_view, 3> kReadOnlyProperties = {"LocationIndicatorActive",
                                                                 "DateTime", "DateTimeLocalOffset"};
// The SP board in GetInventory's answer (platform::Hardware::inventory, from DMI on Linux).
constexpr std::string_view kBoardKind = "Board";
// Members of a Manager and of its Oem.DualSP at most (room reserved: objectWithRoom).
constexpr size_t kManagerMembers = 28;
constexpr size_t kManagerOemMembers = 30;
// Manager_v1.xml sets no limit; the ServiceRoot's copy is meant for a label, short.
constexpr size_t kMaxServiceIdentificationLength = 99;

// An empty object with room for `members`. ordered_json keeps an object's members in a vector
// of pair<const string, json>, which copies every member, deeply, each time it grows: on a
// Manager GET that was a tenth of the time spweb spent.
Json objectWithRoom(size_t members) {
  Json out = Json::object();
  out.get_ref<Json::object_t&>().reserve(members);
  return out;
}

// The UUIDs depend on the array id and the SP only: named once per CivetWeb thread rather than
// per request (hashing and formatting them was a tenth of a Manager GET).
struct ArrayUuids {
  std::string array_id;
  std::string service_root;
  std::array<std::string, 2> managers;
};

const ArrayUuids& uuidsOf(const std::string& array_id) {
  thread_local ArrayUuids cached;
  if (cached.service_root.empty() || cached.array_id != array_id) {
    cached.array_id = array_id;
    cached.service_root = serviceRootUuid(array_id);
    for (SpId sp : {SpId::A, SpId::B})
      cached.managers[static_cast<size_t>(sp)] = managerUuid(array_id, sp);
  }
  return cached;
}

// "managers/SPA/": the records of one Manager in the configuration store.
std::string managerConfigPrefix(SpId sp) {
  return "managers/" + std::string(managerId(sp)) + "/";
}
std::string serviceIdentificationKey(SpId sp) {
  return managerConfigPrefix(sp) + std::string(kServiceIdentificationProperty);
}

// Active serves; a healthy passive or starting SP is the spare; an unhealthy one waits for
// someone to mend it (it never takes over from a healthy peer); an SP fencing its peer is on
// its way to serving.
ResourceState stateOf(Role role, Health health) {
  switch (role) {
    case Role::Active:
      return ResourceState::Enabled;
    case Role::TakingOver:
      return ResourceState::Starting;
    case Role::Passive:
    case Role::Starting:
      return isHealthy(health) ? ResourceState::StandbySpare : ResourceState::StandbyOffline;
  }
  return ResourceState::StandbySpare;
}

// One SP as the failover redundancy set sees it.
struct Member {
  bool known = false;      // false: nothing at all (status board not readable)
  bool reachable = false;  // alive on some heartbeat path (this SP itself always is)
  Role role = Role::Starting;
  Health health = Health::Ok;
};

// Both SPs: the status board for this SP and for its peer as the heartbeats last told, then
// spd's answer about `sp` (fresher) on top. `result` is null when spd had nothing about it.
std::array<Member, 2> membersOf(const RequestContext& ctx, SpId sp,
                                const proto::CommandResult* result) {
  std::array<Member, 2> m;
  const SpId self = ctx.config.sp;
  Member& own = m[static_cast<size_t>(self)];
  Member& peer = m[static_cast<size_t>(peerOf(self))];
  if (const ipc::StatusSnapshot* board = ctx.status) {
    own = {true, true, board->role, board->health};
    peer = {true, board->peer_alive, board->peer_role, board->peer_health};
  }
  Member& about = m[static_cast<size_t>(sp)];
  if (!result) {
    about = {true, false, Role::Starting, Health::Critical};
  } else {
    const proto::SpStatus& s = result->sp_status();
    const bool reachable = sp == self || (ctx.status ? about.reachable : !result->stale());
    about = {true, reachable, fromProto(s.role()), fromProto(s.health())};
  }
  return m;
}

// The set's health: OK while both SPs are up (reachable, not Critical), Warning while one is
// (the array is managed but no longer fault tolerant) or either warns, Critical when neither.
// An SP nothing is known about does not count.
HealthState redundancyHealth(const std::array<Member, 2>& members) {
  int down = 0;
  bool warning = false;
  for (const Member& m : members) {
    if (!m.known) continue;
    if (!m.reachable || !isHealthy(m.health)) ++down;
    warning = warning || m.health == Health::Warning;
  }
  if (down == 2) return HealthState::Critical;
  if (down == 1 || warning) return HealthState::Warning;
  return HealthState::OK;
}

// Manager.Redundancy: the two SPs are one failover set (Redundancy v1_6_0 added
// ActiveRedundancySet, v1_7_0 MinNumNeededForFaultTolerance).
Json redundancyOf(SpId sp, const std::array<Member, 2>& members) {
  Json active = Json::array();
  for (SpId s : {SpId::A, SpId::B}) {
    const Member& m = members[static_cast<size_t>(s)];
    if (m.known && m.reachable && m.role == Role::Active)
      active.push_back(odataLink(managerPath(s)));
  }
  Json set = objectWithRoom(11);
  set["@odata.id"] = managerPath(sp) + "#/Redundancy/0";
  set["@odata.type"] = kRedundancyType;
  set["MemberId"] = "0";
  set["Name"] = "Service processor failover";
  set["Mode"] = RedundancyMode::Failover;
  set["MaxNumSupported"] = 2;
  set["MinNumNeeded"] = 1;
  set["MinNumNeededForFaultTolerance"] = 2;
  set["RedundancySet"] = {odataLink(managerPath(SpId::A)), odataLink(managerPath(SpId::B))};
  set["ActiveRedundancySet"] = std::move(active);
  set["Status"] = {{"State", ResourceState::Enabled}, {"Health", redundancyHealth(members)}};
  Json out = Json::array();
  out.push_back(std::move(set));
  return out;
}

Json stringOrNull(const std::string& value) {
  return value.empty() ? Json(nullptr) : Json(value);
}

// The SP's board as its hardware inventory names it: Manufacturer, Model and SerialNumber of
// the Manager. Null members when the inventory has no board or was not read.
struct BoardIdentity {
  Json manufacturer = nullptr;
  Json model = nullptr;
  Json serial_number = nullptr;
};

// Asks spd for the inventory of `sp` (forwarded to the peer for the other SP). `ask`: false
// when the peer is known silent, so that its Manager does not wait for a second timeout.
BoardIdentity boardOf(const RequestContext& ctx, SpId sp, bool ask) {
  BoardIdentity out;
  if (!ask) return out;
  std::optional<proto::CommandResult> result = runCommand(ctx, makeCommand(ctx, kGetInventory, sp));
  if (!result || result->status() != proto::CommandResult::OK || !result->has_inventory())
    return out;
  for (const proto::InventoryItem& item : result->inventory().items()) {
    if (item.kind() != kBoardKind) continue;
    out.manufacturer = stringOrNull(item.manufacturer());
    out.model = stringOrNull(item.model());
    out.serial_number = stringOrNull(item.serial_number());
    break;
  }
  return out;
}

std::string actionTarget(SpId sp, std::string_view action) {
  return managerPath(sp) + "/Actions/" + std::string(action);
}

// What every Manager carries, whatever spd knows about the SP. `result`: spd's answer about
// it, null when it had none (the peer unreachable since spd started). `service_identification`
// goes after ManagerType, where Manager_v1.xml declares it; null leaves it out.
Json managerCommon(const RequestContext& ctx, SpId sp, const proto::CommandResult* result,
                   Json service_identification, BoardIdentity board) {
  const bool full = ctx.config.mode == ServeMode::Full;
  Json allowed = Json::array();
  for (ResetType type : kAllowedResetTypes) allowed.push_back(type);
  Json actions = {{"#Manager.Reset",
                   {{"target", actionTarget(sp, kResetAction)},
                    {"ResetType@Redfish.AllowableValues", allowed}}}};
  if (full)
    actions["#Manager.ForceFailover"] = {{"target", actionTarget(sp, kForceFailoverAction)}};
  Json body = objectWithRoom(kManagerMembers);
  body["@odata.id"] = managerPath(sp);
  body["@odata.type"] = kManagerType;
  body["Id"] = managerId(sp);
  body["Name"] = "Service processor " + std::string(spName(sp));
  body["Description"] = "One of the array's two service processors (" + std::string(spName(sp)) +
                        "): the active one serves the array's management address, its peer "
                        "stands by to take it over";
  body["ManagerType"] = ManagerType::ManagementController;
  if (!service_identification.is_null())
    body[kServiceIdentificationProperty] = std::move(service_identification);
  const ArrayUuids& uuids = uuidsOf(ctx.config.array_id);
  body["UUID"] = uuids.managers[static_cast<size_t>(sp)];
  body["ServiceEntryPointUUID"] = uuids.service_root;
  body["Manufacturer"] = std::move(board.manufacturer);
  body["Model"] = std::move(board.model);
  body["SerialNumber"] = std::move(board.serial_number);
  body["LocationIndicatorActive"] = false;  // no locate LED that spd drives
  body["LogServices"] = odataLink(managerPath(sp) + "/LogServices");
  body["EthernetInterfaces"] = odataLink(managerPath(sp) + "/EthernetInterfaces");
#ifdef DUALSP_TLS_CERTIFICATES
  body["NetworkProtocol"] = odataLink(managerPath(sp) + "/NetworkProtocol");
#endif
  if (full) {
    body["Redundancy"] = redundancyOf(sp, membersOf(ctx, sp, result));
    body["Redundancy@odata.count"] = 1;
    body["Links"] = {{"ManagerForChassis", Json::array({odataLink(enclosurePath())})}};
  }
  body["Actions"] = std::move(actions);
  return body;
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
                   Json service_identification, Response& res) {
  const proto::SpStatus& s = result.sp_status();
  Json body = managerCommon(ctx, sp, &result, std::move(service_identification),
                            boardOf(ctx, sp, !result.stale()));
  body["FirmwareVersion"] = stringOrNull(s.firmware_version());
  const Health health = fromProto(s.health());
  body["Status"] = {{"State", stateOf(fromProto(s.role()), health)},
                    {"Health", healthState(health)}};
  if (!result.stale()) {
    // It answered just now, so it is powered; its time is this server's (UTC), read as the
    // answer came.
    body["PowerState"] = PowerState::On;
    body["DateTime"] = dateTimeString(ctx.now_ms);
    body["DateTimeLocalOffset"] = "+00:00";
  } else {
    // Its clock now is not known from an old answer.
    body["DateTime"] = nullptr;
    body["DateTimeLocalOffset"] = nullptr;
  }
  if (s.boot_time_ms() > 0) body["LastResetTime"] = dateTimeString(s.boot_time_ms());
  Json oem = objectWithRoom(kManagerOemMembers);
  oem["Role"] = roleName(fromProto(s.role()));
  oem["Epoch"] = s.epoch();
  oem["BootId"] = stringOrNull(s.boot_id());
  oem["UptimeSeconds"] = s.uptime_s();
  oem["HoldsFloatingIp"] = s.holds_floating();
  oem["ManagementAddress"] = stringOrNull(s.management_address());
  oem["CanServe"] = !s.no_carrier();
  oem["PeerLinkRoute"] = stringOrNull(s.peer_link_route());
  oem["ConfigurationVersion"] =
      std::to_string(s.history_epoch()) + "." + std::to_string(s.history_seq());
  oem["LastEventId"] = s.last_event_id();
  oem["CpuLoad1m"] = s.cpu_load_1m();
  oem["MemoryTotalKiB"] = s.memory_total_kb();
  oem["MemoryAvailableKiB"] = s.memory_available_kb();
  addPerformanceFigures(s.metrics(), oem);  // the TelemetryService's figures, docs/METRICS.md
  oem["Temperatures"] = temperaturesOf(s);
  oem["Faults"] = faultsOf(s);
  oem.update(freshnessOf(result));
  body["Oem"]["DualSP"] = std::move(oem);
  res.body = std::move(body);
}

// The peer, when spd has nothing at all about it (never heard since spd started).
void renderUnavailableManager(const RequestContext& ctx, SpId sp,
                              const proto::CommandResult& result, Json service_identification,
                              Response& res) {
  Json body = managerCommon(ctx, sp, nullptr, std::move(service_identification), {});
  body["Status"] = {{"State", ResourceState::UnavailableOffline}, {"Health", nullptr}};
  body["DateTime"] = nullptr;
  body["DateTimeLocalOffset"] = nullptr;
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
  BodyProblem problem = BodyProblem::None;
  std::optional<Json> json = parseRequestJson(body, problem);
  if (!json || !json->is_object()) {
    messages::malformedJson(res);
    return std::nullopt;
  }
  ResetType type = ResetType::GracefulRestart;
  for (const auto& [key, value] : json->items()) {
    if (key != kResetTypeParameter) {
      messages::actionParameterNotSupported(res, key, kResetAction);
      return std::nullopt;
    }
    std::optional<ResetType> parsed =
        value.is_string() ? parseResetType(value.get<std::string>()) : std::nullopt;
    if (!parsed) {
      messages::actionParameterValueNotInList(res, valueText(value), kResetTypeParameter,
                                              kResetAction);
      return std::nullopt;
    }
    type = *parsed;
  }
  return type;
}

// The ForceFailover body: nothing, {} or {"NewManager": {"@odata.id": <the peer of `sp`>}},
// the one manager an SP can fail over to. False, with the error set on `res`, otherwise.
bool forceFailoverBodyAccepted(const std::string& body, SpId sp, Response& res) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return true;
  BodyProblem problem = BodyProblem::None;
  std::optional<Json> json = parseRequestJson(body, problem);
  if (!json || !json->is_object()) {
    messages::malformedJson(res);
    return false;
  }
  for (const auto& [key, value] : json->items()) {
    if (key != kNewManagerParameter) {
      messages::actionParameterNotSupported(res, key, kForceFailoverAction);
      return false;
    }
    const Json* id =
        value.is_object() && value.contains("@odata.id") ? &value["@odata.id"] : nullptr;
    if (!id || !id->is_string()) {
      messages::actionParameterValueTypeError(res, jsonText(value), kNewManagerParameter,
                                              kForceFailoverAction);
      return false;
    }
    std::string path = id->get<std::string>();
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path == managerPath(sp)) {
      messages::actionParameterValueConflict(res, kNewManagerParameter, path);
      return false;
    }
    if (path != managerPath(peerOf(sp))) {
      messages::actionParameterValueError(res, kNewManagerParameter, kForceFailoverAction);
      return false;
    }
  }
  return true;
}

void handleManagerCollectionGet(const RequestContext& ctx, Response& res) {
  // Degraded: this SP alone, since it does not speak for its peer (its Manager answers 503).
  Json members = Json::array();
  for (SpId sp : {SpId::A, SpId::B})
    if (ctx.config.mode == ServeMode::Full || sp == ctx.config.sp)
      members.push_back(odataLink(managerPath(sp)));
  res.body = {
      {"@odata.id", "/redfish/v1/Managers"}, {"@odata.type", kManagerCollectionType},
      {"Name", "Manager Collection"},        {"Members@odata.count", members.size()},
      {"Members", std::move(members)},
  };
}

// ServiceIdentification from the configuration store ("" when never set); null when the
// store is not readable, and then left out rather than the Manager refused.
Json serviceIdentificationOf(const RequestContext& ctx, SpId sp) {
  Response unread;
  std::optional<std::map<std::string, Json>> config =
      readConfig(ctx, managerConfigPrefix(sp), unread, "Manager", managerId(sp));
  if (!config) return nullptr;
  auto it = config->find(serviceIdentificationKey(sp));
  return it != config->end() && it->second.is_string() ? it->second : Json("");
}

void handleManagerGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) {
    messages::resourceNotFound(res, "Manager", id);
    return;
  }
  Json service_identification = serviceIdentificationOf(ctx, *sp);
  std::optional<proto::CommandResult> result = runCommand(ctx, makeCommand(ctx, kGetSpStatus, *sp));
  if (result && result->status() == proto::CommandResult::UNAVAILABLE && *sp != ctx.config.sp) {
    renderUnavailableManager(ctx, *sp, *result, std::move(service_identification), res);
    return;
  }
  if (!commandSucceeded(result, res, "Manager", id)) return;
  if (!result->has_sp_status()) {
    LOG_ERROR << kGetSpStatus << " about " << id << " answered without an SpStatus";
    messages::internalError(res);
    return;
  }
  renderManager(ctx, *sp, *result, std::move(service_identification), res);
}

// PATCH {"ServiceIdentification": "..."}: a record of the array's configuration store, so
// either SP's server sets either Manager's; then the Manager as it is now.
void handleManagerPatch(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) {
    messages::resourceNotFound(res, "Manager", id);
    return;
  }
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  ConfigChange change;
  change.kind = ChangeKind::Changed;
  change.origin = managerPath(*sp);
  for (const auto& [key, value] : body->items()) {
    if (key != kServiceIdentificationProperty) {
      if (std::find(kReadOnlyProperties.begin(), kReadOnlyProperties.end(), key) !=
          kReadOnlyProperties.end())
        messages::propertyNotWritable(res, key);
      else
        messages::propertyUnknown(res, key);
      return;
    }
    if (!value.is_string()) {
      messages::propertyValueTypeError(res, valueText(value), key);
      return;
    }
    if (value.get<std::string>().size() > kMaxServiceIdentificationLength) {
      messages::stringValueTooLong(res, value.get<std::string>(), kMaxServiceIdentificationLength);
      return;
    }
    change.puts.emplace_back(serviceIdentificationKey(*sp), value);
    change.detail = key + " = '" + value.get<std::string>() + "'";
  }
  if (!change.puts.empty() && !writeConfig(ctx, change, res, "Manager", id)) return;
  answerChanged(ctx, res, handleManagerGet);
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

// Hands the active role to the peer (docs/DESIGN.md "Election": a graceful hand-over). spd refuses
// it (BAD_REQUEST, with its reason) unless `sp` is active and its peer reachable and healthy.
void handleManagerForceFailoverPost(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) {
    messages::resourceNotFound(res, "Manager", id);
    return;
  }
  if (!forceFailoverBodyAccepted(ctx.request.body, *sp, res)) return;
  std::optional<proto::CommandResult> result =
      runCommand(ctx, makeCommand(ctx, kForceFailover, *sp));
  if (result && result->status() == proto::CommandResult::BAD_REQUEST) {
    messages::actionRefused(res, result->error().empty() ? "The failover was refused by " +
                                                               std::string(spName(*sp)) + "."
                                                         : result->error());
    return;
  }
  if (!commandSucceeded(result, res, "Manager", id)) return;
  res.status = 204;
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
              .source = DataSource::LocalBusAndBoard,
              .handler = handleManagerGet});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}",
              .methods = {HttpMethod::Patch},
              .privilege = Privilege::ConfigureManager,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBusAndBoard,
              .handler = handleManagerPatch});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/Actions/Manager.Reset",
              .methods = {HttpMethod::Post},
              .privilege = Privilege::ConfigureManager,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::LocalBus,
              .handler = handleManagerResetPost});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/Actions/Manager.ForceFailover",
              .methods = {HttpMethod::Post},
              .privilege = Privilege::ConfigureManager,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handleManagerForceFailoverPost});
}

}  // namespace dualsp::web
