// The figures that need two readings of the kernel's counters: /proc/stat and /proc/diskstats
// parsed from fixture files, the deltas between readings with an injected clock (first reading,
// minimum interval, counters that go back), and the performance monitor that adds the
// hardware's figures (platform/performance.hpp).

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "platform/performance.hpp"
#include "platform/system_metrics.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

namespace dualsp::platform {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// "cpu" line with user nice system idle iowait irq softirq steal guest guest_nice.
std::string statWith(uint64_t user, uint64_t system, uint64_t idle, uint64_t iowait) {
  return "cpu  " + std::to_string(user) + " 0 " + std::to_string(system) + " " +
         std::to_string(idle) + " " + std::to_string(iowait) +
         " 0 0 0 0 0\n"
         "cpu0 1 2 3 4 5 6 7 8 9 10\n"
         "intr 12345 0 0\nctxt 999\nbtime 1700000000\n";
}

std::string diskLine(const char* name, uint64_t reads, uint64_t sectors_read, uint64_t writes,
                     uint64_t sectors_written) {
  return "   8       0 " + std::string(name) + " " + std::to_string(reads) + " 0 " +
         std::to_string(sectors_read) + " 0 " + std::to_string(writes) + " 0 " +
         std::to_string(sectors_written) + " 0 0 0 0 0 0 0 0\n";
}

// Hardware of the test's own: performance() answers what the test set.
class FakeHardware final : public Hardware {
 public:
  std::vector<SensorReading> sensors() override { return {}; }
  std::vector<InventoryItem> inventory() override { return {}; }
  std::vector<HardwareFault> faults() override { return {}; }
  PerformanceReading performance() override { return reading; }
  std::string describe() const override { return "fake hardware"; }
  std::string lastError() const override { return error; }
  PerformanceReading reading;
  std::string error;
};

}  // namespace

TEST_GROUP(ProcCounters){};

TEST(ProcCounters, CpuTimesFromTheAggregateLine) {
  std::optional<CpuTimes> t = parseCpuTimes(statWith(400, 100, 450, 50));
  CHECK_TRUE(t.has_value());
  CHECK_EQUAL(1000u, t->total);
  CHECK_EQUAL(500u, t->busy);  // less idle and iowait
  // guest time is inside user already: not counted twice
  t = parseCpuTimes("cpu  10 0 0 10 0 0 0 0 5 5\n");
  CHECK_EQUAL(20u, t->total);
  // an old kernel's four fields
  t = parseCpuTimes("cpu 1 2 3 4\n");
  CHECK_EQUAL(10u, t->total);
  CHECK_EQUAL(6u, t->busy);
}

TEST(ProcCounters, MalformedStatHasNoCpuTimes) {
  CHECK_FALSE(parseCpuTimes("").has_value());
  CHECK_FALSE(parseCpuTimes("cpu0 1 2 3 4 5\nintr 1\n").has_value());  // no aggregate line
  CHECK_FALSE(parseCpuTimes("cpu 1 2 3\n").has_value());               // too few fields
  CHECK_FALSE(parseCpuTimes("cpu 1 2 x 4 5\n").has_value());
  CHECK_FALSE(parseCpuTimes("cpu -1 2 3 4 5\n").has_value());
}

TEST(ProcCounters, CpuPercentBetweenTwoReadings) {
  DOUBLES_EQUAL(25, cpuPercentBetween({100, 1000}, {150, 1200}).value_or(-1), 1e-9);
  DOUBLES_EQUAL(100, cpuPercentBetween({0, 0}, {10, 10}).value_or(-1), 1e-9);
  CHECK_FALSE(cpuPercentBetween({100, 1000}, {100, 1000}).has_value());  // no tick passed
  CHECK_FALSE(cpuPercentBetween({100, 1000}, {50, 500}).has_value());    // went back
}

TEST(ProcCounters, DiskstatsLinesAndMalformedOnes) {
  size_t malformed = 99;
  DiskCounterMap m = parseDiskstats(diskLine("sda", 10, 20, 30, 40) +
                                        "   8      16 sdb 1 0 2 0 3 0 4 0 0 0 0\n"  // 11 fields
                                        "   8      17 sdb1 1 2 3 4\n"               // old partition
                                        "   8      32 sdc x 0 2 0 3 0 4 0 0 0 0\n"
                                        "\n",
                                    &malformed);
  LONGS_EQUAL(2, m.size());
  CHECK_EQUAL(10u, m["sda"].reads);
  CHECK_EQUAL(20u, m["sda"].sectors_read);
  CHECK_EQUAL(30u, m["sda"].writes);
  CHECK_EQUAL(40u, m["sda"].sectors_written);
  CHECK_EQUAL(4u, m["sdb"].sectors_written);
  LONGS_EQUAL(2, malformed);  // sdb1 (too few fields) and sdc (not a number)
  LONGS_EQUAL(0, parseDiskstats("").size());
}

