// /redfish/v1/Chassis/{ChassisId}/Thermal: the enclosure's temperatures and fans as one
// legacy Thermal resource, deprecated by ThermalSubsystem and Sensors (routes/chassis.cpp)
// but still what many clients read (redfishtool's "Chassis Thermal", sushy, most BMC
// scripts); bmcweb keeps it for them too. Built from the same answers as the subsystem:
// GetSensors (every Temperature sensor) and GetInventory (every Fan, with its own sensor) of
// both SPs, this SP first. A peer that spd has nothing about contributes nothing.

#include <cmath>
#include <string>

#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/routes/enclosure.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

using namespace enclosure;

// Thermal_v1 was last revised in v1_7 (errata v1_7_3); ThermalSubsystem replaces it.
constexpr std::string_view kThermalType = "#Thermal.v1_7_3.Thermal";

std::string thermalPath() {
  return enclosurePath() + "/Thermal";
}

// Array members are referenceable (Resource.v1_0_0.ReferenceableMember): "...#/Fans/0" with
// MemberId the zero-based index (Redfish 1.6 and later).
Json memberOf(std::string_view array, size_t index) {
  return {{"@odata.id", thermalPath() + "#/" + std::string(array) + "/" + std::to_string(index)},
          {"MemberId", std::to_string(index)}};
}

Json temperatureBody(size_t index, SpId sp, const proto::Sensor& s) {
  Json body = memberOf("Temperatures", index);
  body["Name"] = std::string(spName(sp)) + " " + (s.name().empty() ? s.id() : s.name());
  body["ReadingCelsius"] = s.reading();
  if (s.upper_critical() != 0) body["UpperThresholdCritical"] = s.upper_critical();
  body["Status"] = {{"State", ResourceState::Enabled}, {"Health", sensorHealth(s)}};
  body["RelatedItem"] = Json::array({odataLink(managerPath(sp))});
  return body;
}

Json fanBody(size_t index, SpId sp, const proto::InventoryItem& item, const proto::Sensor* sensor) {
  Json body = memberOf("Fans", index);
  addPartIdentity(body, sp, item);
  body["Status"] = partStatus(sensor);
  if (sensor) {
    body["Reading"] = std::llround(sensor->reading());  // Edm.Int64
    body["ReadingUnits"] = FanReadingUnits::RPM;
  }
  body["RelatedItem"] = Json::array({odataLink(managerPath(sp))});
  return body;
}

void handleThermalGet(const RequestContext& ctx, Response& res) {
  if (!isEnclosure(ctx, res)) return;
  std::optional<Parts> parts = askParts(ctx, res);
  if (!parts) return;
  Json temperatures = Json::array();
  HealthState health = HealthState::OK;
  forEachSensor(parts->sensors, ReadingType::Temperature, [&](SpId sp, const proto::Sensor& s) {
    temperatures.push_back(temperatureBody(temperatures.size(), sp, s));
    health = worse(health, sensorHealth(s));
  });
  Json fans = Json::array();
  forEachPart(*parts, kFanKind, ReadingType::Rotational,
              [&](SpId sp, const proto::InventoryItem& item, const proto::CommandResult&,
                  const proto::Sensor* sensor) {
                fans.push_back(fanBody(fans.size(), sp, item, sensor));
                if (sensor) health = worse(health, sensorHealth(*sensor));
              });
  const size_t temperature_count = temperatures.size();
  const size_t fan_count = fans.size();
  res.body = {
      {"@odata.id", thermalPath()},
      {"@odata.type", kThermalType},
      {"Id", "Thermal"},
      {"Name", "Thermal of the enclosure"},
      {"Temperatures", std::move(temperatures)},
      {"Temperatures@odata.count", temperature_count},
      {"Fans", std::move(fans)},
      {"Fans@odata.count", fan_count},
      {"Status", {{"State", ResourceState::Enabled}, {"Health", health}, {"HealthRollup", health}}},
      {"Oem", {{"DualSP", sourcesOem(ctx, *parts)}}},
  };
}

}  // namespace

void requestRoutesThermal(RouteTable& routes) {
  addEnclosureRoute(routes, "/redfish/v1/Chassis/{ChassisId}/Thermal", handleThermalGet);
}

}  // namespace dualsp::web
