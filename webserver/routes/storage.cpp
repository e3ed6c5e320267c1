// The array's storage on Swordfish (docs/STORAGE.md): /redfish/v1/Storage/Array with its
// Drives, StoragePools and Volumes. spd's storage service (sp/storage_service.hpp) holds the
// model and decides every change on the active SP; here the Redfish bodies are translated to
// its terms and its refusals back into Base registry errors.

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/log.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/routes/storage_bus.hpp"

namespace dualsp::web {
namespace {

using namespace storage_routes;

constexpr std::string_view kStorageCollectionPath = "/redfish/v1/Storage";
constexpr std::string_view kStorageCollectionType = "#StorageCollection.StorageCollection";
constexpr std::string_view kStorageType = "#Storage.v1_21_0.Storage";
constexpr std::string_view kDriveType = "#Drive.v1_22_0.Drive";
constexpr std::string_view kDriveCollectionType = "#DriveCollection.DriveCollection";
constexpr std::string_view kPoolCollectionType = "#StoragePoolCollection.StoragePoolCollection";
constexpr std::string_view kPoolType = "#StoragePool.v1_9_1.StoragePool";
constexpr std::string_view kVolumeCollectionType = "#VolumeCollection.VolumeCollection";
constexpr std::string_view kVolumeType = "#Volume.v1_10_2.Volume";
constexpr std::string_view kControllerCollectionType =
    "#StorageControllerCollection.StorageControllerCollection";
constexpr std::string_view kControllerType = "#StorageController.v1_11_0.StorageController";
constexpr std::string_view kPortCollectionType = "#PortCollection.PortCollection";
constexpr std::string_view kPortType = "#Port.v1_18_0.Port";
constexpr uint64_t kBlockSizeBytes = 512;

// CapacitySources: [{"<member>": [{"@odata.id": ...}, ...]}] -> the ids; nullopt with the
// error set.
std::optional<Json> capacitySources(const Json& value, std::string_view member,
                                    std::string_view collection, Response& res) {
  const std::string property = "CapacitySources";
  if (!value.is_array() || value.size() != 1 || !value[0].is_object() || value[0].size() != 1 ||
      !value[0].contains(member) || !value[0][member].is_array()) {
    messages::propertyValueFormatError(res, valueText(value), property);
    return std::nullopt;
  }
  Json ids = Json::array();
  for (const Json& link : value[0][member]) {
    std::optional<std::string> id = memberOf(link, collection);
    if (!id) {
      messages::propertyValueFormatError(res, valueText(link), property);
      return std::nullopt;
    }
    ids.push_back(*id);
  }
  return ids;
}

// Oem: {"DualSP": {"DefaultOwner": "SPA"|"SPB"}} -> "A"/"B" into `out`; false with the error.
bool defaultOwnerOf(const Json& oem, Json& out, Response& res) {
  const std::string property = "Oem/DualSP/DefaultOwner";
  if (!oem.is_object() || oem.size() != 1 || !oem.contains("DualSP") ||
      !oem["DualSP"].is_object()) {
    messages::propertyValueFormatError(res, valueText(oem), "Oem");
    return false;
  }
  for (const auto& [key, value] : oem["DualSP"].items()) {
    if (key != "DefaultOwner") {
      messages::propertyUnknown(res, "Oem/DualSP/" + key);
      return false;
    }
    if (!value.is_string() || (value != "SPA" && value != "SPB")) {
      messages::propertyValueNotInList(res, valueText(value), property);
      return false;
    }
    out["DefaultOwner"] = value.get<std::string>().substr(2);
  }
  return true;
}

Json driveBody(const Json& d) {
  const std::string id = d.value("Id", std::string());
  Json body = {
      {"@odata.id", drivePath(id)},
      {"@odata.type", kDriveType},
      {"Id", id},
      {"Name", "Drive in slot " + std::to_string(d.value("Slot", 0))},
      {"CapacityBytes", d.value("CapacityBytes", uint64_t{0})},
      {"MediaType", d.value("MediaType", std::string())},
      {"Manufacturer", d.value("Manufacturer", std::string())},
      {"Model", d.value("Model", std::string())},
      {"SerialNumber", d.value("SerialNumber", std::string())},
      {"BlockSizeBytes", kBlockSizeBytes},
      {"PhysicalLocation",
       {{"PartLocation",
         {{"LocationOrdinalValue", d.value("Slot", 0)}, {"LocationType", "Slot"}}}}},
      {"Status", statusOf(d.value("Failed", false), false)},
  };
  if (!d.value("Protocol", std::string()).empty()) body["Protocol"] = d["Protocol"];
  Json pools = Json::array();
  if (!d.value("Pool", std::string()).empty()) pools.push_back(odataLink(poolPath(d["Pool"])));
  body["Links"] = {{"StoragePools", pools}, {"StoragePools@odata.count", pools.size()}};
  return body;
}

Json poolBody(const Json& p, const Json& model) {
  const std::string id = p.value("Id", std::string());
  const uint64_t capacity = p.value("CapacityBytes", uint64_t{0});
  const uint64_t allocated = p.value("AllocatedBytes", uint64_t{0});
  Json drives = Json::array();
  for (const Json& d : p.value("Drives", Json::array()))
    if (d.is_string()) drives.push_back(odataLink(drivePath(d.get<std::string>())));
  Json volumes = Json::array();
  for (const Json& v : model["volumes"])
    if (v.value("Pool", std::string()) == id) volumes.push_back(odataLink(volumePath(v["Id"])));
  Json body = {
      {"@odata.id", poolPath(id)},
      {"@odata.type", kPoolType},
      {"Id", id},
      {"Name", p.value("Name", "Pool " + id)},
      {"SupportedRAIDTypes", Json::array({p.value("RAIDType", std::string())})},
      {"BlockSizeBytes", kBlockSizeBytes},
      {"Capacity", {{"Data", {{"AllocatedBytes", capacity}, {"ConsumedBytes", allocated}}}}},
      {"RemainingCapacityPercent",
       capacity == 0
           ? 0
           : static_cast<int>((capacity - std::min(capacity, allocated)) * 100 / capacity)},
      {"Status", statusOf(false, p.value("Degraded", false))},
  };
  body["Oem"]["DualSP"] = {
      {"DefaultOwner", spOf(p["DefaultOwner"])}, {"Drives", drives}, {"Volumes", volumes}};
  return body;
}

Json volumeBody(const Json& v, const Json& model) {
  const std::string id = v.value("Id", std::string());
  const std::string pool_id = v.value("Pool", std::string());
  const Json* pool = findById(model["pools"], pool_id);
  Json drives = Json::array();
  if (pool)
    for (const Json& d : pool->value("Drives", Json::array()))
      if (d.is_string()) drives.push_back(odataLink(drivePath(d.get<std::string>())));
  Json body = {
      {"@odata.id", volumePath(id)},
      {"@odata.type", kVolumeType},
      {"Id", id},
      {"Name", v.value("Name", "Volume " + id)},
      {"CapacityBytes", v.value("CapacityBytes", uint64_t{0})},
      // Thick: all of it is allocated from the pool when the volume is made.
      {"Capacity", {{"Data", {{"AllocatedBytes", v.value("CapacityBytes", uint64_t{0})}}}}},
      {"BlockSizeBytes", kBlockSizeBytes},
      {"Identifiers", Json::array({{{"DurableName", v.value("WWN", std::string())},
                                    {"DurableNameFormat", "NAA"}}})},
      {"Status", statusOf(false, pool && pool->value("Degraded", false))},
  };
  if (pool) body["RAIDType"] = pool->value("RAIDType", std::string());
  // Its owner's controller (the SP serving it now), and every connection that maps it.
  Json controllers = Json::array({odataLink(controllerPath(v.value("CurrentOwner", "A")))});
  Json connections = Json::array();
  for (const Json& map : model["mappings"]) {
    if (map.value("Volume", std::string()) != id) continue;
    const Json* host = findById(model["hosts"], map.value("Group", std::string()));
    if (host)
      connections.push_back(
          odataLink(connectionPath(host->value("Protocol", std::string()), map["Id"])));
  }
  body["Links"] = {{"Drives", drives},
                   {"Drives@odata.count", drives.size()},
                   {"Controllers", controllers},
                   {"Controllers@odata.count", controllers.size()}};
  body["Connections"] = connections;  // Volume.v1_9_0: a property of the volume, not a link
  body["Connections@odata.count"] = connections.size();
  const Json states = v.value("AccessStates", Json::object());
  body["Oem"]["DualSP"] = {
      {"StoragePool", odataLink(poolPath(pool_id))},
      {"DefaultOwner", spOf(v["DefaultOwner"])},
      {"CurrentOwner", spOf(v["CurrentOwner"])},
      {"AccessStates",
       {{"SPA", states.value("A", "Unavailable")}, {"SPB", states.value("B", "Unavailable")}}}};
  body["Actions"]["Oem"]["#DualSPVolume.Move"] = {
      {"target", volumePath(id) + "/Actions/Oem/DualSPVolume.Move"},
      {"TargetSP@Redfish.AllowableValues", Json::array({"SPA", "SPB"})}};
  return body;
}

Json collectionBody(std::string_view path, std::string_view type, std::string_view name,
                    const Json& items, std::string (*member)(const std::string&)) {
  Json members = Json::array();
  for (const Json& i : items) members.push_back(odataLink(member(i.value("Id", std::string()))));
  return {{"@odata.id", path},
          {"@odata.type", type},
          {"Name", name},
          {"Members@odata.count", members.size()},
          {"Members", std::move(members)}};
}

void handleStorageCollectionGet(const RequestContext&, Response& res) {
  res.body = {{"@odata.id", kStorageCollectionPath},
              {"@odata.type", kStorageCollectionType},
              {"Name", "Storage"},
              {"Members@odata.count", 1},
              {"Members", Json::array({odataLink(std::string(kStoragePath))})}};
}

void handleStorageGet(const RequestContext& ctx, Response& res) {
  std::shared_ptr<const Json> model = readStorage(ctx, res);
  if (!model) return;
  Json drives = Json::array();
  bool failed = false, degraded = false;
  for (const Json& d : (*model)["drives"]) {
    drives.push_back(odataLink(drivePath(d.value("Id", std::string()))));
    failed |= d.value("Failed", false);
  }
  for (const Json& p : (*model)["pools"]) degraded |= p.value("Degraded", false);
  res.body = {{"@odata.id", kStoragePath},
              {"@odata.type", kStorageType},
              {"Id", "Array"},
              {"Name", "Array storage"},
              {"Drives@odata.count", drives.size()},
              {"Drives", std::move(drives)},
              {"StoragePools", odataLink(std::string(kPoolsPath))},
              {"Volumes", odataLink(std::string(kVolumesPath))},
              {"Controllers", odataLink(std::string(kControllersPath))},
              {"Status", statusOf(false, failed || degraded)}};
  Json policy = model->value("policy", Json::object());
  if (!policy.is_object()) policy = Json::object();
  res.body["Oem"]["DualSP"] = {
      {"AutoFailback", policy.value("AutoFailback", false)},
      {"AutoFailbackDelaySeconds", policy.value("AutoFailbackDelaySeconds", 0)}};
  res.body["Actions"]["Oem"]["#DualSPStorage.Redistribute"] = {
      {"target", std::string(kStoragePath) + "/Actions/Oem/DualSPStorage.Redistribute"}};
}

// Volume.Move (Oem): {"TargetSP": "SPA"|"SPB"}, a planned move of the volume's ownership.
void handleVolumeMove(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  const std::string action = "DualSPVolume.Move";
  for (const auto& [key, value] : body->items())
    if (key != "TargetSP") return messages::actionParameterNotSupported(res, key, action);
  if (!body->contains("TargetSP")) return messages::actionParameterMissing(res, action, "TargetSP");
  const Json& target = (*body)["TargetSP"];
  if (!target.is_string() || (target != "SPA" && target != "SPB"))
    return messages::actionParameterValueNotInList(res, valueText(target), "TargetSP", action);
  if (!writeStorage(ctx, "move_volume", id, {{"To", target.get<std::string>().substr(2)}}, res,
                    "Volume", id))
    return;
  res.status = 204;
  res.body = nullptr;
}

// Storage.Redistribute (Oem): every volume back to its default owner.
void handleRedistribute(const RequestContext& ctx, Response& res) {
  if (!ctx.request.body.empty()) {
    std::optional<Json> body = jsonObjectBody(ctx.request, res);
    if (!body) return;
    if (!body->empty())
      return messages::actionParameterNotSupported(res, body->begin().key(),
                                                   "DualSPStorage.Redistribute");
  }
  if (!writeStorage(ctx, "redistribute", "", Json::object(), res, "Storage", "Array")) return;
  res.status = 204;
  res.body = nullptr;
}

// PATCH of the array's Storage: the owner policy, Oem.DualSP {"AutoFailback",
// "AutoFailbackDelaySeconds"} (docs/STORAGE.md "Owners").
void handleStoragePatch(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  for (const auto& [key, value] : body->items())
    if (key != "Oem") return messages::propertyNotWritable(res, key);
  const Json& oem = (*body)["Oem"];
  if (!oem.is_object() || oem.size() != 1 || !oem.contains("DualSP") || !oem["DualSP"].is_object())
    return messages::propertyValueFormatError(res, valueText(oem), "Oem");
  if (!writeStorage(ctx, "set_policy", "", oem["DualSP"], res, "Storage", "Array")) return;
  handleStorageGet(ctx, res);
}

// A controller is an SP: its state from the election (a dead SP is UnavailableOffline), its
// front-end ports, the volumes it serves now and its ports' endpoints.
bool spIsDead(const Json& model, const std::string& sp) {
  return model.value("dead", std::string()) == sp;
}

Json controllerBody(const Json& model, const std::string& sp) {
  Json volumes = Json::array(), endpoints = Json::array();
  for (const Json& v : model["volumes"])
    if (v.value("CurrentOwner", std::string()) == sp)
      volumes.push_back(odataLink(volumePath(v["Id"])));
  std::vector<std::string> protocols;
  for (const Json& p : model["ports"]) {
    if (p.value("SP", std::string()) != sp) continue;
    const std::string protocol = p.value("Protocol", std::string());
    endpoints.push_back(odataLink(endpointPath(protocol, p.value("Id", std::string()))));
    if (std::find(protocols.begin(), protocols.end(), protocol) == protocols.end())
      protocols.push_back(protocol);
  }
  const bool dead = spIsDead(model, sp);
  Json body = {{"@odata.id", controllerPath(sp)},
               {"@odata.type", kControllerType},
               {"Id", "SP" + sp},
               {"Name", "Storage controller SP-" + sp},
               {"Status", statusOf(dead, false, dead ? "UnavailableOffline" : "Enabled")},
               {"SupportedControllerProtocols", protocols},
               {"Ports", odataLink(controllerPath(sp) + "/Ports")},
               {"Links",
                {{"AttachedVolumes", volumes},
                 {"AttachedVolumes@odata.count", volumes.size()},
                 {"Endpoints", endpoints},
                 {"Endpoints@odata.count", endpoints.size()}}}};
  body["Oem"]["DualSP"] = {{"Manager", odataLink("/redfish/v1/Managers/SP" + sp)}};
  return body;
}

// "SPA" -> "A"; nullopt with a 404 for anything else.
std::optional<std::string> controllerSp(const std::string& id, Response& res) {
  if (id == "SPA" || id == "SPB") return id.substr(2);
  messages::resourceNotFound(res, "StorageController", id);
  return std::nullopt;
}

void handleControllerCollectionGet(const RequestContext&, Response& res) {
  Json members = Json::array({odataLink(controllerPath("A")), odataLink(controllerPath("B"))});
  res.body = {{"@odata.id", kControllersPath},
              {"@odata.type", kControllerCollectionType},
              {"Name", "Storage controllers"},
              {"Members@odata.count", members.size()},
              {"Members", members}};
}

void handleControllerGet(const RequestContext& ctx, Response& res) {
  std::optional<std::string> sp = controllerSp(ctx.params.at(0), res);
  if (!sp) return;
  std::shared_ptr<const Json> model = readStorage(ctx, res, "StorageController", ctx.params.at(0));
  if (!model) return;
  res.body = controllerBody(*model, *sp);
}

void handlePortCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<std::string> sp = controllerSp(ctx.params.at(0), res);
  if (!sp) return;
  std::shared_ptr<const Json> model = readStorage(ctx, res, "StorageController", ctx.params.at(0));
  if (!model) return;
  Json members = Json::array();
  for (const Json& p : (*model)["ports"])
    if (p.value("SP", std::string()) == *sp)
      members.push_back(odataLink(controllerPortPath(*sp, p.value("PortId", std::string()))));
  res.body = {{"@odata.id", controllerPath(*sp) + "/Ports"},
              {"@odata.type", kPortCollectionType},
              {"Name", "Front-end ports of SP-" + *sp},
              {"Members@odata.count", members.size()},
              {"Members", members}};
}

void handlePortGet(const RequestContext& ctx, Response& res) {
  std::optional<std::string> sp = controllerSp(ctx.params.at(0), res);
  if (!sp) return;
  const std::string& port_id = ctx.params.at(1);
  std::shared_ptr<const Json> model = readStorage(ctx, res, "Port", port_id);
  if (!model) return;
  const Json* p = findById((*model)["ports"], "SP" + *sp + "-" + port_id);
  if (!p) return messages::resourceNotFound(res, "Port", port_id);
  const bool up = p->value("LinkUp", false);
  const std::string protocol = p->value("Protocol", std::string());
  res.body = {
      {"@odata.id", controllerPortPath(*sp, port_id)},
      {"@odata.type", kPortType},
      {"Id", port_id},
      {"Name", "SP-" + *sp + " " + protocol + " port " + port_id},
      {"PortId", port_id},
      {"PortProtocol", protocol},
      {"PortType", "BidirectionalPort"},
      {"LinkStatus", up ? "LinkUp" : "LinkDown"},
      {"LinkState", "Enabled"},
      {"Status", statusOf(false, !up, spIsDead(*model, *sp) ? "UnavailableOffline" : "Enabled")},
      {"Links",
       {{"AssociatedEndpoints",
         Json::array({odataLink(endpointPath(protocol, p->value("Id", std::string())))})},
        {"AssociatedEndpoints@odata.count", 1}}}};
  if (up) res.body["CurrentSpeedGbps"] = p->value("SpeedMbps", 0) / 1000.0;
}

// The shelf's drives live in the enclosure's chassis (/redfish/v1/Chassis/Enclosure/Drives,
// as Swordfish's Discovery profile asks of drives that are capacity sources); the Storage
// resource links them.
void handleDriveCollectionGet(const RequestContext& ctx, Response& res) {
  std::shared_ptr<const Json> model = readStorage(ctx, res);
  if (!model) return;
  res.body = collectionBody(kDrivesPath, kDriveCollectionType, "Drives of the array's shelf",
                            (*model)["drives"], drivePath);
}

void handleDriveGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::shared_ptr<const Json> model = readStorage(ctx, res, "Drive", id);
  if (!model) return;
  const Json* d = findById((*model)["drives"], id);
  if (!d) return messages::resourceNotFound(res, "Drive", id);
  res.body = driveBody(*d);
}

