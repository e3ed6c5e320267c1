#pragma once
// The array's storage as the replicated store holds it (docs/STORAGE.md): pools of the
// shelf's drives and the volumes carved from them, each with a default (preferred) and a
// current owner SP. Pure: records and the platform's drives in, a model and checked changes
// out; sp/storage_service.* runs it on the active SP and writes what it decides.
//
// Records (JSON values):
//   storage/pools/<id>    {"Name", "RAIDType", "Drives": [drive ids], "DefaultOwner": "A"|"B"}
//   storage/volumes/<id>  {"Name", "CapacityBytes", "Pool", "WWN", "DefaultOwner",
//                          "CurrentOwner", "Transitioning", "Extents": [[offset, length],
//                          ...] (where its blocks are in its pool's space; docs/STORAGE.md
//                          "Placement")}
//   storage/ports/<A|B>   {"Ports": [{"Id", "Protocol", "Identifier", "Address", "LinkUp",
//                          "SpeedMbps"}]}: each SP publishes its own front-end ports
//   storage/initiators/<id> {"Name", "Protocol", "Identifier"}
//   storage/hosts/<id>    {"Name", "Kind": "Host"|"HostGroup", "Protocol",
//                          "Initiators": [ids] (Host), "Hosts": [ids] (HostGroup)}
//   storage/mappings/<id> {"Group", "Volume", "LUN", "ReadOnly", "Ports": [endpoint ids]}
//   storage/policy        {"AutoFailback": bool, "AutoFailbackDelaySeconds": n}

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/data_path.hpp"
#include "platform/hardware.hpp"
#include "proto/config.pb.h"

namespace dualsp::sp::storage {

inline constexpr std::string_view kPoolPrefix = "storage/pools/";
inline constexpr std::string_view kVolumePrefix = "storage/volumes/";
inline constexpr std::string_view kPortsPrefix = "storage/ports/";
inline constexpr std::string_view kInitiatorPrefix = "storage/initiators/";
inline constexpr std::string_view kHostPrefix = "storage/hosts/";
inline constexpr std::string_view kMappingPrefix = "storage/mappings/";
inline constexpr std::string_view kPolicyKey = "storage/policy";
inline constexpr std::string_view kPrefix = "storage/";
// The array's Storage resource (Swordfish): where pools, volumes and drives are served.
inline constexpr std::string_view kStorageUri = "/redfish/v1/Storage/Array";

// Volumes are whole blocks of this size; the smallest is kMinVolumeBytes.
inline constexpr uint64_t kBlockBytes = 512;
inline constexpr uint64_t kMinVolumeBytes = 1u << 20;
inline constexpr size_t kMaxNameLength = 64;
inline constexpr size_t kMaxPools = 64;
inline constexpr size_t kMaxVolumes = 1024;
inline constexpr size_t kMaxInitiators = 2048;
inline constexpr size_t kMaxHosts = 512;  // hosts and host groups together
inline constexpr size_t kMaxMappings = 4096;
inline constexpr uint32_t kMaxLun = 16383;  // SAM flat addressing
inline constexpr uint32_t kMaxAutoFailbackDelaySeconds = 3600;

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

// A run of a volume's blocks in its pool's address space (bytes; multiples of kBlockBytes).
struct Extent {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const Extent&) const = default;
};

struct Volume {
  std::string id;
  std::string name;
  uint64_t capacity_bytes = 0;
  std::string pool;
  std::string wwn;  // NAA 6, 32 hex digits: the durable name hosts see
  std::string default_owner;
  std::string current_owner;
  bool transitioning = false;   // a planned move is under way (ALUA Transitioning)
  std::vector<Extent> extents;  // in its pool's space, in the volume's block order
};

// A front-end port of one SP, as that SP published it.
struct Port {
  std::string sp;  // "A" or "B"
  platform::FrontEndPortInfo info;
  // The port's Endpoint id, unique in the array: "SPA-iSCSI0".
  std::string endpointId() const { return "SP" + sp + "-" + info.id; }
};

struct Initiator {
  std::string id;
  std::string name;
  std::string protocol;    // "iSCSI" or "FC"
  std::string identifier;  // IQN/EUI/NAA name, or a WWPN as 16 lower-case hex digits
  std::string host;        // the host that has it, or ""
};

// A host (its initiators) or a host group (its hosts): Swordfish client endpoint groups.
struct Host {
  std::string id;
  std::string name;
  bool group = false;  // a host group
  std::string protocol;
  std::vector<std::string> initiators;  // a host's
  std::vector<std::string> hosts;       // a host group's
  std::string member_of;                // a host's host group, or ""
};

// A volume a host or host group sees at a LUN (a Swordfish Connection).
struct Mapping {
  std::string id;
  std::string group;  // a Host id (host or host group)
  std::string volume;
  uint32_t lun = 0;
  bool read_only = false;
  std::vector<std::string> ports;  // endpoint ids ("SPA-iSCSI0"); empty = every port
};

