// /redfish/v1/Chassis: the array's enclosure, the one chassis, which holds both SPs, with the
// SPs' sensors (GetSensors) and the fans and power supplies they carry (GetInventory, with
// each part's own sensor). Every resource asks both SPs, this one first: spd forwards the
// peer's half, or answers it from its last known state, marked stale. A peer that spd has
// nothing about contributes nothing; the answer says so in Oem.DualSP.Sources. Ids name the
// SP: "SPA_CPU0Temp". Full mode only: the enclosure is not the rescue subset's business.

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/chassis_location.hpp"
#include "webserver/routes/enclosure.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

using namespace enclosure;

constexpr std::string_view kChassisCollectionType = "#ChassisCollection.ChassisCollection";
constexpr std::string_view kChassisType = "#Chassis.v1_25_0.Chassis";
constexpr std::string_view kSensorCollectionType = "#SensorCollection.SensorCollection";
constexpr std::string_view kSensorType = "#Sensor.v1_10_0.Sensor";
constexpr std::string_view kThermalSubsystemType = "#ThermalSubsystem.v1_3_0.ThermalSubsystem";
constexpr std::string_view kFanCollectionType = "#FanCollection.FanCollection";
constexpr std::string_view kFanType = "#Fan.v1_5_0.Fan";
constexpr std::string_view kPowerSubsystemType = "#PowerSubsystem.v1_1_0.PowerSubsystem";
constexpr std::string_view kPowerSupplyCollectionType =
    "#PowerSupplyCollection.PowerSupplyCollection";
constexpr std::string_view kPowerSupplyType = "#PowerSupply.v1_5_0.PowerSupply";

// The enclosure's settable properties: records of the replicated configuration store.
constexpr std::string_view kChassisConfigPrefix = "chassis/";
constexpr std::string_view kAssetTagKey = "chassis/AssetTag";
constexpr std::string_view kLocationKey = "chassis/Location";
constexpr std::string_view kAssetTagProperty = "AssetTag";
constexpr std::string_view kLocationProperty = "Location";

std::string thermalPath() {
  return enclosurePath() + "/ThermalSubsystem";
}
std::string fansPath() {
  return thermalPath() + "/Fans";
}
std::string powerPath() {
  return enclosurePath() + "/PowerSubsystem";
}
std::string powerSuppliesPath() {
  return powerPath() + "/PowerSupplies";
}

// The enclosure's legacy resources (routes/thermal.cpp, routes/power.cpp), linked from it.
std::string legacyThermalPath() {
  return enclosurePath() + "/Thermal";
}
std::string legacyPowerPath() {
  return enclosurePath() + "/Power";
}

// The worst health of every sensor either SP reported.
HealthState enclosureHealth(const BothAnswers& sensors) {
  HealthState health = HealthState::OK;
  for (SpId sp : kBothSps)
    if (const auto& r = sensors[sp])
      for (const proto::Sensor& s : r->sensors().sensors()) health = worse(health, sensorHealth(s));
  return health;
}

Json sensorBody(const RequestContext& ctx, SpId sp, const proto::Sensor& s,
                const proto::CommandResult& result) {
  const std::string id = enclosureId(sp, s.id());
  Json body = {
      {"@odata.id", sensorsPath() + "/" + id},
      {"@odata.type", kSensorType},
      {"Id", id},
      {"Name", std::string(spName(sp)) + " " + (s.name().empty() ? s.id() : s.name())},
  };
  if (std::optional<ReadingType> type = parseReadingType(s.kind())) {
    body["ReadingType"] = *type;
    body["ReadingUnits"] = readingUnits(*type);
  }
  body["Reading"] = s.reading();
  if (s.upper_critical() != 0)
    body["Thresholds"] = {{"UpperCritical", {{"Reading", s.upper_critical()}}}};
  body["Status"] = {{"State", ResourceState::Enabled}, {"Health", sensorHealth(s)}};
  body["RelatedItem"] = Json::array({odataLink(managerPath(sp))});
  body["Oem"]["DualSP"] = freshnessOem(result, ctx);
  return body;
}

