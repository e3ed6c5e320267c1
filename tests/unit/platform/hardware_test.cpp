// The hardware sources: the sim back end's JSON description (edited while in use, broken,
// missing), the linux back end on a fake sysfs tree, and the system metrics on a fake and the
// real /proc.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "platform/linux/linux_hardware.hpp"
#include "platform/sim/sim_hardware.hpp"
#include "platform/system_metrics.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

namespace dualsp::platform {
namespace {

namespace fs = std::filesystem;

const char* const kDescription = R"({
  "sensors": [
    {"id": "CPU0Temp", "name": "CPU 0 temperature", "kind": "Temperature", "reading": 47.5,
     "units": "Cel", "upper_critical": 95},
    {"id": "Fan0", "name": "Fan 0", "kind": "Rotational", "reading": 7200, "units": "RPM",
     "failed": false},
    {"id": "PSU0Power", "kind": "Power", "reading": 182.5}
  ],
  "inventory": [
    {"id": "Board", "kind": "Board", "name": "SP board", "manufacturer": "DualSP Sim",
     "model": "SIM-SP-1", "serial_number": "SIMA0001", "part_number": "SP-1-00"},
    {"id": "CPU0", "kind": "Processor", "name": "CPU 0"}
  ],
  "faults": [
    {"id": "memory-ecc", "component": "DIMM0",
     "message_id": "Platform.1.3.2.MemoryUncorrectableError",
     "text": "Memory device 'DIMM0' detected an uncorrectable error.", "severity": "Critical"}
  ],
  "later": {"features": "ignored"}
})";

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// Moves the file's mtime by `seconds`, so a rewrite within one timestamp tick is still seen.
void bumpMtime(const std::string& path, int seconds) {
  struct stat st {};
  CHECK_EQUAL(0, ::stat(path.c_str(), &st));
  timespec times[2] = {st.st_atim, st.st_mtim};
  times[1].tv_sec += seconds;
  CHECK_EQUAL(0, ::utimensat(AT_FDCWD, path.c_str(), times, 0));
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

const SensorReading* findSensor(const std::vector<SensorReading>& list, const std::string& id) {
  for (const auto& s : list) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::string makeTempDir() {
  char tmpl[] = "/tmp/dualsp-ut-hw-XXXXXX";
  CHECK_TRUE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

}  // namespace

TEST_GROUP(SimHardware) {
  std::string dir;
  std::string path;

  void setup() override {
    dir = makeTempDir();
    path = dir + "/hw-a.json";
  }
  void teardown() override {
    fs::remove_all(dir);
  }
};

TEST(SimHardware, ReadsSensorsAndInventory) {
  writeFile(path, kDescription);
  auto hw = makeSimHardware(path);
  STRCMP_EQUAL("", hw->lastError().c_str());
  STRCMP_CONTAINS(path.c_str(), hw->describe().c_str());

  auto sensors = hw->sensors();
  LONGS_EQUAL(3, sensors.size());
  const SensorReading& cpu = sensors[0];
  STRCMP_EQUAL("CPU0Temp", cpu.id.c_str());
  STRCMP_EQUAL("CPU 0 temperature", cpu.name.c_str());
  STRCMP_EQUAL("Temperature", cpu.kind.c_str());
  DOUBLES_EQUAL(47.5, cpu.reading, 1e-9);
  STRCMP_EQUAL("Cel", cpu.units.c_str());
  DOUBLES_EQUAL(95, cpu.upper_critical, 1e-9);
  CHECK_FALSE(cpu.critical);
  STRCMP_EQUAL("RPM", sensors[1].units.c_str());
  DOUBLES_EQUAL(0, sensors[1].upper_critical, 1e-9);
  // name and units default to the id and the kind's unit
  STRCMP_EQUAL("PSU0Power", sensors[2].name.c_str());
  STRCMP_EQUAL("W", sensors[2].units.c_str());

  auto inventory = hw->inventory();
  LONGS_EQUAL(2, inventory.size());
  const InventoryItem& board = inventory[0];
  STRCMP_EQUAL("Board", board.id.c_str());
  STRCMP_EQUAL("Board", board.kind.c_str());
  STRCMP_EQUAL("SP board", board.name.c_str());
  STRCMP_EQUAL("DualSP Sim", board.manufacturer.c_str());
  STRCMP_EQUAL("SIM-SP-1", board.model.c_str());
  STRCMP_EQUAL("SIMA0001", board.serial_number.c_str());
  STRCMP_EQUAL("SP-1-00", board.part_number.c_str());
  STRCMP_EQUAL("Processor", inventory[1].kind.c_str());
  STRCMP_EQUAL("", inventory[1].serial_number.c_str());

  auto faults = hw->faults();
  LONGS_EQUAL(1, faults.size());
  STRCMP_EQUAL("memory-ecc", faults[0].id.c_str());
  STRCMP_EQUAL("DIMM0", faults[0].component.c_str());
  STRCMP_EQUAL("Platform.1.3.2.MemoryUncorrectableError", faults[0].message_id.c_str());
  STRCMP_EQUAL("Memory device 'DIMM0' detected an uncorrectable error.", faults[0].text.c_str());
  CHECK_TRUE(faults[0].critical);
}

TEST(SimHardware, FaultsSeverityAndDefaults) {
  writeFile(path, R"({"faults": [
    {"id": "boot-media", "component": "BootMedia0",
     "message_id": "Platform.1.3.2.DeviceBootTimeout", "text": "Boot medium not responding"},
    {"id": "fan-noise", "message_id": "Base.1.22.1.Success", "text": "A fan rattles",
     "severity": "Warning"}]})");
  auto hw = makeSimHardware(path);
  auto faults = hw->faults();
  STRCMP_EQUAL("", hw->lastError().c_str());
  LONGS_EQUAL(2, faults.size());
  CHECK_TRUE(faults[0].critical);  // severity defaults to Critical
  STRCMP_EQUAL("fan-noise", faults[1].id.c_str());
  STRCMP_EQUAL("", faults[1].component.c_str());  // component defaults to empty
  CHECK_FALSE(faults[1].critical);
  LONGS_EQUAL(0, hw->sensors().size());  // a description may hold faults only
}