struct Policy {
  bool auto_failback = false;
  uint32_t auto_failback_delay_seconds = 60;  // the returned SP must be up this long first
};

struct Drive {
  platform::DriveInfo info;
  std::string pool;  // the pool using it, or ""
};

struct Model {
  std::vector<Drive> drives;  // by slot
  std::vector<Pool> pools;    // by id (numeric order)
  std::vector<Volume> volumes;
  std::vector<Port> ports;  // SP-A's then SP-B's, by id
  std::vector<Initiator> initiators;
  std::vector<Host> hosts;
  std::vector<Mapping> mappings;
  Policy policy;

  const Pool* pool(std::string_view id) const;
  const Volume* volume(std::string_view id) const;
  const Drive* drive(std::string_view id) const;
  const Port* port(std::string_view endpoint_id) const;
  const Initiator* initiator(std::string_view id) const;
  const Host* host(std::string_view id) const;
  const Mapping* mapping(std::string_view id) const;
  // The hosts (Kind Host) a host or host group reaches: itself, or its members.
  std::vector<std::string> hostsOf(std::string_view group) const;
  // The mappings a host sees: its own and its host group's.
  std::vector<const Mapping*> mappingsSeenBy(std::string_view host) const;
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

// The free runs of `pool`'s address space [0, capacity): what no volume's extents hold.
std::vector<Extent> freeExtents(const Model& m, const std::string& pool);
// `bytes` taken from `free`, lowest offsets first; fewer bytes when `free` has fewer.
std::vector<Extent> allocateExtents(const std::vector<Extent>& free, uint64_t bytes);

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
// `force`: a volume a host still sees is deleted with its mappings (else 409 ResourceInUse).
Outcome deleteVolume(const Model& m, const std::string& id, bool force = false);

// Hosts, initiators, mappings (docs/STORAGE.md "Hosts and mappings"). Bodies in the store's
// terms: initiator {"Name", "Protocol", "Identifier"}; host {"Name", "Kind", "Initiators"} or
// {"Name", "Kind": "HostGroup", "Hosts"}; mapping {"Group", "Volume", "LUN", "ReadOnly",
// "Ports"}; policy {"AutoFailback", "AutoFailbackDelaySeconds"}.
Outcome createInitiator(const Model& m, const nlohmann::json& body, const std::string& new_id);
Outcome deleteInitiator(const Model& m, const std::string& id);
Outcome createHost(const Model& m, const nlohmann::json& body, const std::string& new_id);
Outcome patchHost(const Model& m, const std::string& id, const nlohmann::json& body);
Outcome deleteHost(const Model& m, const std::string& id);
Outcome createMapping(const Model& m, const nlohmann::json& body, const std::string& new_id);
Outcome patchMapping(const Model& m, const std::string& id, const nlohmann::json& body);
Outcome deleteMapping(const Model& m, const std::string& id);
Outcome setPolicy(const Model& m, const nlohmann::json& body);

// This SP's ports as its record (storage/ports/<sp>); nullopt when the store already holds
// exactly these.
std::optional<proto::ConfigRecord> portsRecord(
    const Model& m, const std::string& sp, const std::vector<platform::FrontEndPortInfo>& ports);

// The ALUA state of volume `v` on SP `sp`'s ports, `dead` naming an SP the election has
// declared dead ("" none): the owner's ports Optimized, the peer's NonOptimized; a planned
// move Transitioning on both; a dead SP's ports Unavailable, and the survivor Transitioning
// for the dead SP's volumes until they are trespassed to it.
platform::AluaState accessState(const Volume& v, const std::string& sp, const std::string& dead);

// What SP `sp`'s target must export (platform/data_path.hpp): every volume in its access
// state, and per initiator the LUNs its host sees through this SP's ports. `in_step` false:
// `m` comes from a store that may be behind the array's (a restarted SP before its resync),
// so it may name this SP the owner of volumes the peer has taken over since: every volume is
// then Transitioning here, never Optimized (hosts retry on the peer's paths).
platform::DataPathState dataPathState(const Model& m, const std::string& sp,
                                      const std::string& dead, bool in_step = true);

// One volume's current owner set to `to` ("A"/"B"). `forced`: a trespass because the owner
// failed (a Critical event), else a planned move (an OK event); `why` ends the event's text.
// Refused (nothing to write) when the volume does not exist or already belongs to `to`
// (409 PropertyValueConflict for a move an administrator asked for).
Outcome moveVolume(const Model& m, const std::string& id, const std::string& to, bool forced,
                   const std::string& why);
// The first step of a planned move: the volume marked Transitioning (its owner unchanged).
Outcome beginMove(const Model& m, const std::string& id);
// Every volume owned by `from` moved to `to` in one change (a takeover: one write, so a new
// active SP owns a thousand volumes in one journal write); its event names the count, and
// `events` gets one Critical event per volume.
Outcome trespassAll(const Model& m, const std::string& from, const std::string& to,
                    const std::string& why, std::vector<proto::Event>* events);
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
