// /redfish/v1/TelemetryService through the Dispatcher, with a fake local bus: the fixed
// definitions, each SP's metric report built from spd's GetSpMetrics answer, and a peer that
// cannot answer: 503, never figures from an earlier copy.

#include <CppUTest/TestHarness.h>

#include "test_dispatcher.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/routes/telemetry.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

const char* const kService = "/redfish/v1/TelemetryService";
const char* const kReports = "/redfish/v1/TelemetryService/MetricReports";
const char* const kReportDefinitions = "/redfish/v1/TelemetryService/MetricReportDefinitions";
const char* const kDefinitions = "/redfish/v1/TelemetryService/MetricDefinitions";
const char* const kFigures[] = {"CpuPercent", "MemoryPercent",      "ReadIOPS",
                                "WriteIOPS",  "ReadBytesPerSecond", "WriteBytesPerSecond"};
constexpr int64_t kSampledAtMs = 1'795'000'000'123;

// spd's GetSpMetrics answer about SP `about`, as SP-A serves it.
proto::CommandResult metricsResult(proto::SpId about) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(about);
  r.set_served_by(proto::SP_A);
  proto::SpMetrics* m = r.mutable_sp_metrics();
  m->set_sp(about);
  m->set_sampled_at_ms(kSampledAtMs);
  m->set_cpu_percent(37.456);
  m->set_cpu_interval_ms(1500);
  m->set_memory_percent(61);
  m->set_read_iops(1200);
  m->set_write_iops(300.5);
  m->set_read_bytes_per_second(52428800);
  m->set_write_bytes_per_second(0);
  return r;
}

std::vector<std::string> memberIds(const Json& collection) {
  std::vector<std::string> out;
  for (const Json& m : collection["Members"]) out.push_back(str(m["@odata.id"]));
  return out;
}

}  // namespace

TEST_GROUP(TelemetryService){};

