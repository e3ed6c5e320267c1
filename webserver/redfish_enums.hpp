#pragma once
// Redfish schema enums used by spweb, as C++ enums (STYLE.md): each is the one generated from
// DMTF's CSDL by tools/gen-redfish (platform/redfish/generated/schema_enums.hpp, every value of the
// schema); here are spweb's names for them and the subsets DualSP reports or accepts.

#include <algorithm>
#include <optional>
#include <string_view>

#include "platform/redfish/generated/schema_enums.hpp"
#include "platform/sp_types.hpp"
#include "webserver/json.hpp"

namespace dualsp::web {

using ResourceState = redfish::resource::State;                 // Resource.State
using HealthState = redfish::resource::Health;                  // Resource.Health, Message severity
using PowerState = redfish::resource::PowerState;               // Resource.PowerState
using ResetType = redfish::resource::ResetType;                 // Resource.ResetType
using ManagerType = redfish::manager::ManagerType;              // Manager.ManagerType
using RedundancyMode = redfish::redundancy::RedundancyMode;     // Redundancy.RedundancyMode
using ChassisType = redfish::chassis::ChassisType;              // Chassis.ChassisType
using ReadingType = redfish::sensor::ReadingType;               // Sensor.ReadingType
using FanReadingUnits = redfish::thermal::ReadingUnits;         // Thermal.ReadingUnits (a Fan's)
using OverWritePolicy = redfish::log_service::OverWritePolicy;  // LogService.OverWritePolicy
using LogEntryType = redfish::log_entry::LogEntryType;          // LogEntry.LogEntryType
// The TelemetryService's performance figures (routes/telemetry_service.cpp).
using MetricType = redfish::metric_definition::MetricType;          // MetricDefinition.MetricType
using MetricDataType = redfish::metric_definition::MetricDataType;  // .MetricDataType
using MetricImplementation = redfish::metric_definition::ImplementationType;  // .ImplementationType
using MetricCalculable = redfish::metric_definition::Calculable;              // .Calculable
using MetricReportDefinitionType =
    redfish::metric_report_definition::MetricReportDefinitionType;  // MetricReportDefinition.*
using ReportActions = redfish::metric_report_definition::ReportActionsEnum;
using ReportUpdates = redfish::metric_report_definition::ReportUpdatesEnum;

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

// The values Manager.Reset accepts on an SP. GracefulRestart lets spd stop spweb and hand the
// floating address over first; ForceRestart resets the SP at once.
inline constexpr ResetType kAllowedResetTypes[] = {ResetType::GracefulRestart,
                                                   ResetType::ForceRestart};
// Exact match, unlike Json's conversion; nullopt for any value outside kAllowedResetTypes.
constexpr std::optional<ResetType> parseResetType(std::string_view s) {
  const std::optional<ResetType> type = redfish::resource::parseResetType(s);
  if (type && std::ranges::find(kAllowedResetTypes, *type) != std::end(kAllowedResetTypes))
    return type;
  return std::nullopt;
}

// The kinds of sensor an SP has (proto::Sensor::kind).
inline constexpr ReadingType kReadingTypes[] = {ReadingType::Temperature, ReadingType::Rotational,
                                                ReadingType::Power, ReadingType::Voltage};
// Exact match; nullopt for a kind this firmware does not know.
constexpr std::optional<ReadingType> parseReadingType(std::string_view s) {
  const std::optional<ReadingType> type = redfish::sensor::parseReadingType(s);
  if (type && std::ranges::find(kReadingTypes, *type) != std::end(kReadingTypes)) return type;
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
    default:  // not in kReadingTypes
      return "";
  }
}

}  // namespace dualsp::web
