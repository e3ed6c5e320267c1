// /redfish/v1/Chassis/{ChassisId}/Power: the enclosure's power supplies and voltage rails as
// one legacy Power resource, deprecated by PowerSubsystem and Sensors (routes/chassis.cpp)
// but still what many clients read (redfishtool's "Chassis Power", sushy); bmcweb keeps it
// for them too. Built from the same answers as the subsystem: GetInventory (every
// PowerSupply, with its own output power sensor) and GetSensors (every Voltage sensor) of
// both SPs, this SP first. No PowerControl: the SPs measure no total for the enclosure, and
// set no limit.

#include <string>

#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/routes/enclosure.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

using namespace enclosure;

// Power_v1 was last revised in v1_7 (errata v1_7_3); PowerSubsystem replaces it.
constexpr std::string_view kPowerType = "#Power.v1_7_3.Power";

std::string powerPath() {
  return enclosurePath() + "/Power";
}

// Array members are referenceable (Resource.v1_0_0.ReferenceableMember): "...#/Voltages/0"
// with MemberId the zero-based index (Redfish 1.6 and later).
Json memberOf(std::string_view array, size_t index) {
  return {{"@odata.id", powerPath() + "#/" + std::string(array) + "/" + std::to_string(index)},
          {"MemberId", std::to_string(index)}};
}

Json powerSupplyBody(size_t index, SpId sp, const proto::InventoryItem& item,
                     const proto::Sensor* sensor) {
  Json body = memberOf("PowerSupplies", index);
  addPartIdentity(body, sp, item);
  body["Status"] = partStatus(sensor);
  if (sensor) {
    // The supply's output sensor: its reading, and its upper critical as the capacity (as
    // PowerSubsystem's PowerSupply says).
    body["PowerOutputWatts"] = sensor->reading();
    if (sensor->upper_critical() != 0) body["PowerCapacityWatts"] = sensor->upper_critical();
  }
  body["RelatedItem"] = Json::array({odataLink(managerPath(sp))});
  return body;
}

Json voltageBody(size_t index, SpId sp, const proto::Sensor& s) {
  Json body = memberOf("Voltages", index);
  body["Name"] = std::string(spName(sp)) + " " + (s.name().empty() ? s.id() : s.name());
  body["ReadingVolts"] = s.reading();
  if (s.upper_critical() != 0) body["UpperThresholdCritical"] = s.upper_critical();
  body["Status"] = {{"State", ResourceState::Enabled}, {"Health", sensorHealth(s)}};
  body["RelatedItem"] = Json::array({odataLink(managerPath(sp))});
  return body;
}

void handlePowerGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<Parts> parts = askParts(ctx, res);
  if (!parts) return;
  Json supplies = Json::array();
  forEachPart(*parts, kPowerSupplyKind, ReadingType::Power,
              [&](SpId sp, const proto::InventoryItem& item, const proto::CommandResult&,
                  const proto::Sensor* sensor) {
                supplies.push_back(powerSupplyBody(supplies.size(), sp, item, sensor));
              });
  Json voltages = Json::array();
  forEachSensor(parts->sensors, ReadingType::Voltage, [&](SpId sp, const proto::Sensor& s) {
    voltages.push_back(voltageBody(voltages.size(), sp, s));
  });
  const size_t supply_count = supplies.size();
  const size_t voltage_count = voltages.size();
  res.body = {
      {"@odata.id", powerPath()},
      {"@odata.type", kPowerType},
      {"Id", "Power"},
      {"Name", "Power of the enclosure"},
      {"PowerSupplies", std::move(supplies)},
      {"PowerSupplies@odata.count", supply_count},
      {"Voltages", std::move(voltages)},
      {"Voltages@odata.count", voltage_count},
      {"Oem", {{"DualSP", sourcesOem(ctx, *parts)}}},
  };
}

}  // namespace

void requestRoutesPower(RouteTable& routes) {
  addEnclosureRoute(routes, "/redfish/v1/Chassis/{ChassisId}/Power", handlePowerGet);
}

}  // namespace dualsp::web
