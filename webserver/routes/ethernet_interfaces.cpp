// /redfish/v1/Managers/{ManagerId}/EthernetInterfaces: the array's floating management
// address, the one every client of the array uses, whichever SP holds it. It is a record of the
// replicated configuration store ("network/management"; spd answers its running value when
// none was set), so both Managers show the same interface, "Floating", and a PATCH on either
// changes the array's. What is in use is each SP's own: under a Manager, IPv4Addresses holds
// the floating address while that SP holds it, and LinkStatus is the carrier of its management
// link, both from the status board. spd publishes no MAC address or host name: null.

#include <arpa/inet.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kEthernetInterfaceCollectionType =
    "#EthernetInterfaceCollection.EthernetInterfaceCollection";
constexpr std::string_view kEthernetInterfaceType = "#EthernetInterface.v1_12_4.EthernetInterface";
constexpr std::string_view kFloatingId = "Floating";
constexpr std::string_view kNetworkConfigPrefix = "network/";
constexpr std::string_view kManagementKey = "network/management";
constexpr std::string_view kStaticAddressesProperty = "IPv4StaticAddresses";

std::string interfacesPath(SpId sp) {
  return managerPath(sp) + "/EthernetInterfaces";
}
std::string floatingPath(SpId sp) {
  return interfacesPath(sp) + "/" + std::string(kFloatingId);
}

std::optional<SpId> managerOf(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) messages::resourceNotFound(res, "Manager", id);
  return sp;
}

// The address as the store keeps it: {"Address", "SubnetMask", "Gateway"}.
struct Ipv4Setting {
  uint32_t address = 0;  // host byte order
  uint32_t mask = 0;
  std::optional<uint32_t> gateway;
};

std::optional<uint32_t> parseIpv4(const std::string& text) {
  in_addr addr{};
  if (inet_pton(AF_INET, text.c_str(), &addr) != 1) return std::nullopt;  // dotted quad only
  return ntohl(addr.s_addr);
}

bool contiguousMask(uint32_t mask) {
  const uint32_t inverted = ~mask;
  return mask != 0 && (inverted & (inverted + 1)) == 0;  // ones, then zeros
}

// A string member of an IPv4Address; nullopt, with the error set, when not a string.
std::optional<std::string> stringMember(const Json& value, const std::string& path, Response& res) {
  if (!value.is_string()) {
    messages::propertyValueTypeError(res, valueText(value), path);
    return std::nullopt;
  }
  return value.get<std::string>();
}

// One IPv4StaticAddresses member: a dotted address, a contiguous mask, a gateway (optional,
// "" for none) inside the subnet, and the address neither the subnet's network nor its
// broadcast address. Returns the record to store.
std::optional<Json> staticAddressAccepted(const Json& value, Response& res) {
  const std::string base = std::string(kStaticAddressesProperty) + "/0";
  if (!value.is_object()) {
    messages::propertyValueTypeError(res, valueText(value), base);
    return std::nullopt;
  }
  std::optional<std::string> address, mask, gateway;
  for (const auto& [key, member] : value.items()) {
    const std::string path = base + "/" + key;
    std::optional<std::string>* slot = key == "Address"      ? &address
                                       : key == "SubnetMask" ? &mask
                                       : key == "Gateway"    ? &gateway
                                                             : nullptr;
    if (!slot) {
      messages::propertyUnknown(res, path);
      return std::nullopt;
    }
    *slot = stringMember(member, path, res);
    if (!*slot) return std::nullopt;
  }
  if (!address) {
    messages::propertyMissing(res, base + "/Address");
    return std::nullopt;
  }
  if (!mask) {
    messages::propertyMissing(res, base + "/SubnetMask");
    return std::nullopt;
  }
  Ipv4Setting s;
  if (std::optional<uint32_t> a = parseIpv4(*address)) {
    s.address = *a;
  } else {
    messages::propertyValueFormatError(res, *address, base + "/Address");
    return std::nullopt;
  }
  std::optional<uint32_t> m = parseIpv4(*mask);
  if (!m || !contiguousMask(*m)) {
    messages::propertyValueFormatError(res, *mask, base + "/SubnetMask");
    return std::nullopt;
  }
  s.mask = *m;
  const uint32_t network = s.address & s.mask;
  const uint32_t broadcast = network | ~s.mask;
  // A /31 or /32 has no network or broadcast address to avoid (RFC 3021).
  if (s.mask < 0xFFFFFFFEu && (s.address == network || s.address == broadcast)) {
    messages::propertyValueConflict(res, base + "/Address", base + "/SubnetMask");
    return std::nullopt;
  }
  if (gateway && !gateway->empty()) {
    std::optional<uint32_t> g = parseIpv4(*gateway);
    if (!g) {
      messages::propertyValueFormatError(res, *gateway, base + "/Gateway");
      return std::nullopt;
    }
    if ((*g & s.mask) != network || *g == s.address) {
      messages::propertyValueConflict(res, base + "/Gateway", base + "/SubnetMask");
      return std::nullopt;
    }
  }
  return Json{{"Address", *address}, {"SubnetMask", *mask}, {"Gateway", gateway.value_or("")}};
}

// Who holds the floating address, from the status board: this SP when it says so, else the
// peer when the heartbeats hear it active. Null when neither; nullopt without a board.
std::optional<Json> heldBy(const RequestContext& ctx) {
  const ipc::StatusSnapshot* board = ctx.status;
  if (!board) return std::nullopt;
  const SpId self = ctx.config.sp;
  if (board->holds_floating) return Json(std::string(1, spLetter(self)));
  if (board->peer_alive && board->peer_role == Role::Active)
    return Json(std::string(1, spLetter(peerOf(self))));
  return Json(nullptr);
}