TEST(ProcCounters, IoRatesSumTheDevicesAskedFor) {
  DiskCounterMap a = {
      {"sda", {100, 1000, 50, 800}}, {"sdb", {0, 0, 0, 0}}, {"loop0", {0, 0, 0, 0}}};
  DiskCounterMap b = {
      {"sda", {300, 3000, 150, 2800}}, {"sdb", {100, 200, 0, 0}}, {"loop0", {1000, 1000, 0, 0}}};
  IoRates r = ioRatesBetween(a, b, {"sda", "sdb", "sdx"}, 2.0);
  DOUBLES_EQUAL((200 + 100) / 2.0, r.read_iops, 1e-9);
  DOUBLES_EQUAL(100 / 2.0, r.write_iops, 1e-9);
  DOUBLES_EQUAL((2000 + 200) * 512 / 2.0, r.read_bytes_per_second, 1e-9);
  DOUBLES_EQUAL(2000 * 512 / 2.0, r.write_bytes_per_second, 1e-9);
  // a device whose counters went back (a 32-bit wrap, a replaced disk) is left out
  b["sda"].reads = 1;
  r = ioRatesBetween(a, b, {"sda", "sdb"}, 2.0);
  DOUBLES_EQUAL(100 / 2.0, r.read_iops, 1e-9);  // sdb's alone
  DOUBLES_EQUAL(0, r.write_bytes_per_second, 1e-9);
  r = ioRatesBetween(a, b, {"sdb"}, 0);  // no time passed: no rate
  DOUBLES_EQUAL(0, r.read_iops, 1e-9);
}

TEST(ProcCounters, MemoryUsedPercent) {
  DOUBLES_EQUAL(25, memoryUsedPercent({0, 1000, 750}).value_or(-1), 1e-9);
  DOUBLES_EQUAL(100, memoryUsedPercent({0, 1000, 0}).value_or(-1), 1e-9);
  DOUBLES_EQUAL(0, memoryUsedPercent({0, 1000, 2000}).value_or(-1), 1e-9);  // never below 0
  CHECK_FALSE(memoryUsedPercent({0, 0, 0}).has_value());
}

TEST_GROUP(Samplers) {
  std::string proc;
  Clock::time_point now = Clock::time_point() + std::chrono::hours(1);

  void setup() override {
    char tmpl[] = "/tmp/dualsp-ut-proc-XXXXXX";
    CHECK_TRUE(::mkdtemp(tmpl) != nullptr);
    proc = tmpl;
    writeFile(proc + "/uptime", "250.50 900.00\n");
  }
  void teardown() override {
    fs::remove_all(proc);
  }
  std::function<Clock::time_point()> clock() {
    return [this] { return now; };
  }
};

TEST(Samplers, CpuFirstReadingIsSinceBootThenEachInterval) {
  CpuSampler cpu(proc, milliseconds(1000), clock());
  writeFile(proc + "/stat", statWith(150, 50, 700, 100));  // 20 % busy since boot
  CpuSampler::Reading r = cpu.read();
  DOUBLES_EQUAL(20, r.percent.value_or(-1), 1e-9);
  CHECK_TRUE(r.interval.since_boot);
  LONGS_EQUAL(250500, r.interval.ms);
  STRCMP_EQUAL("", r.error.c_str());

  // 1.5 s later: 300 ticks of which 240 busy
  writeFile(proc + "/stat", statWith(350, 90, 740, 120));
  now += milliseconds(1500);
  r = cpu.read();
  DOUBLES_EQUAL(80, r.percent.value_or(-1), 1e-9);
  CHECK_FALSE(r.interval.since_boot);
  LONGS_EQUAL(1500, r.interval.ms);

  // sooner than the minimum interval: the same figure, the file not even read
  writeFile(proc + "/stat", statWith(350, 90, 2000, 120));
  now += milliseconds(400);
  r = cpu.read();
  DOUBLES_EQUAL(80, r.percent.value_or(-1), 1e-9);
  LONGS_EQUAL(1500, r.interval.ms);

  // the next interval runs from the reading that began it (1.5 s), not from the last call
  now += milliseconds(700);
  r = cpu.read();
  DOUBLES_EQUAL(0, r.percent.value_or(-1), 1e-9);
  LONGS_EQUAL(1100, r.interval.ms);
}

