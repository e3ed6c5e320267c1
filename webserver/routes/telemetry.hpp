#pragma once
// The performance figures of an SP (docs/METRICS.md), shared by the TelemetryService's metric
// reports (routes/telemetry_service.cpp) and the Manager's Oem.DualSP (routes/managers.cpp):
// one name per figure, the MetricId of the reports, the MetricDefinition's id and the Manager
// property it is read from.

#include <string>
#include <string_view>

#include "platform/sp_types.hpp"
#include "proto/command.pb.h"
#include "webserver/json.hpp"

namespace dualsp::web {

inline constexpr std::string_view kTelemetryServicePath = "/redfish/v1/TelemetryService";

// Sets the Manager's Oem.DualSP figures (CpuPercent, MemoryPercent, ReadIOPS, WriteIOPS,
// ReadBytesPerSecond, WriteBytesPerSecond) from `metrics`: null for a figure the SP could not
// read.
void addPerformanceFigures(const proto::SpMetrics& metrics, Json& oem);

// Where a figure lives on its SP's Manager: "/redfish/v1/Managers/SPA#/Oem/DualSP/CpuPercent"
// (MetricValue.MetricProperty).
std::string metricPropertyOf(SpId sp, std::string_view metric_id);

// A figure as MetricValue's string: at most two decimals, none for a whole number ("1200",
// "12.5", "33.33").
std::string metricValueText(double value);

}  // namespace dualsp::web
