// Who reaches the array's volumes, and how (docs/STORAGE.md "Ports", "Hosts and mappings"):
// the SPs' front-end ports, hosts with their initiators, host groups, the mappings of volumes
// to them at LUNs, the ALUA access state of each volume on each SP, and the data-path state
// an SP's target must be programmed with. Pure, as storage_model.cpp.

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "sp/events.hpp"
#include "sp/storage_model.hpp"
#include "sp/storage_model_detail.hpp"

namespace dualsp::sp::storage {
namespace {

using namespace detail;

constexpr std::string_view kFabricsUri = "/redfish/v1/Fabrics/";
constexpr size_t kMaxIdentifierLength = 223;  // RFC 3720 3.2.6.1: an iSCSI name's limit

std::string endpointUri(const std::string& protocol, const std::string& id) {
  return std::string(kFabricsUri) + protocol + "/Endpoints/" + id;
}
std::string groupUri(const std::string& protocol, const std::string& id) {
  return std::string(kFabricsUri) + protocol + "/EndpointGroups/" + id;
}
std::string connectionUri(const std::string& protocol, const std::string& id) {
  return std::string(kFabricsUri) + protocol + "/Connections/" + id;
}

json initiatorRecord(const Initiator& i) {
  return {{"Name", i.name}, {"Protocol", i.protocol}, {"Identifier", i.identifier}};
}

json hostRecord(const Host& h) {
  json r = {{"Name", h.name}, {"Kind", h.group ? "HostGroup" : "Host"}, {"Protocol", h.protocol}};
  if (h.group)
    r["Hosts"] = h.hosts;
  else
    r["Initiators"] = h.initiators;
  return r;
}

json mappingRecord(const Mapping& map) {
  return {{"Group", map.group},
          {"Volume", map.volume},
          {"LUN", map.lun},
          {"ReadOnly", map.read_only},
          {"Ports", map.ports}};
}

std::vector<std::string> stringList(const json& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const json& s : v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// An initiator name in the one spelling the array keeps: iSCSI names lower case (RFC 3722
// folds case), a WWPN as 16 lower-case hex digits without separators. nullopt: not a valid
// name of that protocol (`why` says how).
std::optional<std::string> canonicalIdentifier(const std::string& protocol, std::string name,
                                               std::string& why) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto hex = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
  };
  if (protocol == "FC") {
    name.erase(std::remove(name.begin(), name.end(), ':'), name.end());
    if (name.size() == 16 && hex(name)) return name;
    why = "a WWPN is 16 hex digits (\"21:00:00:24:ff:31:4c:5a\" or \"21000024ff314c5a\")";
    return std::nullopt;
  }
  if (name.size() > kMaxIdentifierLength) {
    why = "an iSCSI name is at most 223 bytes";
    return std::nullopt;
  }
  if (startsWith(name, "iqn.")) {
    // iqn.YYYY-MM.reversed.domain[:anything]
    const bool dated = name.size() > 12 && std::isdigit(static_cast<unsigned char>(name[4])) &&
                       name[8] == '-' && name[11] == '.';
    const bool legal = std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '.' || c == '-' || c == ':';
    });
    if (dated && legal) return name;
    why = "an IQN reads iqn.YYYY-MM.reversed.domain[:name], letters, digits, '.', '-' and ':'";
    return std::nullopt;
  }
  if (startsWith(name, "eui.") && name.size() == 20 && hex(name.substr(4))) return name;
  if (startsWith(name, "naa.") && (name.size() == 20 || name.size() == 36) && hex(name.substr(4)))
    return name;
  why = "an iSCSI name starts with iqn., eui. (16 hex digits) or naa. (16 or 32 hex digits)";
  return std::nullopt;
}

std::optional<Refusal> checkIdList(const json& body, const char* key, bool required) {
  if (!body.contains(key)) {
    if (required) return refuse(400, "PropertyMissing", {key}, "required");
    return std::nullopt;
  }
  const json& v = body[key];
  if (!v.is_array() ||
      !std::all_of(v.begin(), v.end(), [](const json& i) { return i.is_string(); }))
    return refuse(400, "PropertyValueTypeError", {text(v), key}, "a list of ids");
  std::set<std::string> seen;
  for (const json& i : v)
    if (!seen.insert(i.get<std::string>()).second)
      return refuse(400, "PropertyValueConflict", {key, key},
                    i.get<std::string>() + " is named twice");
  return std::nullopt;
}