TEST(Samplers, CpuCountersThatGoBackStartOverFromBoot) {
  CpuSampler cpu(proc, milliseconds(1000), clock());
  writeFile(proc + "/stat", statWith(500, 0, 500, 0));
  cpu.read();
  writeFile(proc + "/stat", statWith(10, 0, 30, 0));
  now += milliseconds(2000);
  CpuSampler::Reading r = cpu.read();
  DOUBLES_EQUAL(25, r.percent.value_or(-1), 1e-9);
  CHECK_TRUE(r.interval.since_boot);
}

TEST(Samplers, CpuUnreadableStatIsAbsentWithTheReason) {
  CpuSampler cpu(proc, milliseconds(1000), clock());
  CpuSampler::Reading r = cpu.read();
  CHECK_FALSE(r.percent.has_value());
  STRCMP_CONTAINS(("cannot read " + proc + "/stat").c_str(), r.error.c_str());
  writeFile(proc + "/stat", "intr 1 2 3\n");
  r = cpu.read();
  CHECK_FALSE(r.percent.has_value());
  STRCMP_CONTAINS("no readable \"cpu\" line", r.error.c_str());
  // once readable: the first good reading is since boot
  writeFile(proc + "/stat", statWith(1, 0, 3, 0));
  r = cpu.read();
  DOUBLES_EQUAL(25, r.percent.value_or(-1), 1e-9);
  CHECK_TRUE(r.interval.since_boot);
}

TEST(Samplers, DiskFirstReadingIsSinceBootThenEachInterval) {
  DiskIoSampler disks(proc, milliseconds(1000), clock());
  writeFile(proc + "/uptime", "100.00 0.00\n");
  writeFile(proc + "/diskstats", diskLine("sda", 1000, 20000, 500, 10000) +
                                     diskLine("sdb", 1000, 0, 0, 0) + diskLine("sdc", 7, 7, 7, 7));
  DiskIoSampler::Reading r = disks.read({"sda", "sdb"});
  CHECK_TRUE(r.rates.has_value());
  CHECK_TRUE(r.interval.since_boot);
  LONGS_EQUAL(100000, r.interval.ms);
  DOUBLES_EQUAL(20, r.rates->read_iops, 1e-9);
  DOUBLES_EQUAL(5, r.rates->write_iops, 1e-9);
  DOUBLES_EQUAL(20000 * 512 / 100.0, r.rates->read_bytes_per_second, 1e-9);
  STRCMP_EQUAL("", r.error.c_str());

  writeFile(proc + "/diskstats", diskLine("sda", 1400, 28000, 700, 10000) +
                                     diskLine("sdb", 1200, 400, 0, 0) +
                                     diskLine("sdc", 9, 9, 9, 9));
  now += milliseconds(2000);
  r = disks.read({"sda", "sdb"});
  CHECK_FALSE(r.interval.since_boot);
  LONGS_EQUAL(2000, r.interval.ms);
  DOUBLES_EQUAL(300, r.rates->read_iops, 1e-9);
  DOUBLES_EQUAL(100, r.rates->write_iops, 1e-9);
  DOUBLES_EQUAL(8400 * 512 / 2.0, r.rates->read_bytes_per_second, 1e-9);
  DOUBLES_EQUAL(0, r.rates->write_bytes_per_second, 1e-9);

  // within the minimum interval: the same figures
  now += milliseconds(10);
  DOUBLES_EQUAL(300, disks.read({"sda", "sdb"}).rates->read_iops, 1e-9);
}

TEST(Samplers, DiskProblemsAreNamed) {
  DiskIoSampler disks(proc, milliseconds(1000), clock());
  DiskIoSampler::Reading r = disks.read({"sda"});
  CHECK_FALSE(r.rates.has_value());
  STRCMP_CONTAINS(("cannot read " + proc + "/diskstats").c_str(), r.error.c_str());

  writeFile(proc + "/diskstats", diskLine("sda", 100, 0, 0, 0) + "garbage line\n");
  fs::remove(proc + "/uptime");
  r = disks.read({"sda", "sdz"});
  CHECK_FALSE(r.rates.has_value());  // no earlier reading and no uptime: nothing to divide by
  STRCMP_CONTAINS("no counters for sdz", r.error.c_str());
  STRCMP_CONTAINS("1 malformed line skipped", r.error.c_str());
  STRCMP_CONTAINS("rates from the next reading on", r.error.c_str());

  writeFile(proc + "/diskstats", diskLine("sda", 300, 0, 0, 0));
  now += milliseconds(1000);
  r = disks.read({"sda"});
  DOUBLES_EQUAL(200, r.rates.value_or(IoRates{}).read_iops, 1e-9);
  STRCMP_EQUAL("", r.error.c_str());
}

