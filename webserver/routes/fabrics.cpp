// Who reaches the array's volumes, on Swordfish (docs/STORAGE.md "Hosts and mappings"): one
// Fabric per front-end protocol (/redfish/v1/Fabrics/iSCSI, /FC) with
//  - Endpoints: the SPs' target ports (read-only, from the platform) and the hosts'
//    initiators (created and deleted here);
//  - EndpointGroups: each SP's target port group (SPA, SPB: its ALUA group) and the hosts and
//    host groups (GroupType Client; a host group is Oem.DualSP.Kind "HostGroup");
//  - Connections: a volume mapped to a host or host group at a LUN, read-write or read-only,
//    through chosen ports or all of them. Its VolumeInfo has one entry per SP the host reaches
//    the volume through, SP-A's first, each with that SP's AccessState (Optimized on the
//    owner, NonOptimized on the peer, Transitioning during a move); Oem.DualSP.Paths names
//    the target group of each.
// spd decides every change (sp/storage_access.cpp); here bodies are translated.

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "webserver/config_access.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/routes/storage_bus.hpp"

namespace dualsp::web {
namespace {

using namespace storage_routes;

constexpr std::string_view kFabricCollectionType = "#FabricCollection.FabricCollection";
constexpr std::string_view kFabricType = "#Fabric.v1_4_0.Fabric";
constexpr std::string_view kEndpointCollectionType = "#EndpointCollection.EndpointCollection";
constexpr std::string_view kEndpointType = "#Endpoint.v1_8_2.Endpoint";
constexpr std::string_view kEndpointGroupCollectionType =
    "#EndpointGroupCollection.EndpointGroupCollection";
constexpr std::string_view kEndpointGroupType = "#EndpointGroup.v1_3_4.EndpointGroup";
constexpr std::string_view kConnectionCollectionType = "#ConnectionCollection.ConnectionCollection";
constexpr std::string_view kConnectionType = "#Connection.v1_4_0.Connection";
constexpr std::string_view kProtocols[] = {"iSCSI", "FC"};
constexpr const char* kSps[] = {"A", "B"};

std::string str(const Json& item, const char* key) {
  return item.value(key, std::string());
}

bool knownProtocol(std::string_view p) {
  return std::find(std::begin(kProtocols), std::end(kProtocols), p) != std::end(kProtocols);
}

// The protocols the array has a port or an initiator of: its fabrics.
std::vector<std::string> fabricsOf(const Json& model) {
  std::set<std::string> seen;
  for (const char* list : {"ports", "initiators"})
    for (const Json& item : model[list]) seen.insert(str(item, "Protocol"));
  std::vector<std::string> out;
  for (std::string_view p : kProtocols)
    if (seen.count(std::string(p))) out.emplace_back(p);
  return out;
}

// The model, and the fabric named by the first path parameter; nullopt with a 404 (or the
// model's error).
std::shared_ptr<const Json> readFabric(const RequestContext& ctx, Response& res,
                                       std::string& protocol) {
  protocol = ctx.params.at(0);
  if (!knownProtocol(protocol)) {
    messages::resourceNotFound(res, "Fabric", protocol);
    return nullptr;
  }
  std::shared_ptr<const Json> model = readStorage(ctx, res, "Fabric", protocol);
  if (!model) return nullptr;
  std::vector<std::string> fabrics = fabricsOf(*model);
  if (std::find(fabrics.begin(), fabrics.end(), protocol) == fabrics.end()) {
    messages::resourceNotFound(res, "Fabric", protocol);
    return nullptr;
  }
  return model;
}

std::string durableFormat(const std::string& protocol, const std::string& name) {
  if (protocol == "FC") return "FC_WWN";
  if (name.rfind("eui.", 0) == 0) return "EUI";
  if (name.rfind("naa.", 0) == 0) return "NAA";
  return "iQN";
}

// A WWPN as FC_WWN shows it: "21:00:00:24:ff:31:4c:5a".
std::string durableName(const std::string& protocol, const std::string& name) {
  if (protocol != "FC" || name.size() != 16) return name;
  std::string out;
  for (size_t i = 0; i < name.size(); i += 2) out += (i ? ":" : "") + name.substr(i, 2);
  return out;
}

// The SPs (in order) a mapping reaches the host through: those of its ports, or every SP with
// a port of the protocol.
std::vector<std::string> spsOf(const Json& model, const Json& map, const std::string& protocol) {
  std::vector<std::string> out;
  for (const char* sp : kSps) {
    bool reach = false;
    const Json& ports = map["Ports"];
    if (ports.empty()) {
      for (const Json& p : model["ports"])
        reach |= str(p, "SP") == sp && str(p, "Protocol") == protocol;
    } else {
      for (const Json& p : ports)
        reach |= p.get<std::string>().rfind(std::string("SP") + sp + "-", 0) == 0;
    }
    if (reach) out.push_back(sp);
  }
  return out;
}

const Json* hostOfMapping(const Json& model, const Json& map) {
  return findById(model["hosts"], str(map, "Group"));
}

// The connections of `protocol` that satisfy `pred`.
template <typename Pred>
Json connectionLinks(const Json& model, const std::string& protocol, Pred pred) {
  Json out = Json::array();
  for (const Json& map : model["mappings"]) {
    const Json* host = hostOfMapping(model, map);
    if (host && str(*host, "Protocol") == protocol && pred(map, *host))
      out.push_back(odataLink(connectionPath(protocol, str(map, "Id"))));
  }
  return out;
}

Json collection(const std::string& path, std::string_view type, const std::string& name,
                Json members) {
  return {{"@odata.id", path},
          {"@odata.type", type},
          {"Name", name},
          {"Members@odata.count", members.size()},
          {"Members", std::move(members)}};
}

// ---- Fabrics ----

void handleFabricCollectionGet(const RequestContext& ctx, Response& res) {
  std::shared_ptr<const Json> model = readStorage(ctx, res);
  if (!model) return;
  Json members = Json::array();
  for (const std::string& p : fabricsOf(*model)) members.push_back(odataLink(fabricPath(p)));
  res.body = collection(std::string(kFabricsPath), kFabricCollectionType, "Fabrics", members);
}

void handleFabricGet(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  res.body = {{"@odata.id", fabricPath(protocol)},
              {"@odata.type", kFabricType},
              {"Id", protocol},
              {"Name", protocol + " fabric"},
              {"Description", "The hosts' " + protocol + " access to the array's volumes"},
              {"FabricType", protocol},
              {"Status", statusOf(false, false)},
              {"Endpoints", odataLink(fabricPath(protocol) + "/Endpoints")},
              {"EndpointGroups", odataLink(fabricPath(protocol) + "/EndpointGroups")},
              {"Connections", odataLink(fabricPath(protocol) + "/Connections")}};
}

// ---- Endpoints ----

Json portEndpointBody(const Json& model, const Json& p, const std::string& protocol) {
  const std::string id = str(p, "Id");
  const std::string sp = str(p, "SP");
  const std::string identifier = str(p, "Identifier");
  const bool up = p.value("LinkUp", false);
  const bool dead = model.value("dead", std::string()) == sp;
  Json body = {
      {"@odata.id", endpointPath(protocol, id)},
      {"@odata.type", kEndpointType},
      {"Id", id},
      {"Name", "SP-" + sp + " " + protocol + " port " + str(p, "PortId")},
      {"EndpointProtocol", protocol},
      {"Identifiers", Json::array({{{"DurableName", durableName(protocol, identifier)},
                                    {"DurableNameFormat", durableFormat(protocol, identifier)}}})},
      {"ConnectedEntities", Json::array({{{"EntityRole", "Target"},
                                          {"EntityType", "StorageSubsystem"},
                                          {"EntityLink", odataLink(controllerPath(sp))}}})},
      {"Status", statusOf(false, !up, dead ? "UnavailableOffline" : "Enabled")},
  };
  const std::string address = str(p, "Address");
  const size_t colon = address.rfind(':');
  if (protocol == "iSCSI" && colon != std::string::npos)
    body["IPTransportDetails"] =
        Json::array({{{"TransportProtocol", "iSCSI"},
                      {"IPv4Address", {{"Address", address.substr(0, colon)}}},
                      {"Port", std::stoi("0" + address.substr(colon + 1))}}});
  Json connections = connectionLinks(model, protocol, [&](const Json& map, const Json&) {
    const Json& ports = map["Ports"];
    return ports.empty() || std::find(ports.begin(), ports.end(), id) != ports.end();
  });
  Json ports = Json::array({odataLink(controllerPortPath(sp, str(p, "PortId")))});
  body["Links"] = {{"Connections", connections},
                   {"Connections@odata.count", connections.size()},
                   {"Ports", ports},
                   {"Ports@odata.count", 1}};
  return body;
}

Json initiatorEndpointBody(const Json& model, const Json& i, const std::string& protocol) {
  const std::string id = str(i, "Id");
  const std::string identifier = str(i, "Identifier");
  const std::string host = str(i, "Host");
  const Json* h = host.empty() ? nullptr : findById(model["hosts"], host);
  std::set<std::string> groups;
  if (h) {
    groups.insert(host);
    if (!str(*h, "MemberOf").empty()) groups.insert(str(*h, "MemberOf"));
  }
  Json connections = connectionLinks(model, protocol, [&](const Json& map, const Json&) {
    return groups.count(str(map, "Group")) > 0;
  });
  Json body = {
      {"@odata.id", endpointPath(protocol, id)},
      {"@odata.type", kEndpointType},
      {"Id", id},
      {"Name", str(i, "Name")},
      {"EndpointProtocol", protocol},
      {"Identifiers", Json::array({{{"DurableName", durableName(protocol, identifier)},
                                    {"DurableNameFormat", durableFormat(protocol, identifier)}}})},
      {"ConnectedEntities",
       Json::array({{{"EntityRole", "Initiator"}, {"EntityType", "StorageInitiator"}}})},
      {"Status", statusOf(false, false)},
      {"Links", {{"Connections", connections}, {"Connections@odata.count", connections.size()}}},
  };
  body["Oem"]["DualSP"] = {
      {"Host", h ? odataLink(endpointGroupPath(protocol, host)) : Json(nullptr)}};
  return body;
}

void handleEndpointCollectionGet(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  Json members = Json::array();
  for (const Json& p : (*model)["ports"])
    if (str(p, "Protocol") == protocol)
      members.push_back(odataLink(endpointPath(protocol, str(p, "Id"))));
  for (const Json& i : (*model)["initiators"])
    if (str(i, "Protocol") == protocol)
      members.push_back(odataLink(endpointPath(protocol, str(i, "Id"))));
  res.body = collection(fabricPath(protocol) + "/Endpoints", kEndpointCollectionType,
                        protocol + " endpoints", members);
}

void handleEndpointGet(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  const std::string& id = ctx.params.at(1);
  if (const Json* p = findById((*model)["ports"], id); p && str(*p, "Protocol") == protocol)
    return void(res.body = portEndpointBody(*model, *p, protocol));
  if (const Json* i = findById((*model)["initiators"], id); i && str(*i, "Protocol") == protocol)
    return void(res.body = initiatorEndpointBody(*model, *i, protocol));
  messages::resourceNotFound(res, "Endpoint", id);
}

// POST: an initiator, {"Name", "EndpointProtocol", "Identifiers": [{"DurableName",
// "DurableNameFormat"}], "ConnectedEntities": [{"EntityRole": "Initiator"}]}.
void handleEndpointPost(const RequestContext& ctx, Response& res) {
  std::string protocol = ctx.params.at(0);
  if (!knownProtocol(protocol)) return messages::resourceNotFound(res, "Fabric", protocol);
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  Json change = {{"Protocol", protocol}};
  for (const auto& [key, value] : body->items()) {
    if (key == "Name") {
      change["Name"] = value;
    } else if (key == "EndpointProtocol") {
      if (value != protocol)
        return messages::propertyValueConflict(res, "EndpointProtocol", "FabricType");
    } else if (key == "Identifiers") {
      if (!value.is_array() || value.size() != 1 || !value[0].is_object() ||
          !value[0].contains("DurableName"))
        return messages::propertyValueFormatError(res, valueText(value), key);
      for (const auto& [k, v] : value[0].items())
        if (k != "DurableName" && k != "DurableNameFormat")
          return messages::propertyUnknown(res, "Identifiers/" + k);
      const Json& name = value[0]["DurableName"];
      if (value[0].contains("DurableNameFormat") && name.is_string() &&
          value[0]["DurableNameFormat"] != durableFormat(protocol, name.get<std::string>()))
        return messages::propertyValueConflict(res, "Identifiers/DurableNameFormat",
                                               "Identifiers/DurableName");
      change["Identifier"] = name;
    } else if (key == "ConnectedEntities") {
      if (!value.is_array() || value.size() != 1 || !value[0].is_object())
        return messages::propertyValueFormatError(res, valueText(value), key);
      for (const auto& [k, v] : value[0].items()) {
        if (k == "EntityRole" && v != "Initiator")
          return messages::propertyValueNotInList(res, valueText(v),
                                                  "ConnectedEntities/EntityRole");
        if (k == "EntityType" && v != "StorageInitiator")
          return messages::propertyValueNotInList(res, valueText(v),
                                                  "ConnectedEntities/EntityType");
        if (k != "EntityRole" && k != "EntityType")
          return messages::propertyUnknown(res, "ConnectedEntities/" + k);
      }
    } else {
      return messages::propertyUnknown(res, key);
    }
  }
  if (!body->contains("Identifiers")) return messages::propertyMissing(res, "Identifiers");
  std::optional<Json> written =
      writeStorage(ctx, "create_initiator", "", change, res, "Endpoint", "");
  if (!written) return;
  const std::string id = written->value("id", std::string());
  res.status = 201;
  res.addHeader("Location", endpointPath(protocol, id));
  Response fresh;
  std::shared_ptr<const Json> model = readStorage(ctx, fresh);
  const Json* i = model ? findById((*model)["initiators"], id) : nullptr;
  if (i)
    res.body = initiatorEndpointBody(*model, *i, protocol);
  else
    res.body = nullptr;
}

void handleEndpointDelete(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  const std::string& id = ctx.params.at(1);
  if (findById((*model)["ports"], id))  // a target port is the platform's, not deletable
    return messages::operationNotAllowed(res, {HttpMethod::Get, HttpMethod::Head});
  const Json* i = findById((*model)["initiators"], id);
  if (!i || str(*i, "Protocol") != protocol) return messages::resourceNotFound(res, "Endpoint", id);
  if (!writeStorage(ctx, "delete_initiator", id, Json::object(), res, "Endpoint", id)) return;
  res.status = 204;
  res.body = nullptr;
}

// ---- Endpoint groups: the SPs' target port groups, hosts and host groups ----

Json targetGroupBody(const Json& model, const std::string& sp, const std::string& protocol) {
  Json endpoints = Json::array();
  for (const Json& p : model["ports"])
    if (str(p, "SP") == sp && str(p, "Protocol") == protocol)
      endpoints.push_back(odataLink(endpointPath(protocol, str(p, "Id"))));
  Json connections = connectionLinks(model, protocol, [&](const Json& map, const Json&) {
    std::vector<std::string> sps = spsOf(model, map, protocol);
    return std::find(sps.begin(), sps.end(), sp) != sps.end();
  });
  Json body = {{"@odata.id", endpointGroupPath(protocol, "SP" + sp)},
               {"@odata.type", kEndpointGroupType},
               {"Id", "SP" + sp},
               {"Name", "SP-" + sp + " target port group"},
               {"GroupType", "Server"},
               {"TargetEndpointGroupIdentifier", sp == "A" ? 1 : 2},
               {"Links",
                {{"Endpoints", endpoints},
                 {"Endpoints@odata.count", endpoints.size()},
                 {"Connections", connections},
                 {"Connections@odata.count", connections.size()}}}};
  body["Oem"]["DualSP"] = {{"Controller", odataLink(controllerPath(sp))}};
  return body;
}

Json hostGroupBody(const Json& model, const Json& h, const std::string& protocol) {
  const std::string id = str(h, "Id");
  const bool group = str(h, "Kind") == "HostGroup";
  std::vector<std::string> initiators;
  if (group) {
    for (const Json& member : h["Hosts"])
      if (const Json* m = findById(model["hosts"], member.get<std::string>()))
        for (const Json& i : (*m)["Initiators"]) initiators.push_back(i.get<std::string>());
  } else {
    for (const Json& i : h["Initiators"]) initiators.push_back(i.get<std::string>());
  }
  Json endpoints = Json::array();
  for (const std::string& i : initiators) endpoints.push_back(odataLink(endpointPath(protocol, i)));
  Json connections = connectionLinks(
      model, protocol, [&](const Json& map, const Json&) { return str(map, "Group") == id; });
  Json body = {{"@odata.id", endpointGroupPath(protocol, id)},
               {"@odata.type", kEndpointGroupType},
               {"Id", id},
               {"Name", str(h, "Name")},
               {"GroupType", "Client"},
               {"Links",
                {{"Endpoints", endpoints},
                 {"Endpoints@odata.count", endpoints.size()},
                 {"Connections", connections},
                 {"Connections@odata.count", connections.size()}}}};
  Json hosts = Json::array();
  for (const Json& member : h["Hosts"])
    hosts.push_back(odataLink(endpointGroupPath(protocol, member.get<std::string>())));
  body["Oem"]["DualSP"] = {{"Kind", group ? "HostGroup" : "Host"}};
  if (group) body["Oem"]["DualSP"]["Hosts"] = hosts;
  if (!str(h, "MemberOf").empty())
    body["Oem"]["DualSP"]["HostGroup"] = odataLink(endpointGroupPath(protocol, str(h, "MemberOf")));
  return body;
}

bool spHasPorts(const Json& model, const std::string& sp, const std::string& protocol) {
  for (const Json& p : model["ports"])
    if (str(p, "SP") == sp && str(p, "Protocol") == protocol) return true;
  return false;
}

void handleEndpointGroupCollectionGet(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  Json members = Json::array();
  for (const char* sp : kSps)
    if (spHasPorts(*model, sp, protocol))
      members.push_back(odataLink(endpointGroupPath(protocol, std::string("SP") + sp)));
  for (const Json& h : (*model)["hosts"])
    if (str(h, "Protocol") == protocol)
      members.push_back(odataLink(endpointGroupPath(protocol, str(h, "Id"))));
  res.body = collection(fabricPath(protocol) + "/EndpointGroups", kEndpointGroupCollectionType,
                        protocol + " endpoint groups", members);
}

void handleEndpointGroupGet(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  const std::string& id = ctx.params.at(1);
  for (const char* sp : kSps)
    if (id == std::string("SP") + sp && spHasPorts(*model, sp, protocol))
      return void(res.body = targetGroupBody(*model, sp, protocol));
  const Json* h = findById((*model)["hosts"], id);
  if (!h || str(*h, "Protocol") != protocol)
    return messages::resourceNotFound(res, "EndpointGroup", id);
  res.body = hostGroupBody(*model, *h, protocol);
}

// {"Name", "GroupType": "Client", "Links": {"Endpoints": [...]}, "Oem": {"DualSP": {"Kind",
// "Hosts": [...]}}} in spd's terms; nullopt with the error set.
std::optional<Json> hostChange(const Json& body, const std::string& protocol, bool create,
                               Response& res) {
  Json change = Json::object();
  const std::string endpoints = fabricPath(protocol) + "/Endpoints";
  const std::string groups = fabricPath(protocol) + "/EndpointGroups";
  auto ids = [&](const Json& links, const std::string& collection,
                 const std::string& property) -> std::optional<Json> {
    if (!links.is_array()) {
      messages::propertyValueFormatError(res, valueText(links), property);
      return std::nullopt;
    }
    Json out = Json::array();
    for (const Json& link : links) {
      std::optional<std::string> id = memberOf(link, collection);
      if (!id) {
        messages::propertyValueFormatError(res, valueText(link), property);
        return std::nullopt;
      }
      out.push_back(*id);
    }
    return out;
  };
  for (const auto& [key, value] : body.items()) {
    if (key == "Name") {
      change["Name"] = value;
    } else if (key == "GroupType" && create) {
      if (value != "Client") {
        messages::propertyValueNotInList(res, valueText(value), key);
        return std::nullopt;
      }
    } else if (key == "Links") {
      if (!value.is_object()) {
        messages::propertyValueFormatError(res, valueText(value), key);
        return std::nullopt;
      }
      for (const auto& [k, v] : value.items()) {
        if (k != "Endpoints") {
          messages::propertyUnknown(res, "Links/" + k);
          return std::nullopt;
        }
        std::optional<Json> list = ids(v, endpoints, "Links/Endpoints");
        if (!list) return std::nullopt;
        change["Initiators"] = *list;
      }
    } else if (key == "Oem") {
      if (!value.is_object() || value.size() != 1 || !value.contains("DualSP") ||
          !value["DualSP"].is_object()) {
        messages::propertyValueFormatError(res, valueText(value), "Oem");
        return std::nullopt;
      }
      for (const auto& [k, v] : value["DualSP"].items()) {
        if (k == "Kind" && create) {
          change["Kind"] = v;
        } else if (k == "Hosts") {
          std::optional<Json> list = ids(v, groups, "Oem/DualSP/Hosts");
          if (!list) return std::nullopt;
          change["Hosts"] = *list;
        } else {
          messages::propertyUnknown(res, "Oem/DualSP/" + k);
          return std::nullopt;
        }
      }
    } else {
      messages::propertyUnknown(res, key);
      return std::nullopt;
    }
  }
  // A host group's initiators are its hosts': Links.Endpoints is a host's.
  if (change.contains("Kind") && change["Kind"] == "HostGroup" && change.contains("Initiators")) {
    messages::propertyValueConflict(res, "Links/Endpoints", "Oem/DualSP/Kind");
    return std::nullopt;
  }
  if (create && !change.contains("Initiators") && !change.contains("Hosts")) {
    messages::propertyMissing(res, "Links/Endpoints");
    return std::nullopt;
  }
  return change;
}

void answerHost(const RequestContext& ctx, Response& res, const std::string& protocol,
                const std::string& id, int status) {
  res.status = status;
  if (status == 201) res.addHeader("Location", endpointGroupPath(protocol, id));
  Response fresh;
  std::shared_ptr<const Json> model = readStorage(ctx, fresh);
  const Json* h = model ? findById((*model)["hosts"], id) : nullptr;
  if (h)
    res.body = hostGroupBody(*model, *h, protocol);
  else
    res.body = nullptr;
}

void handleEndpointGroupPost(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  std::optional<Json> change = hostChange(*body, protocol, true, res);
  if (!change) return;
  std::optional<Json> written =
      writeStorage(ctx, "create_host", "", *change, res, "EndpointGroup", "");
  if (written) answerHost(ctx, res, protocol, written->value("id", std::string()), 201);
}

// A host or host group of this fabric named by the second path parameter; the SP target
// groups are the platform's (405 for a change).
bool clientGroup(const RequestContext& ctx, Response& res, std::string& protocol) {
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return false;
  const std::string& id = ctx.params.at(1);
  if (id == "SPA" || id == "SPB") {
    messages::operationNotAllowed(res, {HttpMethod::Get, HttpMethod::Head});
    return false;
  }
  const Json* h = findById((*model)["hosts"], id);
  if (!h || str(*h, "Protocol") != protocol) {
    messages::resourceNotFound(res, "EndpointGroup", id);
    return false;
  }
  return true;
}

void handleEndpointGroupPatch(const RequestContext& ctx, Response& res) {
  std::string protocol;
  if (!clientGroup(ctx, res, protocol)) return;
  const std::string& id = ctx.params.at(1);
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  std::optional<Json> change = hostChange(*body, protocol, false, res);
  if (!change) return;
  if (!writeStorage(ctx, "patch_host", id, *change, res, "EndpointGroup", id)) return;
  answerHost(ctx, res, protocol, id, 200);
}

void handleEndpointGroupDelete(const RequestContext& ctx, Response& res) {
  std::string protocol;
  if (!clientGroup(ctx, res, protocol)) return;
  const std::string& id = ctx.params.at(1);
  if (!writeStorage(ctx, "delete_host", id, Json::object(), res, "EndpointGroup", id)) return;
  res.status = 204;
  res.body = nullptr;
}

// ---- Connections ----

Json connectionBody(const Json& model, const Json& map, const std::string& protocol) {
  const std::string id = str(map, "Id");
  const std::string volume = str(map, "Volume");
  const Json* v = findById(model["volumes"], volume);
  const Json states = v ? v->value("AccessStates", Json::object()) : Json::object();
  Json capabilities =
      map.value("ReadOnly", false) ? Json::array({"Read"}) : Json::array({"Read", "Write"});
  Json info = Json::array(), groups = Json::array(), paths = Json::array();
  for (const std::string& sp : spsOf(model, map, protocol)) {
    const std::string state = states.value(sp, "Unavailable");
    info.push_back({{"Volume", odataLink(volumePath(volume))},
                    {"LUN", map.value("LUN", 0)},
                    {"AccessCapabilities", capabilities},
                    {"AccessState", state}});
    groups.push_back(odataLink(endpointGroupPath(protocol, "SP" + sp)));
    paths.push_back({{"TargetEndpointGroup", odataLink(endpointGroupPath(protocol, "SP" + sp))},
                     {"AccessState", state}});
  }
  Json targets = Json::array();
  for (const Json& p : map["Ports"])
    targets.push_back(odataLink(endpointPath(protocol, p.get<std::string>())));
  Json links = {{"InitiatorEndpointGroups",
                 Json::array({odataLink(endpointGroupPath(protocol, str(map, "Group")))})},
                {"InitiatorEndpointGroups@odata.count", 1},
                {"TargetEndpointGroups", groups},
                {"TargetEndpointGroups@odata.count", groups.size()}};
  if (!targets.empty()) {
    links["TargetEndpoints"] = targets;
    links["TargetEndpoints@odata.count"] = targets.size();
  }
  Json body = {{"@odata.id", connectionPath(protocol, id)},
               {"@odata.type", kConnectionType},
               {"Id", id},
               {"Name", "Volume " + volume + " to host " + str(map, "Group")},
               {"Description", "LUN " + std::to_string(map.value("LUN", 0)) + ", " +
                                   (map.value("ReadOnly", false) ? "read-only" : "read-write")},
               {"ConnectionType", "Storage"},
               {"VolumeInfo", info},
               {"Links", links},
               {"Status", statusOf(false, false)}};
  body["Oem"]["DualSP"] = {{"Paths", paths}};
  return body;
}

// A Connection body in spd's terms; nullopt with the error set. `create`: VolumeInfo names
// the volume and Links the host; otherwise the volume and host stay.
std::optional<Json> connectionChange(const Json& body, const std::string& protocol, bool create,
                                     Response& res) {
  Json change = Json::object();
  const std::string groups = fabricPath(protocol) + "/EndpointGroups";
  const std::string endpoints = fabricPath(protocol) + "/Endpoints";
  for (const auto& [key, value] : body.items()) {
    if (key == "ConnectionType") {
      if (value != "Storage") {
        messages::propertyValueNotInList(res, valueText(value), key);
        return std::nullopt;
      }
    } else if (key == "VolumeInfo") {
      // One volume per connection; entries that repeat it (one per path, as GET shows) must
      // agree.
      if (!value.is_array() || value.empty()) {
        messages::propertyValueFormatError(res, valueText(value), key);
        return std::nullopt;
      }
      Json first;
      for (const Json& entry : value) {
        if (!entry.is_object()) {
          messages::propertyValueFormatError(res, valueText(entry), key);
          return std::nullopt;
        }
        Json one = Json::object();
        for (const auto& [k, v] : entry.items()) {
          if (k == "Volume") {
            std::optional<std::string> id = memberOf(v, kVolumesPath);
            if (!id) {
              messages::propertyValueFormatError(res, valueText(v), "VolumeInfo/Volume");
              return std::nullopt;
            }
            one["Volume"] = *id;
          } else if (k == "LUN") {
            one["LUN"] = v;
          } else if (k == "AccessCapabilities") {
            if (v == Json::array({"Read"})) {
              one["ReadOnly"] = true;
            } else if (v == Json::array({"Read", "Write"}) || v == Json::array({"Write", "Read"})) {
              one["ReadOnly"] = false;
            } else {
              messages::propertyValueNotInList(res, valueText(v), "VolumeInfo/AccessCapabilities");
              return std::nullopt;
            }
          } else if (k == "AccessState") {
            continue;  // reported, not set: the owner decides it
          } else {
            messages::propertyUnknown(res, "VolumeInfo/" + k);
            return std::nullopt;
          }
        }
        if (first.is_null()) {
          first = one;
        } else if (one != first) {
          messages::propertyValueConflict(res, "VolumeInfo", "VolumeInfo");
          return std::nullopt;
        }
      }
      for (const auto& [k, v] : first.items()) change[k] = v;
      if (!create && change.contains("Volume")) {
        change.erase("Volume");  // the same volume is fine; another one is checked by spd
        change["SameVolume"] = first["Volume"];
      }
    } else if (key == "Links") {
      if (!value.is_object()) {
        messages::propertyValueFormatError(res, valueText(value), key);
        return std::nullopt;
      }
      for (const auto& [k, v] : value.items()) {
        if (k == "InitiatorEndpointGroups" && create) {
          std::optional<std::string> id =
              v.is_array() && v.size() == 1 ? memberOf(v[0], groups) : std::nullopt;
          if (!id) {
            messages::propertyValueFormatError(res, valueText(v), "Links/InitiatorEndpointGroups");
            return std::nullopt;
          }
          change["Group"] = *id;
        } else if (k == "TargetEndpoints" || k == "TargetEndpointGroups") {
          if (!v.is_array()) {
            messages::propertyValueFormatError(res, valueText(v), "Links/" + k);
            return std::nullopt;
          }
          Json ports = change.value("Ports", Json::array());
          for (const Json& link : v) {
            std::optional<std::string> id =
                memberOf(link, k == "TargetEndpoints" ? endpoints : groups);
            if (!id || (k == "TargetEndpointGroups" && *id != "SPA" && *id != "SPB")) {
              messages::propertyValueFormatError(res, valueText(link), "Links/" + k);
              return std::nullopt;
            }
            // A target group stands for its SP's ports: "SPA" -> every "SPA-..." port.
            ports.push_back(k == "TargetEndpoints" ? *id : *id + "-*");
          }
          change["Ports"] = ports;
        } else if (k.find("@odata.count") != std::string::npos) {
          continue;
        } else {
          messages::propertyUnknown(res, "Links/" + k);
          return std::nullopt;
        }
      }
    } else {
      messages::propertyUnknown(res, key);
      return std::nullopt;
    }
  }
  if (create) {
    if (!change.contains("Volume")) {
      messages::propertyMissing(res, "VolumeInfo");
      return std::nullopt;
    }
    if (!change.contains("Group")) {
      messages::propertyMissing(res, "Links/InitiatorEndpointGroups");
      return std::nullopt;
    }
  }
  return change;
}

// "SPA-*" (a whole target group) becomes that SP's ports of the protocol.
bool expandPorts(const Json& model, const std::string& protocol, Json& change) {
  if (!change.contains("Ports")) return true;
  Json out = Json::array();
  for (const Json& p : change["Ports"]) {
    const std::string id = p.get<std::string>();
    if (id.size() > 2 && id.substr(id.size() - 2) == "-*") {
      const std::string sp = id.substr(2, 1);
      for (const Json& port : model["ports"])
        if (str(port, "SP") == sp && str(port, "Protocol") == protocol)
          out.push_back(str(port, "Id"));
    } else {
      out.push_back(id);
    }
  }
  // Ports listed twice (a group and one of its ports) count once.
  std::vector<std::string> unique;
  for (const Json& p : out)
    if (std::find(unique.begin(), unique.end(), p.get<std::string>()) == unique.end())
      unique.push_back(p.get<std::string>());
  change["Ports"] = unique;
  return true;
}

void answerConnection(const RequestContext& ctx, Response& res, const std::string& protocol,
                      const std::string& id, int status) {
  res.status = status;
  if (status == 201) res.addHeader("Location", connectionPath(protocol, id));
  Response fresh;
  std::shared_ptr<const Json> model = readStorage(ctx, fresh);
  const Json* map = model ? findById((*model)["mappings"], id) : nullptr;
  if (map)
    res.body = connectionBody(*model, *map, protocol);
  else
    res.body = nullptr;
}

void handleConnectionCollectionGet(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  Json members = connectionLinks(*model, protocol, [](const Json&, const Json&) { return true; });
  res.body = collection(fabricPath(protocol) + "/Connections", kConnectionCollectionType,
                        protocol + " connections", members);
}

const Json* connectionOf(const Json& model, const std::string& id, const std::string& protocol) {
  const Json* map = findById(model["mappings"], id);
  if (!map) return nullptr;
  const Json* host = hostOfMapping(model, *map);
  return host && str(*host, "Protocol") == protocol ? map : nullptr;
}

void handleConnectionGet(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  const Json* map = connectionOf(*model, ctx.params.at(1), protocol);
  if (!map) return messages::resourceNotFound(res, "Connection", ctx.params.at(1));
  res.body = connectionBody(*model, *map, protocol);
}

void handleConnectionPost(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  std::optional<Json> change = connectionChange(*body, protocol, true, res);
  if (!change) return;
  const Json* host = findById((*model)["hosts"], (*change)["Group"].get<std::string>());
  if (!host || str(*host, "Protocol") != protocol)
    return messages::fromKey(res, 400, "ResourceNotFound",
                             {"EndpointGroup", (*change)["Group"].get<std::string>()})
               ? void()
               : messages::internalError(res);
  expandPorts(*model, protocol, *change);
  std::optional<Json> written =
      writeStorage(ctx, "create_mapping", "", *change, res, "Connection", "");
  if (written) answerConnection(ctx, res, protocol, written->value("id", std::string()), 201);
}

void handleConnectionPatch(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  const std::string& id = ctx.params.at(1);
  const Json* map = connectionOf(*model, id, protocol);
  if (!map) return messages::resourceNotFound(res, "Connection", id);
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  std::optional<Json> change = connectionChange(*body, protocol, false, res);
  if (!change) return;
  if (change->contains("SameVolume")) {
    if ((*change)["SameVolume"] != (*map)["Volume"])
      return messages::propertyNotWritable(res, "VolumeInfo/Volume");
    change->erase("SameVolume");
  }
  expandPorts(*model, protocol, *change);
  if (change->empty()) return messages::noOperation(res);
  if (!writeStorage(ctx, "patch_mapping", id, *change, res, "Connection", id)) return;
  answerConnection(ctx, res, protocol, id, 200);
}

void handleConnectionDelete(const RequestContext& ctx, Response& res) {
  std::string protocol;
  std::shared_ptr<const Json> model = readFabric(ctx, res, protocol);
  if (!model) return;
  const std::string& id = ctx.params.at(1);
  if (!connectionOf(*model, id, protocol)) return messages::resourceNotFound(res, "Connection", id);
  if (!writeStorage(ctx, "delete_mapping", id, Json::object(), res, "Connection", id)) return;
  res.status = 204;
  res.body = nullptr;
}

}  // namespace

void requestRoutesFabrics(RouteTable& routes) {
  auto get = [&](std::string pattern, Handler handler) {
    routes.add({.pattern = std::move(pattern),
                .methods = {HttpMethod::Get, HttpMethod::Head},
                .privilege = Privilege::Login,
                .degraded = DegradedService::No,
                .source = DataSource::LocalBus,
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
  const std::string fabric = std::string(kFabricsPath) + "/{FabricId}";
  get(std::string(kFabricsPath), handleFabricCollectionGet);
  get(fabric, handleFabricGet);
  get(fabric + "/Endpoints", handleEndpointCollectionGet);
  change(fabric + "/Endpoints", HttpMethod::Post, handleEndpointPost);
  get(fabric + "/Endpoints/{EndpointId}", handleEndpointGet);
  change(fabric + "/Endpoints/{EndpointId}", HttpMethod::Delete, handleEndpointDelete);
  get(fabric + "/EndpointGroups", handleEndpointGroupCollectionGet);
  change(fabric + "/EndpointGroups", HttpMethod::Post, handleEndpointGroupPost);
  get(fabric + "/EndpointGroups/{EndpointGroupId}", handleEndpointGroupGet);
  change(fabric + "/EndpointGroups/{EndpointGroupId}", HttpMethod::Patch, handleEndpointGroupPatch);
  change(fabric + "/EndpointGroups/{EndpointGroupId}", HttpMethod::Delete,
         handleEndpointGroupDelete);
  get(fabric + "/Connections", handleConnectionCollectionGet);
  change(fabric + "/Connections", HttpMethod::Post, handleConnectionPost);
  get(fabric + "/Connections/{ConnectionId}", handleConnectionGet);
  change(fabric + "/Connections/{ConnectionId}", HttpMethod::Patch, handleConnectionPatch);
  change(fabric + "/Connections/{ConnectionId}", HttpMethod::Delete, handleConnectionDelete);
}

}  // namespace dualsp::web
