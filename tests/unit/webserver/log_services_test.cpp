// /redfish/v1/Managers/{id}/LogServices through the Dispatcher, with a fake local bus: the
// GetLog command, $top, and log lines turned into LogEntry members.

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <CppUTest/TestHarness.h>

#include "platform/log.hpp"
#include "test_dispatcher.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

const char* const kEntries = "/redfish/v1/Managers/SPA/LogServices/Log/Entries";

proto::CommandResult logResult(std::vector<std::string> lines, uint64_t total) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(proto::SP_A);
  r.set_served_by(proto::SP_A);
  for (const std::string& line : lines) r.mutable_log()->add_lines(line);
  r.mutable_log()->set_total(total);
  return r;
}

}  // namespace

TEST_GROUP(LogServices){};

TEST(LogServices, CollectionHasTheLogAndTheEventLog) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Managers/SPB/LogServices");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  STRCMP_EQUAL("/redfish/v1/Managers/SPB/LogServices", str(res.body["@odata.id"]).c_str());
  STRCMP_EQUAL("#LogServiceCollection.LogServiceCollection", str(res.body["@odata.type"]).c_str());
  LONGS_EQUAL(2, res.body["Members@odata.count"].get<int>());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB/LogServices/Log",
               str(res.body["Members"][0]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB/LogServices/Events",
               str(res.body["Members"][1]["@odata.id"]).c_str());
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(LogServices, LogServiceDescribesTheLog) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Managers/SPA/LogServices/Log");
  LONGS_EQUAL(200, res.status);
  const Json& b = res.body;
  STRCMP_EQUAL("/redfish/v1/Managers/SPA/LogServices/Log", str(b["@odata.id"]).c_str());
  STRCMP_CONTAINS("#LogService.", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("Log", str(b["Id"]).c_str());
  LONGS_EQUAL(1000, b["MaxNumberOfRecords"].get<int>());
  STRCMP_EQUAL("WrapsWhenFull", str(b["OverWritePolicy"]).c_str());
  CHECK(b["ServiceEnabled"].get<bool>());
  STRCMP_EQUAL(kEntries, str(b["Entries"]["@odata.id"]).c_str());
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(LogServices, UnknownManagerOrServiceIsNotFound) {
  Served a(SpId::A, Role::Active);
  checkError(a.get("/redfish/v1/Managers/SPC/LogServices"), 404, "Base.1.22.1.ResourceNotFound");
  checkError(a.get("/redfish/v1/Managers/SPC/LogServices/Log/Entries"), 404,
             "Base.1.22.1.ResourceNotFound");
  checkError(a.get("/redfish/v1/Managers/SPA/LogServices/Journal"), 404,
             "Base.1.22.1.ResourceNotFound");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(LogServices, EntriesAreTheLinesWithTimeAndSeverity) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(logResult(
      {
          "2026-11-22T02:38:38.123Z SP-A spd[1234]: <info> serving",
          "2026-11-22T02:38:39.000Z SP-A spd[1234]: <warning> peer lost on the mgmt path",
          "2026-11-22T02:38:40.5Z SP-A spweb[99]: <crit> cannot serve on 198.18.0.11:80",
          "2026-11-22T02:38:41Z SP-A spd[1234]: <error> fencing failed",
          "no timestamp here <notice> odd line",
      },
      /*total=*/57));
  Response res = a.get(kEntries);
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  const Json& b = res.body;
  STRCMP_EQUAL(kEntries, str(b["@odata.id"]).c_str());
  STRCMP_EQUAL("#LogEntryCollection.LogEntryCollection", str(b["@odata.type"]).c_str());
  LONGS_EQUAL(5, b["Members@odata.count"].get<int>());
  const Json& m = b["Members"];
  LONGS_EQUAL(5, m.size());

  STRCMP_EQUAL("53", str(m[0]["Id"]).c_str());  // lines 53..57 of 57: the newest
  STRCMP_EQUAL((std::string(kEntries) + "/53").c_str(), str(m[0]["@odata.id"]).c_str());
  STRCMP_CONTAINS("#LogEntry.", str(m[0]["@odata.type"]).c_str());
  STRCMP_EQUAL("Oem", str(m[0]["EntryType"]).c_str());
  STRCMP_EQUAL("DualSP syslog", str(m[0]["OemRecordFormat"]).c_str());
  STRCMP_EQUAL("2026-11-22T02:38:38.123+00:00", str(m[0]["Created"]).c_str());
  STRCMP_EQUAL("OK", str(m[0]["Severity"]).c_str());
  STRCMP_EQUAL("2026-11-22T02:38:38.123Z SP-A spd[1234]: <info> serving",
               str(m[0]["Message"]).c_str());

  STRCMP_EQUAL("Warning", str(m[1]["Severity"]).c_str());
  STRCMP_EQUAL("2026-11-22T02:38:39.000+00:00", str(m[1]["Created"]).c_str());
  STRCMP_EQUAL("Critical", str(m[2]["Severity"]).c_str());
  STRCMP_EQUAL("2026-11-22T02:38:40.5+00:00", str(m[2]["Created"]).c_str());
  STRCMP_EQUAL("Critical", str(m[3]["Severity"]).c_str());
  STRCMP_EQUAL("2026-11-22T02:38:41+00:00", str(m[3]["Created"]).c_str());
  STRCMP_EQUAL("57", str(m[4]["Id"]).c_str());
  CHECK_FALSE(m[4].contains("Created"));
  STRCMP_EQUAL("OK", str(m[4]["Severity"]).c_str());

  const Json& oem = b["Oem"]["DualSP"];
  CHECK_FALSE(oem["Stale"].get<bool>());
  STRCMP_EQUAL("A", str(oem["AnsweredBy"]).c_str());
  LONGS_EQUAL(57, oem["TotalLines"].get<int>());
}

TEST(LogServices, MalformedTimestampsGiveNoCreated) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(logResult({"2026-11-22 02:38:38Z x", "2026-11-22T02:38:38.Z x",
                          "2026-11-22T02:38:38.123 x", "2026-11-22T02:38:3"},
                         0));
  Response res = a.get(kEntries);
  LONGS_EQUAL(200, res.status);
  for (const Json& entry : res.body["Members"]) CHECK_FALSE(entry.contains("Created"));
  STRCMP_EQUAL("1", str(res.body["Members"][0]["Id"]).c_str());  // total unknown: numbered here
}