// A host's initiators: they exist, share one protocol, and no other host has them.
std::optional<Refusal> checkInitiators(const Model& m, const std::vector<std::string>& ids,
                                       const std::string& self, std::string& protocol) {
  if (ids.empty())
    return refuse(400, "PropertyValueOutOfRange", {"[]", "Initiators"},
                  "a host has at least one initiator");
  protocol.clear();
  for (const std::string& id : ids) {
    const Initiator* i = m.initiator(id);
    if (!i) return refuse(400, "ResourceNotFound", {"Endpoint", id}, "no such initiator");
    if (!protocol.empty() && i->protocol != protocol)
      return refuse(400, "PropertyValueConflict", {"Initiators", "Initiators"},
                    "a host's initiators are all iSCSI or all FC");
    protocol = i->protocol;
    if (!i->host.empty() && i->host != self)
      return refuse(
          409, "ResourceInUse", {},
          "initiator " + id + " (" + i->identifier + ") is already defined on host " + i->host);
  }
  return std::nullopt;
}

// The LUNs and volumes host `host` sees, leaving out mapping `except`.
struct Seen {
  std::map<uint32_t, const Mapping*> luns;
  std::map<std::string, const Mapping*> volumes;
};
Seen seenBy(const Model& m, const std::string& host, const std::string& except,
            const std::string& group_override = "\x01") {
  Seen s;
  const Host* h = m.host(host);
  const std::string group = group_override != "\x01" ? group_override : (h ? h->member_of : "");
  for (const Mapping& map : m.mappings) {
    if (map.id == except) continue;
    if (map.group != host && (group.empty() || map.group != group)) continue;
    s.luns.emplace(map.lun, &map);
    s.volumes.emplace(map.volume, &map);
  }
  return s;
}

// A mapping of `volume` at `lun` for every host `hosts` covers: no LUN used twice for a host,
// no volume seen twice by a host.
std::optional<Refusal> checkLunFree(const Model& m, const std::vector<std::string>& hosts,
                                    const std::string& volume, uint32_t lun,
                                    const std::string& except) {
  for (const std::string& h : hosts) {
    Seen s = seenBy(m, h, except);
    if (auto it = s.luns.find(lun); it != s.luns.end())
      return refuse(409, "ResourceInUse", {},
                    "LUN " + std::to_string(lun) + " is already used for host " + h + " (volume " +
                        it->second->volume + ", connection " + it->second->id + ")");
    if (auto it = s.volumes.find(volume); it != s.volumes.end())
      return refuse(409, "ResourceInUse", {},
                    "volume " + volume + " is already mapped to host " + h + " at LUN " +
                        std::to_string(it->second->lun) + " (connection " + it->second->id + ")");
  }
  return std::nullopt;
}

std::optional<Refusal> checkPorts(const Model& m, const json& body, const std::string& protocol,
                                  std::vector<std::string>& out) {
  if (!body.contains("Ports")) return std::nullopt;
  if (auto r = checkIdList(body, "Ports", false)) return r;
  out.clear();
  for (const json& p : body["Ports"]) {
    const std::string id = p.get<std::string>();
    const Port* port = m.port(id);
    if (!port) return refuse(400, "ResourceNotFound", {"Endpoint", id}, "no such port");
    if (port->info.protocol != protocol)
      return refuse(400, "PropertyValueConflict", {"Ports", "Group"},
                    "port " + id + " is " + port->info.protocol + ", the host " + protocol);
    out.push_back(id);
  }
  return std::nullopt;
}

// An integer at or above 0 (a parsed body holds it unsigned, one built in code signed).
bool nonNegative(const json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

std::optional<Refusal> checkLun(const json& body, uint32_t& out) {
  if (!body.contains("LUN")) return std::nullopt;
  const json& v = body["LUN"];
  if (!v.is_number_integer())
    return refuse(400, "PropertyValueTypeError", {text(v), "LUN"}, "not an integer");
  if (!nonNegative(v) || v.get<uint64_t>() > kMaxLun)
    return refuse(400, "PropertyValueOutOfRange", {text(v), "LUN"},
                  "0 to " + std::to_string(kMaxLun));
  out = static_cast<uint32_t>(v.get<uint64_t>());
  return std::nullopt;
}

std::optional<Refusal> checkBool(const json& body, const char* key) {
  if (body.contains(key) && !body[key].is_boolean())
    return refuse(400, "PropertyValueTypeError", {text(body[key]), key}, "true or false");
  return std::nullopt;
}

// The lowest LUN no host of `hosts` uses.
std::optional<uint32_t> freeLun(const Model& m, const std::vector<std::string>& hosts) {
  std::set<uint32_t> used;
  for (const std::string& h : hosts)
    for (const auto& [lun, map] : seenBy(m, h, "").luns) used.insert(lun);
  for (uint32_t lun = 0; lun <= kMaxLun; ++lun)
    if (!used.count(lun)) return lun;
  return std::nullopt;
}

Change change(std::string id, std::string key, const json& record, proto::Event event) {
  Change c;
  c.id = std::move(id);
  c.records.push_back(put(std::move(key), record));
  c.resource = record;
  c.event = std::move(event);
  return c;
}

}  // namespace