TEST(Samplers, NoDevicesIsNoIo) {
  DiskIoSampler disks(proc, milliseconds(1000), clock());
  writeFile(proc + "/diskstats", diskLine("sda", 100, 0, 0, 0));
  DiskIoSampler::Reading r = disks.read({});
  CHECK_TRUE(r.rates.has_value());
  DOUBLES_EQUAL(0, r.rates->read_iops, 1e-9);
}

TEST(Samplers, TheRealProc) {
  CpuSampler cpu;
  CpuSampler::Reading r = cpu.read();
  CHECK_TRUE(r.percent.has_value());
  CHECK_TRUE(*r.percent >= 0 && *r.percent <= 100);
  DiskIoSampler disks;
  CHECK_TRUE(disks.read({}).rates.has_value());
}

TEST_GROUP(PerformanceMonitor) {
  std::string proc;
  Clock::time_point now = Clock::time_point() + std::chrono::hours(1);

  void setup() override {
    char tmpl[] = "/tmp/dualsp-ut-proc-XXXXXX";
    CHECK_TRUE(::mkdtemp(tmpl) != nullptr);
    proc = tmpl;
    writeFile(proc + "/stat", statWith(30, 10, 50, 10));
    writeFile(proc + "/meminfo", "MemTotal: 8000 kB\nMemFree: 1000 kB\nMemAvailable: 6000 kB\n");
  }
  void teardown() override {
    fs::remove_all(proc);
  }
  std::function<Clock::time_point()> clock() {
    return [this] { return now; };
  }
};

TEST(PerformanceMonitor, ProcForCpuAndMemoryHardwareForIo) {
  FakeHardware hw;
  hw.reading.io = IoRates{10, 20, 4096, 8192};
  PerformanceMonitor monitor(&hw, proc, milliseconds(1000), clock());
  PerformanceFigures f = monitor.read();
  DOUBLES_EQUAL(40, f.cpu_percent.value_or(-1), 1e-9);
  CHECK_TRUE(f.cpu_interval.since_boot);
  DOUBLES_EQUAL(25, f.memory_percent.value_or(-1), 1e-9);
  DOUBLES_EQUAL(10, f.io->read_iops, 1e-9);
  DOUBLES_EQUAL(8192, f.io->write_bytes_per_second, 1e-9);
  STRCMP_EQUAL("", f.error.c_str());
}

TEST(PerformanceMonitor, TheSimStandsInForCpuAndMemory) {
  FakeHardware hw;
  hw.reading.io = IoRates{};
  hw.reading.cpu_percent = 87.5;
  hw.reading.memory_percent = 12;
  PerformanceMonitor monitor(&hw, proc + "/absent", milliseconds(1000), clock());
  PerformanceFigures f = monitor.read();
  DOUBLES_EQUAL(87.5, f.cpu_percent.value_or(-1), 1e-9);
  LONGS_EQUAL(0, f.cpu_interval.ms);
  DOUBLES_EQUAL(12, f.memory_percent.value_or(-1), 1e-9);
  STRCMP_EQUAL("", f.error.c_str());  // /proc was not needed
}

TEST(PerformanceMonitor, WhatCannotBeReadIsAbsentWithTheReason) {
  FakeHardware hw;  // no I/O figures
  hw.error = "hardware description /x.json: cannot read: No such file or directory";
  PerformanceMonitor monitor(&hw, proc + "/absent", milliseconds(1000), clock());
  PerformanceFigures f = monitor.read();
  CHECK_FALSE(f.cpu_percent.has_value());
  CHECK_FALSE(f.memory_percent.has_value());
  CHECK_FALSE(f.io.has_value());
  STRCMP_CONTAINS("/absent/stat", f.error.c_str());
  STRCMP_CONTAINS("MemTotal", f.error.c_str());
  STRCMP_CONTAINS("/x.json: cannot read", f.error.c_str());

  PerformanceMonitor bare(nullptr, proc, milliseconds(1000), clock());
  f = bare.read();
  CHECK_TRUE(f.cpu_percent.has_value());
  CHECK_FALSE(f.io.has_value());
  STRCMP_CONTAINS("no hardware", f.error.c_str());
}

}  // namespace dualsp::platform