TEST(LogServices, TopSetsTheLinesAskedFor) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(logResult({}, 0));
  LONGS_EQUAL(200, a.get(kEntries).status);
  proto::Command c = a.bus.last();
  STRCMP_EQUAL("GetLog", c.name().c_str());
  LONGS_EQUAL(proto::SP_A, c.target());
  STRCMP_EQUAL("200", c.args().at("lines").c_str());
  STRCMP_EQUAL("web 198.18.0.100", c.caller().origin().c_str());

  a.get(kEntries, "$top=5");
  STRCMP_EQUAL("5", a.bus.last().args().at("lines").c_str());
  a.get(kEntries, "%24top=7&only");
  STRCMP_EQUAL("7", a.bus.last().args().at("lines").c_str());
  // $top is the log's own (how many of the newest lines); $skip the generic one, on those.
  a.bus.answer(logResult({"a", "b", "c"}, 3));
  Response skipped = a.get(kEntries, "$top=3&$skip=1");
  STRCMP_EQUAL("3", a.bus.last().args().at("lines").c_str());
  LONGS_EQUAL(2, skipped.body["Members"].size());
  STRCMP_EQUAL("b", str(skipped.body["Members"][0]["Message"]).c_str());
  a.bus.answer(logResult({}, 0));
  a.get(kEntries, "$top=5000");
  STRCMP_EQUAL("1000", a.bus.last().args().at("lines").c_str());
  a.get(kEntries, "$top=99999999999999999999999");
  STRCMP_EQUAL("1000", a.bus.last().args().at("lines").c_str());
  LONGS_EQUAL(6, a.bus.calls());

  Response empty = a.get(kEntries);
  LONGS_EQUAL(0, empty.body["Members@odata.count"].get<int>());
  CHECK(empty.body["Members"].is_array());
}

TEST(LogServices, TopThatIsNotANumberIsRefused) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(logResult({}, 0));
  for (const char* query : {"$top=abc", "$top=-1", "$top=", "$top=5x"}) {
    Response res = a.get(kEntries, query);
    checkError(res, 400, "Base.1.22.1.QueryParameterValueTypeError");
    STRCMP_EQUAL("$top",
                 str(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][1]).c_str());
  }
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(LogServices, StalePeerLogSaysSo) {
  Served a(SpId::A, Role::Active);
  auto result = logResult({"2026-11-22T02:38:38.123Z SP-B spd[7]: <info> x"}, 1);
  result.set_answered_by(proto::SP_B);
  result.set_stale(true);
  result.set_age_ms(4100);
  a.bus.answer(result);
  Response res = a.get("/redfish/v1/Managers/SPB/LogServices/Log/Entries");
  LONGS_EQUAL(200, res.status);
  LONGS_EQUAL(proto::SP_B, a.bus.last().target());
  const Json& oem = res.body["Oem"]["DualSP"];
  CHECK(oem["Stale"].get<bool>());
  LONGS_EQUAL(4100, oem["AgeMs"].get<int>());
  STRCMP_EQUAL("B", str(oem["AnsweredBy"]).c_str());
  STRCMP_EQUAL("A", str(oem["ServedBy"]).c_str());
}