// ---- Model lookups ----

const Port* Model::port(std::string_view endpoint_id) const {
  for (const Port& p : ports)
    if (p.endpointId() == endpoint_id) return &p;
  return nullptr;
}
const Initiator* Model::initiator(std::string_view id) const {
  for (const Initiator& i : initiators)
    if (i.id == id) return &i;
  return nullptr;
}
const Host* Model::host(std::string_view id) const {
  for (const Host& h : hosts)
    if (h.id == id) return &h;
  return nullptr;
}
const Mapping* Model::mapping(std::string_view id) const {
  for (const Mapping& map : mappings)
    if (map.id == id) return &map;
  return nullptr;
}

std::vector<std::string> Model::hostsOf(std::string_view group) const {
  const Host* h = host(group);
  if (!h) return {};
  return h->group ? h->hosts : std::vector<std::string>{h->id};
}

std::vector<const Mapping*> Model::mappingsSeenBy(std::string_view id) const {
  std::vector<const Mapping*> out;
  const Host* h = host(id);
  if (!h || h->group) return out;
  for (const Mapping& map : mappings)
    if (map.group == h->id || (!h->member_of.empty() && map.group == h->member_of))
      out.push_back(&map);
  return out;
}

// ---- From the records ----

void detail::buildAccess(Model& m, const std::vector<proto::ConfigRecord>& records,
                         std::vector<std::string>* problems) {
  auto problem = [&](const std::string& p) {
    if (problems) problems->push_back(p);
  };
  for (const auto& r : records) {
    if (r.deleted()) continue;
    const std::string& key = r.key();
    const bool is_ports = startsWith(key, kPortsPrefix);
    const bool is_initiator = startsWith(key, kInitiatorPrefix);
    const bool is_host = startsWith(key, kHostPrefix);
    const bool is_mapping = startsWith(key, kMappingPrefix);
    const bool is_policy = key == kPolicyKey;
    if (!is_ports && !is_initiator && !is_host && !is_mapping && !is_policy) continue;
    json v = json::parse(r.value(), nullptr, false);
    if (!v.is_object()) {
      problem(key + " is not a JSON object");
      continue;
    }
    const std::string id = key.substr(key.rfind('/') + 1);
    if (is_ports) {
      if (id != "A" && id != "B") {
        problem(key + ": not an SP's ports");
        continue;
      }
      for (const json& p : v.value("Ports", json::array())) {
        if (!p.is_object()) continue;
        Port port;
        port.sp = id;
        port.info.id = p.value("Id", std::string());
        port.info.protocol = p.value("Protocol", std::string());
        port.info.identifier = p.value("Identifier", std::string());
        port.info.address = p.value("Address", std::string());
        port.info.link_up = p.value("LinkUp", false);
        port.info.speed_mbps = p.value("SpeedMbps", 0u);
        if (!port.info.id.empty()) m.ports.push_back(std::move(port));
      }
    } else if (is_initiator) {
      m.initiators.push_back({id, v.value("Name", "Initiator " + id),
                              v.value("Protocol", std::string()),
                              v.value("Identifier", std::string()), ""});
    } else if (is_host) {
      Host h;
      h.id = id;
      h.name = v.value("Name", "Host " + id);
      h.group = v.value("Kind", std::string()) == "HostGroup";
      h.protocol = v.value("Protocol", std::string());
      h.initiators = stringList(v.value("Initiators", json::array()));
      h.hosts = stringList(v.value("Hosts", json::array()));
      m.hosts.push_back(std::move(h));
    } else if (is_mapping) {
      Mapping map;
      map.id = id;
      map.group = v.value("Group", std::string());
      map.volume = v.value("Volume", std::string());
      map.lun = v.value("LUN", 0u);
      map.read_only = v.value("ReadOnly", false);
      map.ports = stringList(v.value("Ports", json::array()));
      m.mappings.push_back(std::move(map));
    } else {
      m.policy.auto_failback = v.value("AutoFailback", false);
      m.policy.auto_failback_delay_seconds =
          v.value("AutoFailbackDelaySeconds", m.policy.auto_failback_delay_seconds);
    }
  }
  auto byId = [](const auto& a, const auto& b) { return idBefore(a.id, b.id); };
  std::sort(m.ports.begin(), m.ports.end(), [](const Port& a, const Port& b) {
    return a.sp != b.sp ? a.sp < b.sp : a.info.id < b.info.id;
  });
  std::sort(m.initiators.begin(), m.initiators.end(), byId);
  std::sort(m.hosts.begin(), m.hosts.end(), byId);
  std::sort(m.mappings.begin(), m.mappings.end(), byId);
  for (Host& h : m.hosts) {
    for (const std::string& i : h.initiators) {
      auto it = std::find_if(m.initiators.begin(), m.initiators.end(),
                             [&](const Initiator& x) { return x.id == i; });
      if (it == m.initiators.end())
        problem("host " + h.id + ": its initiator " + i + " does not exist");
      else
        it->host = h.id;
    }
    for (const std::string& member : h.hosts) {
      auto it = std::find_if(m.hosts.begin(), m.hosts.end(),
                             [&](const Host& x) { return x.id == member; });
      if (it == m.hosts.end())
        problem("host group " + h.id + ": its host " + member + " does not exist");
      else
        it->member_of = h.id;
    }
  }
  for (const Mapping& map : m.mappings) {
    if (!m.volume(map.volume))
      problem("connection " + map.id + ": its volume " + map.volume + " does not exist");
    if (!m.host(map.group))
      problem("connection " + map.id + ": its host " + map.group + " does not exist");
  }
}

