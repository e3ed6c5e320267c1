#include "platform/system_metrics.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include "platform/unique_fd.hpp"

namespace dualsp::platform {
namespace {

// /proc/diskstats has a line per block device and partition; more than this is not /proc.
constexpr size_t kMaxProcFileBytes = 1 << 20;
constexpr double kSectorBytes = 512;  // diskstats counts 512-byte sectors whatever the disk's

// The first whitespace-separated number of `text`, or 0.
template <typename T>
T leadingNumber(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return 0;
  T value{};
  auto [end, ec] = std::from_chars(text.data() + first, text.data() + text.size(), value);
  return ec == std::errc() ? value : T{};
}

// The whitespace-separated fields of one line.
std::vector<std::string_view> fieldsOf(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    const size_t start = line.find_first_not_of(" \t", i);
    if (start == std::string_view::npos) break;
    const size_t end = std::min(line.find_first_of(" \t", start), line.size());
    out.push_back(line.substr(start, end - start));
    i = end;
  }
  return out;
}

std::optional<uint64_t> unsignedField(std::string_view field) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size()) return std::nullopt;
  return value;
}

// The whole of a small /proc file; false with `error` naming the file and the reason.
bool readProcFile(const std::string& path, std::string& text, std::string& error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  text.clear();
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read " + path + ": " + std::strerror(errno);
      return false;
    }
    if (n == 0) return true;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxProcFileBytes) {
      error = path + ": larger than " + std::to_string(kMaxProcFileBytes) + " bytes";
      return false;
    }
  }
}

// Time since boot from <proc_root>/uptime ("12345.67 54321.00"), in ms; nullopt when unknown.
std::optional<uint64_t> uptimeMs(const std::string& proc_root) {
  std::string text, error;
  if (!readProcFile(proc_root + "/uptime", text, error)) return std::nullopt;
  const double seconds = leadingNumber<double>(text);
  if (!(seconds > 0)) return std::nullopt;
  return static_cast<uint64_t>(seconds * 1000);
}

uint64_t millisOf(std::chrono::steady_clock::duration d) {
  return static_cast<uint64_t>(
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

}  // namespace

SystemMetrics readSystemMetrics(const std::string& proc_root) {
  SystemMetrics m;
  // "0.52 0.58 0.59 1/389 12345"
  if (std::ifstream loadavg(proc_root + "/loadavg"); loadavg) {
    std::string line;
    std::getline(loadavg, line);
    m.cpu_load_1m = leadingNumber<double>(line);
  }
  // "MemTotal:       16318000 kB"
  std::ifstream meminfo(proc_root + "/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    std::string_view l(line);
    if (l.starts_with("MemTotal:")) {
      m.memory_total_kb = leadingNumber<uint64_t>(l.substr(9));
    } else if (l.starts_with("MemAvailable:")) {
      m.memory_available_kb = leadingNumber<uint64_t>(l.substr(13));
    }
  }
  return m;
}

std::optional<double> memoryUsedPercent(const SystemMetrics& m) {
  if (m.memory_total_kb == 0) return std::nullopt;
  const uint64_t available = std::min(m.memory_available_kb, m.memory_total_kb);
  return 100.0 * static_cast<double>(m.memory_total_kb - available) /
         static_cast<double>(m.memory_total_kb);
}

std::optional<CpuTimes> parseCpuTimes(std::string_view proc_stat) {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (proc(5))
  size_t at = 0;
  while (at < proc_stat.size()) {
    size_t end = proc_stat.find('\n', at);
    if (end == std::string_view::npos) end = proc_stat.size();
    const std::string_view line = proc_stat.substr(at, end - at);
    at = end + 1;
    const std::vector<std::string_view> f = fieldsOf(line);
    if (f.empty() || f[0] != "cpu") continue;
    if (f.size() < 5) return std::nullopt;
    uint64_t ticks[8] = {};
    for (size_t i = 1; i < f.size() && i <= 8; ++i) {
      std::optional<uint64_t> v = unsignedField(f[i]);
      if (!v) return std::nullopt;
      ticks[i - 1] = *v;
    }
    CpuTimes t;
    for (uint64_t v : ticks) t.total += v;
    t.busy = t.total - ticks[3] - ticks[4];  // less idle and iowait
    return t;
  }
  return std::nullopt;
}

std::optional<double> cpuPercentBetween(const CpuTimes& earlier, const CpuTimes& later) {
  if (later.total <= earlier.total || later.busy < earlier.busy) return std::nullopt;
  const double total = static_cast<double>(later.total - earlier.total);
  const double busy = static_cast<double>(later.busy - earlier.busy);
  return std::clamp(100.0 * busy / total, 0.0, 100.0);
}

DiskCounterMap parseDiskstats(std::string_view text, size_t* malformed) {
  // "   8       0 sda 1554 436 88334 1003 318 256 17562 1208 0 1432 2212 ..." (iostats.rst):
  // major minor name, then reads completed, merged, sectors read, ms reading, writes
  // completed, merged, sectors written, ...
  DiskCounterMap out;
  size_t bad = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    const std::vector<std::string_view> f = fieldsOf(line);
    if (f.empty()) continue;
    if (f.size() < 10) {
      ++bad;
      continue;
    }
    const auto reads = unsignedField(f[3]);
    const auto sectors_read = unsignedField(f[5]);
    const auto writes = unsignedField(f[7]);
    const auto sectors_written = unsignedField(f[9]);
    if (!reads || !sectors_read || !writes || !sectors_written) {
      ++bad;
      continue;
    }
    out[std::string(f[2])] = DiskCounters{*reads, *sectors_read, *writes, *sectors_written};
  }
  if (malformed) *malformed = bad;
  return out;
}

