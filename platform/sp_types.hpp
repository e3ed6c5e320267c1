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

// Critical means unhealthy (DESIGN.md "Election"): an unhealthy SP hands the role over.
enum class Health : uint8_t { Ok = 0, Warning = 1, Critical = 2 };

constexpr SpId peerOf(SpId sp) { return sp == SpId::A ? SpId::B : SpId::A; }
constexpr char spLetter(SpId sp) { return sp == SpId::A ? 'A' : 'B'; }
constexpr std::string_view spName(SpId sp) { return sp == SpId::A ? "SP-A" : "SP-B"; }
// Redfish Manager id of an SP: /redfish/v1/Managers/SPA.
constexpr std::string_view managerId(SpId sp) { return sp == SpId::A ? "SPA" : "SPB"; }

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

constexpr bool isHealthy(Health h) { return h != Health::Critical; }

}  // namespace dualsp
