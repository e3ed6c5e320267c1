// /redfish/v1/TelemetryService: each SP's performance figures (CPU %, memory %, the shelf's
// read and write operations and bytes per second) as a metric report per SP, SPA and SPB,
// generated on request (docs/METRICS.md). A report is spd's answer to GetSpMetrics about the
// SP: first hand for this SP, the peer's own fresh answer over the peer link for the other,
// and 503 when the peer does not answer: load figures are never given from an earlier copy.
// The definitions (MetricDefinitions, MetricReportDefinitions) are fixed data. Full mode only.

#include <array>
#include <cmath>
#include <cstdio>
#include <optional>

#include "platform/log.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/routes/telemetry.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kTelemetryServiceType = "#TelemetryService.v1_4_1.TelemetryService";
constexpr std::string_view kMetricDefinitionCollectionType =
    "#MetricDefinitionCollection.MetricDefinitionCollection";
constexpr std::string_view kMetricDefinitionType = "#MetricDefinition.v1_3_5.MetricDefinition";
constexpr std::string_view kMetricReportDefinitionCollectionType =
    "#MetricReportDefinitionCollection.MetricReportDefinitionCollection";
constexpr std::string_view kMetricReportDefinitionType =
    "#MetricReportDefinition.v1_4_7.MetricReportDefinition";
constexpr std::string_view kMetricReportCollectionType =
    "#MetricReportCollection.MetricReportCollection";
constexpr std::string_view kMetricReportType = "#MetricReport.v1_5_2.MetricReport";

constexpr std::string_view kMetricDefinitionsPath =
    "/redfish/v1/TelemetryService/MetricDefinitions";
constexpr std::string_view kReportDefinitionsPath =
    "/redfish/v1/TelemetryService/MetricReportDefinitions";
constexpr std::string_view kReportsPath = "/redfish/v1/TelemetryService/MetricReports";
// No figure covers less (platform::kMinRateInterval): TelemetryService.MinCollectionInterval.
constexpr std::string_view kMinCollectionInterval = "PT1S";

// One performance figure: its MetricId (also the MetricDefinition's id and the Manager's
// Oem.DualSP property), what it is, its UCUM unit, and where SpMetrics carries it.
struct Metric {
  std::string_view id;
  std::string_view name;
  std::string_view description;
  std::string_view units;
  MetricCalculable calculable;  // the two SPs' figures add up (I/O) or not (percentages)
  double max_reading;           // 0: no upper bound
  bool (proto::SpMetrics::*known)() const;
  double (proto::SpMetrics::*value)() const;
};

constexpr std::array<Metric, 6> kMetrics = {{
    {"CpuPercent", "CPU utilisation",
     "The share of the SP's CPU time spent neither idle nor waiting for I/O, over the interval "
     "since the reading before (at least 1 s; the first reading: since boot).",
     "%", MetricCalculable::NonSummable, 100, &proto::SpMetrics::has_cpu_percent,
     &proto::SpMetrics::cpu_percent},
    {"MemoryPercent", "Memory in use",
     "The share of the SP's memory in use: its total less what the kernel could still hand to "
     "programs (MemAvailable).",
     "%", MetricCalculable::NonSummable, 100, &proto::SpMetrics::has_memory_percent,
     &proto::SpMetrics::memory_percent},
    {"ReadIOPS", "Read operations per second",
     "Reads completed per second on the array's shelf drives as this SP sees them, summed.",
     "[IO]/s", MetricCalculable::Summable, 0, &proto::SpMetrics::has_read_iops,
     &proto::SpMetrics::read_iops},
    {"WriteIOPS", "Write operations per second",
     "Writes completed per second on the array's shelf drives as this SP sees them, summed.",
     "[IO]/s", MetricCalculable::Summable, 0, &proto::SpMetrics::has_write_iops,
     &proto::SpMetrics::write_iops},
    {"ReadBytesPerSecond", "Bytes read per second",
     "Bytes read per second from the array's shelf drives as this SP sees them, summed.", "By/s",
     MetricCalculable::Summable, 0, &proto::SpMetrics::has_read_bytes_per_second,
     &proto::SpMetrics::read_bytes_per_second},
    {"WriteBytesPerSecond", "Bytes written per second",
     "Bytes written per second to the array's shelf drives as this SP sees them, summed.", "By/s",
     MetricCalculable::Summable, 0, &proto::SpMetrics::has_write_bytes_per_second,
     &proto::SpMetrics::write_bytes_per_second},
}};

const Metric* metricNamed(std::string_view id) {
  for (const Metric& m : kMetrics)
    if (m.id == id) return &m;
  return nullptr;
}

std::string pathOf(std::string_view collection, std::string_view id) {
  return std::string(collection) + "/" + std::string(id);
}

