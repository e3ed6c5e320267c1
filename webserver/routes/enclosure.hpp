#pragma once
// What the enclosure's resources share: routes/chassis.cpp (the Chassis, its Sensors,
// ThermalSubsystem and PowerSubsystem) and routes/thermal.cpp, routes/power.cpp (the legacy
// Thermal and Power that older clients read) are built from the same answers of both SPs
// (GetSensors, GetInventory), with the same ids, health and freshness.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "proto/command.pb.h"
#include "webserver/bus_command.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/route_table.hpp"

namespace dualsp::web::enclosure {

inline constexpr std::array<SpId, 2> kBothSps{SpId::A, SpId::B};

// The parts of an inventory (proto::InventoryItem::kind) the enclosure lists.
inline constexpr std::string_view kFanKind = "Fan";
inline constexpr std::string_view kPowerSupplyKind = "PowerSupply";

// "SPA_CPU0Temp": resource ids in the enclosure carry the SP whose part it is.
std::string enclosureId(SpId sp, const std::string& id);
// The SP and its own id in an enclosure id; nullopt when it names no SP.
std::optional<std::pair<SpId, std::string>> splitEnclosureId(const std::string& id);

// "/redfish/v1/Chassis/Enclosure/Sensors"
std::string sensorsPath();

HealthState worse(HealthState a, HealthState b);
HealthState sensorHealth(const proto::Sensor& s);

// What both SPs answered to one command: the answer of each, or nothing from a peer that spd
// could not answer for.
struct BothAnswers {
  std::array<std::optional<proto::CommandResult>, 2> of;
  const std::optional<proto::CommandResult>& operator[](SpId sp) const {
    return of[static_cast<size_t>(sp)];
  }
};

// Sends `command` about each SP, this SP first. This SP's failure is the request's (set on
// `res`, nullopt); the peer's leaves its half empty.
std::optional<BothAnswers> askBothSps(const RequestContext& ctx, std::string_view command,
                                      Response& res);

// Oem.DualSP of a resource built from both SPs: how fresh each half is ("AgeMs" null and
// "Stale" true for a half that is missing), "Stale" when either is, and who answered.
Json sourcesOem(const RequestContext& ctx, const BothAnswers& answers);
// The freshness of one SP's half, for a resource built from it alone.
Json freshnessOem(const proto::CommandResult& result, const RequestContext& ctx);

// The sensor that measures part `part_id` of kind `kind`: its id is the part's, or starts
// with it and goes on with a non-digit ("Fan0", "PSU0Power"; "Fan1" is not "Fan10"'s).
const proto::Sensor* sensorOfPart(const proto::CommandResult* sensors, const std::string& part_id,
                                  ReadingType kind);
// A part's Status: its sensor's health; without a sensor, only that it is there.
Json partStatus(const proto::Sensor* sensor);
// Name, Manufacturer, Model, SerialNumber, PartNumber of a part (fan, power supply).
void addPartIdentity(Json& body, SpId sp, const proto::InventoryItem& item);

// Both SPs' inventories and sensors, for the fans and power supplies.
struct Parts {
  BothAnswers inventory;
  BothAnswers sensors;
};
std::optional<Parts> askParts(const RequestContext& ctx, Response& res);
// sourcesOem of a resource built from both answers of each SP: a half is missing when either
// answer is, as stale as the staler of the two.
Json sourcesOem(const RequestContext& ctx, const Parts& parts);

// Visits every part of `kind` on both SPs, in SP order (A, B), with its sensor of `reading`
// (null when it has none).
template <typename Visit>
void forEachPart(const Parts& parts, std::string_view kind, ReadingType reading, Visit visit) {
  for (SpId sp : kBothSps) {
    const auto& inventory = parts.inventory[sp];
    if (!inventory) continue;
    const proto::CommandResult* sensors = parts.sensors[sp] ? &*parts.sensors[sp] : nullptr;
    for (const proto::InventoryItem& item : inventory->inventory().items())
      if (item.kind() == kind)
        visit(sp, item, *inventory, sensorOfPart(sensors, item.id(), reading));
  }
}

// Visits every sensor of `kind` both SPs reported, in SP order (A, B).
template <typename Visit>
void forEachSensor(const BothAnswers& sensors, ReadingType kind, Visit visit) {
  for (SpId sp : kBothSps)
    if (const auto& r = sensors[sp])
      for (const proto::Sensor& s : r->sensors().sensors())
        if (parseReadingType(s.kind()) == kind) visit(sp, s);
}

// The worst health of the parts of `kind` that have a sensor.
HealthState partsHealth(const Parts& parts, std::string_view kind, ReadingType reading);

// The {ChassisId} of the route (parameter 0), which must be the enclosure; 404 on `res`
// otherwise.
bool isEnclosure(const RequestContext& ctx, Response& res);

// A GET route of the enclosure: built from commands to both SPs, any user, full mode only.
void addEnclosureRoute(RouteTable& routes, std::string pattern, Handler handler);

}  // namespace dualsp::web::enclosure
