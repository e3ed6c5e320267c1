#include "platform/linux/linux_hardware.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "platform/redfish/generated/registries/platform.hpp"
#include "platform/redfish/generated/registries/resource_event.hpp"
#include "platform/system_metrics.hpp"
#include "platform/unique_fd.hpp"

namespace dualsp::platform {
namespace {

namespace fs = std::filesystem;

// lastError() names at most this many problems of one call, then counts the rest.
constexpr size_t kMaxProblemsNamed = 4;
// A sysfs attribute is one short line; more than this is not an attribute.
constexpr size_t kMaxAttributeBytes = 4096;

// One hwmon channel type (Documentation/hwmon/sysfs-interface.rst): its file prefix, its
// Redfish ReadingType and ReadingUnits, and the factor from the sysfs unit to that unit.
struct ChannelType {
  std::string_view prefix;
  const char* kind;
  const char* units;
  double scale;
};
constexpr ChannelType kChannelTypes[] = {
    {"temp", "Temperature", "Cel", 1e-3},  // millidegree Celsius
    {"fan", "Rotational", "RPM", 1},       // RPM
    {"power", "Power", "W", 1e-6},         // microwatt
    {"in", "Voltage", "V", 1e-3},          // millivolt
};

// Problems met while reading, for lastError().
class Problems {
 public:
  void add(std::string what) {
    if (all_.size() < kMaxProblemsNamed) named_.push_back(what);
    all_.push_back(std::move(what));
  }
  std::string text() const {
    std::string out;
    for (const auto& p : named_) out += (out.empty() ? "" : "; ") + p;
    if (all_.size() > named_.size()) {
      out += "; and " + std::to_string(all_.size() - named_.size()) + " more";
    }
    return out;
  }

 private:
  std::vector<std::string> named_;
  std::vector<std::string> all_;
};

// The trimmed content of a sysfs attribute; nullopt when it is absent (skipped silently) or
// cannot be read (noted in `problems`). `denied_is_absent`: root-only attributes such as
// board_serial are simply not there for an unprivileged reader.
std::optional<std::string> readAttribute(const std::string& path, Problems& problems,
                                         bool denied_is_absent = false) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    if (denied_is_absent && (errno == EACCES || errno == EPERM)) return std::nullopt;
    problems.add(path + ": " + std::strerror(errno));
    return std::nullopt;
  }
  std::string text(kMaxAttributeBytes, '\0');
  ssize_t n;
  do {
    n = ::read(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {  // a driver says the value is unavailable: EIO, ENODATA, ENXIO, ...
    problems.add(path + ": " + std::strerror(errno));
    return std::nullopt;
  }
  text.resize(static_cast<size_t>(n));
  const auto first = text.find_first_not_of(" \t\n");
  if (first == std::string::npos) return std::string();
  return text.substr(first, text.find_last_not_of(" \t\n") - first + 1);
}

std::optional<long long> readInteger(const std::string& path, Problems& problems) {
  auto text = readAttribute(path, problems);
  if (!text) return std::nullopt;
  const std::string_view digits = *text;
  long long value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    problems.add(path + ": not an integer: '" + *text + "'");
    return std::nullopt;
  }
  return value;
}

// Whether an alarm or fault attribute reads 1; absent = no.
bool flagRaised(const std::string& path, Problems& problems) {
  auto v = readInteger(path, problems);
  return v && *v != 0;
}

// The number after `prefix` in `name` when name is prefix<digits><suffix>.
std::optional<unsigned> indexedName(std::string_view name, std::string_view prefix,
                                    std::string_view suffix) {
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  unsigned n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return n;
}

// Entries of `dir` (names only); empty when it is absent.
std::vector<std::string> listDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  return names;
}

// One channel of one hwmon device: temp1, fan2, power1, in0.
struct Channel {
  size_t type;  // index in kChannelTypes
  unsigned index;
  std::string value_file;  // "temp1_input"; power may only have "power1_average"

  auto key() const { return std::tie(type, index); }
};

std::vector<Channel> channelsOf(const std::vector<std::string>& files) {
  std::vector<Channel> channels;
  for (const auto& file : files) {
    for (size_t t = 0; t < std::size(kChannelTypes); ++t) {
      const auto prefix = kChannelTypes[t].prefix;
      if (auto n = indexedName(file, prefix, "_input")) {
        channels.push_back({t, *n, file});
      } else if (prefix == "power") {
        if (auto m = indexedName(file, prefix, "_average")) channels.push_back({t, *m, file});
      }
    }
  }
  // Channel order; for power, *_input before *_average, so unique() below keeps *_input.
  std::sort(channels.begin(), channels.end(), [](const Channel& a, const Channel& b) {
    return std::make_tuple(a.type, a.index, !a.value_file.ends_with("_input")) <
           std::make_tuple(b.type, b.index, !b.value_file.ends_with("_input"));
  });
  channels.erase(std::unique(channels.begin(), channels.end(),
                             [](const Channel& a, const Channel& b) { return a.key() == b.key(); }),
                 channels.end());
  return channels;
}