TEST(SimHardware, NoFaultsListIsNoFault) {
  writeFile(path, R"({"sensors": []})");
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(0, hw->faults().size());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, MalformedFaultsKeepTheLastGoodContent) {
  writeFile(path, kDescription);
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(1, hw->faults().size());
  const char* const broken[][2] = {
      {R"({"faults": {"id": "x"}})", "faults: not a list"},
      {R"({"faults": ["memory-ecc"]})", "faults[0]: not an object"},
      {R"({"faults": [{"id": "x", "message_id": "M", "text": "t", "severity": "Fatal"}]})",
       "faults[0].severity: 'Fatal' is not Critical or Warning"},
      {R"({"faults": [{"id": "x", "text": "t"}]})", "faults[0].message_id: missing"},
      {R"({"faults": [{"id": "x", "message_id": "M"}]})", "faults[0].text: missing"},
      {R"({"faults": [{"id": "x", "message_id": "M", "text": ""}]})", "faults[0].text: empty"},
      {R"({"faults": [{"id": "x", "message_id": "M", "text": "t", "component": 0}]})",
       "faults[0].component: not a string"},
      {R"({"faults": [{"id": "x", "message_id": "M", "text": "t"},
                      {"id": "x", "message_id": "M", "text": "u"}]})",
       "faults[1].id: duplicate 'x'"},
  };
  int tick = 0;
  for (const auto& [text, problem] : broken) {
    writeFile(path, text);
    bumpMtime(path, 10 * ++tick);
    auto faults = hw->faults();
    LONGS_EQUAL(1, faults.size());
    STRCMP_EQUAL("memory-ecc", faults[0].id.c_str());
    STRCMP_CONTAINS(problem, hw->lastError().c_str());
    STRCMP_CONTAINS("keeping the last good description", hw->lastError().c_str());
  }
  // the harness clears the fault: the next good version has none
  writeFile(path, R"({"faults": []})");
  bumpMtime(path, 10 * ++tick);
  LONGS_EQUAL(0, hw->faults().size());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

// A shelf as the harness writes it, out of slot order, with defaults left out.
const char* const kShelf = R"({"drives": [
    {"slot": 8, "id": "Disk8", "capacity_bytes": 1920383410176, "media_type": "SSD",
     "protocol": "SAS", "manufacturer": "DualSP Sim", "model": "SIM-SSD-1T9",
     "serial_number": "SIMD0009", "failed": false, "later": "ignored"},
    {"slot": 0, "capacity_bytes": 4000787030016, "media_type": "HDD"},
    {"slot": 3, "id": "Bay3", "capacity_bytes": 4000787030016, "media_type": "HDD",
     "protocol": "SATA", "failed": true},
    {"slot": 11, "id": "Disk11", "capacity_bytes": 800166076416, "media_type": "SSD",
     "protocol": "NVMe"}]})";

TEST(SimHardware, ReadsTheShelfSortedBySlot) {
  writeFile(path, kShelf);
  auto hw = makeSimHardware(path);
  auto drives = hw->drives();
  STRCMP_EQUAL("", hw->lastError().c_str());
  LONGS_EQUAL(4, drives.size());
  LONGS_EQUAL(0, drives[0].slot);
  LONGS_EQUAL(3, drives[1].slot);
  LONGS_EQUAL(8, drives[2].slot);
  LONGS_EQUAL(11, drives[3].slot);

  const DriveInfo& ssd = drives[2];
  STRCMP_EQUAL("Disk8", ssd.id.c_str());
  CHECK_EQUAL(1920383410176ULL, ssd.capacity_bytes);
  STRCMP_EQUAL("SSD", ssd.media_type.c_str());
  STRCMP_EQUAL("SAS", ssd.protocol.c_str());
  STRCMP_EQUAL("DualSP Sim", ssd.manufacturer.c_str());
  STRCMP_EQUAL("SIM-SSD-1T9", ssd.model.c_str());
  STRCMP_EQUAL("SIMD0009", ssd.serial_number.c_str());
  CHECK_FALSE(ssd.failed);

  STRCMP_EQUAL("Bay3", drives[1].id.c_str());
  STRCMP_EQUAL("SATA", drives[1].protocol.c_str());
  CHECK_TRUE(drives[1].failed);
  STRCMP_EQUAL("NVMe", drives[3].protocol.c_str());
  CHECK_EQUAL(800166076416ULL, drives[3].capacity_bytes);
}

TEST(SimHardware, DriveDefaults) {
  writeFile(path, kShelf);
  auto drives = makeSimHardware(path)->drives();
  const DriveInfo& d = drives[0];  // slot 0: only the required keys
  STRCMP_EQUAL("Disk0", d.id.c_str());
  CHECK_EQUAL(4000787030016ULL, d.capacity_bytes);
  STRCMP_EQUAL("HDD", d.media_type.c_str());
  STRCMP_EQUAL("SAS", d.protocol.c_str());
  STRCMP_EQUAL("", d.manufacturer.c_str());
  STRCMP_EQUAL("", d.model.c_str());
  STRCMP_EQUAL("", d.serial_number.c_str());
  CHECK_FALSE(d.failed);
}