// ---- Initiators ----

Outcome createInitiator(const Model& m, const json& body, const std::string& new_id) {
  if (auto r = notAnObject(body)) return refused(*r);
  if (auto r = unknownKeys(body, {"Name", "Protocol", "Identifier"})) return refused(*r);
  for (const char* key : {"Protocol", "Identifier"})
    if (!body.contains(key)) return refused(refuse(400, "PropertyMissing", {key}, "required"));
  if (auto r = checkName(body)) return refused(*r);
  if (body["Protocol"] != "iSCSI" && body["Protocol"] != "FC")
    return refused(
        refuse(400, "PropertyValueNotInList", {text(body["Protocol"]), "Protocol"}, "iSCSI or FC"));
  if (!body["Identifier"].is_string())
    return refused(refuse(400, "PropertyValueTypeError", {text(body["Identifier"]), "Identifier"},
                          "not a string"));
  const std::string protocol = body["Protocol"].get<std::string>();
  std::string why;
  std::optional<std::string> name =
      canonicalIdentifier(protocol, body["Identifier"].get<std::string>(), why);
  if (!name)
    return refused(
        refuse(400, "PropertyValueFormatError", {text(body["Identifier"]), "Identifier"}, why));
  if (m.initiators.size() >= kMaxInitiators)
    return refused(refuse(400, "CreateLimitReachedForResource", {}, "too many initiators"));
  for (const Initiator& i : m.initiators)
    if (i.identifier == *name)
      return refused(refuse(409, "ResourceAlreadyExists", {"Endpoint", "Identifier", *name},
                            "initiator " + i.id + " already has it" +
                                (i.host.empty() ? "" : " (on host " + i.host + ")")));
  Initiator i{new_id, body.value("Name", *name), protocol, *name, ""};
  return {change(new_id, std::string(kInitiatorPrefix) + new_id, initiatorRecord(i),
                 makeEvent(message::kCreated, {}, endpointUri(protocol, new_id), "OK", SpId::A,
                           "(initiator " + new_id + ", " + protocol + " " + *name + ")")),
          std::nullopt};
}