void handlePoolCollectionGet(const RequestContext& ctx, Response& res) {
  std::shared_ptr<const Json> model = readStorage(ctx, res);
  if (!model) return;
  res.body =
      collectionBody(kPoolsPath, kPoolCollectionType, "Storage pools", (*model)["pools"], poolPath);
}

void handlePoolGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::shared_ptr<const Json> model = readStorage(ctx, res, "StoragePool", id);
  if (!model) return;
  const Json* p = findById((*model)["pools"], id);
  if (!p) return messages::resourceNotFound(res, "StoragePool", id);
  res.body = poolBody(*p, *model);
}

// Answers a created or changed pool or volume from a fresh read, or 201/200 with what spd
// stored when that read fails (the change is made: never a 503 for it).
void answerStored(const RequestContext& ctx, Response& res, const Json& written, bool pool,
                  int status) {
  const std::string id = written.value("id", std::string());
  Response fresh;
  std::shared_ptr<const Json> model = readStorage(ctx, fresh);
  const Json* item = model ? findById((*model)[pool ? "pools" : "volumes"], id) : nullptr;
  res.status = status;
  if (status == 201) res.addHeader("Location", pool ? poolPath(id) : volumePath(id));
  if (item) {
    res.body = pool ? poolBody(*item, *model) : volumeBody(*item, *model);
  } else {
    res.status = status == 201 ? 201 : 204;
    res.body = nullptr;
  }
}