TEST(SimHardware, NoDrivesListIsNoDrive) {
  writeFile(path, kDescription);
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(0, hw->drives().size());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, DriveFailedAndRestoredByEditingTheFile) {
  writeFile(path, kShelf);
  auto hw = makeSimHardware(path);
  CHECK_FALSE(hw->drives()[3].failed);
  writeFile(path + ".tmp",
            replaced(kShelf, "\"protocol\": \"NVMe\"", "\"protocol\": \"NVMe\", \"failed\": true"));
  fs::rename(path + ".tmp", path);
  CHECK_TRUE(hw->drives()[3].failed);
  writeFile(path + ".tmp", kShelf);
  fs::rename(path + ".tmp", path);
  CHECK_FALSE(hw->drives()[3].failed);
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, MalformedDrivesKeepTheLastGoodContent) {
  writeFile(path, kShelf);
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(4, hw->drives().size());
  const char* const broken[][2] = {
      {R"({"drives": {"slot": 0}})", "drives: not a list"},
      {R"({"drives": ["Disk0"]})", "drives[0]: not an object"},
      {R"({"drives": [{"capacity_bytes": 1, "media_type": "HDD"}]})", "drives[0].slot: missing"},
      {R"({"drives": [{"slot": "0", "capacity_bytes": 1, "media_type": "HDD"}]})",
       "drives[0].slot: not an integer"},
      {R"({"drives": [{"slot": 1.5, "capacity_bytes": 1, "media_type": "HDD"}]})",
       "drives[0].slot: not an integer"},
      {R"({"drives": [{"slot": -1, "capacity_bytes": 1, "media_type": "HDD"}]})",
       "drives[0].slot: -1 is out of range"},
      {R"({"drives": [{"slot": 4294967296, "capacity_bytes": 1, "media_type": "HDD"}]})",
       "drives[0].slot: 4294967296 is out of range"},
      {R"({"drives": [{"slot": 0, "media_type": "HDD"}]})", "drives[0].capacity_bytes: missing"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 0, "media_type": "HDD"}]})",
       "drives[0].capacity_bytes: 0 is out of range"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": -4, "media_type": "HDD"}]})",
       "drives[0].capacity_bytes: -4 is out of range"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 4e12, "media_type": "HDD"}]})",
       "drives[0].capacity_bytes: not an integer"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1}]})", "drives[0].media_type: missing"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "Tape"}]})",
       "drives[0].media_type: 'Tape' is not HDD or SSD"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD", "protocol": "FC"}]})",
       "drives[0].protocol: 'FC' is not SAS, SATA or NVMe"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD", "id": 7}]})",
       "drives[0].id: not a string"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD", "id": ""}]})",
       "drives[0].id: empty"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD", "model": 1}]})",
       "drives[0].model: not a string"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD",
                       "serial_number": null}]})",
       "drives[0].serial_number: not a string"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD", "failed": "yes"}]})",
       "drives[0].failed: not true or false"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD"},
                      {"slot": 0, "id": "Other", "capacity_bytes": 1, "media_type": "HDD"}]})",
       "drives[1].slot: duplicate 0"},
      {R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD"},
                      {"slot": 1, "id": "Disk0", "capacity_bytes": 1, "media_type": "HDD"}]})",
       "drives[1].id: duplicate 'Disk0'"},
      // one bad drive among good ones spoils the whole file, sensors included
      {R"({"sensors": [{"id": "T", "kind": "Temperature", "reading": 1}],
           "drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD"},
                      {"slot": 1, "capacity_bytes": 1, "media_type": "hdd"}]})",
       "drives[1].media_type: 'hdd' is not HDD or SSD"},
  };
  int tick = 0;
  for (const auto& [text, problem] : broken) {
    writeFile(path, text);
    bumpMtime(path, 10 * ++tick);
    auto drives = hw->drives();
    LONGS_EQUAL(4, drives.size());
    STRCMP_EQUAL("Bay3", drives[1].id.c_str());
    LONGS_EQUAL(0, hw->sensors().size());
    STRCMP_CONTAINS(problem, hw->lastError().c_str());
    STRCMP_CONTAINS("keeping the last good description", hw->lastError().c_str());
  }
  // the next good version: one drive, error gone
  writeFile(path, R"({"drives": [{"slot": 5, "capacity_bytes": 1, "media_type": "SSD"}]})");
  bumpMtime(path, 10 * ++tick);
  auto drives = hw->drives();
  LONGS_EQUAL(1, drives.size());
  STRCMP_EQUAL("Disk5", drives[0].id.c_str());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, MalformedDrivesBeforeAnyGoodVersion) {
  writeFile(path, R"({"drives": [{"slot": 0, "capacity_bytes": 1, "media_type": "HDD"},
                                 {"slot": 0, "capacity_bytes": 2, "media_type": "SSD",
                                  "id": "Twin"}]})");
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(0, hw->drives().size());
  STRCMP_CONTAINS("drives[1].slot: duplicate 0", hw->lastError().c_str());
  STRCMP_CONTAINS("no description loaded yet", hw->lastError().c_str());
}

TEST(SimHardware, PerformanceFiguresFromTheDescription) {
  writeFile(path, R"({"performance": {"read_iops": 1200, "write_iops": 300.5,
                      "read_bytes_per_second": 52428800, "write_bytes_per_second": 0,
                      "cpu_percent": 35.5, "memory_percent": 61}})");
  auto hw = makeSimHardware(path);
  PerformanceReading p = hw->performance();
  STRCMP_EQUAL("", hw->lastError().c_str());
  CHECK_TRUE(p.io.has_value());
  DOUBLES_EQUAL(1200, p.io->read_iops, 1e-9);
  DOUBLES_EQUAL(300.5, p.io->write_iops, 1e-9);
  DOUBLES_EQUAL(52428800, p.io->read_bytes_per_second, 1e-9);
  DOUBLES_EQUAL(0, p.io->write_bytes_per_second, 1e-9);
  LONGS_EQUAL(0, p.io_interval_ms);  // rates as the description gives them now
  CHECK_FALSE(p.io_since_boot);
  DOUBLES_EQUAL(35.5, p.cpu_percent.value_or(-1), 1e-9);
  DOUBLES_EQUAL(61, p.memory_percent.value_or(-1), 1e-9);

  // edited while in use: the next call sees the new figures
  writeFile(path, R"({"performance": {"read_iops": 7}})");
  bumpMtime(path, 10);
  p = hw->performance();
  DOUBLES_EQUAL(7, p.io->read_iops, 1e-9);
  DOUBLES_EQUAL(0, p.io->write_iops, 1e-9);  // an absent figure: an idle shelf
  CHECK_FALSE(p.cpu_percent.has_value());    // absent: spd reads /proc
  CHECK_FALSE(p.memory_percent.has_value());
}

TEST(SimHardware, NoPerformanceObjectIsAnIdleShelf) {
  writeFile(path, R"({"sensors": []})");
  auto hw = makeSimHardware(path);
  PerformanceReading p = hw->performance();
  CHECK_TRUE(p.io.has_value());
  DOUBLES_EQUAL(0,
                p.io->read_iops + p.io->write_iops + p.io->read_bytes_per_second +
                    p.io->write_bytes_per_second,
                1e-9);
  CHECK_FALSE(p.cpu_percent.has_value());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, NoDescriptionYetHasNoPerformanceFigures) {
  auto hw = makeSimHardware(dir + "/absent.json");
  PerformanceReading p = hw->performance();
  CHECK_FALSE(p.io.has_value());
  CHECK_FALSE(p.cpu_percent.has_value());
  STRCMP_CONTAINS("no description loaded yet", hw->lastError().c_str());
}

