#pragma once
// Redfish schema enums used by spweb, as C++ enums (STYLE.md): a value is spelled once, here,
// and Json converts it. Values are copied from the DMTF CSDL named beside each enum.

#include <optional>
#include <string_view>

#include "webserver/json.hpp"

namespace dualsp::web {

// Resource_v1.xml, Resource.State (the subset DualSP reports).
enum class ResourceState { Enabled, StandbySpare, Starting, UnavailableOffline };
NLOHMANN_JSON_SERIALIZE_ENUM(ResourceState,
                             {
                                 {ResourceState::Enabled, "Enabled"},
                                 {ResourceState::StandbySpare, "StandbySpare"},
                                 {ResourceState::Starting, "Starting"},
                                 {ResourceState::UnavailableOffline, "UnavailableOffline"},
                             })

// Resource_v1.xml, Resource.Health; also Message_v1.xml MessageSeverity.
enum class HealthState { OK, Warning, Critical };
NLOHMANN_JSON_SERIALIZE_ENUM(HealthState, {
                                              {HealthState::OK, "OK"},
                                              {HealthState::Warning, "Warning"},
                                              {HealthState::Critical, "Critical"},
                                          })

// Resource_v1.xml, Resource.PowerState (the subset DualSP reports).
enum class PowerState { On, Off };
NLOHMANN_JSON_SERIALIZE_ENUM(PowerState, {
                                             {PowerState::On, "On"},
                                             {PowerState::Off, "Off"},
                                         })

// Manager_v1.xml, Manager.ManagerType (the subset DualSP reports).
enum class ManagerType { ManagementController };
NLOHMANN_JSON_SERIALIZE_ENUM(ManagerType,
                             {
                                 {ManagerType::ManagementController, "ManagementController"},
                             })

// Resource_v1.xml, Resource.ResetType: the values Manager.Reset accepts on an SP.
// GracefulRestart lets spd stop spweb and hand the floating address over first;
// ForceRestart resets the SP at once.
enum class ResetType { GracefulRestart, ForceRestart };
NLOHMANN_JSON_SERIALIZE_ENUM(ResetType, {
                                            {ResetType::GracefulRestart, "GracefulRestart"},
                                            {ResetType::ForceRestart, "ForceRestart"},
                                        })
inline constexpr ResetType kAllowedResetTypes[] = {ResetType::GracefulRestart,
                                                   ResetType::ForceRestart};
// Exact match, unlike Json's conversion, which maps an unknown string to the first value.
inline std::optional<ResetType> parseResetType(std::string_view s) {
  if (s == "GracefulRestart") return ResetType::GracefulRestart;
  if (s == "ForceRestart") return ResetType::ForceRestart;
  return std::nullopt;
}

// LogService_v1.xml, LogService.OverWritePolicy (the subset DualSP reports).
enum class OverWritePolicy { WrapsWhenFull };
NLOHMANN_JSON_SERIALIZE_ENUM(OverWritePolicy, {
                                                  {OverWritePolicy::WrapsWhenFull, "WrapsWhenFull"},
                                              })

// LogEntry_v1.xml, LogEntry.LogEntryType (the subset DualSP reports).
enum class LogEntryType { Oem };
NLOHMANN_JSON_SERIALIZE_ENUM(LogEntryType, {
                                               {LogEntryType::Oem, "Oem"},
                                           })

}  // namespace dualsp::web
