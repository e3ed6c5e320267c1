#include "sp/storage_model.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "sp/events.hpp"
#include "sp/storage_model_detail.hpp"

namespace dualsp::sp::storage {
namespace {

using namespace detail;

constexpr std::string_view kRaidTypes[] = {"RAID0", "RAID1", "RAID5", "RAID6", "RAID10"};

std::string poolUri(const std::string& id) {
  return std::string(kStorageUri) + "/StoragePools/" + id;
}
std::string volumeUri(const std::string& id) {
  return std::string(kStorageUri) + "/Volumes/" + id;
}

std::optional<std::string> ownerOf(const json& v, const char* key) {
  if (!v.contains(key)) return std::nullopt;
  if (!v[key].is_string()) return std::nullopt;
  std::string o = v[key].get<std::string>();
  if (o != "A" && o != "B") return std::nullopt;
  return o;
}

// A volume's stored record (the header's storage/volumes/<id> layout).
json volumeRecord(const Volume& v) {
  json r = {
      {"Name", v.name}, {"CapacityBytes", v.capacity_bytes}, {"Pool", v.pool},
      {"WWN", v.wwn},   {"DefaultOwner", v.default_owner},   {"CurrentOwner", v.current_owner}};
  if (v.transitioning) r["Transitioning"] = true;
  if (!v.extents.empty()) {
    json e = json::array();
    for (const Extent& x : v.extents) e.push_back({x.offset, x.length});
    r["Extents"] = std::move(e);
  }
  return r;
}

// A stored volume's extents, or nothing when absent or not consistent with its capacity
// and pool (it is then laid out again, as a volume stored before placement existed).
std::vector<Extent> storedExtents(const json& v, uint64_t capacity, uint64_t pool_capacity) {
  std::vector<Extent> out;
  if (!v.contains("Extents") || !v["Extents"].is_array()) return out;
  uint64_t sum = 0;
  for (const json& e : v["Extents"]) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() || !e[1].is_number_unsigned())
      return {};
    Extent x{e[0].get<uint64_t>(), e[1].get<uint64_t>()};
    if (x.length == 0 || x.offset > pool_capacity || x.length > pool_capacity - x.offset) return {};
    sum += x.length;
    out.push_back(x);
  }
  if (sum != capacity) return {};
  return out;
}

std::optional<Refusal> checkOwner(const json& body, const char* key) {
  if (!body.contains(key)) return std::nullopt;
  if (!ownerOf(body, key))
    return refuse(400, "PropertyValueNotInList", {text(body[key]), key}, "not A or B");
  return std::nullopt;
}

}  // namespace

const Pool* Model::pool(std::string_view id) const {
  for (const Pool& p : pools)
    if (p.id == id) return &p;
  return nullptr;
}
const Volume* Model::volume(std::string_view id) const {
  for (const Volume& v : volumes)
    if (v.id == id) return &v;
  return nullptr;
}
const Drive* Model::drive(std::string_view id) const {
  for (const Drive& d : drives)
    if (d.info.id == id) return &d;
  return nullptr;
}

std::optional<uint64_t> usableCapacity(std::string_view raid_type,
                                       const std::vector<uint64_t>& capacities,
                                       std::string& error) {
  const size_t n = capacities.size();
  if (n == 0) {
    error = "a pool needs drives";
    return std::nullopt;
  }
  const uint64_t smallest = *std::min_element(capacities.begin(), capacities.end());
  size_t data = 0;
  if (raid_type == "RAID0") {
    data = n;
  } else if (raid_type == "RAID1") {
    if (n != 2) error = "RAID1 takes exactly 2 drives";
    data = 1;
  } else if (raid_type == "RAID10") {
    if (n < 4 || n % 2 != 0) error = "RAID10 takes an even number of drives, at least 4";
    data = n / 2;
  } else if (raid_type == "RAID5") {
    if (n < 3) error = "RAID5 takes at least 3 drives";
    data = n - 1;
  } else if (raid_type == "RAID6") {
    if (n < 4) error = "RAID6 takes at least 4 drives";
    data = n - 2;
  } else {
    error = "unknown RAID type";
  }
  if (!error.empty()) return std::nullopt;
  return smallest * data;
}