TEST(SimHardware, MalformedPerformanceKeepsTheLastGoodContent) {
  writeFile(path, R"({"performance": {"read_iops": 5, "cpu_percent": 20}})");
  auto hw = makeSimHardware(path);
  DOUBLES_EQUAL(5, hw->performance().io->read_iops, 1e-9);
  const char* const broken[][2] = {
      {R"({"performance": [1, 2]})", "performance: not an object"},
      {R"({"performance": {"read_iops": "fast"}})", "performance.read_iops: not a number"},
      {R"({"performance": {"write_iops": true}})", "performance.write_iops: not a number"},
      {R"({"performance": {"read_bytes_per_second": null}})",
       "performance.read_bytes_per_second: not a number"},
      {R"({"performance": {"write_bytes_per_second": -1}})",
       "performance.write_bytes_per_second: -1 is below 0"},
      {R"({"performance": {"cpu_percent": 100.5}})", "performance.cpu_percent: 100.5 is above 100"},
      {R"({"performance": {"memory_percent": -0.5}})",
       "performance.memory_percent: -0.5 is below 0"},
      // a bad figure spoils the whole file, sensors included
      {R"({"sensors": [{"id": "T", "kind": "Temperature", "reading": 1}],
           "performance": {"cpu_percent": "high"}})",
       "performance.cpu_percent: not a number"},
  };
  int tick = 0;
  for (const auto& [text, problem] : broken) {
    writeFile(path, text);
    bumpMtime(path, 10 * ++tick);
    PerformanceReading p = hw->performance();
    DOUBLES_EQUAL(5, p.io->read_iops, 1e-9);
    DOUBLES_EQUAL(20, p.cpu_percent.value_or(-1), 1e-9);
    LONGS_EQUAL(0, hw->sensors().size());
    STRCMP_CONTAINS(problem, hw->lastError().c_str());
    STRCMP_CONTAINS("keeping the last good description", hw->lastError().c_str());
  }
  // 0 and 100 are in range; the next good version clears the error
  writeFile(path, R"({"performance": {"cpu_percent": 100, "memory_percent": 0}})");
  bumpMtime(path, 10 * ++tick);
  PerformanceReading p = hw->performance();
  DOUBLES_EQUAL(100, p.cpu_percent.value_or(-1), 1e-9);
  DOUBLES_EQUAL(0, p.memory_percent.value_or(-1), 1e-9);
  DOUBLES_EQUAL(0, p.io->read_iops, 1e-9);
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, CriticalFromUpperCriticalAndFailed) {
  writeFile(path, R"({"sensors": [
    {"id": "Below", "kind": "Temperature", "reading": 94.9, "upper_critical": 95},
    {"id": "AtLimit", "kind": "Temperature", "reading": 95, "upper_critical": 95},
    {"id": "Above", "kind": "Temperature", "reading": 120, "upper_critical": 95},
    {"id": "NoLimit", "kind": "Temperature", "reading": 500},
    {"id": "FanFailed", "kind": "Rotational", "reading": 0, "failed": true},
    {"id": "FanFine", "kind": "Rotational", "reading": 7000, "failed": false}]})");
  auto sensors = makeSimHardware(path)->sensors();
  CHECK_FALSE(findSensor(sensors, "Below")->critical);
  CHECK_TRUE(findSensor(sensors, "AtLimit")->critical);
  CHECK_TRUE(findSensor(sensors, "Above")->critical);
  CHECK_FALSE(findSensor(sensors, "NoLimit")->critical);
  CHECK_TRUE(findSensor(sensors, "FanFailed")->critical);
  CHECK_FALSE(findSensor(sensors, "FanFine")->critical);
}

TEST(SimHardware, SeesTheFileEditedInPlace) {
  writeFile(path, kDescription);
  auto hw = makeSimHardware(path);
  DOUBLES_EQUAL(47.5, hw->sensors()[0].reading, 1e-9);
  // same size, same inode: only the mtime tells the versions apart
  writeFile(path, replaced(kDescription, "\"reading\": 47.5", "\"reading\": 99.5"));
  bumpMtime(path, 10);
  auto sensors = hw->sensors();
  DOUBLES_EQUAL(99.5, sensors[0].reading, 1e-9);
  CHECK_TRUE(sensors[0].critical);
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, SeesTheFileReplacedByRename) {
  writeFile(path, kDescription);
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(2, hw->inventory().size());
  writeFile(path + ".tmp", replaced(kDescription, "SIMA0001", "SIMA0002"));
  fs::rename(path + ".tmp", path);
  STRCMP_EQUAL("SIMA0002", hw->inventory()[0].serial_number.c_str());
}

TEST(SimHardware, MalformedFileKeepsTheLastGoodContent) {
  writeFile(path, kDescription);
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(3, hw->sensors().size());

  writeFile(path, "{\"sensors\": [ {\"id\": ");  // a half-written file
  bumpMtime(path, 10);
  auto sensors = hw->sensors();
  LONGS_EQUAL(3, sensors.size());
  DOUBLES_EQUAL(47.5, sensors[0].reading, 1e-9);
  LONGS_EQUAL(2, hw->inventory().size());
  STRCMP_CONTAINS(path.c_str(), hw->lastError().c_str());
  STRCMP_CONTAINS("not valid JSON", hw->lastError().c_str());
  STRCMP_CONTAINS("keeping the last good description", hw->lastError().c_str());

  // mended: read again, error gone
  writeFile(path, replaced(kDescription, "47.5", "50.0"));
  bumpMtime(path, 20);
  DOUBLES_EQUAL(50.0, hw->sensors()[0].reading, 1e-9);
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, WrongTypeIsMalformedAndNamesTheKey) {
  writeFile(path, kDescription);
  auto hw = makeSimHardware(path);
  writeFile(path, replaced(kDescription, "\"reading\": 7200", "\"reading\": \"fast\""));
  bumpMtime(path, 10);
  LONGS_EQUAL(3, hw->sensors().size());
  DOUBLES_EQUAL(7200, hw->sensors()[1].reading, 1e-9);
  STRCMP_CONTAINS(path.c_str(), hw->lastError().c_str());
  STRCMP_CONTAINS("sensors[1].reading: not a number", hw->lastError().c_str());
}

TEST(SimHardware, UnknownKindOrDuplicateIdIsMalformed) {
  writeFile(path, R"({"sensors": [{"id": "X", "kind": "Humidity", "reading": 40}]})");
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(0, hw->sensors().size());
  STRCMP_CONTAINS("sensors[0].kind: 'Humidity'", hw->lastError().c_str());
  STRCMP_CONTAINS("no description loaded yet", hw->lastError().c_str());

  writeFile(path,
            R"({"inventory": [{"id": "Fan0", "kind": "Fan"}, {"id": "Fan0", "kind": "Fan"}]})");
  bumpMtime(path, 10);
  LONGS_EQUAL(0, hw->inventory().size());
  STRCMP_CONTAINS("inventory[1].id: duplicate 'Fan0'", hw->lastError().c_str());
}