void readHwmon(const std::string& dir, unsigned hwmon, std::vector<SensorReading>& out,
               Problems& problems) {
  const std::string chip = readAttribute(dir + "/name", problems).value_or("");
  for (const Channel& c : channelsOf(listDir(dir))) {
    const ChannelType& type = kChannelTypes[c.type];
    const std::string channel = std::string(type.prefix) + std::to_string(c.index);
    const std::string base = dir + "/" + channel;
    auto raw = readInteger(dir + "/" + c.value_file, problems);
    if (!raw) continue;  // a sensor the driver cannot read now is not reported
    SensorReading r;
    r.id = "hwmon" + std::to_string(hwmon) + "_" + channel;
    r.name = readAttribute(base + "_label", problems)
                 .value_or((chip.empty() ? "hwmon" + std::to_string(hwmon) : chip) + " " + channel);
    r.kind = type.kind;
    r.units = type.units;
    r.reading = static_cast<double>(*raw) * type.scale;
    if (auto crit = readInteger(base + "_crit", problems)) {
      r.upper_critical = static_cast<double>(*crit) * type.scale;
    }
    r.critical = (r.upper_critical != 0 && r.reading >= r.upper_critical) ||
                 flagRaised(base + "_fault", problems) ||
                 flagRaised(base + "_crit_alarm", problems) ||
                 flagRaised(base + "_lcrit_alarm", problems);
    out.push_back(std::move(r));
  }
}

// "1 uncorrectable error", "3 uncorrectable errors".
std::string countOf(long long n, const std::string& what) {
  return std::to_string(n) + " " + what + (n == 1 ? " error" : " errors");
}

// One fault per memory controller that counted errors (EDAC, Documentation/admin-guide/
// ras.rst): uncorrectable ones make it critical, correctable ones alone a warning.
void readEdac(const std::string& dir, std::vector<HardwareFault>& out, Problems& problems) {
  std::vector<std::pair<unsigned, std::string>> controllers;  // mc2 before mc10
  for (const auto& name : listDir(dir)) {
    if (auto n = indexedName(name, "mc", "")) controllers.emplace_back(*n, name);
  }
  std::sort(controllers.begin(), controllers.end());
  for (const auto& [n, name] : controllers) {
    const long long ue = readInteger(dir + "/" + name + "/ue_count", problems).value_or(0);
    const long long ce = readInteger(dir + "/" + name + "/ce_count", problems).value_or(0);
    if (ue <= 0 && ce <= 0) continue;
    HardwareFault fault;
    fault.id = "memory-ecc";
    fault.component = name;
    if (ue > 0) {
      fault.message_id = redfish::registries::platform::kMemoryUncorrectableError;
      fault.text = "Memory controller " + name + " reported " + countOf(ue, "uncorrectable");
      if (ce > 0) fault.text += " and " + countOf(ce, "correctable");
      fault.critical = true;
    } else {
      // The Platform registry has no correctable-error message; this is its generic kin.
      fault.message_id = redfish::registries::resource_event::kResourceErrorsDetected;
      fault.text = "Memory controller " + name + " reported " + countOf(ce, "correctable");
      fault.critical = false;
    }
    out.push_back(std::move(fault));
  }
}

// What sysfs calls a healthy device in `device/state`: a SCSI device "running" (else offline,
// blocked, transport-offline, ...), an NVMe controller "live" (else resetting, dead, ...).
constexpr std::string_view kScsiRunning = "running";
constexpr std::string_view kNvmeLive = "live";

// A whole disk of a real bus, as /sys/block names it, and its place in the kernel's own order:
// sda..sdz, sdaa..; nvme0n1, nvme0n2, nvme1n1, nvme10n1; vda..vdz, vdaa...
struct BlockDisk {
  enum class Bus { Nvme, Scsi, Virtio } bus;
  std::string name;
  unsigned controller = 0, ns = 0;  // nvme<controller>n<ns>

  auto key() const { return std::make_tuple(bus, controller, ns, name.size(), name); }
};