Outcome deleteInitiator(const Model& m, const std::string& id) {
  const Initiator* i = m.initiator(id);
  if (!i) return refused(refuse(404, "ResourceNotFound", {"Endpoint", id}, "no such initiator"));
  if (!i->host.empty())
    return refused(
        refuse(409, "ResourceInUse", {},
               "initiator " + id + " belongs to host " + i->host + ": take it off the host first"));
  Change c;
  c.id = id;
  c.records.push_back(removal(std::string(kInitiatorPrefix) + id));
  c.event = makeEvent(message::kRemoved, {}, endpointUri(i->protocol, id), "OK", SpId::A,
                      "(initiator " + id + ")");
  return {std::move(c), std::nullopt};
}

// ---- Hosts and host groups ----

namespace {

// A host group's hosts: they exist, are hosts, share one protocol, and no other group has
// them; and a host joining it must not see a LUN (or volume) twice.
std::optional<Refusal> checkMembers(const Model& m, const std::vector<std::string>& ids,
                                    const std::string& self, std::string& protocol) {
  if (ids.empty())
    return refuse(400, "PropertyValueOutOfRange", {"[]", "Hosts"},
                  "a host group has at least one host");
  protocol.clear();
  for (const std::string& id : ids) {
    const Host* h = m.host(id);
    if (!h || h->group)
      return refuse(400, "ResourceNotFound", {"EndpointGroup", id}, "no such host");
    if (!protocol.empty() && h->protocol != protocol)
      return refuse(400, "PropertyValueConflict", {"Hosts", "Hosts"},
                    "a host group's hosts are all iSCSI or all FC");
    protocol = h->protocol;
    if (!h->member_of.empty() && h->member_of != self)
      return refuse(409, "ResourceInUse", {},
                    "host " + id + " is already in host group " + h->member_of);
    if (self.empty() || h->member_of == self) continue;
    // Joining: its own LUNs and the group's must not collide.
    Seen own = seenBy(m, id, "", "");
    for (const Mapping& map : m.mappings) {
      if (map.group != self) continue;
      if (own.luns.count(map.lun))
        return refuse(409, "ResourceInUse", {},
                      "host " + id + " already uses LUN " + std::to_string(map.lun) +
                          ", which host group " + self + " maps volume " + map.volume + " at");
      if (own.volumes.count(map.volume))
        return refuse(409, "ResourceInUse", {},
                      "host " + id + " already sees volume " + map.volume + ", which host group " +
                          self + " maps too");
    }
  }
  return std::nullopt;
}

std::optional<Refusal> checkKind(const json& body, bool& group) {
  group = false;
  if (!body.contains("Kind")) return std::nullopt;
  if (body["Kind"] != "Host" && body["Kind"] != "HostGroup")
    return refuse(400, "PropertyValueNotInList", {text(body["Kind"]), "Kind"}, "Host or HostGroup");
  group = body["Kind"] == "HostGroup";
  return std::nullopt;
}

}  // namespace

Outcome createHost(const Model& m, const json& body, const std::string& new_id) {
  if (auto r = notAnObject(body)) return refused(*r);
  if (auto r = unknownKeys(body, {"Name", "Kind", "Initiators", "Hosts"})) return refused(*r);
  if (auto r = checkName(body)) return refused(*r);
  Host h;
  h.id = new_id;
  if (auto r = checkKind(body, h.group)) return refused(*r);
  const char* list = h.group ? "Hosts" : "Initiators";
  const char* other = h.group ? "Initiators" : "Hosts";
  if (body.contains(other))
    return refused(refuse(400, "PropertyValueConflict", {other, "Kind"},
                          h.group ? "a host group lists hosts" : "a host lists initiators"));
  if (auto r = checkIdList(body, list, true)) return refused(*r);
  if (m.hosts.size() >= kMaxHosts)
    return refused(refuse(400, "CreateLimitReachedForResource", {}, "too many hosts"));
  if (h.group) {
    h.hosts = stringList(body["Hosts"]);
    if (auto r = checkMembers(m, h.hosts, "", h.protocol)) return refused(*r);
  } else {
    h.initiators = stringList(body["Initiators"]);
    if (auto r = checkInitiators(m, h.initiators, "", h.protocol)) return refused(*r);
  }
  h.name = body.value("Name", (h.group ? "Host group " : "Host ") + new_id);
  return {change(new_id, std::string(kHostPrefix) + new_id, hostRecord(h),
                 makeEvent(message::kCreated, {}, groupUri(h.protocol, new_id), "OK", SpId::A,
                           std::string(h.group ? "(host group " : "(host ") + new_id + ", " +
                               std::to_string(h.group ? h.hosts.size() : h.initiators.size()) +
                               (h.group ? " hosts)" : " initiators)"))),
          std::nullopt};
}

