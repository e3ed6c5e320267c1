#pragma once
// The array's storage as the replicated store holds it (docs/STORAGE.md): pools of the
// shelf's drives and the volumes carved from them, each with a default (preferred) and a
// current owner SP. Pure: records and the platform's drives in, a model and checked changes
// out; sp/storage_service.* runs it on the active SP and writes what it decides.
//
// Records (JSON values):
//   storage/pools/<id>    {"Name", "RAIDType", "Drives": [drive ids], "DefaultOwner": "A"|"B"}
//   storage/volumes/<id>  {"Name", "CapacityBytes", "Pool", "WWN", "DefaultOwner",
//                          "CurrentOwner"}

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/hardware.hpp"
#include "proto/config.pb.h"

namespace dualsp::sp::storage {

inline constexpr std::string_view kPoolPrefix = "storage/pools/";
inline constexpr std::string_view kVolumePrefix = "storage/volumes/";
inline constexpr std::string_view kPrefix = "storage/";
// The array's Storage resource (Swordfish): where pools, volumes and drives are served.
inline constexpr std::string_view kStorageUri = "/redfish/v1/Storage/Array";

// Volumes are whole blocks of this size; the smallest is kMinVolumeBytes.
inline constexpr uint64_t kBlockBytes = 512;
inline constexpr uint64_t kMinVolumeBytes = 1u << 20;
inline constexpr size_t kMaxNameLength = 64;
inline constexpr size_t kMaxPools = 64;
inline constexpr size_t kMaxVolumes = 1024;

struct Pool {
  std::string id;
  std::string name;
  std::string raid_type;  // "RAID0", "RAID1", "RAID5", "RAID6", "RAID10"
  std::vector<std::string> drives;
  std::string default_owner;     // "A" or "B"
  uint64_t capacity_bytes = 0;   // usable, from its drives and RAID type
  uint64_t allocated_bytes = 0;  // the sum of its volumes
  bool degraded = false;         // a member drive failed or is missing
};

struct Volume {
  std::string id;
  std::string name;
  uint64_t capacity_bytes = 0;
  std::string pool;
  std::string wwn;  // NAA 6, 32 hex digits: the durable name hosts see
  std::string default_owner;
  std::string current_owner;
};

struct Drive {
  platform::DriveInfo info;
  std::string pool;  // the pool using it, or ""
};

struct Model {
  std::vector<Drive> drives;  // by slot
  std::vector<Pool> pools;    // by id (numeric order)
  std::vector<Volume> volumes;

  const Pool* pool(std::string_view id) const;
  const Volume* volume(std::string_view id) const;
  const Drive* drive(std::string_view id) const;
};

// The model from the store's storage/ records and the shelf. A record that does not parse is
// skipped and named in `problems` (never thrown): the rest of the array stays manageable.
Model buildModel(const std::vector<proto::ConfigRecord>& records,
                 const std::vector<platform::DriveInfo>& drives,
                 std::vector<std::string>* problems = nullptr);

// Usable bytes of `raid_type` over drives of these capacities (the smallest sets every
// member's share); nullopt with `error` when the level does not take that many drives.
std::optional<uint64_t> usableCapacity(std::string_view raid_type,
                                       const std::vector<uint64_t>& capacities, std::string& error);

// A refusal in the words of the Redfish Base registry: the route answers it as is.
struct Refusal {
  int status = 400;
  std::string message;            // Base message key: "PropertyValueOutOfRange"
  std::vector<std::string> args;  // its arguments
  std::string detail;             // for people and the log: why
};

// A change the model accepted: the records to write and the event that records it.
struct Change {
  std::vector<proto::ConfigRecord> records;
  proto::Event event;
  std::string id;           // the pool or volume it made or changed
  nlohmann::json resource;  // its record value after the change (null when deleted)
};

// Each checks `body` (the client's JSON) against the model; a Change, or the Refusal with
// nothing changed. `new_id` is the id a creation takes; `wwn` a new volume's durable name.
struct Outcome {
  std::optional<Change> change;
  std::optional<Refusal> refusal;
};
Outcome createPool(const Model& m, const nlohmann::json& body, const std::string& new_id);
Outcome deletePool(const Model& m, const std::string& id);
Outcome createVolume(const Model& m, const nlohmann::json& body, const std::string& new_id,
                     const std::string& wwn);
Outcome patchVolume(const Model& m, const std::string& id, const nlohmann::json& body);
Outcome deleteVolume(const Model& m, const std::string& id);

// One volume's current owner set to `to` ("A"/"B"). `forced`: a trespass because the owner
// failed (a Critical event), else a planned move (an OK event); `why` ends the event's text.
// Refused (nothing to write) when the volume does not exist or already belongs to `to`
// (409 PropertyValueConflict for a move an administrator asked for).
Outcome moveVolume(const Model& m, const std::string& id, const std::string& to, bool forced,
                   const std::string& why);
// The volumes that a move of every volume owned by `from` to the other SP would change.
std::vector<std::string> volumesOwnedBy(const Model& m, const std::string& from);
// The volumes whose current owner is not their default one.
std::vector<std::string> volumesAwayFromHome(const Model& m);

// The next free id of a collection: 1 + the largest numeric id among `ids`.
std::string nextId(const std::vector<std::string>& ids);

// A random NAA 6 name, "6001405" + 25 random hex digits (LIO's OUI 001405, as its volumes).
std::string newWwn();

// "A"/"B" for SpId::A/B.
std::string ownerName(bool is_a);

}  // namespace dualsp::sp::storage