Json fanBody(const RequestContext& ctx, SpId sp, const proto::InventoryItem& item,
             const proto::CommandResult& inventory, const proto::CommandResult* sensors) {
  const std::string id = enclosureId(sp, item.id());
  const proto::Sensor* sensor = sensorOfPart(sensors, item.id(), ReadingType::Rotational);
  Json body = {{"@odata.id", fansPath() + "/" + id}, {"@odata.type", kFanType}, {"Id", id}};
  addPartIdentity(body, sp, item);
  body["Status"] = partStatus(sensor);
  if (sensor)
    body["SpeedPercent"] = {{"DataSourceUri", sensorsPath() + "/" + enclosureId(sp, sensor->id())},
                            {"SpeedRPM", sensor->reading()}};
  body["Oem"]["DualSP"] = freshnessOem(inventory, ctx);
  return body;
}

Json powerSupplyBody(const RequestContext& ctx, SpId sp, const proto::InventoryItem& item,
                     const proto::CommandResult& inventory, const proto::CommandResult* sensors) {
  const std::string id = enclosureId(sp, item.id());
  const proto::Sensor* sensor = sensorOfPart(sensors, item.id(), ReadingType::Power);
  Json body = {
      {"@odata.id", powerSuppliesPath() + "/" + id},
      {"@odata.type", kPowerSupplyType},
      {"Id", id},
  };
  addPartIdentity(body, sp, item);
  body["Status"] = partStatus(sensor);
  if (sensor && sensor->upper_critical() != 0)
    body["PowerCapacityWatts"] = sensor->upper_critical();
  body["Oem"]["DualSP"] = freshnessOem(inventory, ctx);
  return body;
}

Json collectionBody(std::string path, std::string_view type, std::string name, Json members) {
  const size_t count = members.size();
  return {
      {"@odata.id", std::move(path)}, {"@odata.type", type},           {"Name", std::move(name)},
      {"Members@odata.count", count}, {"Members", std::move(members)},
  };
}

void handleChassisCollectionGet(const RequestContext&, Response& res) {
  res.body = collectionBody("/redfish/v1/Chassis", kChassisCollectionType, "Chassis Collection",
                            Json::array({odataLink(enclosurePath())}));
}

void handleChassisGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<BothAnswers> sensors = askBothSps(ctx, kGetSensors, res);
  if (!sensors) return;
  // The settings are left out, rather than the enclosure refused, while the store is not
  // readable: the sensors still say how the enclosure is.
  Response unread;
  std::optional<std::map<std::string, Json>> config =
      readConfig(ctx, kChassisConfigPrefix, unread, "Chassis", kEnclosureId);
  const Json managers = {odataLink(managerPath(SpId::A)), odataLink(managerPath(SpId::B))};
  const HealthState health = enclosureHealth(*sensors);
  res.body = {
      {"@odata.id", enclosurePath()}, {"@odata.type", kChassisType},           {"Id", kEnclosureId},
      {"Name", "Array enclosure"},    {"ChassisType", ChassisType::Enclosure},
  };
  if (config) {
    auto tag = config->find(std::string(kAssetTagKey));
    res.body["AssetTag"] = tag != config->end() && tag->second.is_string() ? tag->second : Json("");
    auto location = config->find(std::string(kLocationKey));
    if (location != config->end() && location->second.is_object())
      res.body["Location"] = location->second;
  }
  res.body.update(Json{
      {"PowerState", PowerState::On},
      {"Status", {{"State", ResourceState::Enabled}, {"Health", health}, {"HealthRollup", health}}},
      {"Sensors", odataLink(sensorsPath())},
      {"ThermalSubsystem", odataLink(thermalPath())},
      {"PowerSubsystem", odataLink(powerPath())},
      // Deprecated by the subsystems, still what many clients read (bmcweb keeps them too).
      {"Thermal", odataLink(legacyThermalPath())},
      {"Power", odataLink(legacyPowerPath())},
      {"Drives", odataLink(enclosurePath() + "/Drives")},  // the shelf (routes/storage.cpp)
      {"Links", {{"ManagedBy", managers}, {"ManagersInChassis", managers}}},
      {"Oem", {{"DualSP", sourcesOem(ctx, *sensors)}}},
  });
}

