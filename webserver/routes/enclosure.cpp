// The enclosure's shared helpers (routes/enclosure.hpp): the commands to both SPs, the ids
// that name an SP, health and freshness, and which sensor measures which part.

#include "webserver/routes/enclosure.hpp"

#include <algorithm>
#include <cctype>

#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"

namespace dualsp::web::enclosure {

std::string enclosureId(SpId sp, const std::string& id) {
  return std::string(managerId(sp)) + "_" + id;
}

std::optional<std::pair<SpId, std::string>> splitEnclosureId(const std::string& id) {
  const size_t underscore = id.find('_');
  if (underscore == std::string::npos || underscore + 1 == id.size()) return std::nullopt;
  std::optional<SpId> sp = spOfManagerId(std::string_view(id).substr(0, underscore));
  if (!sp) return std::nullopt;
  return std::make_pair(*sp, id.substr(underscore + 1));
}

std::string sensorsPath() {
  return enclosurePath() + "/Sensors";
}

HealthState worse(HealthState a, HealthState b) {
  return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

HealthState sensorHealth(const proto::Sensor& s) {
  return healthState(fromProto(s.health()));
}

std::optional<BothAnswers> askBothSps(const RequestContext& ctx, std::string_view command,
                                      Response& res) {
  BothAnswers answers;
  const SpId self = ctx.config.sp;
  for (SpId sp : {self, peerOf(self)}) {
    std::optional<proto::CommandResult> result = runCommand(ctx, makeCommand(ctx, command, sp));
    if (sp == self) {
      if (!commandSucceeded(result, res, "Chassis", kEnclosureId)) return std::nullopt;
    } else if (!result || (result->status() != proto::CommandResult::OK &&
                           result->status() != proto::CommandResult::ACCEPTED)) {
      continue;
    }
    answers.of[static_cast<size_t>(sp)] = std::move(result);
  }
  return answers;
}

Json sourcesOem(const RequestContext& ctx, const BothAnswers& answers) {
  Json sources = Json::object();
  bool stale = false;
  for (SpId sp : kBothSps) {
    const std::optional<proto::CommandResult>& r = answers[sp];
    const bool missing = !r.has_value();
    stale = stale || missing || r->stale();
    sources[std::string(1, spLetter(sp))] = {
        {"Stale", missing || r->stale()},
        {"AgeMs", missing ? Json(nullptr) : Json(r->age_ms())},
    };
  }
  return {{"Stale", stale},
          {"Sources", std::move(sources)},
          {"ServedBy", std::string(1, spLetter(ctx.config.sp))}};
}

Json freshnessOem(const proto::CommandResult& result, const RequestContext& ctx) {
  Json oem = freshnessOf(result);
  oem["ServedBy"] = std::string(1, spLetter(ctx.config.sp));
  return oem;
}

const proto::Sensor* sensorOfPart(const proto::CommandResult* sensors, const std::string& part_id,
                                  ReadingType kind) {
  if (!sensors) return nullptr;
  for (const proto::Sensor& s : sensors->sensors().sensors()) {
    if (parseReadingType(s.kind()) != kind || s.id().rfind(part_id, 0) != 0) continue;
    if (s.id().size() == part_id.size() ||
        !std::isdigit(static_cast<unsigned char>(s.id()[part_id.size()])))
      return &s;
  }
  return nullptr;
}

Json partStatus(const proto::Sensor* sensor) {
  Json status = {{"State", ResourceState::Enabled}};
  if (sensor) status["Health"] = sensorHealth(*sensor);
  return status;
}

void addPartIdentity(Json& body, SpId sp, const proto::InventoryItem& item) {
  body["Name"] = std::string(spName(sp)) + " " + (item.name().empty() ? item.id() : item.name());
  if (!item.manufacturer().empty()) body["Manufacturer"] = item.manufacturer();
  if (!item.model().empty()) body["Model"] = item.model();
  if (!item.serial_number().empty()) body["SerialNumber"] = item.serial_number();
  if (!item.part_number().empty()) body["PartNumber"] = item.part_number();
}

std::optional<Parts> askParts(const RequestContext& ctx, Response& res) {
  std::optional<BothAnswers> inventory = askBothSps(ctx, kGetInventory, res);
  if (!inventory) return std::nullopt;
  std::optional<BothAnswers> sensors = askBothSps(ctx, kGetSensors, res);
  if (!sensors) return std::nullopt;
  return Parts{std::move(*inventory), std::move(*sensors)};
}

Json sourcesOem(const RequestContext& ctx, const Parts& parts) {
  BothAnswers combined;
  for (SpId sp : kBothSps) {
    const auto& inventory = parts.inventory[sp];
    const auto& sensors = parts.sensors[sp];
    if (!inventory || !sensors) continue;
    proto::CommandResult& half = combined.of[static_cast<size_t>(sp)].emplace();
    half.set_stale(inventory->stale() || sensors->stale());
    half.set_age_ms(std::max(inventory->age_ms(), sensors->age_ms()));
  }
  return sourcesOem(ctx, combined);
}

HealthState partsHealth(const Parts& parts, std::string_view kind, ReadingType reading) {
  HealthState health = HealthState::OK;
  forEachPart(parts, kind, reading,
              [&](SpId, const proto::InventoryItem&, const proto::CommandResult&,
                  const proto::Sensor* sensor) {
                if (sensor) health = worse(health, sensorHealth(*sensor));
              });
  return health;
}

bool isEnclosure(const RequestContext& ctx, Response& res) {
  if (ctx.params.at(0) == kEnclosureId) return true;
  messages::resourceNotFound(res, "Chassis", ctx.params.at(0));
  return false;
}

void addEnclosureRoute(RouteTable& routes, std::string pattern, Handler handler) {
  routes.add({.pattern = std::move(pattern),
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handler});
}

}  // namespace dualsp::web::enclosure
