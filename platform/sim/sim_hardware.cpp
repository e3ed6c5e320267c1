#include "platform/sim/sim_hardware.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/unique_fd.hpp"

namespace dualsp::platform {
namespace {

using Json = nlohmann::json;

// A description larger than this is not one the harness wrote.
constexpr off_t kMaxDescriptionBytes = 4 * 1024 * 1024;

struct Description {
  std::vector<SensorReading> sensors;
  std::vector<InventoryItem> inventory;
  std::vector<HardwareFault> faults;
  std::vector<DriveInfo> drives;  // by slot
  std::vector<FrontEndPortInfo> ports;
  PerformanceReading performance;  // io unknown until a description is read
};

// What is wrong with the description, naming the key: "sensors[2].reading: not a number".
struct DescriptionError {
  std::string what;
};

// The unit of each sensor kind (Redfish ReadingType -> ReadingUnits).
constexpr std::pair<std::string_view, std::string_view> kSensorKinds[] = {
    {"Temperature", "Cel"}, {"Rotational", "RPM"}, {"Power", "W"}, {"Voltage", "V"}};
constexpr std::string_view kInventoryKinds[] = {"Board", "Processor",   "Memory",
                                                "Fan",   "PowerSupply", "BootMedia"};
// Redfish Drive.MediaType and Protocol values a shelf drive may have.
constexpr std::string_view kMediaTypes[] = {"HDD", "SSD"};
constexpr std::string_view kDriveProtocols[] = {"SAS", "SATA", "NVMe"};

const Json* member(const Json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string stringField(const Json& object, const char* key, const std::string& where,
                        bool required, std::string fallback = {}) {
  const Json* v = member(object, key);
  if (v == nullptr) {
    if (required) throw DescriptionError{where + "." + key + ": missing"};
    return fallback;
  }
  if (!v->is_string()) throw DescriptionError{where + "." + key + ": not a string"};
  return v->get<std::string>();
}

double numberField(const Json& object, const char* key, const std::string& where, bool required) {
  const Json* v = member(object, key);
  if (v == nullptr) {
    if (required) throw DescriptionError{where + "." + key + ": missing"};
    return 0;
  }
  if (!v->is_number()) throw DescriptionError{where + "." + key + ": not a number"};
  return v->get<double>();
}

// A JSON integer (not 1.5, not "1") in [min, max].
uint64_t integerField(const Json& object, const char* key, const std::string& where, uint64_t min,
                      uint64_t max) {
  const Json* v = member(object, key);
  if (v == nullptr) throw DescriptionError{where + "." + key + ": missing"};
  if (!v->is_number_integer()) throw DescriptionError{where + "." + key + ": not an integer"};
  const std::string range = " (" + std::to_string(min) + " to " + std::to_string(max) + ")";
  if (v->is_number_unsigned()) {
    const uint64_t n = v->get<uint64_t>();
    if (n < min || n > max) {
      throw DescriptionError{where + "." + key + ": " + std::to_string(n) + " is out of range" +
                             range};
    }
    return n;
  }
  const int64_t n = v->get<int64_t>();  // nlohmann stores only negative integers as signed
  if (n < 0 || static_cast<uint64_t>(n) < min || static_cast<uint64_t>(n) > max) {
    throw DescriptionError{where + "." + key + ": " + std::to_string(n) + " is out of range" +
                           range};
  }
  return static_cast<uint64_t>(n);
}

// A string field whose value must be one of `allowed`.
std::string oneOf(const Json& object, const char* key, const std::string& where, bool required,
                  const std::string& fallback, std::span<const std::string_view> allowed,
                  const char* allowed_text) {
  std::string value = stringField(object, key, where, required, fallback);
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    throw DescriptionError{where + "." + key + ": '" + value + "' is not " + allowed_text};
  }
  return value;
}

bool boolField(const Json& object, const char* key, const std::string& where) {
  const Json* v = member(object, key);
  if (v == nullptr) return false;
  if (!v->is_boolean()) throw DescriptionError{where + "." + key + ": not true or false"};
  return v->get<bool>();
}

// The list under `key`, absent = empty.
const Json* listField(const Json& doc, const char* key) {
  const Json* v = member(doc, key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) throw DescriptionError{std::string(key) + ": not a list"};
  return v;
}

void checkUniqueId(std::set<std::string>& ids, const std::string& id, const std::string& where) {
  if (id.empty()) throw DescriptionError{where + ".id: empty"};
  if (!ids.insert(id).second) throw DescriptionError{where + ".id: duplicate '" + id + "'"};
}

SensorReading parseSensor(const Json& s, const std::string& where) {
  if (!s.is_object()) throw DescriptionError{where + ": not an object"};
  SensorReading r;
  r.id = stringField(s, "id", where, true);
  r.name = stringField(s, "name", where, false, r.id);
  r.kind = stringField(s, "kind", where, true);
  std::string_view unit;
  for (auto [kind, kind_unit] : kSensorKinds) {
    if (r.kind == kind) unit = kind_unit;
  }
  if (unit.empty()) {
    throw DescriptionError{where + ".kind: '" + r.kind +
                           "' is not Temperature, Rotational, Power or Voltage"};
  }
  r.units = stringField(s, "units", where, false, std::string(unit));
  if (r.units != unit) {
    throw DescriptionError{where + ".units: '" + r.units + "' is not the unit of a " + r.kind +
                           " sensor ('" + std::string(unit) + "')"};
  }
  r.reading = numberField(s, "reading", where, true);
  r.upper_critical = numberField(s, "upper_critical", where, false);
  const bool failed = boolField(s, "failed", where);
  r.critical = failed || (r.upper_critical != 0 && r.reading >= r.upper_critical);
  return r;
}

InventoryItem parseItem(const Json& i, const std::string& where) {
  if (!i.is_object()) throw DescriptionError{where + ": not an object"};
  InventoryItem item;
  item.id = stringField(i, "id", where, true);
  item.kind = stringField(i, "kind", where, true);
  bool known = false;
  for (std::string_view kind : kInventoryKinds) known = known || item.kind == kind;
  if (!known) {
    throw DescriptionError{where + ".kind: '" + item.kind +
                           "' is not Board, Processor, Memory, Fan, PowerSupply or BootMedia"};
  }
  item.name = stringField(i, "name", where, false, item.id);
  item.manufacturer = stringField(i, "manufacturer", where, false);
  item.model = stringField(i, "model", where, false);
  item.serial_number = stringField(i, "serial_number", where, false);
  item.part_number = stringField(i, "part_number", where, false);
  return item;
}

HardwareFault parseFault(const Json& f, const std::string& where) {
  if (!f.is_object()) throw DescriptionError{where + ": not an object"};
  HardwareFault fault;
  fault.id = stringField(f, "id", where, true);
  fault.component = stringField(f, "component", where, false);
  fault.message_id = stringField(f, "message_id", where, true);
  if (fault.message_id.empty()) throw DescriptionError{where + ".message_id: empty"};
  fault.text = stringField(f, "text", where, true);
  if (fault.text.empty()) throw DescriptionError{where + ".text: empty"};
  const std::string severity = stringField(f, "severity", where, false, "Critical");
  if (severity != "Critical" && severity != "Warning") {
    throw DescriptionError{where + ".severity: '" + severity + "' is not Critical or Warning"};
  }
  fault.critical = severity == "Critical";
  return fault;
}

DriveInfo parseDrive(const Json& d, const std::string& where) {
  if (!d.is_object()) throw DescriptionError{where + ": not an object"};
  DriveInfo drive;
  drive.slot = static_cast<int>(
      integerField(d, "slot", where, 0, static_cast<uint64_t>(std::numeric_limits<int>::max())));
  drive.id = stringField(d, "id", where, false, "Disk" + std::to_string(drive.slot));
  drive.capacity_bytes =
      integerField(d, "capacity_bytes", where, 1, std::numeric_limits<uint64_t>::max());
  drive.media_type = oneOf(d, "media_type", where, true, {}, kMediaTypes, "HDD or SSD");
  drive.protocol = oneOf(d, "protocol", where, false, "SAS", kDriveProtocols, "SAS, SATA or NVMe");
  drive.manufacturer = stringField(d, "manufacturer", where, false);
  drive.model = stringField(d, "model", where, false);
  drive.serial_number = stringField(d, "serial_number", where, false);
  drive.failed = boolField(d, "failed", where);
  return drive;
}

// Redfish Protocol values a front-end port may have.
constexpr std::string_view kPortProtocols[] = {"iSCSI", "FC"};

bool hexDigits(const std::string& s, size_t count) {
  return s.size() == count && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

FrontEndPortInfo parsePort(const Json& p, const std::string& where) {
  if (!p.is_object()) throw DescriptionError{where + ": not an object"};
  FrontEndPortInfo port;
  port.id = stringField(p, "id", where, true);
  if (port.id.empty()) throw DescriptionError{where + ".id: empty"};
  port.protocol = oneOf(p, "protocol", where, true, {}, kPortProtocols, "iSCSI or FC");
  port.identifier = stringField(p, "identifier", where, true);
  if (port.protocol == "iSCSI" && port.identifier.rfind("iqn.", 0) != 0)
    throw DescriptionError{where + ".identifier: an iSCSI target name starts with 'iqn.'"};
  if (port.protocol == "FC" && !hexDigits(port.identifier, 16))
    throw DescriptionError{where + ".identifier: a WWPN is 16 hex digits"};
  port.address = stringField(p, "address", where, port.protocol == "iSCSI");
  port.link_up = p.contains("link_up") ? boolField(p, "link_up", where) : true;
  if (p.contains("speed_mbps"))
    port.speed_mbps = static_cast<uint32_t>(integerField(p, "speed_mbps", where, 0, 1000000));
  if (!port.link_up) port.speed_mbps = 0;
  return port;
}

// One figure of the performance object: absent = nullopt; else a number from 0 to `max`.
std::optional<double> figureField(const Json& object, const char* key, double max) {
  const std::string where = std::string("performance.") + key;
  const Json* v = member(object, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) throw DescriptionError{where + ": not a number"};
  const double n = v->get<double>();
  if (!std::isfinite(n) || n < 0) throw DescriptionError{where + ": " + v->dump() + " is below 0"};
  if (n > max) {
    throw DescriptionError{where + ": " + v->dump() + " is above " +
                           std::to_string(static_cast<long long>(max))};
  }
  return n;
}

// The shelf's I/O as this SP sees it (absent figures: 0, an idle shelf), and stand-ins for
// the CPU and memory figures /proc would give (absent: /proc's).
PerformanceReading parsePerformance(const Json* p) {
  PerformanceReading r;
  r.io = IoRates{};
  if (p == nullptr) return r;
  if (!p->is_object()) throw DescriptionError{"performance: not an object"};
  constexpr double kAny = std::numeric_limits<double>::max();
  r.io->read_iops = figureField(*p, "read_iops", kAny).value_or(0);
  r.io->write_iops = figureField(*p, "write_iops", kAny).value_or(0);
  r.io->read_bytes_per_second = figureField(*p, "read_bytes_per_second", kAny).value_or(0);
  r.io->write_bytes_per_second = figureField(*p, "write_bytes_per_second", kAny).value_or(0);
  r.cpu_percent = figureField(*p, "cpu_percent", 100);
  r.memory_percent = figureField(*p, "memory_percent", 100);
  return r;
}

// Throws DescriptionError, or nlohmann's parse_error for text that is not JSON.
Description parseDescription(const std::string& text) {
  const Json doc = Json::parse(text);
  if (!doc.is_object()) throw DescriptionError{"not a JSON object"};
  Description d;
  std::set<std::string> ids;
  if (const Json* list = listField(doc, "sensors")) {
    for (size_t n = 0; n < list->size(); ++n) {
      const std::string where = "sensors[" + std::to_string(n) + "]";
      d.sensors.push_back(parseSensor((*list)[n], where));
      checkUniqueId(ids, d.sensors.back().id, where);
    }
  }
  ids.clear();
  if (const Json* list = listField(doc, "inventory")) {
    for (size_t n = 0; n < list->size(); ++n) {
      const std::string where = "inventory[" + std::to_string(n) + "]";
      d.inventory.push_back(parseItem((*list)[n], where));
      checkUniqueId(ids, d.inventory.back().id, where);
    }
  }
  ids.clear();
  if (const Json* list = listField(doc, "faults")) {
    for (size_t n = 0; n < list->size(); ++n) {
      const std::string where = "faults[" + std::to_string(n) + "]";
      d.faults.push_back(parseFault((*list)[n], where));
      checkUniqueId(ids, d.faults.back().id, where);
    }
  }
  ids.clear();
  if (const Json* list = listField(doc, "drives")) {
    std::set<int> slots;
    for (size_t n = 0; n < list->size(); ++n) {
      const std::string where = "drives[" + std::to_string(n) + "]";
      d.drives.push_back(parseDrive((*list)[n], where));
      checkUniqueId(ids, d.drives.back().id, where);
      if (!slots.insert(d.drives.back().slot).second) {
        throw DescriptionError{where + ".slot: duplicate " + std::to_string(d.drives.back().slot)};
      }
    }
    std::sort(d.drives.begin(), d.drives.end(),
              [](const DriveInfo& a, const DriveInfo& b) { return a.slot < b.slot; });
  }
  ids.clear();
  if (const Json* list = listField(doc, "ports")) {
    for (size_t n = 0; n < list->size(); ++n) {
      const std::string where = "ports[" + std::to_string(n) + "]";
      d.ports.push_back(parsePort((*list)[n], where));
      checkUniqueId(ids, d.ports.back().id, where);
    }
    std::sort(d.ports.begin(), d.ports.end(),
              [](const FrontEndPortInfo& a, const FrontEndPortInfo& b) { return a.id < b.id; });
  }
  d.performance = parsePerformance(member(doc, "performance"));
  return d;
}

// What identifies one version of the file without reading it.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  timespec ctime{};

  static FileStamp of(const struct stat& st) {
    return {st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
  }
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec &&
           ctime.tv_nsec == o.ctime.tv_nsec;
  }
};

class SimHardware final : public Hardware {
 public:
  explicit SimHardware(std::string path) : path_(std::move(path)) {
    std::lock_guard lock(mutex_);
    refresh();
  }

