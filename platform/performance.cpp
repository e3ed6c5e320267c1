#include "platform/performance.hpp"

namespace dualsp::platform {
namespace {

void addError(std::string& errors, const std::string& error) {
  if (!error.empty()) errors += (errors.empty() ? "" : "; ") + error;
}

}  // namespace

PerformanceMonitor::PerformanceMonitor(Hardware* hardware, std::string proc_root,
                                       std::chrono::milliseconds min_interval,
                                       std::function<CpuSampler::Clock::time_point()> now)
    : hardware_(hardware), proc_root_(proc_root), cpu_(std::move(proc_root), min_interval, now) {}

PerformanceFigures PerformanceMonitor::read() {
  PerformanceFigures f;
  const PerformanceReading hw = hardware_ ? hardware_->performance() : PerformanceReading{};
  if (hw.cpu_percent) {
    f.cpu_percent = hw.cpu_percent;
  } else {
    CpuSampler::Reading cpu = cpu_.read();
    f.cpu_percent = cpu.percent;
    f.cpu_interval = cpu.interval;
    addError(f.error, cpu.error);
  }
  if (hw.memory_percent) {
    f.memory_percent = hw.memory_percent;
  } else {
    f.memory_percent = memoryUsedPercent(readSystemMetrics(proc_root_));
    if (!f.memory_percent) addError(f.error, "cannot read MemTotal in " + proc_root_ + "/meminfo");
  }
  f.io = hw.io;
  f.io_interval = {hw.io_interval_ms, hw.io_since_boot};
  if (!hardware_) {
    addError(f.error, "no hardware to read the shelf's I/O from");
  } else {
    // Why the hardware left the I/O rates out. (A sim description spoiled by an edit keeps
    // the last good one's figures; its health monitor reports the file.)
    if (!f.io) {
      const std::string problem = hardware_->lastError();
      addError(f.error, problem.empty() ? hardware_->describe() + " gives no I/O rates" : problem);
    }
  }
  return f;
}

}  // namespace dualsp::platform
