#include "sp/health_events.hpp"

#include <algorithm>

#include "platform/log.hpp"
#include "sp/events.hpp"

namespace dualsp::sp {
namespace {

bool has(const HealthReport& r, const Fault& f) {
  return std::find(r.faults.begin(), r.faults.end(), f) != r.faults.end();
}

const char* severityName(Health h) {
  return h == Health::Critical ? "Critical" : h == Health::Warning ? "Warning" : "OK";
}

}  // namespace

std::string modeFor(const HealthReport& r) {
  return r.health == Health::Critical ? "degraded" : "full";
}

std::vector<ipc::SnapshotFault> snapshotFaults(const HealthReport& r) {
  std::vector<ipc::SnapshotFault> out;
  for (const auto& f : r.faults) {
    ipc::SnapshotFault s;
    ipc::copyField(s.message_id, f.message_id);
    ipc::copyField(s.text, f.text);
    s.severity = f.severity;
    out.push_back(s);
  }
  return out;
}

void logHealthChange(const HealthReport& before, const HealthReport& after) {
  for (const auto& f : after.faults)
    if (!has(before, f))
      log::write(f.severity == Health::Critical ? log::Level::Error : log::Level::Warning,
                 "fault raised: " + f.message_id + ": " + f.text);
  for (const auto& f : before.faults)
    if (!has(after, f)) LOG_NOTICE << "fault cleared: " << f.message_id << ": " << f.text;
  if (before.health != after.health || before.faults.empty() != after.faults.empty())
    LOG_NOTICE << "health " << healthName(before.health) << " -> " << healthName(after.health)
               << " (" << after.faults.size() << " fault" << (after.faults.size() == 1 ? "" : "s")
               << ")";
}

std::vector<proto::Event> healthEvents(SpId self, const HealthReport& before,
                                       const HealthReport& after) {
  std::vector<proto::Event> out;
  for (const auto& f : after.faults)
    if (!has(before, f))
      out.push_back(makeEvent(f.message_id, {}, managerUri(self), severityName(f.severity), self,
                              "Fault raised: " + f.text));
  for (const auto& f : before.faults)
    if (!has(after, f))
      out.push_back(
          makeEvent(f.message_id, {}, managerUri(self), "OK", self, "Fault cleared: " + f.text));
  if (before.health != after.health) {
    auto id = after.health == Health::Critical  ? message::kHealthCritical
              : after.health == Health::Warning ? message::kHealthWarning
                                                : message::kHealthOk;
    out.push_back(makeEvent(id, {managerUri(self), std::string(healthName(after.health))},
                            managerUri(self), severityName(after.health), self));
  }
  return out;
}

std::vector<proto::Event> startupFaultEvents(SpId self, const HealthReport& health) {
  std::vector<proto::Event> out;
  for (const auto& f : health.faults)
    out.push_back(makeEvent(f.message_id, {}, managerUri(self),
                            f.severity == Health::Critical ? "Critical" : "Warning", self, f.text));
  return out;
}

}  // namespace dualsp::sp
