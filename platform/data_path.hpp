#pragma once
// The array's data path as the storage model drives it (docs/STORAGE.md "Data path"): which
// volumes this SP exports, in which ALUA state on its ports, and which initiators see which
// volume at which LUN (LUN masking). spd computes the whole wanted state from the replicated
// model and applies it at start-up, after every change and on every takeover; a back end makes
// the target match it. sim/ records what it was told (the netns harness has no target);
// linux/lio_data_path drives the kernel's LIO target through configfs behind this same
// interface (docs/STORAGE.md "LIO back end").

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dualsp::platform {

// ALUA asymmetric access states (SPC-4) of one volume on one SP's target port group.
enum class AluaState : uint8_t { Optimized, NonOptimized, Transitioning, Unavailable };
const char* aluaStateName(AluaState state);  // "active/optimized", ...

// A run of a volume's blocks in its pool's address space, in the volume's block order
// (docs/STORAGE.md "Placement"); a back end maps it onto the pool's drives.
struct DataPathExtent {
  uint64_t offset = 0;  // bytes
  uint64_t length = 0;
  bool operator==(const DataPathExtent&) const = default;
};

struct DataPathVolume {
  std::string id;   // the volume's id in the model
  std::string wwn;  // NAA name hosts see (the LU's identifier)
  uint64_t capacity_bytes = 0;
  std::vector<std::string> drives;           // the shelf drives under it (its pool's)
  AluaState state = AluaState::Unavailable;  // on this SP's ports
  std::vector<DataPathExtent> extents;       // where its blocks are in its pool
};

struct DataPathLun {
  uint32_t lun = 0;
  std::string volume;  // DataPathVolume::id
  bool read_only = false;
  std::vector<std::string> ports;  // this SP's ports it is reachable through; empty = all
};

// One initiator's view: what it may see (everything else is masked).
struct DataPathAcl {
  std::string protocol;   // "iSCSI" or "FC"
  std::string initiator;  // IQN or WWPN
  std::vector<DataPathLun> luns;
};

// One of this SP's front-end ports, as the SP published it: where its target listens.
struct DataPathPort {
  std::string id;          // "iSCSI0": what DataPathLun::ports names
  std::string protocol;    // "iSCSI" or "FC"
  std::string identifier;  // iSCSI: the SP's target IQN; FC: the port's WWPN
  std::string address;     // iSCSI: the portal, "198.18.2.11:3260"
};

// The whole wanted state of this SP's target: applied as a whole (idempotent).
struct DataPathState {
  std::string sp;  // "A" or "B"
  std::vector<DataPathPort> ports;
  std::vector<DataPathVolume> volumes;
  std::vector<DataPathAcl> acls;
  bool operator==(const DataPathState&) const;
};

bool operator==(const DataPathVolume& a, const DataPathVolume& b);
bool operator==(const DataPathLun& a, const DataPathLun& b);
bool operator==(const DataPathAcl& a, const DataPathAcl& b);
bool operator==(const DataPathPort& a, const DataPathPort& b);

// Thread-safe. apply() never throws: what it could not apply it returns, one line each, and
// the caller turns them into a fault and an event.
class DataPath {
 public:
  virtual ~DataPath() = default;
  virtual std::vector<std::string> apply(const DataPathState& wanted) = 0;
  virtual std::string describe() const = 0;
};

}  // namespace dualsp::platform
