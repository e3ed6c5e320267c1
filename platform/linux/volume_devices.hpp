#pragma once
// A volume's block device on a Linux board: a device-mapper "linear" device over the pool's
// shelf drives (docs/STORAGE.md "Volume devices"). The pool's address space is its drives
// laid one after another in the pool's order; each of the volume's extents becomes one or
// more table lines (split at drive boundaries), in the volume's block order. Both SPs compute
// the same table from the same model, so both devices show the same blocks of the shared
// drives. RAID is not carried out here: the pool's usable space is mapped onto its drives
// without redundancy (its first drives hold it).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "platform/data_path.hpp"

namespace dualsp::platform {

struct ShelfDrive {
  std::string name;      // "vdb": /sys/block/<name>
  std::string device;    // "254:16" (major:minor)
  uint64_t sectors = 0;  // 512-byte sectors
};

struct LinearLine {
  uint64_t start = 0;   // in the volume, sectors
  uint64_t length = 0;  // sectors
  std::string device;   // major:minor of the drive
  uint64_t offset = 0;  // on the drive, sectors
  bool operator==(const LinearLine&) const = default;
};

// The linear table of `volume` over `drives` (the pool's, in its order), or nullopt with
// the reason (a drive missing, an extent beyond the drives, a length not whole sectors).
std::optional<std::vector<LinearLine>> linearTable(const DataPathVolume& volume,
                                                   const std::vector<ShelfDrive>& drives,
                                                   std::string& why);

// Reads /sys/block/<name>/dev and size under `sys_block` (default /sys/block).
std::optional<ShelfDrive> readShelfDrive(const std::string& name, std::string& why,
                                         const std::string& sys_block = "/sys/block");

// The device-mapper device `name` with `table` (created, or its table replaced), through
// /dev/mapper/control: "/dev/dm-<minor>", or nullopt with the reason.
std::optional<std::string> makeLinearDevice(const std::string& name,
                                            const std::vector<LinearLine>& table, std::string& why);
// Removes the device-mapper device `name` (nothing when there is none); false with the
// reason when it is still in use.
bool removeLinearDevice(const std::string& name, std::string& why);

}  // namespace dualsp::platform