bool allLowerLetters(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// Everything else in /sys/block is not a shelf drive: loop, ram, zram, md, dm-, mmcblk (the
// board's boot media), sr (optical), nvme<s>c<c>n<n> (a multipath path, hidden by the kernel).
std::optional<BlockDisk> blockDisk(const std::string& name) {
  const std::string_view n = name;
  if (n.starts_with("sd") && allLowerLetters(n.substr(2))) {
    return BlockDisk{BlockDisk::Bus::Scsi, name};
  }
  if (n.starts_with("vd") && allLowerLetters(n.substr(2))) {
    return BlockDisk{BlockDisk::Bus::Virtio, name};
  }
  if (const auto sep = n.find('n', 4); n.starts_with("nvme") && sep != std::string_view::npos) {
    auto controller = indexedName(n.substr(0, sep), "nvme", "");
    auto ns = indexedName(n.substr(sep), "n", "");
    if (controller && ns) return BlockDisk{BlockDisk::Bus::Nvme, name, *controller, *ns};
  }
  return std::nullopt;
}

// One drive from /sys/block/<name>; nullopt for a removable device (a USB stick, a card
// reader), which is not part of the shelf.
std::optional<DriveInfo> readDrive(const std::string& dir, const BlockDisk& disk,
                                   Problems& problems) {
  if (flagRaised(dir + "/removable", problems)) return std::nullopt;
  DriveInfo drive;
  drive.id = disk.name;
  // `size` counts 512-byte sectors (SECTOR_SIZE) whatever the disk's logical block size.
  if (auto sectors = readInteger(dir + "/size", problems); sectors && *sectors >= 0) {
    drive.capacity_bytes = static_cast<uint64_t>(*sectors) * 512;
  }
  drive.media_type = flagRaised(dir + "/queue/rotational", problems) ? "HDD" : "SSD";
  // sysfs does not say whether an sd disk is SAS or SATA, nor what a virtio disk stands for.
  drive.protocol = disk.bus == BlockDisk::Bus::Nvme ? "NVMe" : "";
  // A virtio device's `vendor` is a number (0x1af4), not a maker's name.
  if (disk.bus != BlockDisk::Bus::Virtio) {
    drive.manufacturer = readAttribute(dir + "/device/vendor", problems).value_or("");
  }
  drive.model = readAttribute(dir + "/device/model", problems).value_or("");
  // SCSI and NVMe put it on the device, virtio-blk on the disk.
  auto serial = readAttribute(dir + "/device/serial", problems, true);
  if (!serial) serial = readAttribute(dir + "/serial", problems, true);
  drive.serial_number = serial.value_or("");
  if (auto state = readAttribute(dir + "/device/state", problems)) {
    drive.failed = *state != (disk.bus == BlockDisk::Bus::Nvme ? kNvmeLive : kScsiRunning);
  }
  return drive;
}

class LinuxHardware final : public Hardware {
 public:
  explicit LinuxHardware(LinuxHardwareOptions options)
      : root_(options.sysfs_root), options_(std::move(options)), disk_io_(options_.proc_root) {}

  std::vector<SensorReading> sensors() override {
    const std::string hwmon_dir = root_ + "/class/hwmon";
    std::vector<std::pair<unsigned, std::string>> devices;  // hwmon2 before hwmon10
    for (const auto& name : listDir(hwmon_dir)) {
      if (auto n = indexedName(name, "hwmon", "")) devices.emplace_back(*n, name);
    }
    std::sort(devices.begin(), devices.end());
    std::vector<SensorReading> out;
    Problems problems;
    for (const auto& [n, name] : devices) readHwmon(hwmon_dir + "/" + name, n, out, problems);
    std::lock_guard lock(mutex_);
    sensors_error_ = problems.text();
    return out;
  }

  std::vector<InventoryItem> inventory() override {
    const std::string dmi = root_ + "/class/dmi/id/";
    Problems problems;
    auto vendor = readAttribute(dmi + "board_vendor", problems);
    auto board = readAttribute(dmi + "board_name", problems);
    auto serial = readAttribute(dmi + "board_serial", problems, true);
    auto product = readAttribute(dmi + "product_name", problems);
    std::vector<InventoryItem> out;
    if (vendor || board || serial || product) {
      InventoryItem item;
      item.id = "Board";
      item.kind = "Board";
      item.name = product.value_or(board.value_or("Board"));
      item.manufacturer = vendor.value_or("");
      item.model = board.value_or("");
      item.serial_number = serial.value_or("");
      out.push_back(std::move(item));
    }
    std::lock_guard lock(mutex_);
    inventory_error_ = problems.text();
    return out;
  }

  std::vector<HardwareFault> faults() override {
    std::vector<HardwareFault> out;
    Problems problems;
    readEdac(root_ + "/devices/system/edac/mc", out, problems);
    std::lock_guard lock(mutex_);
    faults_error_ = problems.text();
    return out;
  }

  std::vector<DriveInfo> drives() override {
    const std::string block = root_ + "/block";
    std::vector<BlockDisk> disks;
    for (const auto& name : listDir(block)) {
      if (std::find(options_.exclude_drives.begin(), options_.exclude_drives.end(), name) !=
          options_.exclude_drives.end())
        continue;
      if (auto disk = blockDisk(name)) disks.push_back(std::move(*disk));
    }
    std::sort(disks.begin(), disks.end(),
              [](const BlockDisk& a, const BlockDisk& b) { return a.key() < b.key(); });
    std::vector<DriveInfo> out;
    Problems problems;
    for (const BlockDisk& disk : disks) {
      if (auto drive = readDrive(block + "/" + disk.name, disk, problems)) {
        drive->slot = static_cast<int>(out.size());
        out.push_back(std::move(*drive));
      }
    }
    std::lock_guard lock(mutex_);
    drives_error_ = problems.text();
    return out;
  }

  std::vector<FrontEndPortInfo> ports() override {
    std::vector<FrontEndPortInfo> out;
    Problems problems;
    for (const FrontEndIscsiPortal& portal : options_.iscsi_portals) {
      FrontEndPortInfo port;
      port.id = "iSCSI" + std::to_string(out.size());
      port.protocol = "iSCSI";
      port.identifier = options_.iscsi_target;
      port.address = portal.address + ":" + std::to_string(kIscsiPort);
      const std::string nic = root_ + "/class/net/" + portal.interface + "/";
      port.link_up = readAttribute(nic + "operstate", problems).value_or("") == "up";
      if (port.link_up) {
        // virtio and many NICs report -1 (unknown); an absent or unreadable file: unknown too.
        if (auto speed = readInteger(nic + "speed", problems); speed && *speed > 0) {
          port.speed_mbps = static_cast<uint32_t>(*speed);
        }
      }
      out.push_back(std::move(port));
    }
    std::lock_guard lock(mutex_);
    ports_error_ = problems.text();
    return out;
  }

  // The shelf's I/O: /proc/diskstats of the drives drives() finds (their ids are the kernel's
  // names), between two readings (platform/system_metrics.hpp DiskIoSampler).
  PerformanceReading performance() override {
    std::vector<std::string> devices;
    for (const DriveInfo& d : drives()) devices.push_back(d.id);
    DiskIoSampler::Reading io = disk_io_.read(devices);
    PerformanceReading out;
    out.io = io.rates;
    out.io_interval_ms = io.interval.ms;
    out.io_since_boot = io.interval.since_boot;
    std::lock_guard lock(mutex_);
    performance_error_ = io.error;
    return out;
  }

  std::string describe() const override { return "linux hardware " + root_; }

  std::string lastError() const override {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const std::string* e : {&sensors_error_, &inventory_error_, &faults_error_, &drives_error_,
                                 &ports_error_, &performance_error_}) {
      if (!e->empty()) out += (out.empty() ? "" : "; ") + *e;
    }
    return out;
  }

 private:
  const std::string root_;
  const LinuxHardwareOptions options_;
  mutable std::mutex mutex_;
  std::string sensors_error_;  // of the last sensors() call
  std::string inventory_error_;
  std::string faults_error_;
  std::string drives_error_;
  std::string ports_error_;
  std::string performance_error_;
  DiskIoSampler disk_io_;
};

}  // namespace

std::unique_ptr<Hardware> makeLinuxHardware(std::string sysfs_root, std::string proc_root) {
  LinuxHardwareOptions options;
  options.sysfs_root = std::move(sysfs_root);
  options.proc_root = std::move(proc_root);
  return std::make_unique<LinuxHardware>(std::move(options));
}

std::unique_ptr<Hardware> makeLinuxHardware(LinuxHardwareOptions options) {
  return std::make_unique<LinuxHardware>(std::move(options));
}

std::string iscsiTargetName(const std::string& array_id, char sp) {
  std::string name = "iqn.2026-12.com.dualsp:";
  for (char c : array_id) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  name += ".sp-";
  name += static_cast<char>(std::tolower(static_cast<unsigned char>(sp)));
  return name;
}

}  // namespace dualsp::platform