void handlePoolPost(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  Json change = Json::object();
  for (const auto& [key, value] : body->items()) {
    if (key == "Name") {
      change["Name"] = value;
    } else if (key == "SupportedRAIDTypes") {
      if (!value.is_array() || value.size() != 1)
        return messages::propertyValueFormatError(res, valueText(value), key);
      change["RAIDType"] = value[0];
    } else if (key == "CapacitySources") {
      std::optional<Json> ids = capacitySources(value, "ProvidingDrives", kDrivesPath, res);
      if (!ids) return;
      change["Drives"] = *ids;
    } else if (key == "Oem") {
      if (!defaultOwnerOf(value, change, res)) return;
    } else {
      return messages::propertyUnknown(res, key);
    }
  }
  for (std::string_view required : {"SupportedRAIDTypes", "CapacitySources"})
    if (!body->contains(required)) return messages::propertyMissing(res, required);
  std::optional<Json> written =
      writeStorage(ctx, "create_pool", "", change, res, "StoragePool", "");
  if (written) answerStored(ctx, res, *written, true, 201);
}

void handlePoolDelete(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  if (!writeStorage(ctx, "delete_pool", id, Json::object(), res, "StoragePool", id)) return;
  res.status = 204;
  res.body = nullptr;
}

void handleVolumeCollectionGet(const RequestContext& ctx, Response& res) {
  std::shared_ptr<const Json> model = readStorage(ctx, res);
  if (!model) return;
  res.body = collectionBody(kVolumesPath, kVolumeCollectionType, "Volumes", (*model)["volumes"],
                            volumePath);
}

void handleVolumeGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::shared_ptr<const Json> model = readStorage(ctx, res, "Volume", id);
  if (!model) return;
  const Json* v = findById((*model)["volumes"], id);
  if (!v) return messages::resourceNotFound(res, "Volume", id);
  res.body = volumeBody(*v, *model);
}

// A Volume body (POST or PATCH) in spd's terms; nullopt with the error set.
std::optional<Json> volumeChange(const Json& body, bool create, Response& res) {
  Json change = Json::object();
  for (const auto& [key, value] : body.items()) {
    if (key == "Name" || key == "CapacityBytes") {
      change[key] = value;
    } else if (key == "CapacitySources" && create) {
      std::optional<Json> ids = capacitySources(value, "ProvidingPools", kPoolsPath, res);
      if (!ids) return std::nullopt;
      if (ids->size() != 1) {
        messages::propertyValueFormatError(res, valueText(value), key);
        return std::nullopt;
      }
      change["Pool"] = (*ids)[0];
    } else if (key == "Oem") {
      if (!defaultOwnerOf(value, change, res)) return std::nullopt;
    } else {
      messages::propertyUnknown(res, key);
      return std::nullopt;
    }
  }
  if (create)
    for (std::string_view required : {"CapacityBytes", "CapacitySources"})
      if (!body.contains(required)) {
        messages::propertyMissing(res, required);
        return std::nullopt;
      }
  return change;
}