Model buildModel(const std::vector<proto::ConfigRecord>& records,
                 const std::vector<platform::DriveInfo>& drives,
                 std::vector<std::string>* problems) {
  auto problem = [&](const std::string& p) {
    if (problems) problems->push_back(p);
  };
  Model m;
  for (const auto& d : drives) m.drives.push_back({d, ""});
  std::sort(m.drives.begin(), m.drives.end(),
            [](const Drive& a, const Drive& b) { return a.info.slot < b.info.slot; });
  std::vector<std::pair<std::string, json>> pools, volumes;
  for (const auto& r : records) {
    if (r.deleted()) continue;
    const bool is_pool = startsWith(r.key(), kPoolPrefix);
    const bool is_volume = startsWith(r.key(), kVolumePrefix);
    if (!is_pool && !is_volume) continue;
    json v = json::parse(r.value(), nullptr, false);
    if (!v.is_object()) {
      problem(r.key() + " is not a JSON object");
      continue;
    }
    std::string id = r.key().substr((is_pool ? kPoolPrefix : kVolumePrefix).size());
    (is_pool ? pools : volumes).emplace_back(std::move(id), std::move(v));
  }
  for (auto& [id, v] : pools) {
    Pool p;
    p.id = id;
    p.name = v.value("Name", "Pool " + id);
    p.raid_type = v.value("RAIDType", std::string());
    p.default_owner = ownerOf(v, "DefaultOwner").value_or("A");
    if (v.contains("Drives") && v["Drives"].is_array())
      for (const auto& d : v["Drives"])
        if (d.is_string()) p.drives.push_back(d.get<std::string>());
    std::vector<uint64_t> sizes;
    for (const std::string& d : p.drives) {
      auto it = std::find_if(m.drives.begin(), m.drives.end(),
                             [&](const Drive& x) { return x.info.id == d; });
      if (it == m.drives.end() || it->info.failed) p.degraded = true;
      if (it == m.drives.end()) continue;
      it->pool = p.id;
      sizes.push_back(it->info.capacity_bytes);
    }
    // A missing drive's share is the smallest present one's: the pool's size does not shrink
    // under its volumes while a drive is away (it is degraded instead).
    while (!sizes.empty() && sizes.size() < p.drives.size()) sizes.push_back(sizes.front());
    std::string why;
    p.capacity_bytes = usableCapacity(p.raid_type, sizes, why).value_or(0);
    if (!why.empty()) problem("storage pool " + id + ": " + why);
    m.pools.push_back(std::move(p));
  }
  for (auto& [id, v] : volumes) {
    Volume vol;
    vol.id = id;
    vol.name = v.value("Name", "Volume " + id);
    vol.capacity_bytes = v.contains("CapacityBytes") && v["CapacityBytes"].is_number_unsigned()
                             ? v["CapacityBytes"].get<uint64_t>()
                             : 0;
    vol.pool = v.value("Pool", std::string());
    vol.wwn = v.value("WWN", std::string());
    vol.default_owner = ownerOf(v, "DefaultOwner").value_or("A");
    vol.current_owner = ownerOf(v, "CurrentOwner").value_or(vol.default_owner);
    vol.transitioning = v.value("Transitioning", false) == true;
    auto pool = std::find_if(m.pools.begin(), m.pools.end(),
                             [&](const Pool& p) { return p.id == vol.pool; });
    if (pool == m.pools.end()) {
      problem("volume " + id + ": its pool '" + vol.pool + "' does not exist");
    } else {
      pool->allocated_bytes += vol.capacity_bytes;
      vol.extents = storedExtents(v, vol.capacity_bytes, pool->capacity_bytes);
    }
    m.volumes.push_back(std::move(vol));
  }
  std::sort(m.pools.begin(), m.pools.end(),
            [](const Pool& a, const Pool& b) { return idBefore(a.id, b.id); });
  std::sort(m.volumes.begin(), m.volumes.end(),
            [](const Volume& a, const Volume& b) { return idBefore(a.id, b.id); });
  // Volumes stored without a placement (before it existed) or with one that overlaps
  // another's: laid out in id order in what the others leave free. Both SPs read the same
  // records, so both compute the same placement; the next change to the volume stores it.
  for (Volume& vol : m.volumes) {
    if (!m.pool(vol.pool)) continue;
    bool overlaps = false;
    for (const Volume& other : m.volumes)
      if (&other != &vol && other.pool == vol.pool)
        for (const Extent& a : vol.extents)
          for (const Extent& b : other.extents)
            overlaps |= a.offset < b.offset + b.length && b.offset < a.offset + a.length;
    if (overlaps) {
      problem("volume " + vol.id + ": its extents overlap another volume's; laid out again");
      vol.extents.clear();
    }
  }
  for (Volume& vol : m.volumes)
    if (vol.extents.empty() && vol.capacity_bytes > 0 && m.pool(vol.pool))
      vol.extents = allocateExtents(freeExtents(m, vol.pool), vol.capacity_bytes);
  buildAccess(m, records, problems);
  return m;
}

