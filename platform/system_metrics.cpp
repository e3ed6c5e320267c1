#include "platform/system_metrics.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace dualsp::platform {
namespace {

// The first whitespace-separated number of `text`, or 0.
template <typename T>
T leadingNumber(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return 0;
  T value{};
  auto [end, ec] = std::from_chars(text.data() + first, text.data() + text.size(), value);
  return ec == std::errc() ? value : T{};
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

}  // namespace dualsp::platform
