#pragma once
// The hardware of a real board, read from sysfs (and /proc/diskstats) on every call (cheap:
// small virtual files).

#include <memory>
#include <string>
#include <vector>

#include "platform/hardware.hpp"

namespace dualsp::platform {

// Sensors from <sysfs_root>/class/hwmon/hwmon*/:
//   temp*_input (millidegree Celsius; temp*_crit is the upper critical),
//   fan*_input (RPM), power*_input or power*_average (microwatt; power*_crit),
//   in*_input (millivolt; in*_crit);
// names from *_label, else "<hwmon name file> temp1"; ids "hwmon<N>_<attribute>"; critical
// also when *_fault, *_crit_alarm or *_lcrit_alarm reads 1.
// Inventory: the board, from <sysfs_root>/class/dmi/id/{board_vendor,board_name,
// board_serial,product_name}, when any of them is present.
// Faults: memory ECC from EDAC, <sysfs_root>/devices/system/edac/mc/mc*/{ue_count,ce_count}:
// one "memory-ecc" fault per controller that counted errors, critical when ue_count > 0
// (Platform.1.3.2.MemoryUncorrectableError), else a warning for ce_count > 0
// (ResourceEvent.1.4.3.ResourceErrorsDetected); component "mc<N>".
// Drives: the whole disks in <sysfs_root>/block named sd*, nvme<c>n<n> or vd* (not loop, ram,
// zram, md, dm, mmcblk, sr; not `removable`), in the kernel's order (sda..sdz, sdaa..; nvme2n1
// before nvme10n1), slot = that position, id = the kernel name; capacity `size` x 512; HDD when
// queue/rotational is 1, else SSD; protocol "NVMe" for nvme, else "" (SAS or SATA is not told);
// device/vendor (not for virtio, a number), device/model, device/serial (else serial);
// failed when device/state is there and is not the healthy state ("running"; NVMe: "live").
// Performance: the I/O rates of those drives from <proc_root>/diskstats, summed, over the
// interval since the reading before (the first: since boot, from <proc_root>/uptime); no CPU or
// memory figures (spd reads /proc for them). docs/METRICS.md.
// Missing files are skipped, never an error; a present file that cannot be read or parsed
// is skipped and named in lastError().
std::unique_ptr<Hardware> makeLinuxHardware(std::string sysfs_root = "/sys",
                                            std::string proc_root = "/proc");

// An iSCSI portal of this SP on a front-end (host-facing) NIC. The NIC is configured by the
// board's start-up (/init brings it up with the address); spd only reports it.
struct FrontEndIscsiPortal {
  std::string interface;  // "eth2"
  std::string address;    // IPv4, no prefix: "198.18.2.11"
  int prefix_length = 24;
};

struct LinuxHardwareOptions {
  std::string sysfs_root = "/sys";
  std::string proc_root = "/proc";
  // Whole disks that are not shelf drives (the board's own boot or config disk: "vda").
  std::vector<std::string> exclude_drives;
  // Ports: one per portal, "iSCSI0", "iSCSI1"... in this order, protocol "iSCSI", identifier
  // `iscsi_target` (iscsiTargetName), address "<address>:3260"; link up when
  // <sysfs_root>/class/net/<interface>/operstate reads "up" (an absent NIC: down), speed from
  // its `speed` (Mb/s; unknown, as virtio reports it, -1: 0).
  std::vector<FrontEndIscsiPortal> iscsi_portals;
  std::string iscsi_target;
};
std::unique_ptr<Hardware> makeLinuxHardware(LinuxHardwareOptions options);

// The iSCSI target name (IQN) of SP `sp` ('A' or 'B') of array `array_id`:
// "iqn.2026-12.com.dualsp:<array id, lower case>.sp-<a|b>".
std::string iscsiTargetName(const std::string& array_id, char sp);

constexpr int kIscsiPort = 3260;

}  // namespace dualsp::platform
