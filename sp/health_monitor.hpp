#pragma once
// The SP's health: platform faults (sensors over threshold or failed, hardware faults such
// as memory ECC, the management link without carrier) and firmware faults (the web server
// crash-looping) rolled up into OK / Warning / Critical. Critical means unhealthy
// (docs/DESIGN.md "Election"): the SP hands the active role over and serves degraded.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "platform/hardware.hpp"
#include "platform/sp_types.hpp"

namespace dualsp::sp {

struct Fault {
  std::string id;          // stable key: "sensor:CPU0Temp", "memory-ecc", "mgmt-link"
  std::string message_id;  // Redfish registry id
  std::string text;
  Health severity = Health::Critical;
  bool operator==(const Fault&) const = default;
};

struct HealthReport {
  Health health = Health::Ok;
  std::vector<Fault> faults;  // worst first
  bool operator==(const HealthReport&) const = default;
};

// Pure: the faults that sensor readings stand for.
std::vector<Fault> faultsFromSensors(const std::vector<platform::SensorReading>& sensors);
// Pure: worst severity wins; faults sorted worst first, then by id.
HealthReport rollUp(std::vector<Fault> faults);

class HealthMonitor {
 public:
  // `carrier` answers whether the management link has carrier; empty when there is no
  // management interface to watch (loopback mode).
  HealthMonitor(platform::Hardware* hardware, std::string mgmt_interface,
                std::function<bool(const std::string&)> carrier);

  // A firmware fault raised (or cleared with nullopt) by spd itself, e.g. the crash loop.
  void setFirmwareFault(const std::string& id, std::optional<Fault> fault);
  HealthReport evaluate();

 private:
  platform::Hardware* hardware_;
  std::string mgmt_interface_;
  std::function<bool(const std::string&)> carrier_;
  std::map<std::string, Fault> firmware_;
};

}  // namespace dualsp::sp