TEST(TelemetryService, TheServiceLinksItsThreeCollections) {
  Served a(SpId::A, Role::Active);
  Response res = a.get(kService);
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  const Json& b = res.body;
  STRCMP_EQUAL(kService, str(b["@odata.id"]).c_str());
  STRCMP_EQUAL("#TelemetryService.v1_4_1.TelemetryService", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("TelemetryService", str(b["Id"]).c_str());
  CHECK_TRUE(b["ServiceEnabled"].get<bool>());
  STRCMP_EQUAL("Enabled", str(b["Status"]["State"]).c_str());
  STRCMP_EQUAL("PT1S", str(b["MinCollectionInterval"]).c_str());
  STRCMP_EQUAL(kReports, str(b["MetricReports"]["@odata.id"]).c_str());
  STRCMP_EQUAL(kReportDefinitions, str(b["MetricReportDefinitions"]["@odata.id"]).c_str());
  STRCMP_EQUAL(kDefinitions, str(b["MetricDefinitions"]["@odata.id"]).c_str());
  LONGS_EQUAL(0, a.bus.calls());
  STRCMP_EQUAL(kService, str(a.get("/redfish/v1").body["TelemetryService"]["@odata.id"]).c_str());
}

TEST(TelemetryService, OneReportAndOneDefinitionPerSp) {
  Served a(SpId::A, Role::Active);
  Response reports = a.get(kReports);
  LONGS_EQUAL(200, reports.status);
  STRCMP_EQUAL("#MetricReportCollection.MetricReportCollection",
               str(reports.body["@odata.type"]).c_str());
  LONGS_EQUAL(2, reports.body["Members@odata.count"].get<int>());
  CHECK(memberIds(reports.body) ==
        std::vector<std::string>({std::string(kReports) + "/SPA", std::string(kReports) + "/SPB"}));
  Response definitions = a.get(kReportDefinitions);
  LONGS_EQUAL(200, definitions.status);
  STRCMP_EQUAL("#MetricReportDefinitionCollection.MetricReportDefinitionCollection",
               str(definitions.body["@odata.type"]).c_str());
  CHECK(memberIds(definitions.body) ==
        std::vector<std::string>(
            {std::string(kReportDefinitions) + "/SPA", std::string(kReportDefinitions) + "/SPB"}));
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(TelemetryService, TheReportDefinitionIsOnRequestAndListsTheFigures) {
  Served a(SpId::A, Role::Active);
  Response res = a.get(std::string(kReportDefinitions) + "/SPB");
  LONGS_EQUAL(200, res.status);
  const Json& b = res.body;
  STRCMP_EQUAL("#MetricReportDefinition.v1_4_7.MetricReportDefinition",
               str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("SPB", str(b["Id"]).c_str());
  STRCMP_EQUAL("OnRequest", str(b["MetricReportDefinitionType"]).c_str());
  CHECK_TRUE(b["MetricReportDefinitionEnabled"].get<bool>());
  CHECK(b["ReportActions"] == Json::array({"LogToMetricReportsCollection"}));
  STRCMP_EQUAL("Overwrite", str(b["ReportUpdates"]).c_str());
  STRCMP_EQUAL((std::string(kReports) + "/SPB").c_str(),
               str(b["MetricReport"]["@odata.id"]).c_str());
  LONGS_EQUAL(6, b["Metrics"].size());
  for (size_t n = 0; n < 6; ++n) {
    const std::string property = "/redfish/v1/Managers/SPB#/Oem/DualSP/" + std::string(kFigures[n]);
    STRCMP_EQUAL(kFigures[n], str(b["Metrics"][n]["MetricId"]).c_str());
    CHECK(b["Metrics"][n]["MetricProperties"] == Json::array({property}));
    STRCMP_EQUAL(property.c_str(), str(b["MetricProperties"][n]).c_str());
  }
  checkError(a.get(std::string(kReportDefinitions) + "/SPC"), 404, "Base.1.22.1.ResourceNotFound");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(TelemetryService, EveryFigureHasADefinitionWithItsUnit) {
  Served a(SpId::A, Role::Active);
  Response list = a.get(kDefinitions);
  LONGS_EQUAL(200, list.status);
  LONGS_EQUAL(6, list.body["Members@odata.count"].get<int>());
  const char* const units[] = {"%", "%", "[IO]/s", "[IO]/s", "By/s", "By/s"};
  for (size_t n = 0; n < 6; ++n) {
    const std::string path = std::string(kDefinitions) + "/" + kFigures[n];
    STRCMP_EQUAL(path.c_str(), str(list.body["Members"][n]["@odata.id"]).c_str());
    Response res = a.get(path);
    LONGS_EQUAL(200, res.status);
    const Json& d = res.body;
    STRCMP_EQUAL("#MetricDefinition.v1_3_5.MetricDefinition", str(d["@odata.type"]).c_str());
    STRCMP_EQUAL(kFigures[n], str(d["Id"]).c_str());
    STRCMP_EQUAL(units[n], str(d["Units"]).c_str());
    STRCMP_EQUAL("Gauge", str(d["MetricType"]).c_str());
    STRCMP_EQUAL("Decimal", str(d["MetricDataType"]).c_str());
    STRCMP_EQUAL(n < 2 ? "NonSummable" : "Summable", str(d["Calculable"]).c_str());
    CHECK_EQUAL(n < 2, d.contains("MaxReadingRange"));
    CHECK(d["MetricProperties"] ==
          Json::array({"/redfish/v1/Managers/SPA#/Oem/DualSP/" + std::string(kFigures[n]),
                       "/redfish/v1/Managers/SPB#/Oem/DualSP/" + std::string(kFigures[n])}));
  }
  checkError(a.get(std::string(kDefinitions) + "/Temperature"), 404,
             "Base.1.22.1.ResourceNotFound");
}

TEST(TelemetryService, TheReportIsSpdsFreshAnswerAboutThatSp) {
  Served a(SpId::A, Role::Active);
  a.bus.answerFor("GetSpMetrics", proto::SP_B, metricsResult(proto::SP_B));
  Response res = a.get(std::string(kReports) + "/SPB");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  proto::Command sent = a.bus.last();
  STRCMP_EQUAL("GetSpMetrics", sent.name().c_str());
  LONGS_EQUAL(proto::SP_B, sent.target());
  LONGS_EQUAL(1, a.bus.calls());

  const Json& b = res.body;
  STRCMP_EQUAL("#MetricReport.v1_5_2.MetricReport", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL((std::string(kReports) + "/SPB").c_str(), str(b["@odata.id"]).c_str());
  STRCMP_EQUAL("SPB", str(b["Id"]).c_str());
  STRCMP_EQUAL((std::string(kReportDefinitions) + "/SPB").c_str(),
               str(b["MetricReportDefinition"]["@odata.id"]).c_str());
  const std::string when = dateTimeString(kSampledAtMs);
  STRCMP_EQUAL(when.c_str(), str(b["Timestamp"]).c_str());
  const char* const values[] = {"37.46", "61", "1200", "300.5", "52428800", "0"};
  LONGS_EQUAL(6, b["MetricValues"].size());
  for (size_t n = 0; n < 6; ++n) {
    const Json& v = b["MetricValues"][n];
    STRCMP_EQUAL(kFigures[n], str(v["MetricId"]).c_str());
    STRCMP_EQUAL(values[n], str(v["MetricValue"]).c_str());  // a string, per MetricReport
    STRCMP_EQUAL(when.c_str(), str(v["Timestamp"]).c_str());
    STRCMP_EQUAL(("/redfish/v1/Managers/SPB#/Oem/DualSP/" + std::string(kFigures[n])).c_str(),
                 str(v["MetricProperty"]).c_str());
    LONGS_EQUAL(4, v.size());
  }
  const Json& oem = b["Oem"]["DualSP"];
  STRCMP_EQUAL("B", str(oem["AnsweredBy"]).c_str());
  STRCMP_EQUAL("A", str(oem["ServedBy"]).c_str());
  CHECK_FALSE(oem["Stale"].get<bool>());
  LONGS_EQUAL(1500, oem["CpuIntervalMs"].get<int>());
  CHECK_FALSE(oem["CpuSinceBoot"].get<bool>());
  CHECK_TRUE(oem["Problems"].is_null());
}

TEST(TelemetryService, AFigureTheSpCouldNotReadIsLeftOutAndExplained) {
  Served a(SpId::A, Role::Active);
  proto::CommandResult r = metricsResult(proto::SP_A);
  r.mutable_sp_metrics()->clear_read_iops();
  r.mutable_sp_metrics()->clear_write_iops();
  r.mutable_sp_metrics()->clear_read_bytes_per_second();
  r.mutable_sp_metrics()->clear_write_bytes_per_second();
  r.mutable_sp_metrics()->set_error("cannot read /proc/diskstats: No such file or directory");
  a.bus.answerFor("GetSpMetrics", proto::SP_A, r);
  Response res = a.get(std::string(kReports) + "/SPA");
  LONGS_EQUAL(200, res.status);
  LONGS_EQUAL(2, res.body["MetricValues"].size());
  STRCMP_EQUAL("CpuPercent", str(res.body["MetricValues"][0]["MetricId"]).c_str());
  STRCMP_EQUAL("MemoryPercent", str(res.body["MetricValues"][1]["MetricId"]).c_str());
  STRCMP_CONTAINS("diskstats", str(res.body["Oem"]["DualSP"]["Problems"]).c_str());
}

TEST(TelemetryService, AnUnreachablePeerIs503NotOldFigures) {
  Served a(SpId::A, Role::Active);
  proto::CommandResult unavailable = resultWithStatus(proto::CommandResult::UNAVAILABLE);
  unavailable.set_error("SP-B did not answer GetSpMetrics (timeout)");
  a.bus.answerFor("GetSpMetrics", proto::SP_B, unavailable);
  Response res = a.get(std::string(kReports) + "/SPB");
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  CHECK_TRUE(res.header("Retry-After").has_value());
  STRCMP_CONTAINS("SP-B did not answer GetSpMetrics", str(res.body["error"]["message"]).c_str());
  CHECK_FALSE(res.body.contains("MetricValues"));

  // spd never answers it stale; were it to, the figures are not given either
  proto::CommandResult stale = metricsResult(proto::SP_B);
  stale.set_stale(true);
  stale.set_age_ms(5000);
  a.bus.answerFor("GetSpMetrics", proto::SP_B, stale);
  res = a.get(std::string(kReports) + "/SPB");
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  STRCMP_CONTAINS("SP-B did not answer now", str(res.body["error"]["message"]).c_str());

  // spd itself silent
  a.bus.answerFor("GetSpMetrics", proto::SP_B, std::nullopt);
  checkError(a.get(std::string(kReports) + "/SPB"), 503,
             "Base.1.22.1.ServiceTemporarilyUnavailable");
}

TEST(TelemetryService, AnAnswerWithoutFiguresIsAnInternalError) {
  Served a(SpId::A, Role::Active);
  proto::CommandResult empty;
  empty.set_status(proto::CommandResult::OK);
  a.bus.answerFor("GetSpMetrics", proto::SP_A, empty);
  checkError(a.get(std::string(kReports) + "/SPA"), 500, "Base.1.22.1.InternalError");
}

TEST(TelemetryService, AnUnknownReportIsNotFoundWithoutAskingSpd) {
  Served a(SpId::A, Role::Active);
  Response res = a.get(std::string(kReports) + "/SPC");
  checkError(res, 404, "Base.1.22.1.ResourceNotFound");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"MetricReport", "SPC"}));
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(TelemetryService, NotServedInDegradedMode) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  for (const std::string& path :
       {std::string(kService), std::string(kReports), std::string(kReports) + "/SPA",
        std::string(kReportDefinitions) + "/SPA", std::string(kDefinitions) + "/CpuPercent"})
    LONGS_EQUAL(503, a.get(path).status);
  LONGS_EQUAL(0, a.bus.calls());
  CHECK_FALSE(a.get("/redfish/v1").body.contains("TelemetryService"));
}

TEST(TelemetryService, OnlyGetAndHead) {
  Served a(SpId::A, Role::Active);
  Response res = a.del(std::string(kReports) + "/SPA");
  LONGS_EQUAL(405, res.status);
  STRCMP_EQUAL("GET, HEAD", res.header("Allow").value_or("").c_str());
  LONGS_EQUAL(405, a.post(kReportDefinitions, "{}").status);
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(TelemetryService, MetricValueText) {
  STRCMP_EQUAL("0", metricValueText(0).c_str());
  STRCMP_EQUAL("1200", metricValueText(1200).c_str());
  STRCMP_EQUAL("12.5", metricValueText(12.5).c_str());
  STRCMP_EQUAL("33.33", metricValueText(100.0 / 3).c_str());
  STRCMP_EQUAL("0", metricValueText(0.001).c_str());
  STRCMP_EQUAL("99.99", metricValueText(99.994).c_str());
  STRCMP_EQUAL("52428800", metricValueText(52428800).c_str());
}