Outcome patchHost(const Model& m, const std::string& id, const json& body) {
  const Host* old = m.host(id);
  if (!old) return refused(refuse(404, "ResourceNotFound", {"EndpointGroup", id}, "no such host"));
  if (auto r = notAnObject(body)) return refused(*r);
  if (body.empty()) return refused(refuse(400, "NoOperation", {}, "nothing to change"));
  if (auto r = unknownKeys(body, {"Name", "Initiators", "Hosts"})) return refused(*r);
  if (auto r = checkName(body)) return refused(*r);
  const char* list = old->group ? "Hosts" : "Initiators";
  const char* other = old->group ? "Initiators" : "Hosts";
  if (body.contains(other))
    return refused(refuse(400, "PropertyValueConflict", {other, "Kind"},
                          old->group ? "a host group lists hosts" : "a host lists initiators"));
  if (auto r = checkIdList(body, list, false)) return refused(*r);
  Host h = *old;
  if (body.contains(list)) {
    std::string protocol;
    if (h.group) {
      h.hosts = stringList(body["Hosts"]);
      if (auto r = checkMembers(m, h.hosts, id, protocol)) return refused(*r);
    } else {
      h.initiators = stringList(body["Initiators"]);
      if (auto r = checkInitiators(m, h.initiators, id, protocol)) return refused(*r);
    }
    const bool used =
        !old->member_of.empty() || std::any_of(m.mappings.begin(), m.mappings.end(),
                                               [&](const Mapping& map) { return map.group == id; });
    if (protocol != old->protocol && used)
      return refused(refuse(400, "PropertyValueConflict", {list, "Protocol"},
                            "host " + id + " is mapped or grouped as " + old->protocol +
                                ": its protocol cannot change"));
    h.protocol = protocol;
  }
  h.name = body.value("Name", old->name);
  std::string what;
  for (const auto& [key, value] : body.items()) what += (what.empty() ? "" : ", ") + key;
  return {
      change(id, std::string(kHostPrefix) + id, hostRecord(h),
             makeEvent(message::kChanged, {}, groupUri(h.protocol, id), "OK", SpId::A,
                       std::string(h.group ? "(host group " : "(host ") + id + ": " + what + ")")),
      std::nullopt};
}

Outcome deleteHost(const Model& m, const std::string& id) {
  const Host* h = m.host(id);
  if (!h) return refused(refuse(404, "ResourceNotFound", {"EndpointGroup", id}, "no such host"));
  for (const Mapping& map : m.mappings)
    if (map.group == id)
      return refused(refuse(409, "ResourceInUse", {},
                            std::string(h->group ? "host group " : "host ") + id +
                                " still sees volume " + map.volume + " (connection " + map.id +
                                "): delete its connections first"));
  if (!h->member_of.empty())
    return refused(refuse(
        409, "ResourceInUse", {},
        "host " + id + " is in host group " + h->member_of + ": take it out of the group first"));
  Change c;
  c.id = id;
  c.records.push_back(removal(std::string(kHostPrefix) + id));
  c.event = makeEvent(message::kRemoved, {}, groupUri(h->protocol, id), "OK", SpId::A,
                      std::string(h->group ? "(host group " : "(host ") + id + ")");
  return {std::move(c), std::nullopt};
}

// ---- Mappings ----