TEST(LogServices, NoAnswerIs503) {
  Served a(SpId::A, Role::Active);
  Response res = a.get(kEntries);
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  CHECK(res.header("Retry-After").has_value());
  a.bus.answer(resultWithStatus(proto::CommandResult::UNAVAILABLE));
  checkError(a.get("/redfish/v1/Managers/SPB/LogServices/Log/Entries"), 503,
             "Base.1.22.1.ServiceTemporarilyUnavailable");
}

TEST(LogServices, DegradedModeServesThisSpsLogOnly) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  a.bus.answer(logResult({"2026-11-22T02:38:38.123Z SP-A spd[1]: <crit> disk gone"}, 1));
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers/SPA/LogServices").status);
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers/SPA/LogServices/Log").status);
  LONGS_EQUAL(200, a.get(kEntries).status);
  LONGS_EQUAL(503, a.get("/redfish/v1/Managers/SPB/LogServices/Log/Entries").status);
  LONGS_EQUAL(1, a.bus.calls());
}

TEST(LogServices, OneEntryIsTheLineOfThatNumber) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(logResult({"2026-11-22T02:38:38.123Z SP-A spd[1234]: <info> serving",
                          "2026-11-22T02:38:39.000Z SP-A spd[1234]: <warning> peer lost"},
                         /*total=*/57));
  Response res = a.get(std::string(kEntries) + "/57");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  STRCMP_EQUAL("GetLog", a.bus.last().name().c_str());
  STRCMP_EQUAL("1000", a.bus.last().args().at("lines").c_str());  // all a client can reach
  STRCMP_EQUAL((std::string(kEntries) + "/57").c_str(), str(res.body["@odata.id"]).c_str());
  STRCMP_EQUAL("57", str(res.body["Id"]).c_str());
  STRCMP_EQUAL("Warning", str(res.body["Severity"]).c_str());
  STRCMP_EQUAL("2026-11-22T02:38:39.000Z SP-A spd[1234]: <warning> peer lost",
               str(res.body["Message"]).c_str());
  STRCMP_EQUAL("A", str(res.body["Oem"]["DualSP"]["AnsweredBy"]).c_str());
  STRCMP_EQUAL("OK", str(a.get(std::string(kEntries) + "/56").body["Severity"]).c_str());
}

TEST(LogServices, EntriesOutOfReachAreNotFound) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(logResult({"line 56", "line 57"}, /*total=*/57));
  for (const char* id : {"55", "58", "0", "x", "5x", "-1"}) {
    Response res = a.get(std::string(kEntries) + "/" + id);
    checkError(res, 404, "Base.1.22.1.ResourceNotFound");
    CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
          Json::array({"LogEntry", id}));
  }
  checkError(a.get("/redfish/v1/Managers/SPC/LogServices/Log/Entries/1"), 404,
             "Base.1.22.1.ResourceNotFound");
}

TEST(LogServices, DegradedModeServesThisSpsEntriesOnly) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  a.bus.answer(logResult({"line 1"}, 1));
  LONGS_EQUAL(200, a.get(std::string(kEntries) + "/1").status);
  checkError(a.get("/redfish/v1/Managers/SPB/LogServices/Log/Entries/1"), 503,
             "Base.1.22.1.ServiceTemporarilyUnavailable");
}

// Log injection (docs/SECURITY.md "Hostile input"): a message quoting a client's CR/LF, as the
// logger writes it to the file the log service reads (spd's GetLog: the file's lines), stays
// one entry with the message's own severity, never a forged Critical entry of its own.
TEST(LogServices, ACrLfInALoggedValueForgesNoEntry) {
  char name[] = "/tmp/dualsp-log-service-test-XXXXXX";
  close(mkstemp(name));
  dualsp::log::init("spd", "SP-A", name);
  LOG_WARNING << "event delivery: subscription 1 to http://198.18.0.100/x\r\n"
              << "2026-11-22T02:38:38.123Z SP-A spd[1]: <crit> forged: SP-B fenced"
              << " refused";
  dualsp::log::init("spd", "SP-A", "");
  std::vector<std::string> lines;
  {
    std::ifstream in(name);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  unlink(name);
  Served a(SpId::A, Role::Active);
  a.bus.answer(logResult(lines, lines.size()));
  Response res = a.get(kEntries);
  LONGS_EQUAL(200, res.status);
  LONGS_EQUAL(1, res.body["Members@odata.count"].get<int>());
  const Json& entry = res.body["Members"][0];
  STRCMP_EQUAL("Warning", str(entry["Severity"]).c_str());
  STRCMP_CONTAINS("http://198.18.0.100/x\\r\\n2026-11-22T02:38:38.123Z",
                  str(entry["Message"]).c_str());
}
