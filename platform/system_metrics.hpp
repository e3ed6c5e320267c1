#pragma once
// Load and memory of this SP, from /proc (health monitor, Redfish Manager Oem.DualSP).

#include <cstdint>
#include <string>

namespace dualsp::platform {

struct SystemMetrics {
  double cpu_load_1m = 0;  // the 1-minute load average
  uint64_t memory_total_kb = 0;
  uint64_t memory_available_kb = 0;
};

// Reads <proc_root>/loadavg and <proc_root>/meminfo; a value that cannot be read stays 0.
SystemMetrics readSystemMetrics(const std::string& proc_root = "/proc");

}  // namespace dualsp::platform