Outcome createPool(const Model& m, const json& body, const std::string& new_id) {
  if (!body.is_object())
    return refused(refuse(400, "MalformedJSON", {}, "the body is not a JSON object"));
  if (auto r = unknownKeys(body, {"Name", "RAIDType", "Drives", "DefaultOwner"}))
    return refused(*r);
  for (const char* key : {"RAIDType", "Drives"})
    if (!body.contains(key)) return refused(refuse(400, "PropertyMissing", {key}, "required"));
  if (auto r = checkName(body)) return refused(*r);
  if (auto r = checkOwner(body, "DefaultOwner")) return refused(*r);
  const json& raid = body["RAIDType"];
  if (!raid.is_string())
    return refused(refuse(400, "PropertyValueTypeError", {text(raid), "RAIDType"}, "not a string"));
  const std::string raid_type = raid.get<std::string>();
  if (std::find(std::begin(kRaidTypes), std::end(kRaidTypes), raid_type) == std::end(kRaidTypes))
    return refused(refuse(400, "PropertyValueNotInList", {raid_type, "RAIDType"},
                          "RAID0, RAID1, RAID5, RAID6 or RAID10"));
  const json& list = body["Drives"];
  if (!list.is_array() || list.empty() ||
      !std::all_of(list.begin(), list.end(), [](const json& d) { return d.is_string(); }))
    return refused(refuse(400, "PropertyValueTypeError", {text(list), "Drives"},
                          "a non-empty list of drive ids"));
  if (m.pools.size() >= kMaxPools)
    return refused(refuse(400, "CreateLimitReachedForResource", {}, "too many pools"));
  std::set<std::string> seen;
  std::vector<uint64_t> sizes;
  std::string media;
  for (const auto& item : list) {
    const std::string id = item.get<std::string>();
    const Drive* d = m.drive(id);
    if (!d) return refused(refuse(400, "ResourceNotFound", {"Drive", id}, "no such drive"));
    if (!seen.insert(id).second)
      return refused(refuse(400, "PropertyValueConflict", {"Drives", "Drives"},
                            "drive " + id + " is named twice"));
    if (d->info.failed)
      return refused(
          refuse(400, "PropertyValueOutOfRange", {id, "Drives"}, "drive " + id + " has failed"));
    if (!d->pool.empty())
      return refused(refuse(409, "ResourceInUse", {},
                            "drive " + id + " is already in storage pool " + d->pool));
    if (!media.empty() && d->info.media_type != media)
      return refused(refuse(400, "PropertyValueConflict", {"Drives", "Drives"},
                            "a pool's drives are all HDD or all SSD"));
    media = d->info.media_type;
    sizes.push_back(d->info.capacity_bytes);
  }
  std::string why;
  std::optional<uint64_t> usable = usableCapacity(raid_type, sizes, why);
  if (!usable) return refused(refuse(400, "PropertyValueConflict", {"Drives", "RAIDType"}, why));
  json record = {{"Name", body.value("Name", "Pool " + new_id)},
                 {"RAIDType", raid_type},
                 {"Drives", list},
                 {"DefaultOwner", body.value("DefaultOwner", "A")}};
  Change c;
  c.id = new_id;
  c.records.push_back(put(std::string(kPoolPrefix) + new_id, record));
  c.resource = record;
  c.event = makeEvent(message::kCreated, {}, poolUri(new_id), "OK", SpId::A,
                      "(storage pool " + new_id + ", " + raid_type + " over " +
                          std::to_string(sizes.size()) + " drives, " + std::to_string(*usable) +
                          " bytes)");
  return {std::move(c), std::nullopt};
}