TEST(SimHardware, MissingFileFromTheStart) {
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(0, hw->sensors().size());
  LONGS_EQUAL(0, hw->inventory().size());
  STRCMP_CONTAINS(path.c_str(), hw->lastError().c_str());
  STRCMP_CONTAINS("No such file or directory", hw->lastError().c_str());

  writeFile(path, kDescription);  // the harness writes it late: picked up on the next call
  LONGS_EQUAL(3, hw->sensors().size());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(SimHardware, RemovedFileKeepsTheLastGoodContent) {
  writeFile(path, kDescription);
  auto hw = makeSimHardware(path);
  LONGS_EQUAL(3, hw->sensors().size());
  fs::remove(path);
  LONGS_EQUAL(3, hw->sensors().size());
  STRCMP_CONTAINS(path.c_str(), hw->lastError().c_str());
  STRCMP_CONTAINS("keeping the last good description", hw->lastError().c_str());
}

TEST_GROUP(LinuxHardware) {
  std::string root;

  void setup() override {
    root = makeTempDir();
  }
  void teardown() override {
    fs::remove_all(root);
  }

  void attr(const std::string& rel, const std::string& value) {
    fs::create_directories(fs::path(root + "/" + rel).parent_path());
    writeFile(root + "/" + rel, value + "\n");
  }

  // A shelf in /sys/block, with what is not a shelf drive beside it.
  void makeShelf() {
    const std::string b = "block/";
    attr(b + "sda/size", "7814037168");
    attr(b + "sda/removable", "0");
    attr(b + "sda/queue/rotational", "1");
    attr(b + "sda/device/vendor", "SEAGATE ");
    attr(b + "sda/device/model", "ST4000NM0025    ");
    attr(b + "sda/device/serial", "ZC1A2B3C");
    attr(b + "sda/device/state", "running");
    attr(b + "sdb/size", "3750748848");
    attr(b + "sdb/removable", "0");
    attr(b + "sdb/queue/rotational", "0");
    attr(b + "sdb/device/vendor", "ATA");
    attr(b + "sdb/device/model", "SAMSUNG MZ7LH1T9");
    attr(b + "sdb/device/state", "offline");
    attr(b + "sdaa/size", "3750748848");
    attr(b + "sdaa/queue/rotational", "0");
    attr(b + "nvme0n1/size", "1953525168");
    attr(b + "nvme0n1/removable", "0");
    attr(b + "nvme0n1/queue/rotational", "0");
    attr(b + "nvme0n1/device/model", "Samsung SSD 980 PRO 1TB                 ");
    attr(b + "nvme0n1/device/serial", "S5GXNX0R123456      ");
    attr(b + "nvme0n1/device/state", "live");
    attr(b + "nvme2n1/size", "1953525168");
    attr(b + "nvme2n1/device/state", "live");
    attr(b + "nvme10n1/size", "1953525168");
    attr(b + "nvme10n1/device/state", "dead");
    attr(b + "vda/size", "2097152");
    attr(b + "vda/removable", "0");
    attr(b + "vda/queue/rotational", "1");
    attr(b + "vda/serial", "QM00001");
    attr(b + "vda/device/vendor", "0x1af4");
    // not shelf drives
    attr(b + "sdc/size", "30031872");  // a USB stick
    attr(b + "sdc/removable", "1");
    attr(b + "sdc/device/vendor", "SanDisk");
    for (const char* other : {"loop0", "ram0", "zram0", "md0", "dm-0", "mmcblk0", "mmcblk0boot0",
                              "sr0", "nvme0c0n1", "nvmen1", "sd", "sda1", "vdb2"}) {
      attr(b + other + "/size", "1024");
    }
  }

  // Two chips, as on a real board: a CPU sensor with labels and an SP controller chip.
  void makeBoard() {
    attr("class/hwmon/hwmon10/name", "nct6779");
    attr("class/hwmon/hwmon10/temp1_input", "38000");  // no label: "<name> temp1"
    attr("class/hwmon/hwmon10/fan1_input", "7200");
    attr("class/hwmon/hwmon10/fan1_label", "Fan 0");
    attr("class/hwmon/hwmon10/fan2_input", "0");
    attr("class/hwmon/hwmon10/fan2_fault", "1");
    attr("class/hwmon/hwmon10/power1_input", "182500000");
    attr("class/hwmon/hwmon10/power1_label", "PSU 0");
    attr("class/hwmon/hwmon10/power2_average", "95250000");  // no *_input on some chips
    attr("class/hwmon/hwmon10/in0_input", "12096");
    attr("class/hwmon/hwmon10/intrusion0_alarm", "0");  // not a sensor channel
    attr("class/hwmon/hwmon2/name", "coretemp");
    attr("class/hwmon/hwmon2/temp1_input", "47500");
    attr("class/hwmon/hwmon2/temp1_label", "Package id 0");
    attr("class/hwmon/hwmon2/temp1_crit", "100000");
    attr("class/hwmon/hwmon2/temp2_input", "101000");
    attr("class/hwmon/hwmon2/temp2_label", "Core 0");
    attr("class/hwmon/hwmon2/temp2_crit", "100000");
  }
};

TEST(LinuxHardware, TemperaturesWithLabelsAndCritical) {
  makeBoard();
  auto hw = makeLinuxHardware(root);
  auto sensors = hw->sensors();
  STRCMP_EQUAL("", hw->lastError().c_str());
  STRCMP_EQUAL("hwmon2_temp1", sensors[0].id.c_str());  // hwmon2 before hwmon10
  const SensorReading* pkg = findSensor(sensors, "hwmon2_temp1");
  STRCMP_EQUAL("Package id 0", pkg->name.c_str());
  STRCMP_EQUAL("Temperature", pkg->kind.c_str());
  STRCMP_EQUAL("Cel", pkg->units.c_str());
  DOUBLES_EQUAL(47.5, pkg->reading, 1e-9);
  DOUBLES_EQUAL(100, pkg->upper_critical, 1e-9);
  CHECK_FALSE(pkg->critical);
  CHECK_TRUE(findSensor(sensors, "hwmon2_temp2")->critical);  // 101 >= 100

  const SensorReading* board = findSensor(sensors, "hwmon10_temp1");
  STRCMP_EQUAL("nct6779 temp1", board->name.c_str());
  DOUBLES_EQUAL(38, board->reading, 1e-9);
  DOUBLES_EQUAL(0, board->upper_critical, 1e-9);
  CHECK_FALSE(board->critical);
}

TEST(LinuxHardware, FansPowerAndVoltage) {
  makeBoard();
  auto sensors = makeLinuxHardware(root)->sensors();
  LONGS_EQUAL(8, sensors.size());
  const SensorReading* fan = findSensor(sensors, "hwmon10_fan1");
  STRCMP_EQUAL("Fan 0", fan->name.c_str());
  STRCMP_EQUAL("Rotational", fan->kind.c_str());
  STRCMP_EQUAL("RPM", fan->units.c_str());
  DOUBLES_EQUAL(7200, fan->reading, 1e-9);
  CHECK_FALSE(fan->critical);
  CHECK_TRUE(findSensor(sensors, "hwmon10_fan2")->critical);  // fan2_fault

  const SensorReading* psu = findSensor(sensors, "hwmon10_power1");
  STRCMP_EQUAL("PSU 0", psu->name.c_str());
  STRCMP_EQUAL("Power", psu->kind.c_str());
  STRCMP_EQUAL("W", psu->units.c_str());
  DOUBLES_EQUAL(182.5, psu->reading, 1e-9);
  DOUBLES_EQUAL(95.25, findSensor(sensors, "hwmon10_power2")->reading, 1e-9);

  const SensorReading* rail = findSensor(sensors, "hwmon10_in0");
  STRCMP_EQUAL("Voltage", rail->kind.c_str());
  STRCMP_EQUAL("V", rail->units.c_str());
  DOUBLES_EQUAL(12.096, rail->reading, 1e-9);
}

TEST(LinuxHardware, BoardFromDmi) {
  attr("class/dmi/id/board_vendor", "Supermicro");
  attr("class/dmi/id/board_name", "X11SPH-nCTF");
  attr("class/dmi/id/board_serial", "ZM17AS001234");
  attr("class/dmi/id/product_name", "DualSP Controller");
  auto hw = makeLinuxHardware(root);
  auto inventory = hw->inventory();
  LONGS_EQUAL(1, inventory.size());
  STRCMP_EQUAL("Board", inventory[0].id.c_str());
  STRCMP_EQUAL("Board", inventory[0].kind.c_str());
  STRCMP_EQUAL("DualSP Controller", inventory[0].name.c_str());
  STRCMP_EQUAL("Supermicro", inventory[0].manufacturer.c_str());
  STRCMP_EQUAL("X11SPH-nCTF", inventory[0].model.c_str());
  STRCMP_EQUAL("ZM17AS001234", inventory[0].serial_number.c_str());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(LinuxHardware, MissingFilesAreSkippedNotErrors) {
  auto hw = makeLinuxHardware(root + "/nothing-here");
  LONGS_EQUAL(0, hw->sensors().size());
  LONGS_EQUAL(0, hw->inventory().size());
  STRCMP_EQUAL("", hw->lastError().c_str());

  attr("class/hwmon/hwmon0/temp1_input", "40000");  // no name, no label, no crit
  attr("class/dmi/id/board_name", "X11");           // the only DMI attribute
  auto partial = makeLinuxHardware(root);
  auto sensors = partial->sensors();
  LONGS_EQUAL(1, sensors.size());
  STRCMP_EQUAL("hwmon0 temp1", sensors[0].name.c_str());
  STRCMP_EQUAL("X11", partial->inventory()[0].name.c_str());
  STRCMP_EQUAL("", partial->lastError().c_str());
}

TEST(LinuxHardware, UnparsableValueIsSkippedAndNamed) {
  attr("class/hwmon/hwmon0/temp1_input", "garbage");
  attr("class/hwmon/hwmon0/temp2_input", "41000");
  auto hw = makeLinuxHardware(root);
  auto sensors = hw->sensors();
  LONGS_EQUAL(1, sensors.size());
  STRCMP_EQUAL("hwmon0_temp2", sensors[0].id.c_str());
  STRCMP_CONTAINS((root + "/class/hwmon/hwmon0/temp1_input").c_str(), hw->lastError().c_str());
}

TEST(LinuxHardware, NoEdacNoFaults) {
  makeBoard();
  auto hw = makeLinuxHardware(root);
  LONGS_EQUAL(0, hw->faults().size());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(LinuxHardware, EdacErrorsAreMemoryFaults) {
  const std::string mc = "devices/system/edac/mc/";
  attr(mc + "mc0/ue_count", "0");  // a clean controller: no fault
  attr(mc + "mc0/ce_count", "0");
  attr(mc + "mc10/ue_count", "2");
  attr(mc + "mc10/ce_count", "0");
  attr(mc + "mc2/ue_count", "0");
  attr(mc + "mc2/ce_count", "1");
  attr(mc + "mc3/ue_count", "1");
  attr(mc + "mc3/ce_count", "17");
  attr(mc + "power/control", "auto");  // not a controller
  auto hw = makeLinuxHardware(root);
  auto faults = hw->faults();
  STRCMP_EQUAL("", hw->lastError().c_str());
  LONGS_EQUAL(3, faults.size());

  // mc2 before mc10
  STRCMP_EQUAL("memory-ecc", faults[0].id.c_str());
  STRCMP_EQUAL("mc2", faults[0].component.c_str());
  STRCMP_EQUAL("ResourceEvent.1.4.3.ResourceErrorsDetected", faults[0].message_id.c_str());
  STRCMP_EQUAL("Memory controller mc2 reported 1 correctable error", faults[0].text.c_str());
  CHECK_FALSE(faults[0].critical);

  STRCMP_EQUAL("mc3", faults[1].component.c_str());
  STRCMP_EQUAL("Platform.1.3.2.MemoryUncorrectableError", faults[1].message_id.c_str());
  STRCMP_EQUAL("Memory controller mc3 reported 1 uncorrectable error and 17 correctable errors",
               faults[1].text.c_str());
  CHECK_TRUE(faults[1].critical);

  STRCMP_EQUAL("memory-ecc", faults[2].id.c_str());
  STRCMP_EQUAL("mc10", faults[2].component.c_str());
  STRCMP_EQUAL("Platform.1.3.2.MemoryUncorrectableError", faults[2].message_id.c_str());
  STRCMP_EQUAL("Memory controller mc10 reported 2 uncorrectable errors", faults[2].text.c_str());
  CHECK_TRUE(faults[2].critical);

  // the counters are read on every call: a reset of mc10 (echo 0 > reset_counters) clears it
  attr(mc + "mc10/ue_count", "0");
  LONGS_EQUAL(2, hw->faults().size());
}

TEST(LinuxHardware, UnparsableEdacCounterIsSkippedAndNamed) {
  attr("devices/system/edac/mc/mc0/ue_count", "lots");
  attr("devices/system/edac/mc/mc0/ce_count", "3");
  auto hw = makeLinuxHardware(root);
  auto faults = hw->faults();
  LONGS_EQUAL(1, faults.size());
  CHECK_FALSE(faults[0].critical);  // what could be read: 3 correctable
  STRCMP_CONTAINS((root + "/devices/system/edac/mc/mc0/ue_count").c_str(), hw->lastError().c_str());
  hw->sensors();  // another call's clean read does not hide the problem
  STRCMP_CONTAINS("ue_count", hw->lastError().c_str());
}

TEST(LinuxHardware, NoBlockDevicesNoDrives) {
  auto hw = makeLinuxHardware(root);
  LONGS_EQUAL(0, hw->drives().size());
  STRCMP_EQUAL("", hw->lastError().c_str());
}

TEST(LinuxHardware, DrivesFromSysBlock) {
  makeShelf();
  auto hw = makeLinuxHardware(root);
  auto drives = hw->drives();
  STRCMP_EQUAL("", hw->lastError().c_str());
  // nvme (by controller, then namespace), then sd (sdb before sdaa), then vd; the rest skipped
  const char* const order[] = {"nvme0n1", "nvme2n1", "nvme10n1", "sda", "sdb", "sdaa", "vda"};
  LONGS_EQUAL(std::size(order), drives.size());
  for (size_t n = 0; n < drives.size(); ++n) {
    STRCMP_EQUAL(order[n], drives[n].id.c_str());
    LONGS_EQUAL(n, drives[n].slot);
  }

  const DriveInfo& nvme = drives[0];
  CHECK_EQUAL(1953525168ULL * 512, nvme.capacity_bytes);
  STRCMP_EQUAL("SSD", nvme.media_type.c_str());
  STRCMP_EQUAL("NVMe", nvme.protocol.c_str());
  STRCMP_EQUAL("", nvme.manufacturer.c_str());
  STRCMP_EQUAL("Samsung SSD 980 PRO 1TB", nvme.model.c_str());
  STRCMP_EQUAL("S5GXNX0R123456", nvme.serial_number.c_str());
  CHECK_FALSE(nvme.failed);
  CHECK_TRUE(drives[2].failed);  // nvme10: controller dead

  const DriveInfo& hdd = drives[3];
  CHECK_EQUAL(7814037168ULL * 512, hdd.capacity_bytes);
  STRCMP_EQUAL("HDD", hdd.media_type.c_str());
  STRCMP_EQUAL("", hdd.protocol.c_str());
  STRCMP_EQUAL("SEAGATE", hdd.manufacturer.c_str());  // trimmed: sysfs pads it with spaces
  STRCMP_EQUAL("ST4000NM0025", hdd.model.c_str());
  STRCMP_EQUAL("ZC1A2B3C", hdd.serial_number.c_str());
  CHECK_FALSE(hdd.failed);

  const DriveInfo& offline = drives[4];  // sdb: SCSI offline
  CHECK_TRUE(offline.failed);
  STRCMP_EQUAL("SSD", offline.media_type.c_str());
  STRCMP_EQUAL("", offline.serial_number.c_str());
  CHECK_FALSE(drives[5].failed);  // sdaa: no device/state at all

  const DriveInfo& vda = drives[6];
  CHECK_EQUAL(2097152ULL * 512, vda.capacity_bytes);
  STRCMP_EQUAL("HDD", vda.media_type.c_str());
  STRCMP_EQUAL("", vda.protocol.c_str());
  STRCMP_EQUAL("", vda.manufacturer.c_str());  // not virtio's vendor number
  STRCMP_EQUAL("QM00001", vda.serial_number.c_str());
  CHECK_FALSE(vda.failed);
}

TEST(LinuxHardware, ShelfIoRatesFromDiskstats) {
  makeShelf();
  const std::string proc = makeTempDir();
  // 100 s since boot; the shelf's drives counted, a partition and a loop device beside them
  writeFile(proc + "/uptime", "100.00 350.00\n");
  writeFile(proc + "/diskstats",
            "   8       0 sda 1000 10 20000 500 400 4 8000 300 0 700 800 0 0 0 0\n"
            "   8       1 sda1 900 0 18000 450 300 0 6000 200 0 600 650 0 0 0 0\n"
            "   8      16 sdb 1000 0 2000 10 0 0 0 0 0 10 10\n"
            "   7       0 loop0 50000 0 100000 10 0 0 0 0 0 10 10\n"
            " 259       0 nvme0n1 3000 0 6000 10 100 0 200 5 0 15 15 0 0 0 0 7 1\n");
  auto hw = makeLinuxHardware(root, proc);
  PerformanceReading p = hw->performance();
  // the first reading: the average since boot of sda, sdb and nvme0n1 (the others have no
  // counters there and are named)
  CHECK_TRUE(p.io.has_value());
  CHECK_TRUE(p.io_since_boot);
  LONGS_EQUAL(100000, p.io_interval_ms);
  DOUBLES_EQUAL((1000 + 1000 + 3000) / 100.0, p.io->read_iops, 1e-9);
  DOUBLES_EQUAL((400 + 100) / 100.0, p.io->write_iops, 1e-9);
  DOUBLES_EQUAL((20000 + 2000 + 6000) * 512 / 100.0, p.io->read_bytes_per_second, 1e-6);
  DOUBLES_EQUAL((8000 + 200) * 512 / 100.0, p.io->write_bytes_per_second, 1e-6);
  STRCMP_CONTAINS("diskstats: no counters for nvme2n1, nvme10n1, sdaa, vda",
                  hw->lastError().c_str());
  CHECK_FALSE(p.cpu_percent.has_value());  // spd reads /proc/stat itself
  CHECK_FALSE(p.memory_percent.has_value());

  // read again at once: within the minimum interval, the same figures
  writeFile(proc + "/diskstats", "   8       0 sda 999999 0 0 0 0 0 0 0 0 0 0\n");
  DOUBLES_EQUAL(p.io->read_iops, hw->performance().io->read_iops, 1e-9);
  fs::remove_all(proc);
}

TEST(LinuxHardware, UnreadableDiskstatsLeavesTheRatesOut) {
  makeShelf();
  const std::string proc = makeTempDir();
  auto hw = makeLinuxHardware(root, proc);
  PerformanceReading p = hw->performance();
  CHECK_FALSE(p.io.has_value());
  STRCMP_CONTAINS(("cannot read " + proc + "/diskstats").c_str(), hw->lastError().c_str());
  fs::remove_all(proc);
}

TEST(LinuxHardware, UnreadableDriveAttributeIsSkippedAndNamed) {
  makeShelf();
  attr("block/sda/size", "lots");
  attr("block/sdb/queue/rotational", "spinning");
  auto hw = makeLinuxHardware(root);
  auto drives = hw->drives();
  LONGS_EQUAL(7, drives.size());  // still reported, without what could not be read
  CHECK_EQUAL(0ULL, drives[3].capacity_bytes);
  STRCMP_EQUAL("SSD", drives[4].media_type.c_str());
  STRCMP_CONTAINS((root + "/block/sda/size: not an integer").c_str(), hw->lastError().c_str());
  STRCMP_CONTAINS((root + "/block/sdb/queue/rotational").c_str(), hw->lastError().c_str());
  hw->sensors();  // another call's clean read does not hide the problem
  STRCMP_CONTAINS("block/sda/size", hw->lastError().c_str());

  attr("block/sda/size", "7814037168");  // read again on every call
  attr("block/sdb/queue/rotational", "0");
  CHECK_EQUAL(7814037168ULL * 512, hw->drives()[3].capacity_bytes);
  STRCMP_EQUAL("", hw->lastError().c_str());
}

// A QEMU board's shelf (docs/QEMU-PAIR.md): the config disk is not a shelf drive, and the
// front-end NIC is reported as the SP's iSCSI port.
TEST(LinuxHardware, ExcludedDisksAreNotShelfDrives) {
  makeShelf();
  LinuxHardwareOptions options;
  options.sysfs_root = root;
  options.exclude_drives = {"vda", "nvme2n1"};
  auto drives = makeLinuxHardware(options)->drives();
  const char* const order[] = {"nvme0n1", "nvme10n1", "sda", "sdb", "sdaa"};
  LONGS_EQUAL(std::size(order), drives.size());
  for (size_t n = 0; n < drives.size(); ++n) {
    STRCMP_EQUAL(order[n], drives[n].id.c_str());
    LONGS_EQUAL(n, drives[n].slot);  // slots close up over what is left out
  }
}

TEST(LinuxHardware, IscsiTargetNameIsLowerCase) {
  STRCMP_EQUAL("iqn.2026-12.com.dualsp:qemu.sp-a", iscsiTargetName("qemu", 'A').c_str());
  STRCMP_EQUAL("iqn.2026-12.com.dualsp:lab-array_7.sp-b",
               iscsiTargetName("Lab-Array_7", 'B').c_str());
}

TEST(LinuxHardware, NoPortalsNoPorts) {
  attr("class/net/eth2/operstate", "up");
  auto hw = makeLinuxHardware(root);
  CHECK_TRUE(hw->ports().empty());
}

TEST(LinuxHardware, FrontEndIscsiPortsFromTheSettings) {
  attr("class/net/eth2/operstate", "up");
  attr("class/net/eth2/speed", "-1");  // virtio: unknown
  attr("class/net/eth3/operstate", "up");
  attr("class/net/eth3/speed", "25000");
  attr("class/net/eth4/operstate", "down");
  LinuxHardwareOptions options;
  options.sysfs_root = root;
  options.iscsi_target = iscsiTargetName("qemu", 'A');
  options.iscsi_portals = {{"eth2", "198.18.2.11", 24},
                           {"eth3", "198.18.3.11", 24},
                           {"eth4", "198.18.4.11", 24},
                           {"eth9", "198.18.5.11", 24}};  // no such NIC
  auto hw = makeLinuxHardware(options);
  auto ports = hw->ports();
  STRCMP_EQUAL("", hw->lastError().c_str());
  LONGS_EQUAL(4, ports.size());
  const char* const ids[] = {"iSCSI0", "iSCSI1", "iSCSI2", "iSCSI3"};
  const char* const portals[] = {"198.18.2.11:3260", "198.18.3.11:3260", "198.18.4.11:3260",
                                 "198.18.5.11:3260"};
  for (size_t n = 0; n < ports.size(); ++n) {
    STRCMP_EQUAL(ids[n], ports[n].id.c_str());
    STRCMP_EQUAL("iSCSI", ports[n].protocol.c_str());
    STRCMP_EQUAL("iqn.2026-12.com.dualsp:qemu.sp-a", ports[n].identifier.c_str());
    STRCMP_EQUAL(portals[n], ports[n].address.c_str());
  }
  CHECK_TRUE(ports[0].link_up);
  LONGS_EQUAL(0, ports[0].speed_mbps);
  CHECK_TRUE(ports[1].link_up);
  LONGS_EQUAL(25000, ports[1].speed_mbps);
  CHECK_FALSE(ports[2].link_up);
  LONGS_EQUAL(0, ports[2].speed_mbps);
  CHECK_FALSE(ports[3].link_up);

  attr("class/net/eth4/operstate", "up");  // read again on every call
  CHECK_TRUE(hw->ports()[2].link_up);
  attr("class/net/eth3/speed", "fast");
  CHECK_EQUAL(0u, hw->ports()[1].speed_mbps);
  STRCMP_CONTAINS("class/net/eth3/speed: not an integer", hw->lastError().c_str());
}

TEST_GROUP(SystemMetrics) {
  std::string proc;

  void setup() override {
    proc = makeTempDir();
  }
  void teardown() override {
    fs::remove_all(proc);
  }
};

TEST(SystemMetrics, FromAFakeProc) {
  writeFile(proc + "/loadavg", "1.25 0.58 0.59 1/389 12345\n");
  writeFile(proc + "/meminfo",
            "MemTotal:       16318000 kB\nMemFree:         1000000 kB\n"
            "MemAvailable:   12000000 kB\nBuffers:          200000 kB\n");
  SystemMetrics m = readSystemMetrics(proc);
  DOUBLES_EQUAL(1.25, m.cpu_load_1m, 1e-9);
  LONGS_EQUAL(16318000, m.memory_total_kb);
  LONGS_EQUAL(12000000, m.memory_available_kb);
}

TEST(SystemMetrics, MissingFilesReadAsZero) {
  SystemMetrics m = readSystemMetrics(proc + "/absent");
  DOUBLES_EQUAL(0, m.cpu_load_1m, 1e-9);
  LONGS_EQUAL(0, m.memory_total_kb);
  LONGS_EQUAL(0, m.memory_available_kb);
}

TEST(SystemMetrics, FromTheRealProc) {
  SystemMetrics m = readSystemMetrics();
  CHECK_TRUE(m.memory_total_kb > 0);
  CHECK_TRUE(m.memory_available_kb > 0);
  CHECK_TRUE(m.memory_available_kb <= m.memory_total_kb);
  CHECK_TRUE(m.cpu_load_1m >= 0);  // an idle host may well show 0.00
}

}  // namespace dualsp::platform