std::string reportName(SpId sp) {
  return "Performance of service processor " + std::string(spName(sp));
}

Json collectionOf(std::string_view path, std::string_view type, std::string_view name,
                  Json members) {
  const size_t count = members.size();
  return {{"@odata.id", path},
          {"@odata.type", type},
          {"Name", name},
          {"Members@odata.count", count},
          {"Members", std::move(members)}};
}

void handleTelemetryServiceGet(const RequestContext&, Response& res) {
  res.body = {
      {"@odata.id", kTelemetryServicePath},
      {"@odata.type", kTelemetryServiceType},
      {"Id", "TelemetryService"},
      {"Name", "Telemetry Service"},
      {"Description", "Performance figures of the array's two service processors"},
      {"ServiceEnabled", true},
      {"Status", {{"State", ResourceState::Enabled}, {"Health", HealthState::OK}}},
      {"MaxReports", 2},
      {"MinCollectionInterval", kMinCollectionInterval},
      {"MetricDefinitions", odataLink(std::string(kMetricDefinitionsPath))},
      {"MetricReportDefinitions", odataLink(std::string(kReportDefinitionsPath))},
      {"MetricReports", odataLink(std::string(kReportsPath))},
  };
}

void handleMetricDefinitionCollectionGet(const RequestContext&, Response& res) {
  Json members = Json::array();
  for (const Metric& m : kMetrics)
    members.push_back(odataLink(pathOf(kMetricDefinitionsPath, m.id)));
  res.body = collectionOf(kMetricDefinitionsPath, kMetricDefinitionCollectionType,
                          "Metric Definition Collection", std::move(members));
}

void handleMetricDefinitionGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  const Metric* m = metricNamed(id);
  if (!m) {
    messages::resourceNotFound(res, "MetricDefinition", id);
    return;
  }
  Json body = {
      {"@odata.id", pathOf(kMetricDefinitionsPath, m->id)},
      {"@odata.type", kMetricDefinitionType},
      {"Id", m->id},
      {"Name", m->name},
      {"Description", m->description},
      {"MetricType", MetricType::Gauge},
      {"MetricDataType", MetricDataType::Decimal},
      {"Units", m->units},
      {"Implementation", MetricImplementation::Calculated},
      {"Calculable", m->calculable},
      {"IsLinear", true},
      {"MetricProperties",
       Json::array({metricPropertyOf(SpId::A, m->id), metricPropertyOf(SpId::B, m->id)})},
      {"MinReadingRange", 0},
  };
  if (m->max_reading > 0) body["MaxReadingRange"] = m->max_reading;
  res.body = std::move(body);
}

void handleReportDefinitionCollectionGet(const RequestContext&, Response& res) {
  Json members = Json::array();
  for (SpId sp : {SpId::A, SpId::B})
    members.push_back(odataLink(pathOf(kReportDefinitionsPath, managerId(sp))));
  res.body = collectionOf(kReportDefinitionsPath, kMetricReportDefinitionCollectionType,
                          "Metric Report Definition Collection", std::move(members));
}

void handleReportDefinitionGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) {
    messages::resourceNotFound(res, "MetricReportDefinition", id);
    return;
  }
  Json properties = Json::array();
  Json metrics = Json::array();
  for (const Metric& m : kMetrics) {
    properties.push_back(metricPropertyOf(*sp, m.id));
    metrics.push_back(
        {{"MetricId", m.id}, {"MetricProperties", Json::array({metricPropertyOf(*sp, m.id)})}});
  }
  res.body = {
      {"@odata.id", pathOf(kReportDefinitionsPath, id)},
      {"@odata.type", kMetricReportDefinitionType},
      {"Id", id},
      {"Name", reportName(*sp)},
      {"Description", "CPU, memory and shelf I/O figures of service processor " +
                          std::string(spName(*sp)) + ", read when the report is asked for"},
      {"MetricReportDefinitionType", MetricReportDefinitionType::OnRequest},
      {"MetricReportDefinitionEnabled", true},
      {"ReportActions", Json::array({ReportActions::LogToMetricReportsCollection})},
      {"ReportUpdates", ReportUpdates::Overwrite},
      {"Status", {{"State", ResourceState::Enabled}, {"Health", HealthState::OK}}},
      {"MetricProperties", std::move(properties)},
      {"Metrics", std::move(metrics)},
      {"MetricReport", odataLink(pathOf(kReportsPath, id))},
  };
}

void handleReportCollectionGet(const RequestContext&, Response& res) {
  Json members = Json::array();
  for (SpId sp : {SpId::A, SpId::B})
    members.push_back(odataLink(pathOf(kReportsPath, managerId(sp))));
  res.body = collectionOf(kReportsPath, kMetricReportCollectionType, "Metric Report Collection",
                          std::move(members));
}