Outcome deletePool(const Model& m, const std::string& id) {
  const Pool* p = m.pool(id);
  if (!p) return refused(refuse(404, "ResourceNotFound", {"StoragePool", id}, "no such pool"));
  for (const Volume& v : m.volumes)
    if (v.pool == id)
      return refused(refuse(
          409, "ResourceInUse", {},
          "storage pool " + id + " still has volume " + v.id + ": delete its volumes first"));
  Change c;
  c.id = id;
  c.records.push_back(removal(std::string(kPoolPrefix) + id));
  c.event =
      makeEvent(message::kRemoved, {}, poolUri(id), "OK", SpId::A, "(storage pool " + id + ")");
  return {std::move(c), std::nullopt};
}

namespace {

std::optional<Refusal> checkCapacity(const json& body, uint64_t& out) {
  if (!body.contains("CapacityBytes")) return std::nullopt;
  const json& v = body["CapacityBytes"];
  if (!v.is_number_integer())
    return refuse(400, "PropertyValueTypeError", {text(v), "CapacityBytes"}, "not an integer");
  if (!v.is_number_unsigned() || v.get<uint64_t>() < kMinVolumeBytes ||
      v.get<uint64_t>() % kBlockBytes != 0)
    return refuse(400, "PropertyValueOutOfRange", {text(v), "CapacityBytes"},
                  "a multiple of " + std::to_string(kBlockBytes) + " bytes, at least " +
                      std::to_string(kMinVolumeBytes));
  out = v.get<uint64_t>();
  return std::nullopt;
}

}  // namespace

std::vector<Extent> freeExtents(const Model& m, const std::string& pool_id) {
  const Pool* pool = m.pool(pool_id);
  if (!pool) return {};
  std::vector<Extent> used;
  for (const Volume& v : m.volumes)
    if (v.pool == pool_id) used.insert(used.end(), v.extents.begin(), v.extents.end());
  std::sort(used.begin(), used.end(),
            [](const Extent& a, const Extent& b) { return a.offset < b.offset; });
  std::vector<Extent> free;
  uint64_t at = 0;
  for (const Extent& u : used) {
    if (u.offset > at) free.push_back({at, u.offset - at});
    at = std::max(at, u.offset + u.length);
  }
  if (pool->capacity_bytes > at) free.push_back({at, pool->capacity_bytes - at});
  return free;
}

std::vector<Extent> allocateExtents(const std::vector<Extent>& free, uint64_t bytes) {
  std::vector<Extent> out;
  for (const Extent& f : free) {
    if (bytes == 0) break;
    const uint64_t take = std::min(bytes, f.length);
    out.push_back({f.offset, take});
    bytes -= take;
  }
  return out;
}

namespace {

uint64_t totalOf(const std::vector<Extent>& extents) {
  uint64_t sum = 0;
  for (const Extent& e : extents) sum += e.length;
  return sum;
}

Refusal noRoom(uint64_t capacity, const std::string& pool_id, uint64_t free) {
  return refuse(400, "PropertyValueOutOfRange", {std::to_string(capacity), "CapacityBytes"},
                "storage pool " + pool_id + " has " + std::to_string(free) + " bytes free");
}

}  // namespace

Outcome createVolume(const Model& m, const json& body, const std::string& new_id,
                     const std::string& wwn) {
  if (!body.is_object())
    return refused(refuse(400, "MalformedJSON", {}, "the body is not a JSON object"));
  if (auto r = unknownKeys(body, {"Name", "CapacityBytes", "Pool", "DefaultOwner"}))
    return refused(*r);
  for (const char* key : {"CapacityBytes", "Pool"})
    if (!body.contains(key)) return refused(refuse(400, "PropertyMissing", {key}, "required"));
  if (auto r = checkName(body)) return refused(*r);
  if (auto r = checkOwner(body, "DefaultOwner")) return refused(*r);
  uint64_t capacity = 0;
  if (auto r = checkCapacity(body, capacity)) return refused(*r);
  if (!body["Pool"].is_string())
    return refused(
        refuse(400, "PropertyValueTypeError", {text(body["Pool"]), "Pool"}, "not a pool id"));
  const std::string pool_id = body["Pool"].get<std::string>();
  const Pool* pool = m.pool(pool_id);
  if (!pool)
    return refused(refuse(400, "ResourceNotFound", {"StoragePool", pool_id}, "no such pool"));
  if (m.volumes.size() >= kMaxVolumes)
    return refused(refuse(400, "CreateLimitReachedForResource", {}, "too many volumes"));
  const uint64_t free =
      pool->capacity_bytes - std::min(pool->capacity_bytes, pool->allocated_bytes);
  if (capacity > free) return refused(noRoom(capacity, pool_id, free));
  const std::string owner = body.value("DefaultOwner", pool->default_owner);
  Volume created{new_id,
                 body.value("Name", "Volume " + new_id),
                 capacity,
                 pool_id,
                 wwn,
                 owner,
                 owner,
                 false,
                 allocateExtents(freeExtents(m, pool_id), capacity)};
  if (totalOf(created.extents) != capacity)
    return refused(noRoom(capacity, pool_id, totalOf(freeExtents(m, pool_id))));
  json record = volumeRecord(created);
  Change c;
  c.id = new_id;
  c.records.push_back(put(std::string(kVolumePrefix) + new_id, record));
  c.resource = record;
  c.event = makeEvent(message::kCreated, {}, volumeUri(new_id), "OK", SpId::A,
                      "(volume " + new_id + ", " + std::to_string(capacity) +
                          " bytes in storage pool " + pool_id + ", owned by SP-" + owner + ")");
  return {std::move(c), std::nullopt};
}