Outcome createMapping(const Model& m, const json& body, const std::string& new_id) {
  if (auto r = notAnObject(body)) return refused(*r);
  if (auto r = unknownKeys(body, {"Group", "Volume", "LUN", "ReadOnly", "Ports"}))
    return refused(*r);
  for (const char* key : {"Group", "Volume"})
    if (!body.contains(key)) return refused(refuse(400, "PropertyMissing", {key}, "required"));
  for (const char* key : {"Group", "Volume"})
    if (!body[key].is_string())
      return refused(refuse(400, "PropertyValueTypeError", {text(body[key]), key}, "an id"));
  Mapping map;
  map.id = new_id;
  map.group = body["Group"].get<std::string>();
  map.volume = body["Volume"].get<std::string>();
  const Host* group = m.host(map.group);
  if (!group)
    return refused(refuse(400, "ResourceNotFound", {"EndpointGroup", map.group}, "no such host"));
  if (!m.volume(map.volume))
    return refused(refuse(400, "ResourceNotFound", {"Volume", map.volume}, "no such volume"));
  if (auto r = checkBool(body, "ReadOnly")) return refused(*r);
  map.read_only = body.value("ReadOnly", false);
  if (auto r = checkPorts(m, body, group->protocol, map.ports)) return refused(*r);
  if (m.mappings.size() >= kMaxMappings)
    return refused(refuse(400, "CreateLimitReachedForResource", {}, "too many connections"));
  const std::vector<std::string> hosts = m.hostsOf(map.group);
  if (body.contains("LUN")) {
    if (auto r = checkLun(body, map.lun)) return refused(*r);
  } else {
    std::optional<uint32_t> lun = freeLun(m, hosts);
    if (!lun) return refused(refuse(400, "CreateLimitReachedForResource", {}, "no LUN is free"));
    map.lun = *lun;
  }
  if (auto r = checkLunFree(m, hosts, map.volume, map.lun, "")) return refused(*r);
  return {
      change(new_id, std::string(kMappingPrefix) + new_id, mappingRecord(map),
             makeEvent(message::kCreated, {}, connectionUri(group->protocol, new_id), "OK", SpId::A,
                       "(connection " + new_id + ": volume " + map.volume + " to " +
                           (group->group ? "host group " : "host ") + map.group + " at LUN " +
                           std::to_string(map.lun) +
                           (map.read_only ? ", read-only" : ", read-write") + ")")),
      std::nullopt};
}

Outcome patchMapping(const Model& m, const std::string& id, const json& body) {
  const Mapping* old = m.mapping(id);
  if (!old)
    return refused(refuse(404, "ResourceNotFound", {"Connection", id}, "no such connection"));
  if (auto r = notAnObject(body)) return refused(*r);
  if (body.empty()) return refused(refuse(400, "NoOperation", {}, "nothing to change"));
  if (auto r = unknownKeys(body, {"LUN", "ReadOnly", "Ports"})) return refused(*r);
  Mapping map = *old;
  const Host* group = m.host(map.group);
  const std::string protocol = group ? group->protocol : "";
  if (auto r = checkLun(body, map.lun)) return refused(*r);
  if (auto r = checkBool(body, "ReadOnly")) return refused(*r);
  map.read_only = body.value("ReadOnly", old->read_only);
  if (auto r = checkPorts(m, body, protocol, map.ports)) return refused(*r);
  if (map.lun != old->lun)
    if (auto r = checkLunFree(m, m.hostsOf(map.group), map.volume, map.lun, id)) return refused(*r);
  std::string what;
  for (const auto& [key, value] : body.items()) what += (what.empty() ? "" : ", ") + key;
  return {change(id, std::string(kMappingPrefix) + id, mappingRecord(map),
                 makeEvent(message::kChanged, {}, connectionUri(protocol, id), "OK", SpId::A,
                           "(connection " + id + ": " + what + ")")),
          std::nullopt};
}

Outcome deleteMapping(const Model& m, const std::string& id) {
  const Mapping* map = m.mapping(id);
  if (!map)
    return refused(refuse(404, "ResourceNotFound", {"Connection", id}, "no such connection"));
  const Host* group = m.host(map->group);
  Change c;
  c.id = id;
  c.records.push_back(removal(std::string(kMappingPrefix) + id));
  c.event = makeEvent(
      message::kRemoved, {}, connectionUri(group ? group->protocol : "", id), "OK", SpId::A,
      "(connection " + id + ": volume " + map->volume + " from host " + map->group + ")");
  return {std::move(c), std::nullopt};
}

// ---- Policy, ports ----

Outcome setPolicy(const Model& m, const json& body) {
  if (auto r = notAnObject(body)) return refused(*r);
  if (auto r = unknownKeys(body, {"AutoFailback", "AutoFailbackDelaySeconds"})) return refused(*r);
  if (auto r = checkBool(body, "AutoFailback")) return refused(*r);
  Policy p = m.policy;
  p.auto_failback = body.value("AutoFailback", p.auto_failback);
  if (body.contains("AutoFailbackDelaySeconds")) {
    const json& v = body["AutoFailbackDelaySeconds"];
    if (!v.is_number_integer())
      return refused(refuse(400, "PropertyValueTypeError", {text(v), "AutoFailbackDelaySeconds"},
                            "not an integer"));
    if (!nonNegative(v) || v.get<uint64_t>() > kMaxAutoFailbackDelaySeconds)
      return refused(refuse(400, "PropertyValueOutOfRange", {text(v), "AutoFailbackDelaySeconds"},
                            "0 to " + std::to_string(kMaxAutoFailbackDelaySeconds)));
    p.auto_failback_delay_seconds = static_cast<uint32_t>(v.get<uint64_t>());
  }
  json record = {{"AutoFailback", p.auto_failback},
                 {"AutoFailbackDelaySeconds", p.auto_failback_delay_seconds}};
  return {change("policy", std::string(kPolicyKey), record,
                 makeEvent(
                     message::kChanged, {}, std::string(kStorageUri), "OK", SpId::A,
                     std::string("(automatic failback ") +
                         (p.auto_failback
                              ? "on, after " + std::to_string(p.auto_failback_delay_seconds) + " s"
                              : "off") +
                         ")")),
          std::nullopt};
}