  std::vector<SensorReading> sensors() override {
    std::lock_guard lock(mutex_);
    refresh();
    return current_.sensors;
  }

  std::vector<InventoryItem> inventory() override {
    std::lock_guard lock(mutex_);
    refresh();
    return current_.inventory;
  }

  std::vector<HardwareFault> faults() override {
    std::lock_guard lock(mutex_);
    refresh();
    return current_.faults;
  }

  std::vector<DriveInfo> drives() override {
    std::lock_guard lock(mutex_);
    refresh();
    return current_.drives;
  }

  std::vector<FrontEndPortInfo> ports() override {
    std::lock_guard lock(mutex_);
    refresh();
    return current_.ports;
  }

  PerformanceReading performance() override {
    std::lock_guard lock(mutex_);
    refresh();
    return current_.performance;
  }

  std::string describe() const override { return "sim hardware " + path_; }

  std::string lastError() const override {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  // Re-reads the file when its stamp changed since the last read (good or bad).
  void refresh() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      seen_.reset();  // whatever appears there next is read
      return fail(std::string("cannot read: ") + std::strerror(errno));
    }
    if (seen_ && *seen_ == FileStamp::of(st)) return;
    try {
      std::string text;
      if (!readFile(text)) return;
      current_ = parseDescription(text);
      loaded_ = true;
      error_.clear();
    } catch (const DescriptionError& e) {
      fail(e.what);
    } catch (const Json::exception& e) {
      // "[json.exception.parse_error.101] parse error at line 3, ..." without the tag
      std::string what = e.what();
      if (auto end = what.find("] "); what.starts_with("[json.") && end != std::string::npos) {
        what.erase(0, end + 2);
      }
      fail("not valid JSON: " + what);
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

  // Reads the whole file and records the stamp of what was read; false after fail().
  bool readFile(std::string& text) {
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
      seen_.reset();
      fail(std::string("cannot read: ") + std::strerror(errno));
      return false;
    }
    seen_ = FileStamp::of(st);
    if (!S_ISREG(st.st_mode)) {
      fail("not a regular file");
      return false;
    }
    if (st.st_size > kMaxDescriptionBytes) {
      fail("larger than " + std::to_string(kMaxDescriptionBytes) + " bytes");
      return false;
    }
    text.clear();
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        fail(std::string("cannot read: ") + std::strerror(errno));
        return false;
      }
      if (n == 0) return true;
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > static_cast<size_t>(kMaxDescriptionBytes)) {
        fail("larger than " + std::to_string(kMaxDescriptionBytes) + " bytes");
        return false;
      }
    }
  }

  void fail(const std::string& problem) {
    error_ = "hardware description " + path_ + ": " + problem +
             (loaded_ ? "; keeping the last good description" : "; no description loaded yet");
  }

  const std::string path_;
  mutable std::mutex mutex_;
  std::optional<FileStamp> seen_;  // the version last read, good or bad
  Description current_;            // the last good description
  bool loaded_ = false;            // current_ came from the file at least once
  std::string error_;
};

}  // namespace

std::unique_ptr<Hardware> makeSimHardware(std::string description_path) {
  return std::make_unique<SimHardware>(std::move(description_path));
}

}  // namespace dualsp::platform