Outcome patchVolume(const Model& m, const std::string& id, const json& body) {
  const Volume* v = m.volume(id);
  if (!v) return refused(refuse(404, "ResourceNotFound", {"Volume", id}, "no such volume"));
  if (!body.is_object())
    return refused(refuse(400, "MalformedJSON", {}, "the body is not a JSON object"));
  if (body.empty()) return refused(refuse(400, "NoOperation", {}, "nothing to change"));
  if (auto r = unknownKeys(body, {"Name", "CapacityBytes", "DefaultOwner"})) return refused(*r);
  if (auto r = checkName(body)) return refused(*r);
  if (auto r = checkOwner(body, "DefaultOwner")) return refused(*r);
  uint64_t capacity = v->capacity_bytes;
  if (auto r = checkCapacity(body, capacity)) return refused(*r);
  if (capacity < v->capacity_bytes)
    return refused(refuse(400, "PropertyValueOutOfRange",
                          {std::to_string(capacity), "CapacityBytes"},
                          "a volume grows, never shrinks (its data would be cut)"));
  if (capacity > v->capacity_bytes) {
    const Pool* pool = m.pool(v->pool);
    const uint64_t free =
        pool ? pool->capacity_bytes - std::min(pool->capacity_bytes, pool->allocated_bytes) : 0;
    if (capacity - v->capacity_bytes > free) return refused(noRoom(capacity, v->pool, free));
  }
  Volume next = *v;
  next.name = body.value("Name", v->name);
  next.capacity_bytes = capacity;
  if (capacity > v->capacity_bytes) {
    // Grown at its end: the new blocks come after its last ones, wherever there is room.
    const auto more = allocateExtents(freeExtents(m, v->pool), capacity - v->capacity_bytes);
    if (totalOf(more) != capacity - v->capacity_bytes)
      return refused(noRoom(capacity, v->pool, totalOf(freeExtents(m, v->pool))));
    for (const Extent& e : more) {
      if (!next.extents.empty() &&
          next.extents.back().offset + next.extents.back().length == e.offset)
        next.extents.back().length += e.length;
      else
        next.extents.push_back(e);
    }
  }
  next.default_owner = body.value("DefaultOwner", v->default_owner);
  json record = volumeRecord(next);
  Change c;
  c.id = id;
  c.records.push_back(put(std::string(kVolumePrefix) + id, record));
  c.resource = record;
  std::string what;
  for (const auto& [key, value] : body.items()) what += (what.empty() ? "" : ", ") + key;
  c.event = makeEvent(message::kChanged, {}, volumeUri(id), "OK", SpId::A,
                      "(volume " + id + ": " + what + ")");
  return {std::move(c), std::nullopt};
}

Outcome deleteVolume(const Model& m, const std::string& id, bool force) {
  if (!m.volume(id))
    return refused(refuse(404, "ResourceNotFound", {"Volume", id}, "no such volume"));
  std::vector<const Mapping*> seen_by;
  for (const Mapping& map : m.mappings)
    if (map.volume == id) seen_by.push_back(&map);
  if (!seen_by.empty() && !force)
    return refused(refuse(409, "ResourceInUse", {},
                          "volume " + id + " is mapped to host " + seen_by[0]->group + " at LUN " +
                              std::to_string(seen_by[0]->lun) +
                              ": delete its connections first, or delete it with ?force=true"));
  Change c;
  c.id = id;
  for (const Mapping* map : seen_by)
    c.records.push_back(removal(std::string(kMappingPrefix) + map->id));
  c.records.push_back(removal(std::string(kVolumePrefix) + id));
  c.event = makeEvent(
      message::kRemoved, {}, volumeUri(id), "OK", SpId::A,
      "(volume " + id +
          (seen_by.empty() ? std::string()
                           : ", forced, with its " + std::to_string(seen_by.size()) + " mappings") +
          ")");
  return {std::move(c), std::nullopt};
}