Json nullIfEmpty(const std::string& text) {
  return text.empty() ? Json(nullptr) : Json(text);
}

// The report: the figures the SP could read (one MetricValue each, at the time it read them),
// whose they are and who served them, and what each covers.
Json reportOf(SpId sp, const proto::CommandResult& result) {
  const proto::SpMetrics& m = result.sp_metrics();
  const std::string timestamp = dateTimeString(m.sampled_at_ms());
  Json values = Json::array();
  for (const Metric& metric : kMetrics) {
    if (!(m.*metric.known)()) continue;
    values.push_back({{"MetricId", metric.id},
                      {"MetricValue", metricValueText((m.*metric.value)())},
                      {"Timestamp", timestamp},
                      {"MetricProperty", metricPropertyOf(sp, metric.id)}});
  }
  Json oem = freshnessOf(result);
  oem["CpuIntervalMs"] = m.cpu_interval_ms();
  oem["CpuSinceBoot"] = m.cpu_since_boot();
  oem["IoIntervalMs"] = m.io_interval_ms();
  oem["IoSinceBoot"] = m.io_since_boot();
  oem["Problems"] = nullIfEmpty(m.error());
  const std::string id(managerId(sp));
  return {{"@odata.id", pathOf(kReportsPath, id)},
          {"@odata.type", kMetricReportType},
          {"Id", id},
          {"Name", reportName(sp)},
          {"MetricReportDefinition", odataLink(pathOf(kReportDefinitionsPath, id))},
          {"Timestamp", timestamp},
          {"MetricValues", std::move(values)},
          {"Oem", {{"DualSP", std::move(oem)}}}};
}

void handleReportGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  std::optional<SpId> sp = spOfManagerId(id);
  if (!sp) {
    messages::resourceNotFound(res, "MetricReport", id);
    return;
  }
  std::optional<proto::CommandResult> result =
      runCommand(ctx, makeCommand(ctx, kGetSpMetrics, *sp));
  if (result && result->stale()) {
    // spd never answers GetSpMetrics from an earlier copy; should one come, it is not given.
    proto::CommandResult refused;
    refused.set_status(proto::CommandResult::UNAVAILABLE);
    refused.set_error(std::string(spName(*sp)) + " did not answer now, and its figures are " +
                      "given only as it tells them");
    result = std::move(refused);
  }
  if (!commandSucceeded(result, res, "MetricReport", id)) return;
  if (!result->has_sp_metrics()) {
    LOG_ERROR << kGetSpMetrics << " about " << id << " answered without figures";
    messages::internalError(res);
    return;
  }
  res.body = reportOf(*sp, *result);
}

}  // namespace

void addPerformanceFigures(const proto::SpMetrics& metrics, Json& oem) {
  for (const Metric& m : kMetrics)
    oem[std::string(m.id)] = (metrics.*m.known)() ? Json((metrics.*m.value)()) : Json(nullptr);
}

std::string metricPropertyOf(SpId sp, std::string_view metric_id) {
  return managerPath(sp) + "#/Oem/DualSP/" + std::string(metric_id);
}

std::string metricValueText(double value) {
  if (!std::isfinite(value)) return "0";
  char text[64];
  std::snprintf(text, sizeof text, "%.2f", value);
  std::string out(text);
  if (out.find('.') != std::string::npos) {
    out.erase(out.find_last_not_of('0') + 1);
    if (out.back() == '.') out.pop_back();
  }
  return out == "-0" ? "0" : out;
}

void requestRoutesTelemetryService(RouteTable& routes) {
  const MethodSet get = {HttpMethod::Get, HttpMethod::Head};
  routes.add({.pattern = std::string(kTelemetryServicePath),
              .methods = get,
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::None,
              .handler = handleTelemetryServiceGet});
  routes.add({.pattern = std::string(kMetricDefinitionsPath),
              .methods = get,
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::None,
              .handler = handleMetricDefinitionCollectionGet});
  routes.add({.pattern = std::string(kMetricDefinitionsPath) + "/{MetricDefinitionId}",
              .methods = get,
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::None,
              .handler = handleMetricDefinitionGet});
  routes.add({.pattern = std::string(kReportDefinitionsPath),
              .methods = get,
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::None,
              .handler = handleReportDefinitionCollectionGet});
  routes.add({.pattern = std::string(kReportDefinitionsPath) + "/{MetricReportDefinitionId}",
              .methods = get,
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::None,
              .handler = handleReportDefinitionGet});
  routes.add({.pattern = std::string(kReportsPath),
              .methods = get,
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::None,
              .handler = handleReportCollectionGet});
  routes.add({.pattern = std::string(kReportsPath) + "/{MetricReportId}",
              .methods = get,
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handleReportGet});
}

}  // namespace dualsp::web