// PATCH {"AssetTag": ..., "Location": {...}}: one change with one record per property, then
// the enclosure as it is now.
void handleChassisPatch(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  ConfigChange change;
  change.kind = ChangeKind::Changed;
  change.origin = enclosurePath();
  for (const auto& [key, value] : body->items()) {
    if (key == kAssetTagProperty) {
      if (!assetTagAccepted(value, res)) return;
      change.puts.emplace_back(kAssetTagKey, value);
    } else if (key == kLocationProperty) {
      if (!locationAccepted(value, res)) return;
      change.puts.emplace_back(kLocationKey, value);
    } else {
      messages::propertyUnknown(res, key);
      return;
    }
    if (!change.detail.empty()) change.detail += ", ";
    change.detail += key + " = '" + valueText(value) + "'";
  }
  if (!change.puts.empty() && !writeConfig(ctx, change, res, "Chassis", kEnclosureId)) return;
  answerChanged(ctx, res, handleChassisGet);
}

void handleSensorCollectionGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<BothAnswers> sensors = askBothSps(ctx, kGetSensors, res);
  if (!sensors) return;
  Json members = Json::array();
  for (SpId sp : kBothSps)
    if (const auto& r = (*sensors)[sp])
      for (const proto::Sensor& s : r->sensors().sensors())
        members.push_back(odataLink(sensorsPath() + "/" + enclosureId(sp, s.id())));
  res.body = collectionBody(sensorsPath(), kSensorCollectionType, "Sensors of the enclosure",
                            std::move(members));
  res.body["Oem"]["DualSP"] = sourcesOem(ctx, *sensors);
}

void handleSensorGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  const std::string& id = ctx.params.at(1);
  std::optional<std::pair<SpId, std::string>> part = splitEnclosureId(id);
  if (!part) {
    messages::resourceNotFound(res, "Sensor", id);
    return;
  }
  std::optional<proto::CommandResult> result =
      runCommand(ctx, makeCommand(ctx, kGetSensors, part->first));
  if (!commandSucceeded(result, res, "Sensor", id)) return;
  for (const proto::Sensor& s : result->sensors().sensors()) {
    if (s.id() != part->second) continue;
    res.body = sensorBody(ctx, part->first, s, *result);
    return;
  }
  messages::resourceNotFound(res, "Sensor", id);
}

void handleThermalSubsystemGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<Parts> parts = askParts(ctx, res);
  if (!parts) return;
  const HealthState health = partsHealth(*parts, kFanKind, ReadingType::Rotational);
  res.body = {
      {"@odata.id", thermalPath()},
      {"@odata.type", kThermalSubsystemType},
      {"Id", "ThermalSubsystem"},
      {"Name", "Cooling of the enclosure"},
      {"Fans", odataLink(fansPath())},
      {"Status", {{"State", ResourceState::Enabled}, {"Health", health}, {"HealthRollup", health}}},
      {"Oem", {{"DualSP", sourcesOem(ctx, parts->inventory)}}},
  };
}

void handlePowerSubsystemGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<Parts> parts = askParts(ctx, res);
  if (!parts) return;
  const HealthState health = partsHealth(*parts, kPowerSupplyKind, ReadingType::Power);
  res.body = {
      {"@odata.id", powerPath()},
      {"@odata.type", kPowerSubsystemType},
      {"Id", "PowerSubsystem"},
      {"Name", "Power of the enclosure"},
      {"PowerSupplies", odataLink(powerSuppliesPath())},
      {"Status", {{"State", ResourceState::Enabled}, {"Health", health}, {"HealthRollup", health}}},
      {"Oem", {{"DualSP", sourcesOem(ctx, parts->inventory)}}},
  };
}

void handleFanCollectionGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<Parts> parts = askParts(ctx, res);
  if (!parts) return;
  Json members = Json::array();
  forEachPart(*parts, kFanKind, ReadingType::Rotational,
              [&](SpId sp, const proto::InventoryItem& item, const proto::CommandResult&,
                  const proto::Sensor*) {
                members.push_back(odataLink(fansPath() + "/" + enclosureId(sp, item.id())));
              });
  res.body =
      collectionBody(fansPath(), kFanCollectionType, "Fans of the enclosure", std::move(members));
  res.body["Oem"]["DualSP"] = sourcesOem(ctx, parts->inventory);
}

void handlePowerSupplyCollectionGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<Parts> parts = askParts(ctx, res);
  if (!parts) return;
  Json members = Json::array();
  forEachPart(
      *parts, kPowerSupplyKind, ReadingType::Power,
      [&](SpId sp, const proto::InventoryItem& item, const proto::CommandResult&,
          const proto::Sensor*) {
        members.push_back(odataLink(powerSuppliesPath() + "/" + enclosureId(sp, item.id())));
      });
  res.body = collectionBody(powerSuppliesPath(), kPowerSupplyCollectionType,
                            "Power supplies of the enclosure", std::move(members));
  res.body["Oem"]["DualSP"] = sourcesOem(ctx, parts->inventory);
}

// One part of `kind` by its enclosure id (route parameter 1), rendered by `render`.
template <typename Render>
void handlePartGet(const RequestContext& ctx, Response& res, std::string_view type,
                   std::string_view kind, Render render) {
  if (!isEnclosure(ctx, res)) return;
  const std::string& id = ctx.params.at(1);
  std::optional<std::pair<SpId, std::string>> part = splitEnclosureId(id);
  if (!part) {
    messages::resourceNotFound(res, type, id);
    return;
  }
  const SpId sp = part->first;
  std::optional<proto::CommandResult> inventory =
      runCommand(ctx, makeCommand(ctx, kGetInventory, sp));
  if (!commandSucceeded(inventory, res, type, id)) return;
  for (const proto::InventoryItem& item : inventory->inventory().items()) {
    if (item.id() != part->second || item.kind() != kind) continue;
    std::optional<proto::CommandResult> sensors =
        runCommand(ctx, makeCommand(ctx, kGetSensors, sp));
    const bool have_sensors = sensors && sensors->status() == proto::CommandResult::OK;
    res.body = render(ctx, sp, item, *inventory, have_sensors ? &*sensors : nullptr);
    return;
  }
  messages::resourceNotFound(res, type, id);
}

void handleFanGet(const RequestContext& ctx, Response& res) {
  handlePartGet(ctx, res, "Fan", kFanKind, fanBody);
}

void handlePowerSupplyGet(const RequestContext& ctx, Response& res) {
  handlePartGet(ctx, res, "PowerSupply", kPowerSupplyKind, powerSupplyBody);
}

}  // namespace

void requestRoutesChassis(RouteTable& routes) {
  routes.add({.pattern = "/redfish/v1/Chassis",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::None,
              .handler = handleChassisCollectionGet});
  const std::string chassis = "/redfish/v1/Chassis/{ChassisId}";
  addEnclosureRoute(routes, chassis, handleChassisGet);
  routes.add({.pattern = chassis,
              .methods = {HttpMethod::Patch},
              .privilege = Privilege::ConfigureComponents,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handleChassisPatch});
  addEnclosureRoute(routes, chassis + "/Sensors", handleSensorCollectionGet);
  addEnclosureRoute(routes, chassis + "/Sensors/{SensorId}", handleSensorGet);
  addEnclosureRoute(routes, chassis + "/ThermalSubsystem", handleThermalSubsystemGet);
  addEnclosureRoute(routes, chassis + "/ThermalSubsystem/Fans", handleFanCollectionGet);
  addEnclosureRoute(routes, chassis + "/ThermalSubsystem/Fans/{FanId}", handleFanGet);
  addEnclosureRoute(routes, chassis + "/PowerSubsystem", handlePowerSubsystemGet);
  addEnclosureRoute(routes, chassis + "/PowerSubsystem/PowerSupplies",
                    handlePowerSupplyCollectionGet);
  addEnclosureRoute(routes, chassis + "/PowerSubsystem/PowerSupplies/{PowerSupplyId}",
                    handlePowerSupplyGet);
}

}  // namespace dualsp::web