void handleVolumePost(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  std::optional<Json> change = volumeChange(*body, true, res);
  if (!change) return;
  std::optional<Json> written = writeStorage(ctx, "create_volume", "", *change, res, "Volume", "");
  if (written) answerStored(ctx, res, *written, false, 201);
}

void handleVolumePatch(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  std::optional<Json> change = volumeChange(*body, false, res);
  if (!change) return;
  std::optional<Json> written = writeStorage(ctx, "patch_volume", id, *change, res, "Volume", id);
  if (written) answerStored(ctx, res, *written, false, 200);
}

// DELETE ...?force=true also deletes the volume's connections (hosts lose it); without it a
// volume a host still sees is refused (409 ResourceInUse).
void handleVolumeDelete(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<std::string> force = ctx.request.queryParameter("force");
  if (force && *force != "true" && *force != "false")
    return messages::queryParameterValueTypeError(res, *force, "force");
  Json body = Json::object();
  if (force && *force == "true") body["Force"] = true;
  if (!writeStorage(ctx, "delete_volume", id, body, res, "Volume", id)) return;
  res.status = 204;
  res.body = nullptr;
}

}  // namespace

void requestRoutesStorage(RouteTable& routes) {
  auto get = [&](std::string pattern, Handler handler, DataSource source) {
    routes.add({.pattern = std::move(pattern),
                .methods = {HttpMethod::Get, HttpMethod::Head},
                .privilege = Privilege::Login,
                .degraded = DegradedService::No,
                .source = source,
                .handler = std::move(handler)});
  };
  auto change = [&](std::string pattern, HttpMethod method, Handler handler) {
    routes.add({.pattern = std::move(pattern),
                .methods = {method},
                .privilege = Privilege::ConfigureComponents,
                .degraded = DegradedService::No,
                .source = DataSource::LocalBus,
                .handler = std::move(handler)});
  };
  get(std::string(kStorageCollectionPath), handleStorageCollectionGet, DataSource::None);
  get(std::string(kStoragePath), handleStorageGet, DataSource::LocalBus);
  change(std::string(kStoragePath), HttpMethod::Patch, handleStoragePatch);
  get(std::string(kControllersPath), handleControllerCollectionGet, DataSource::None);
  get(std::string(kControllersPath) + "/{ControllerId}", handleControllerGet, DataSource::LocalBus);
  get(std::string(kControllersPath) + "/{ControllerId}/Ports", handlePortCollectionGet,
      DataSource::LocalBus);
  get(std::string(kControllersPath) + "/{ControllerId}/Ports/{PortId}", handlePortGet,
      DataSource::LocalBus);
  get(std::string(kDrivesPath), handleDriveCollectionGet, DataSource::LocalBus);
  get(std::string(kDrivesPath) + "/{DriveId}", handleDriveGet, DataSource::LocalBus);
  get(std::string(kPoolsPath), handlePoolCollectionGet, DataSource::LocalBus);
  change(std::string(kPoolsPath), HttpMethod::Post, handlePoolPost);
  get(std::string(kPoolsPath) + "/{StoragePoolId}", handlePoolGet, DataSource::LocalBus);
  change(std::string(kPoolsPath) + "/{StoragePoolId}", HttpMethod::Delete, handlePoolDelete);
  get(std::string(kVolumesPath), handleVolumeCollectionGet, DataSource::LocalBus);
  change(std::string(kVolumesPath), HttpMethod::Post, handleVolumePost);
  get(std::string(kVolumesPath) + "/{VolumeId}", handleVolumeGet, DataSource::LocalBus);
  change(std::string(kVolumesPath) + "/{VolumeId}", HttpMethod::Patch, handleVolumePatch);
  change(std::string(kVolumesPath) + "/{VolumeId}", HttpMethod::Delete, handleVolumeDelete);
  change(std::string(kVolumesPath) + "/{VolumeId}/Actions/Oem/DualSPVolume.Move", HttpMethod::Post,
         handleVolumeMove);
  change(std::string(kStoragePath) + "/Actions/Oem/DualSPStorage.Redistribute", HttpMethod::Post,
         handleRedistribute);
}

}  // namespace dualsp::web
