// What a change of this SP's health becomes: events (message id, severity, origin), the
// faults on the status board and the web server's mode.
#include "sp/health_events.hpp"

#include <string>

#include "sp/events.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;

namespace {

const Fault kHot{"sensor:CPU0Temp", "ResourceEvent.1.4.3.ResourceErrorThresholdExceeded",
                 "CPU0 at 97 C", Health::Critical};
const Fault kLink{"mgmt-link", "ResourceEvent.1.4.3.ResourceErrorsDetected", "no carrier",
                  Health::Warning};

HealthReport report(Health h, std::vector<Fault> faults) {
  return HealthReport{h, faults};
}

}  // namespace

TEST_GROUP(HealthEvents){};

TEST(HealthEvents, ARaisedFaultThenTheRollUp) {
  auto events = healthEvents(SpId::A, report(Health::Ok, {}), report(Health::Critical, {kHot}));
  CHECK_EQUAL(2u, events.size());
  CHECK_EQUAL(kHot.message_id, events[0].message_id());
  CHECK_EQUAL(std::string("Critical"), events[0].severity());
  CHECK_EQUAL(std::string("/redfish/v1/Managers/SPA"), events[0].origin());
  STRCMP_CONTAINS("Fault raised: CPU0 at 97 C", events[0].message().c_str());
  CHECK_EQUAL(std::string(message::kHealthCritical), events[1].message_id());
  CHECK_EQUAL(std::string("Critical"), events[1].severity());
  CHECK_EQUAL(proto::SP_A, events[1].reported_by());
}

TEST(HealthEvents, AClearedFaultIsOkAndTheRollUpGoesBackToOk) {
  auto events = healthEvents(SpId::B, report(Health::Warning, {kLink}), report(Health::Ok, {}));
  CHECK_EQUAL(2u, events.size());
  CHECK_EQUAL(kLink.message_id, events[0].message_id());
  CHECK_EQUAL(std::string("OK"), events[0].severity());
  STRCMP_CONTAINS("Fault cleared: no carrier", events[0].message().c_str());
  CHECK_EQUAL(std::string(message::kHealthOk), events[1].message_id());
  CHECK_EQUAL(std::string("/redfish/v1/Managers/SPB"), events[1].origin());
}

TEST(HealthEvents, AnotherFaultAtTheSameRollUpIsOneEvent) {
  auto events = healthEvents(SpId::A, report(Health::Critical, {kHot}),
                             report(Health::Critical, {kHot, kLink}));
  CHECK_EQUAL(1u, events.size());
  CHECK_EQUAL(std::string("Warning"), events[0].severity());
  CHECK_TRUE(healthEvents(SpId::A, report(Health::Ok, {}), report(Health::Ok, {})).empty());
}

TEST(HealthEvents, StartUpReportsEveryFaultAlreadyThere) {
  auto events = startupFaultEvents(SpId::A, report(Health::Critical, {kHot, kLink}));
  CHECK_EQUAL(2u, events.size());
  CHECK_EQUAL(std::string("Critical"), events[0].severity());
  CHECK_EQUAL(std::string("Warning"), events[1].severity());
  STRCMP_CONTAINS("no carrier", events[1].message().c_str());
}

TEST(HealthEvents, CriticalServesTheDegradedWebServer) {
  CHECK_EQUAL(std::string("degraded"), modeFor(report(Health::Critical, {kHot})));
  CHECK_EQUAL(std::string("full"), modeFor(report(Health::Warning, {kLink})));
}

TEST(HealthEvents, TheBoardCarriesEachFault) {
  auto faults = snapshotFaults(report(Health::Critical, {kHot, kLink}));
  CHECK_EQUAL(2u, faults.size());
  STRCMP_EQUAL(kHot.message_id.c_str(), faults[0].message_id);
  STRCMP_EQUAL("no carrier", faults[1].text);
  CHECK_TRUE(faults[1].severity == Health::Warning);
}