std::optional<proto::ConfigRecord> portsRecord(
    const Model& m, const std::string& sp, const std::vector<platform::FrontEndPortInfo>& ports) {
  std::vector<platform::FrontEndPortInfo> stored;
  for (const Port& p : m.ports)
    if (p.sp == sp) stored.push_back(p.info);
  auto same = [](const platform::FrontEndPortInfo& a, const platform::FrontEndPortInfo& b) {
    return a.id == b.id && a.protocol == b.protocol && a.identifier == b.identifier &&
           a.address == b.address && a.link_up == b.link_up && a.speed_mbps == b.speed_mbps;
  };
  std::vector<platform::FrontEndPortInfo> sorted = ports;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (stored.size() == sorted.size() &&
      std::equal(stored.begin(), stored.end(), sorted.begin(), same))
    return std::nullopt;
  json list = json::array();
  for (const auto& p : sorted)
    list.push_back({{"Id", p.id},
                    {"Protocol", p.protocol},
                    {"Identifier", p.identifier},
                    {"Address", p.address},
                    {"LinkUp", p.link_up},
                    {"SpeedMbps", p.speed_mbps}});
  return put(std::string(kPortsPrefix) + sp, {{"Ports", list}});
}

// ---- Access states, the data path ----

platform::AluaState accessState(const Volume& v, const std::string& sp, const std::string& dead) {
  using platform::AluaState;
  if (!dead.empty() && sp == dead) return AluaState::Unavailable;
  if (!dead.empty() && v.current_owner == dead) return AluaState::Transitioning;
  if (v.transitioning) return AluaState::Transitioning;
  return v.current_owner == sp ? AluaState::Optimized : AluaState::NonOptimized;
}

platform::DataPathState dataPathState(const Model& m, const std::string& sp,
                                      const std::string& dead, bool in_step) {
  platform::DataPathState s;
  s.sp = sp;
  for (const Port& p : m.ports)
    if (p.sp == sp)
      s.ports.push_back({p.info.id, p.info.protocol, p.info.identifier, p.info.address});
  for (const Volume& v : m.volumes) {
    platform::DataPathVolume out{
        v.id,
        v.wwn,
        v.capacity_bytes,
        {},
        in_step ? accessState(v, sp, dead) : platform::AluaState::Transitioning,
        {}};
    if (const Pool* p = m.pool(v.pool)) out.drives = p->drives;
    for (const Extent& e : v.extents) out.extents.push_back({e.offset, e.length});
    s.volumes.push_back(std::move(out));
  }
  const std::string own_prefix = "SP" + sp + "-";
  for (const Host& h : m.hosts) {
    if (h.group) continue;
    std::vector<platform::DataPathLun> luns;
    for (const Mapping* map : m.mappingsSeenBy(h.id)) {
      platform::DataPathLun lun{map->lun, map->volume, map->read_only, {}};
      for (const std::string& p : map->ports)
        if (startsWith(p, own_prefix)) lun.ports.push_back(p.substr(own_prefix.size()));
      if (!map->ports.empty() && lun.ports.empty()) continue;  // not through this SP
      luns.push_back(std::move(lun));
    }
    std::sort(luns.begin(), luns.end(), [](const auto& a, const auto& b) { return a.lun < b.lun; });
    for (const std::string& i : h.initiators)
      if (const Initiator* init = m.initiator(i))
        s.acls.push_back({init->protocol, init->identifier, luns});
  }
  std::sort(s.acls.begin(), s.acls.end(),
            [](const auto& a, const auto& b) { return a.initiator < b.initiator; });
  return s;
}

}  // namespace dualsp::sp::storage
