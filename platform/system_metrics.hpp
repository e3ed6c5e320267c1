#pragma once
// Load and memory of this SP, from /proc (health monitor, Redfish Manager Oem.DualSP), and the
// figures that need two readings of the kernel's counters: CPU utilisation (/proc/stat) and
// the I/O of block devices (/proc/diskstats). docs/METRICS.md.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/hardware.hpp"

namespace dualsp::platform {

struct SystemMetrics {
  double cpu_load_1m = 0;  // the 1-minute load average
  uint64_t memory_total_kb = 0;
  uint64_t memory_available_kb = 0;
};

// Reads <proc_root>/loadavg and <proc_root>/meminfo; a value that cannot be read stays 0.
SystemMetrics readSystemMetrics(const std::string& proc_root = "/proc");

// Memory in use, 0-100: MemTotal less MemAvailable (what the kernel could not hand to a new
// program without swapping); nullopt when MemTotal is not known.
std::optional<double> memoryUsedPercent(const SystemMetrics& m);

// The aggregate "cpu" line of /proc/stat, in clock ticks since boot. Idle is idle + iowait;
// guest time is already inside user and nice, so it is not added again.
struct CpuTimes {
  uint64_t busy = 0;
  uint64_t total = 0;
};
// nullopt when `proc_stat` has no well-formed "cpu " line (at least user, nice, system, idle).
std::optional<CpuTimes> parseCpuTimes(std::string_view proc_stat);
// The busy share of the ticks between two readings, 0-100; nullopt when no tick passed or the
// counters went back (another boot's, or a wrap).
std::optional<double> cpuPercentBetween(const CpuTimes& earlier, const CpuTimes& later);

// One device's counters from /proc/diskstats (Documentation/admin-guide/iostats.rst): reads
// and writes completed, and 512-byte sectors read and written, since boot.
struct DiskCounters {
  uint64_t reads = 0;
  uint64_t sectors_read = 0;
  uint64_t writes = 0;
  uint64_t sectors_written = 0;
};
using DiskCounterMap = std::map<std::string, DiskCounters>;  // by kernel name ("sda")
// Every device line of /proc/diskstats; a line that is not one (too few fields, a field that is
// not a number) is skipped and counted in `*malformed`.
DiskCounterMap parseDiskstats(std::string_view text, size_t* malformed = nullptr);
// The I/O per second of `devices` over `seconds` between two readings, summed. A device absent
// from either reading, or whose counters went back (a wrap of 32-bit counters, a device
// replaced), is left out of that interval. Zero rates when seconds <= 0.
IoRates ioRatesBetween(const DiskCounterMap& earlier, const DiskCounterMap& later,
                       const std::vector<std::string>& devices, double seconds);

// Figures over an interval of at least kMinRateInterval: CPU % and I/O rates need two readings
// of counters, and a short interval measures noise (the kernel counts CPU time in 10 ms ticks).
inline constexpr std::chrono::milliseconds kMinRateInterval{1000};

// How the two samplers below read: the first call has no earlier reading and reports the
// average since boot (the kernel's counters start at zero then); a later call at least
// `min_interval` after the reading that began the interval reports that interval and begins the
// next; a call sooner returns the last figures again, so no figure covers less than
// `min_interval` and readers close together see the same figures. Thread-safe; never throws.
struct RateInterval {
  uint64_t ms = 0;          // what the figures cover (since boot: the uptime, 0 if unknown)
  bool since_boot = false;  // the first reading: the average since boot
};

class CpuSampler {
 public:
  using Clock = std::chrono::steady_clock;
  struct Reading {
    std::optional<double> percent;  // nullopt: /proc/stat could not be read
    RateInterval interval;
    std::string error;  // why percent is missing, or empty
  };

  explicit CpuSampler(std::string proc_root = "/proc",
                      std::chrono::milliseconds min_interval = kMinRateInterval,
                      std::function<Clock::time_point()> now = Clock::now);
  Reading read();

 private:
  const std::string proc_root_;
  const std::chrono::milliseconds min_interval_;
  const std::function<Clock::time_point()> now_;
  std::mutex mutex_;
  std::optional<CpuTimes> base_;  // the reading that began the current interval
  Clock::time_point base_at_{};
  std::optional<Reading> last_;
};

class DiskIoSampler {
 public:
  using Clock = std::chrono::steady_clock;
  struct Reading {
    std::optional<IoRates> rates;  // nullopt: /proc/diskstats could not be read
    RateInterval interval;
    std::string error;  // why rates are missing, or what else went wrong; empty when fine
  };

  explicit DiskIoSampler(std::string proc_root = "/proc",
                         std::chrono::milliseconds min_interval = kMinRateInterval,
                         std::function<Clock::time_point()> now = Clock::now);
  // The rates of `devices` (kernel names). The interval's figures are for the devices asked
  // for when it ended; asking for other devices within min_interval starts a new figure.
  Reading read(const std::vector<std::string>& devices);

 private:
  const std::string proc_root_;
  const std::chrono::milliseconds min_interval_;
  const std::function<Clock::time_point()> now_;
  std::mutex mutex_;
  std::optional<DiskCounterMap> base_;
  Clock::time_point base_at_{};
  std::optional<Reading> last_;
  std::vector<std::string> last_devices_;
};

}  // namespace dualsp::platform
