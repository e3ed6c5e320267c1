#pragma once
// This SP's performance figures (docs/METRICS.md): CPU and memory from /proc
// (platform/system_metrics), the shelf's I/O rates from the hardware (Hardware::performance()),
// whose sim back end may stand in for the CPU and memory figures too.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "platform/hardware.hpp"
#include "platform/system_metrics.hpp"

namespace dualsp::platform {

struct PerformanceFigures {
  std::optional<double> cpu_percent;  // nullopt: not known (error says why)
  RateInterval cpu_interval;          // {0, false} for a figure the hardware gave
  std::optional<double> memory_percent;
  std::optional<IoRates> io;
  RateInterval io_interval;  // {0, false}: rates as the source gives them now (sim)
  std::string error;         // what could not be read; empty when every figure is known
};

// Thread-safe; never throws. One per spd, shared by every command that shows the figures, so
// they all see the same intervals.
class PerformanceMonitor {
 public:
  // `hardware` may be null (a bare sim SP): no I/O figures then.
  explicit PerformanceMonitor(
      Hardware* hardware, std::string proc_root = "/proc",
      std::chrono::milliseconds min_interval = kMinRateInterval,
      std::function<CpuSampler::Clock::time_point()> now = CpuSampler::Clock::now);
  PerformanceFigures read();

 private:
  Hardware* hardware_;
  const std::string proc_root_;
  CpuSampler cpu_;
};

}  // namespace dualsp::platform