// The carrier of `sp`'s management link: its own from the status board, the peer's as its
// heartbeats last told (unknown while it is not heard). Null when unknown.
Json linkStatusOf(const RequestContext& ctx, SpId sp) {
  const ipc::StatusSnapshot* board = ctx.status;
  if (!board) return nullptr;
  if (sp == ctx.config.sp) return board->can_serve ? "LinkUp" : "NoLink";
  if (!board->peer_alive) return nullptr;
  return board->peer_can_serve ? "LinkUp" : "NoLink";
}

void handleEthernetInterfaceCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  res.body = {
      {"@odata.id", interfacesPath(*sp)},
      {"@odata.type", kEthernetInterfaceCollectionType},
      {"Name", "Ethernet interfaces of " + std::string(spName(*sp))},
      {"Members@odata.count", 1},
      {"Members", {odataLink(floatingPath(*sp))}},
  };
}

void handleEthernetInterfaceGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  const std::string& id = ctx.params.at(1);
  if (id != kFloatingId) {
    messages::resourceNotFound(res, "EthernetInterface", id);
    return;
  }
  std::optional<std::map<std::string, Json>> config =
      readConfig(ctx, kNetworkConfigPrefix, res, "EthernetInterface", id);
  if (!config) return;
  Json addresses = Json::array();
  auto it = config->find(std::string(kManagementKey));
  if (it != config->end() && it->second.is_object()) {
    const Json& m = it->second;
    Json address{{"Address", m.value("Address", "")}, {"SubnetMask", m.value("SubnetMask", "")}};
    // No gateway: the member is left out (the schema's pattern admits no empty string).
    if (!m.value("Gateway", "").empty()) address["Gateway"] = m.value("Gateway", "");
    addresses.push_back(std::move(address));
  }
  // In use: the floating address on the SP that holds it, none on its peer.
  const std::optional<Json> holder = heldBy(ctx);
  const bool holds =
      holder && holder->is_string() && *holder == Json(std::string(1, spLetter(*sp)));
  Json in_use = Json::array();
  if (holds && !addresses.empty()) {
    in_use.push_back(addresses[0]);
    in_use[0]["AddressOrigin"] = "Static";
  }
  res.body = {
      {"@odata.id", floatingPath(*sp)},
      {"@odata.type", kEthernetInterfaceType},
      {"Id", kFloatingId},
      {"Name", "Floating management address"},
      {"Description",
       "The array's management address: held by the active SP, moved to its peer on failover"},
      {"InterfaceEnabled", true},
      {"Status", {{"State", ResourceState::Enabled}, {"Health", HealthState::OK}}},
      {"LinkStatus", linkStatusOf(ctx, *sp)},
      {"MACAddress", nullptr},
      {"HostName", nullptr},
      {"FQDN", nullptr},
      {kStaticAddressesProperty, std::move(addresses)},
  };
  // Without the status board, which SP holds the address is not known: left out.
  if (holder) res.body["IPv4Addresses"] = std::move(in_use);
  // The enclosure is served, and linked to, by the full server only.
  if (ctx.config.mode == ServeMode::Full)
    res.body["Links"] = {{"Chassis", odataLink(enclosurePath())}};
  if (holder) res.body["Oem"]["DualSP"]["HeldBy"] = *holder;
}

// PATCH {"IPv4StaticAddresses": [{"Address", "SubnetMask", "Gateway"}]}: the array's new
// floating address, which spd moves to once the change is stored.
void handleEthernetInterfacePatch(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  const std::string& id = ctx.params.at(1);
  if (id != kFloatingId) {
    messages::resourceNotFound(res, "EthernetInterface", id);
    return;
  }
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  ConfigChange change;
  change.kind = ChangeKind::Changed;
  change.origin = floatingPath(*sp);
  for (const auto& [key, value] : body->items()) {
    if (key != kStaticAddressesProperty) {
      messages::propertyUnknown(res, key);
      return;
    }
    // The array has one floating address: exactly one member.
    if (!value.is_array() || value.size() != 1) {
      messages::propertyValueTypeError(res, valueText(value), key);
      return;
    }
    std::optional<Json> setting = staticAddressAccepted(value[0], res);
    if (!setting) return;
    change.detail = key + " = '" + (*setting)["Address"].get<std::string>() + "/" +
                    (*setting)["SubnetMask"].get<std::string>() + " gateway " +
                    ((*setting)["Gateway"].get<std::string>().empty()
                         ? std::string("none")
                         : (*setting)["Gateway"].get<std::string>()) +
                    "'";
    change.puts.emplace_back(kManagementKey, std::move(*setting));
  }
  if (!change.puts.empty() && !writeConfig(ctx, change, res, "EthernetInterface", id)) return;
  answerChanged(ctx, res, handleEthernetInterfaceGet);
}

}  // namespace

void requestRoutesEthernetInterfaces(RouteTable& routes) {
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/EthernetInterfaces",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::None,
              .handler = handleEthernetInterfaceCollectionGet});
  const std::string one =
      "/redfish/v1/Managers/{ManagerId}/EthernetInterfaces/{EthernetInterfaceId}";
  routes.add({.pattern = one,
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::ThisSpOnly,
              .source = DataSource::LocalBusAndBoard,
              .handler = handleEthernetInterfaceGet});
  routes.add({.pattern = one,
              .methods = {HttpMethod::Patch},
              .privilege = Privilege::ConfigureManager,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBusAndBoard,
              .handler = handleEthernetInterfacePatch});
}

}  // namespace dualsp::web
