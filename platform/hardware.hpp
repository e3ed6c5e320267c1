#pragma once
// The SP's health sensors and its field-replaceable parts, as the health monitor and the
// Redfish Chassis resources see them. linux/ reads a real board (hwmon, DMI); sim/ reads a
// JSON hardware description the two-SP harness writes, so tests change a reading by editing
// a file instead of calling a backdoor.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dualsp::platform {

struct SensorReading {
  std::string id;    // stable within one SP: "CPU0Temp", "hwmon2_temp1"
  std::string name;  // for people: "CPU 0 temperature"
  std::string kind;  // Temperature, Rotational, Power, Voltage (Redfish ReadingType)
  double reading = 0;
  std::string units;          // Cel, RPM, W, V (Redfish ReadingUnits, UCUM)
  double upper_critical = 0;  // 0 = none
  bool critical = false;      // reading >= upper_critical, or the sensor reports failure
};

struct InventoryItem {
  std::string id;
  std::string kind;  // Board, Processor, Memory, Fan, PowerSupply, BootMedia
  std::string name;
  std::string manufacturer;
  std::string model;
  std::string serial_number;
  std::string part_number;
};

// A fault the hardware reports that is not a sensor reading: a memory ECC error, a boot
// medium that does not answer. The health monitor turns each into one of the SP's faults.
struct HardwareFault {
  std::string id;          // what failed, stable across reads: "memory-ecc", "boot-media"
  std::string component;   // the part: "DIMM0", "mc0", "BootMedia0"
  std::string message_id;  // Redfish registry id: "Platform.1.3.2.MemoryUncorrectableError"
  std::string text;        // for people, complete: "Memory device 'DIMM0' detected ..."
  bool critical = true;    // Critical (the SP is unhealthy) or Warning
};

// A drive of the array's shelf. The shelf is cabled to both SPs, so both report the same
// drives (docs/STORAGE.md); which pool uses a drive is the array's configuration, not here.
struct DriveInfo {
  std::string id;  // stable across reads and SPs: "Disk0" (the slot's), or the device's
  int slot = 0;    // shelf slot, 0-based
  uint64_t capacity_bytes = 0;
  std::string media_type;  // Redfish Drive.MediaType: "HDD" or "SSD"
  std::string protocol;    // Redfish Protocol: "SAS", "SATA", "NVMe", "" unknown
  std::string manufacturer;
  std::string model;
  std::string serial_number;
  bool failed = false;  // the drive reports a failure
};

// A front-end (host-facing) port of this SP: where hosts reach the array's volumes. Each SP
// reports its own; spd publishes them in the replicated store so either SP can describe both
// (docs/STORAGE.md "Ports").
struct FrontEndPortInfo {
  std::string id;          // stable across reads, unique within the SP: "iSCSI0", "FC0"
  std::string protocol;    // Redfish Protocol: "iSCSI" or "FC"
  std::string identifier;  // iSCSI: the SP's target IQN; FC: the port's WWPN (16 hex digits)
  std::string address;     // iSCSI: the portal, "198.18.0.20:3260"; FC: ""
  bool link_up = false;
  uint32_t speed_mbps = 0;  // 0 when the link is down or the speed is unknown
};

// The I/O of the array's shelf drives as one SP sees it, summed over the drives: completed
// operations and bytes per second (docs/METRICS.md).
struct IoRates {
  double read_iops = 0;
  double write_iops = 0;
  double read_bytes_per_second = 0;
  double write_bytes_per_second = 0;
};

// What the hardware says of the SP's load (Hardware::performance()). CPU and memory normally
// come from /proc (platform/system_metrics); the sim back end may stand in for them, so tests
// can set figures as they set sensors.
struct PerformanceReading {
  std::optional<IoRates> io;  // nullopt: not known (no source, or it could not be read)
  // What the I/O rates cover, in ms: the interval between two readings of the counters
  // (linux); 0 when the source gives rates as they are now (sim).
  uint64_t io_interval_ms = 0;
  // The first reading of the counters: the average since boot.
  bool io_since_boot = false;
  // Set: in place of what /proc/stat and /proc/meminfo say.
  std::optional<double> cpu_percent;
  std::optional<double> memory_percent;
};

// Thread-safe. Reading the source never throws: a source that cannot be read leaves the
// last good content (sim) or skips what is missing (linux), and says so in lastError().
class Hardware {
 public:
  virtual ~Hardware() = default;
  virtual std::vector<SensorReading> sensors() = 0;
  virtual std::vector<InventoryItem> inventory() = 0;
  // Faults the parts report beside the sensors; empty on a healthy board.
  virtual std::vector<HardwareFault> faults() = 0;
  // The shelf's drives, by slot; empty when the board has none (or none are found).
  virtual std::vector<DriveInfo> drives() { return {}; }
  // This SP's front-end ports, by id; empty when it has none (or none are configured).
  virtual std::vector<FrontEndPortInfo> ports() { return {}; }
  // The shelf's I/O rates (and the sim's CPU and memory figures); nothing known by default.
  virtual PerformanceReading performance() { return {}; }
  virtual std::string describe() const = 0;  // "sim hardware /run/dualsp-pair/hw-a.json"
  // The problem met by the last sensors()/inventory()/faults()/drives()/ports()/performance()
  // call reading the source; empty when it was read fine.
  virtual std::string lastError() const = 0;
};

}  // namespace dualsp::platform