IoRates ioRatesBetween(const DiskCounterMap& earlier, const DiskCounterMap& later,
                       const std::vector<std::string>& devices, double seconds) {
  IoRates r;
  if (!(seconds > 0)) return r;
  for (const std::string& name : devices) {
    auto a = earlier.find(name);
    auto b = later.find(name);
    if (a == earlier.end() || b == later.end()) continue;
    const DiskCounters& x = a->second;
    const DiskCounters& y = b->second;
    if (y.reads < x.reads || y.sectors_read < x.sectors_read || y.writes < x.writes ||
        y.sectors_written < x.sectors_written)
      continue;
    r.read_iops += static_cast<double>(y.reads - x.reads) / seconds;
    r.write_iops += static_cast<double>(y.writes - x.writes) / seconds;
    r.read_bytes_per_second +=
        static_cast<double>(y.sectors_read - x.sectors_read) * kSectorBytes / seconds;
    r.write_bytes_per_second +=
        static_cast<double>(y.sectors_written - x.sectors_written) * kSectorBytes / seconds;
  }
  return r;
}

CpuSampler::CpuSampler(std::string proc_root, std::chrono::milliseconds min_interval,
                       std::function<Clock::time_point()> now)
    : proc_root_(std::move(proc_root)), min_interval_(min_interval), now_(std::move(now)) {}

CpuSampler::Reading CpuSampler::read() {
  std::lock_guard lock(mutex_);
  const Clock::time_point now = now_();
  if (last_ && base_ && now - base_at_ < min_interval_) return *last_;
  const std::string path = proc_root_ + "/stat";
  std::string text;
  Reading r;
  if (!readProcFile(path, text, r.error)) return r;
  const std::optional<CpuTimes> times = parseCpuTimes(text);
  if (!times) {
    r.error = path + ": no readable \"cpu\" line";
    return r;
  }
  std::optional<double> percent = base_ ? cpuPercentBetween(*base_, *times) : std::nullopt;
  if (percent) {
    r.percent = percent;
    r.interval = {millisOf(now - base_at_), false};
  } else if (base_ && times->total >= base_->total && last_) {
    return *last_;  // no tick counted since: nothing new to say
  } else {
    // The first reading, or counters that went back: the average since boot.
    r.percent = cpuPercentBetween(CpuTimes{}, *times);
    r.interval = {uptimeMs(proc_root_).value_or(0), true};
    if (!r.percent) r.error = path + ": no CPU time counted yet";
  }
  base_ = times;
  base_at_ = now;
  last_ = r;
  return r;
}

DiskIoSampler::DiskIoSampler(std::string proc_root, std::chrono::milliseconds min_interval,
                             std::function<Clock::time_point()> now)
    : proc_root_(std::move(proc_root)), min_interval_(min_interval), now_(std::move(now)) {}

DiskIoSampler::Reading DiskIoSampler::read(const std::vector<std::string>& devices) {
  std::lock_guard lock(mutex_);
  const Clock::time_point now = now_();
  if (last_ && base_ && devices == last_devices_ && now - base_at_ < min_interval_) return *last_;
  const std::string path = proc_root_ + "/diskstats";
  std::string text;
  Reading r;
  if (!readProcFile(path, text, r.error)) return r;
  size_t malformed = 0;
  DiskCounterMap counters = parseDiskstats(text, &malformed);
  std::string missing;
  for (const std::string& d : devices)
    if (!counters.count(d)) missing += (missing.empty() ? "" : ", ") + d;
  if (!missing.empty()) r.error = path + ": no counters for " + missing;
  if (malformed > 0)
    r.error += (r.error.empty() ? path + ": " : "; ") + std::to_string(malformed) +
               " malformed line" + (malformed == 1 ? "" : "s") + " skipped";

  const bool advance = !base_ || now - base_at_ >= min_interval_;
  if (base_ && now > base_at_) {
    r.rates = ioRatesBetween(*base_, counters, devices,
                             std::chrono::duration<double>(now - base_at_).count());
    r.interval = {millisOf(now - base_at_), false};
  } else if (std::optional<uint64_t> up = uptimeMs(proc_root_)) {
    // The first reading: the average since boot, when the counters were zero.
    DiskCounterMap zero;
    for (const auto& entry : counters) zero[entry.first] = DiskCounters{};
    r.rates = ioRatesBetween(zero, counters, devices, static_cast<double>(*up) / 1000);
    r.interval = {*up, true};
  } else {
    r.error += (r.error.empty() ? "" : "; ") + std::string("cannot tell the time since boot (") +
               proc_root_ + "/uptime): rates from the next reading on";
  }
  if (advance) {
    base_ = std::move(counters);
    base_at_ = now;
  }
  if (r.rates) {
    last_ = r;
    last_devices_ = devices;
  }
  return r;
}

}  // namespace dualsp::platform