Outcome moveVolume(const Model& m, const std::string& id, const std::string& to, bool forced,
                   const std::string& why) {
  const Volume* v = m.volume(id);
  if (!v) return refused(refuse(404, "ResourceNotFound", {"Volume", id}, "no such volume"));
  if (to != "A" && to != "B")
    return refused(
        refuse(400, "ActionParameterValueNotInList", {to, "TargetSP", "Move"}, "SPA or SPB"));
  if (v->current_owner == to)
    return refused(refuse(400, "ActionParameterValueConflict", {"TargetSP", "SP" + to},
                          "volume " + id + " already belongs to SP-" + to));
  Volume next = *v;
  next.current_owner = to;
  next.transitioning = false;
  json record = volumeRecord(next);
  Change c;
  c.id = id;
  c.records.push_back(put(std::string(kVolumePrefix) + id, record));
  c.resource = record;
  c.event = makeEvent(message::kChanged, {}, volumeUri(id), forced ? "Critical" : "OK", SpId::A,
                      std::string("(volume ") + id + (forced ? " trespassed" : " moved") +
                          " from SP-" + v->current_owner + " to SP-" + to + ": " + why + ")");
  return {std::move(c), std::nullopt};
}

Outcome beginMove(const Model& m, const std::string& id) {
  const Volume* v = m.volume(id);
  if (!v) return refused(refuse(404, "ResourceNotFound", {"Volume", id}, "no such volume"));
  Volume next = *v;
  next.transitioning = true;
  Change c;
  c.id = id;
  c.resource = volumeRecord(next);
  c.records.push_back(put(std::string(kVolumePrefix) + id, c.resource));
  return {std::move(c), std::nullopt};
}

Outcome trespassAll(const Model& m, const std::string& from, const std::string& to,
                    const std::string& why, std::vector<proto::Event>* events) {
  Change c;
  for (const Volume& v : m.volumes) {
    if (v.current_owner != from) continue;
    Volume next = v;
    next.current_owner = to;
    next.transitioning = false;
    c.records.push_back(put(std::string(kVolumePrefix) + v.id, volumeRecord(next)));
    if (events)
      events->push_back(makeEvent(
          message::kChanged, {}, volumeUri(v.id), "Critical", SpId::A,
          "(volume " + v.id + " trespassed from SP-" + from + " to SP-" + to + ": " + why + ")"));
  }
  if (c.records.empty())
    return refused(refuse(400, "NoOperation", {}, "SP-" + from + " owns no volume"));
  c.id = to;
  c.event = makeEvent(message::kChanged, {}, std::string(kStorageUri), "Critical", SpId::A,
                      "(" + std::to_string(c.records.size()) + " volumes trespassed from SP-" +
                          from + " to SP-" + to + ": " + why + ")");
  return {std::move(c), std::nullopt};
}

std::vector<std::string> volumesOwnedBy(const Model& m, const std::string& from) {
  std::vector<std::string> out;
  for (const Volume& v : m.volumes)
    if (v.current_owner == from) out.push_back(v.id);
  return out;
}

std::vector<std::string> volumesAwayFromHome(const Model& m) {
  std::vector<std::string> out;
  for (const Volume& v : m.volumes)
    if (v.current_owner != v.default_owner) out.push_back(v.id);
  return out;
}

std::string nextId(const std::vector<std::string>& ids) {
  uint64_t top = 0;
  for (const std::string& id : ids) top = std::max(top, numericId(id));
  return std::to_string(top + 1);
}

std::string newWwn() {
  unsigned char bytes[13];
  randombytes_buf(bytes, sizeof bytes);
  static const char* hex = "0123456789abcdef";
  std::string out = "6001405";
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  out.resize(32);  // 7 + 25 hex digits
  return out;
}

std::string ownerName(bool is_a) {
  return is_a ? "A" : "B";
}

}  // namespace dualsp::sp::storage
