#pragma once
// Redfish schema enums used by spweb, as C++ enums (STYLE.md): a value is spelled once, here,
// and Json converts it. Values are copied from the DMTF CSDL named beside each enum.

#include <optional>
#include <string_view>

#include "platform/sp_types.hpp"
#include "webserver/json.hpp"

namespace dualsp::web {

// Resource_v1.xml, Resource.State (the subset DualSP reports).
enum class ResourceState { Enabled, StandbySpare, StandbyOffline, Starting, UnavailableOffline };
NLOHMANN_JSON_SERIALIZE_ENUM(ResourceState,
                             {
                                 {ResourceState::Enabled, "Enabled"},
                                 {ResourceState::StandbySpare, "StandbySpare"},
                                 {ResourceState::StandbyOffline, "StandbyOffline"},
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

// An SP's health (platform/sp_types.hpp) as a Redfish Status.Health.
constexpr HealthState healthState(Health health) {
  switch (health) {
    case Health::Ok:
      return HealthState::OK;
    case Health::Warning:
      return HealthState::Warning;
    case Health::Critical:
      return HealthState::Critical;
  }
  return HealthState::Critical;
}

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

// Redundancy_v1.xml, Redundancy.RedundancyMode (the subset DualSP reports): the passive SP
// takes over by itself when the active one fails.
enum class RedundancyMode { Failover };
NLOHMANN_JSON_SERIALIZE_ENUM(RedundancyMode, {
                                                 {RedundancyMode::Failover, "Failover"},
                                             })

// Chassis_v1.xml, Chassis.ChassisType (the subset DualSP reports).
enum class ChassisType { Enclosure };
NLOHMANN_JSON_SERIALIZE_ENUM(ChassisType, {
                                              {ChassisType::Enclosure, "Enclosure"},
                                          })

// Sensor_v1.xml, Sensor.ReadingType: the kinds of sensor an SP has (proto::Sensor::kind).
enum class ReadingType { Temperature, Rotational, Power, Voltage };
NLOHMANN_JSON_SERIALIZE_ENUM(ReadingType, {
                                              {ReadingType::Temperature, "Temperature"},
                                              {ReadingType::Rotational, "Rotational"},
                                              {ReadingType::Power, "Power"},
                                              {ReadingType::Voltage, "Voltage"},
                                          })
// Exact match; nullopt for a kind this firmware does not know.
inline std::optional<ReadingType> parseReadingType(std::string_view s) {
  if (s == "Temperature") return ReadingType::Temperature;
  if (s == "Rotational") return ReadingType::Rotational;
  if (s == "Power") return ReadingType::Power;
  if (s == "Voltage") return ReadingType::Voltage;
  return std::nullopt;
}
// Sensor.ReadingUnits (UCUM) of each kind. Rotational: "{rev}/min", the value Sensor_v1.xml
// prefers to the deprecated "RPM" that spd reports.
constexpr std::string_view readingUnits(ReadingType type) {
  switch (type) {
    case ReadingType::Temperature:
      return "Cel";
    case ReadingType::Rotational:
      return "{rev}/min";
    case ReadingType::Power:
      return "W";
    case ReadingType::Voltage:
      return "V";
  }
  return "";
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
