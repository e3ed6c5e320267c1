#include "sp/health_monitor.hpp"

#include <algorithm>
#include <cstdio>

#include "platform/redfish/generated/registries/environmental.hpp"
#include "platform/redfish/generated/registries/network_device.hpp"
#include "platform/redfish/generated/registries/power.hpp"
#include "platform/redfish/generated/registries/sensor_event.hpp"

namespace dualsp::sp {
namespace {

namespace environmental = redfish::registries::environmental;
namespace network_device = redfish::registries::network_device;
namespace power = redfish::registries::power;
namespace sensor_event = redfish::registries::sensor_event;

std::string number(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

int rank(Health h) {
  return static_cast<int>(h);
}

}  // namespace

std::vector<Fault> faultsFromSensors(const std::vector<platform::SensorReading>& sensors) {
  std::vector<Fault> out;
  for (const auto& s : sensors) {
    if (!s.critical) continue;
    Fault f;
    f.id = "sensor:" + s.id;
    f.severity = Health::Critical;
    bool over = s.upper_critical != 0 && s.reading >= s.upper_critical;
    if (s.kind == "Temperature") {
      f.message_id = environmental::kTemperatureAboveUpperCriticalThreshold;
      f.text = "Temperature sensor '" + s.name + "' reads " + number(s.reading) +
               " Cel, above its critical threshold " + number(s.upper_critical) + " Cel.";
    } else if (s.kind == "Rotational") {
      f.message_id = environmental::kFanFailed;
      f.text = "Fan '" + s.name + "' has failed (" + number(s.reading) + " RPM).";
    } else if (s.kind == "Power" && !over) {
      f.message_id = power::kPowerSupplyFailed;
      f.text = "Power supply '" + s.name + "' has failed.";
    } else if (s.kind == "Power") {
      f.message_id = power::kPowerAboveUpperCriticalThreshold;
      f.text = "Power sensor '" + s.name + "' reads " + number(s.reading) +
               " W, above its critical threshold " + number(s.upper_critical) + " W.";
    } else if (s.kind == "Voltage") {
      f.message_id = power::kVoltageCritical;
      f.text = "Voltage sensor '" + s.name + "' reads " + number(s.reading) + " V, critical.";
    } else {
      f.message_id = sensor_event::kReadingCritical;
      f.text = "Sensor '" + s.name + "' reads " + number(s.reading) + " " + s.units + ", critical.";
    }
    out.push_back(std::move(f));
  }
  return out;
}

HealthReport rollUp(std::vector<Fault> faults) {
  std::sort(faults.begin(), faults.end(), [](const Fault& a, const Fault& b) {
    if (a.severity != b.severity) return rank(a.severity) > rank(b.severity);
    return a.id < b.id;
  });
  HealthReport r;
  for (const auto& f : faults)
    if (rank(f.severity) > rank(r.health)) r.health = f.severity;
  r.faults = std::move(faults);
  return r;
}

HealthMonitor::HealthMonitor(platform::Hardware* hardware, std::string mgmt_interface,
                             std::function<bool(const std::string&)> carrier)
    : hardware_(hardware),
      mgmt_interface_(std::move(mgmt_interface)),
      carrier_(std::move(carrier)) {}

void HealthMonitor::setFirmwareFault(const std::string& id, std::optional<Fault> fault) {
  if (fault)
    firmware_[id] = *fault;
  else
    firmware_.erase(id);
}

HealthReport HealthMonitor::evaluate() {
  std::vector<Fault> faults;
  if (hardware_) {
    faults = faultsFromSensors(hardware_->sensors());
    for (const auto& h : hardware_->faults())
      faults.push_back(Fault{"hardware:" + h.id, h.message_id, h.text,
                             h.critical ? Health::Critical : Health::Warning});
  }
  if (!mgmt_interface_.empty() && carrier_ && !carrier_(mgmt_interface_)) {
    // docs/DESIGN.md "Election": an SP cut off from the clients must not hold the management
    // address.
    faults.push_back(Fault{
        "mgmt-link", std::string(network_device::kCableRemoved),
        "The management link " + mgmt_interface_ + " has no carrier: clients cannot reach this SP.",
        Health::Critical});
  }
  for (const auto& [id, f] : firmware_) faults.push_back(f);
  return rollUp(std::move(faults));
}

}  // namespace dualsp::sp
