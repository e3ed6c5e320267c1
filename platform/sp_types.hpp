#pragma once
// The vocabulary every module shares: which SP, its role in the election, its health.

#include <cstdint>
#include <optional>
#include <string_view>

namespace dualsp {

enum class SpId : uint8_t { A = 0, B = 1 };

enum class Role : uint8_t {
  Starting = 0,    // listening for the peer before deciding
  Passive = 1,     // standby: does not hold the floating IP
  TakingOver = 2,  // fencing the peer, then taking the floating IP
  Active = 3,      // holds the floating IP
};

// Critical means unhealthy (docs/DESIGN.md "Election"): an unhealthy SP hands the role over.
enum class Health : uint8_t { Ok = 0, Warning = 1, Critical = 2 };

constexpr SpId peerOf(SpId sp) {
  return sp == SpId::A ? SpId::B : SpId::A;
}
constexpr char spLetter(SpId sp) {
  return sp == SpId::A ? 'A' : 'B';
}
constexpr std::string_view spName(SpId sp) {
  return sp == SpId::A ? "SP-A" : "SP-B";
}
// Redfish Manager id of an SP: /redfish/v1/Managers/SPA.
constexpr std::string_view managerId(SpId sp) {
  return sp == SpId::A ? "SPA" : "SPB";
}

inline std::optional<SpId> parseSpId(std::string_view s) {
  if (s == "A" || s == "a" || s == "SPA" || s == "SP-A") return SpId::A;
  if (s == "B" || s == "b" || s == "SPB" || s == "SP-B") return SpId::B;
  return std::nullopt;
}

constexpr std::string_view roleName(Role r) {
  switch (r) {
    case Role::Starting:
      return "starting";
    case Role::Passive:
      return "passive";
    case Role::TakingOver:
      return "taking-over";
    case Role::Active:
      return "active";
  }
  return "unknown";
}

// Redfish Status.Health values.
constexpr std::string_view healthName(Health h) {
  switch (h) {
    case Health::Ok:
      return "OK";
    case Health::Warning:
      return "Warning";
    case Health::Critical:
      return "Critical";
  }
  return "Unknown";
}

constexpr bool isHealthy(Health h) {
  return h != Health::Critical;
}

// How far an SP's acknowledged configuration history reaches: the newest version (epoch,
// seq) of its store and the newest event id in it. Heartbeats carry it, so the election
// prefers the SP with the newer history and a survivor knows what its dead peer held.
struct History {
  uint64_t epoch = 0;
  uint64_t seq = 0;
  uint64_t last_event_id = 0;
  // Ordered by version only: the event id follows the version along one history.
  bool olderThan(const History& o) const {
    return epoch != o.epoch ? epoch < o.epoch : seq < o.seq;
  }
  bool operator==(const History&) const = default;
};

// What the chassis says of an SP's power (the power controller, a power-good line).
enum class PowerState : uint8_t {
  Unknown = 0,  // the platform cannot tell
  Off = 1,
  Running = 2,  // powered on and executing
  Stopped = 3,  // powered on, not executing (hung)
};

constexpr std::string_view powerStateName(PowerState p) {
  switch (p) {
    case PowerState::Unknown:
      return "unknown";
    case PowerState::Off:
      return "off";
    case PowerState::Running:
      return "running";
    case PowerState::Stopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace dualsp
