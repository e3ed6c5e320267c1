// The health monitor: hardware state and firmware faults rolled up into one health.
#include <string>
#include <vector>

#include "sp/health_monitor.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;

namespace {

class FakeHardware : public platform::Hardware {
 public:
  std::vector<platform::SensorReading> sensors() override { return sensors_; }
  std::vector<platform::InventoryItem> inventory() override { return {}; }
  std::vector<platform::HardwareFault> faults() override { return faults_; }
  std::string describe() const override { return "fake"; }
  std::string lastError() const override { return ""; }
  std::vector<platform::SensorReading> sensors_;
  std::vector<platform::HardwareFault> faults_;
};

platform::SensorReading sensor(const char* id, const char* kind, double reading, double crit,
                               bool critical) {
  platform::SensorReading s;
  s.id = id;
  s.name = id;
  s.kind = kind;
  s.reading = reading;
  s.upper_critical = crit;
  s.critical = critical;
  return s;
}

}  // namespace

TEST_GROUP(HealthMonitor) {
  FakeHardware hw;
  bool carrier = true;
  HealthMonitor monitor{&hw, "mgmt0", [this](const std::string&) { return carrier; }};
};

TEST(HealthMonitor, HealthyHardwareIsOk) {
  hw.sensors_ = {sensor("CPU0Temp", "Temperature", 45, 95, false)};
  HealthReport r = monitor.evaluate();
  CHECK(r.health == Health::Ok);
  CHECK_TRUE(r.faults.empty());
}

TEST(HealthMonitor, EachKindOfSensorFaultHasItsRegistryMessage) {
  hw.sensors_ = {sensor("CPU0Temp", "Temperature", 105, 95, true),
                 sensor("Fan0", "Rotational", 0, 0, true), sensor("PSU0", "Power", 0, 0, true)};
  HealthReport r = monitor.evaluate();
  CHECK(r.health == Health::Critical);
  CHECK_EQUAL(3u, r.faults.size());
  STRCMP_EQUAL("Environmental.1.4.0.TemperatureAboveUpperCriticalThreshold",
               r.faults[0].message_id.c_str());
  CHECK(r.faults[0].text.find("105.0 Cel") != std::string::npos);
  STRCMP_EQUAL("Environmental.1.4.0.FanFailed", r.faults[1].message_id.c_str());
  STRCMP_EQUAL("Power.1.2.0.PowerSupplyFailed", r.faults[2].message_id.c_str());
}

TEST(HealthMonitor, HardwareFaultsKeepTheirSeverity) {
  hw.faults_ = {{"memory-ecc", "DIMM0", "Platform.1.3.2.MemoryUncorrectableError", "ue", true},
                {"memory-ce", "DIMM1", "Platform.1.3.2.MemoryUncorrectableError", "ce", false}};
  HealthReport r = monitor.evaluate();
  CHECK(r.health == Health::Critical);
  CHECK(r.faults[0].severity == Health::Critical);  // worst first
  CHECK(r.faults[1].severity == Health::Warning);
  hw.faults_.erase(hw.faults_.begin());
  CHECK(monitor.evaluate().health == Health::Warning);  // a warning is still healthy
}

TEST(HealthMonitor, NoCarrierOnTheManagementLinkIsCritical) {
  carrier = false;
  HealthReport r = monitor.evaluate();
  CHECK(r.health == Health::Critical);
  STRCMP_EQUAL("NetworkDevice.1.1.1.CableRemoved", r.faults[0].message_id.c_str());
  CHECK(r.faults[0].text.find("mgmt0") != std::string::npos);
  carrier = true;
  CHECK(monitor.evaluate().health == Health::Ok);
}

TEST(HealthMonitor, FirmwareFaultsAreRaisedAndCleared) {
  monitor.setFirmwareFault(
      "web", Fault{"firmware:web", "ResourceEvent.1.4.3.ResourceErrorThresholdExceeded",
                   "crash loop", Health::Critical});
  CHECK(monitor.evaluate().health == Health::Critical);
  monitor.setFirmwareFault("web", std::nullopt);
  CHECK(monitor.evaluate().health == Health::Ok);
}

TEST(HealthMonitor, NoManagementInterfaceMeansNothingToWatch) {
  HealthMonitor loopback(nullptr, "", [](const std::string&) { return false; });
  CHECK(loopback.evaluate().health == Health::Ok);
}
