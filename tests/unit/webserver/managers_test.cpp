// /redfish/v1/Managers/{SPA|SPB} and Manager.Reset through the Dispatcher, with a fake local
// bus: which command spweb sends, and how each CommandResult becomes a Redfish answer.

#include <CppUTest/TestHarness.h>

#include "test_dispatcher.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/redfish_format.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

// spd's answer about SP `about`, as SP-A serves it.
proto::CommandResult spStatusResult(proto::SpId about, proto::Role role) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(about);
  r.set_served_by(proto::SP_A);
  proto::SpStatus* s = r.mutable_sp_status();
  s->set_sp(about);
  s->set_role(role);
  s->set_health(proto::HEALTH_WARNING);
  s->set_epoch(12);
  s->set_uptime_s(90);
  s->set_boot_id("2b1f0c7e-0000-4000-8000-00000000000b");
  s->set_firmware_version("0.1.0+peer");
  s->set_cpu_load_1m(0.25);
  s->set_memory_total_kb(1024000);
  s->set_memory_available_kb(512000);
  proto::Temperature* t = s->add_temperatures();
  t->set_name("CPU0");
  t->set_celsius(41.5);
  proto::Fault* f = s->add_faults();
  f->set_message_id("Environmental.1.4.0.SensorThresholdWarning");
  f->set_text("CPU0 is warm");
  f->set_severity(proto::HEALTH_WARNING);
  s->set_boot_time_ms(kNowMs - 90'500);
  s->set_holds_floating(role == proto::ROLE_ACTIVE);
  s->set_management_address("198.18.0.12");
  proto::SpMetrics* m = s->mutable_metrics();
  m->set_cpu_percent(37.5);
  m->set_memory_percent(61.25);
  m->set_read_iops(1200);
  m->set_write_iops(300);
  m->set_read_bytes_per_second(52428800);
  m->set_write_bytes_per_second(10485760);
  return r;
}

const char* const kResetPath = "/redfish/v1/Managers/SPB/Actions/Manager.Reset";

// spd's GetInventory answer about SP `about`: its board, as DMI names it.
proto::CommandResult boardInventory(proto::SpId about) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(about);
  proto::InventoryItem* cpu = r.mutable_inventory()->add_items();
  cpu->set_id("CPU0");
  cpu->set_kind("Processor");
  cpu->set_manufacturer("Not the board");
  proto::InventoryItem* board = r.mutable_inventory()->add_items();
  board->set_id("Board");
  board->set_kind("Board");
  board->set_name("SP board");
  board->set_manufacturer("DualSP Sim");
  board->set_model("SP-1");
  board->set_serial_number("SIM-B-0001");
  return r;
}

}  // namespace

TEST_GROUP(Manager){};

TEST(Manager, AsksSpdForTheSpStatusOfThatSp) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(spStatusResult(proto::SP_B, proto::ROLE_PASSIVE));
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers/SPB").status);
  // GetConfig (ServiceIdentification), GetSpStatus, then GetInventory (the board).
  LONGS_EQUAL(3, a.bus.calls());
  LONGS_EQUAL(proto::SP_B, a.bus.commandsNamed("GetInventory").at(0).target());
  proto::Command c = a.bus.commandsNamed("GetSpStatus").at(0);
  STRCMP_EQUAL("GetSpStatus", c.name().c_str());
  LONGS_EQUAL(proto::SP_B, c.target());
  STRCMP_EQUAL("web 198.18.0.100", c.caller().origin().c_str());
  CHECK_FALSE(c.forwarded());
  LONGS_EQUAL(1500, a.bus.lastTimeout().count());
  CHECK_EQUAL(0u, c.deadline_ms());  // spd applies its own peer-link deadline
}

TEST(Manager, FreshAnswerIsRenderedWholly) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(spStatusResult(proto::SP_B, proto::ROLE_PASSIVE));
  a.bus.answerFor("GetInventory", proto::SP_B, boardInventory(proto::SP_B));
  Response res = a.get("/redfish/v1/Managers/SPB");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  const Json& b = res.body;
  STRCMP_EQUAL("/redfish/v1/Managers/SPB", str(b["@odata.id"]).c_str());
  STRCMP_EQUAL("#Manager.v1_19_0.Manager", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("SPB", str(b["Id"]).c_str());
  STRCMP_EQUAL("ManagementController", str(b["ManagerType"]).c_str());
  STRCMP_EQUAL(managerUuid(a.array_id, SpId::B).c_str(), str(b["UUID"]).c_str());
  STRCMP_EQUAL(serviceRootUuid(a.array_id).c_str(), str(b["ServiceEntryPointUUID"]).c_str());
  STRCMP_EQUAL("0.1.0+peer", str(b["FirmwareVersion"]).c_str());
  STRCMP_EQUAL("StandbySpare", str(b["Status"]["State"]).c_str());
  STRCMP_EQUAL("Warning", str(b["Status"]["Health"]).c_str());
  STRCMP_EQUAL("On", str(b["PowerState"]).c_str());
  STRCMP_EQUAL(dateTimeString(kNowMs).c_str(), str(b["DateTime"]).c_str());
  STRCMP_EQUAL("+00:00", str(b["DateTimeLocalOffset"]).c_str());
  CHECK(b["Description"].is_string());
  STRCMP_EQUAL("DualSP Sim", str(b["Manufacturer"]).c_str());  // the board, not the CPU
  STRCMP_EQUAL("SP-1", str(b["Model"]).c_str());
  STRCMP_EQUAL("SIM-B-0001", str(b["SerialNumber"]).c_str());
  CHECK_FALSE(b["LocationIndicatorActive"].get<bool>());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure",
               str(b["Links"]["ManagerForChassis"][0]["@odata.id"]).c_str());
  STRCMP_EQUAL(dateTimeString(kNowMs - 90'500).c_str(), str(b["LastResetTime"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB/LogServices", str(b["LogServices"]["@odata.id"]).c_str());
  const Json& reset = b["Actions"]["#Manager.Reset"];
  STRCMP_EQUAL(kResetPath, str(reset["target"]).c_str());
  CHECK(reset["ResetType@Redfish.AllowableValues"] ==
        Json::array({"GracefulRestart", "ForceRestart"}));

  const Json& oem = b["Oem"]["DualSP"];
  STRCMP_EQUAL("passive", str(oem["Role"]).c_str());
  LONGS_EQUAL(12, oem["Epoch"].get<int>());
  STRCMP_EQUAL("2b1f0c7e-0000-4000-8000-00000000000b", str(oem["BootId"]).c_str());
  LONGS_EQUAL(90, oem["UptimeSeconds"].get<int>());
  CHECK_FALSE(oem["HoldsFloatingIp"].get<bool>());
  STRCMP_EQUAL("198.18.0.12", str(oem["ManagementAddress"]).c_str());
  DOUBLES_EQUAL(0.25, oem["CpuLoad1m"].get<double>(), 1e-9);
  LONGS_EQUAL(1024000, oem["MemoryTotalKiB"].get<long>());
  LONGS_EQUAL(512000, oem["MemoryAvailableKiB"].get<long>());
  // the TelemetryService's figures, under the names its MetricProperty fragments use
  DOUBLES_EQUAL(37.5, oem["CpuPercent"].get<double>(), 1e-9);
  DOUBLES_EQUAL(61.25, oem["MemoryPercent"].get<double>(), 1e-9);
  DOUBLES_EQUAL(1200, oem["ReadIOPS"].get<double>(), 1e-9);
  DOUBLES_EQUAL(300, oem["WriteIOPS"].get<double>(), 1e-9);
  DOUBLES_EQUAL(52428800, oem["ReadBytesPerSecond"].get<double>(), 1e-9);
  DOUBLES_EQUAL(10485760, oem["WriteBytesPerSecond"].get<double>(), 1e-9);
  CHECK(oem["Temperatures"] == Json::parse(R"([{"Name": "CPU0", "ReadingCelsius": 41.5}])"));
  LONGS_EQUAL(1, oem["Faults"].size());
  STRCMP_EQUAL("Environmental.1.4.0.SensorThresholdWarning",
               str(oem["Faults"][0]["MessageId"]).c_str());
  STRCMP_EQUAL("CPU0 is warm", str(oem["Faults"][0]["Message"]).c_str());
  STRCMP_EQUAL("Warning", str(oem["Faults"][0]["Severity"]).c_str());
  CHECK_FALSE(oem["Stale"].get<bool>());
  LONGS_EQUAL(0, oem["AgeMs"].get<int>());
  STRCMP_EQUAL("B", str(oem["AnsweredBy"]).c_str());
  STRCMP_EQUAL("A", str(oem["ServedBy"]).c_str());
}

TEST(Manager, FiguresTheSpCouldNotReadAreNull) {
  Served a(SpId::A, Role::Active);
  proto::CommandResult r = spStatusResult(proto::SP_B, proto::ROLE_PASSIVE);
  r.mutable_sp_status()->clear_metrics();  // firmware from before the figures, or unreadable
  a.bus.answer(r);
  const Json oem = a.get("/redfish/v1/Managers/SPB").body["Oem"]["DualSP"];
  for (const char* figure : {"CpuPercent", "MemoryPercent", "ReadIOPS", "WriteIOPS",
                             "ReadBytesPerSecond", "WriteBytesPerSecond"})
    CHECK_TEXT(oem.contains(figure) && oem[figure].is_null(), figure);
}

TEST(Manager, StateFollowsTheRole) {
  Served b(SpId::B, Role::Passive);
  auto result = spStatusResult(proto::SP_B, proto::ROLE_ACTIVE);
  result.mutable_sp_status()->set_health(proto::HEALTH_OK);
  b.bus.answer(result);
  Response res = b.get("/redfish/v1/Managers/SPB");
  STRCMP_EQUAL("Enabled", str(res.body["Status"]["State"]).c_str());
  STRCMP_EQUAL("OK", str(res.body["Status"]["Health"]).c_str());
  CHECK(res.body["Oem"]["DualSP"]["HoldsFloatingIp"].get<bool>());
  STRCMP_EQUAL("B", res.header("X-DualSP-SP").value_or("").c_str());

  result.mutable_sp_status()->set_role(proto::ROLE_STARTING);
  result.mutable_sp_status()->set_health(proto::HEALTH_CRITICAL);
  b.bus.answer(result);
  res = b.get("/redfish/v1/Managers/SPB/");
  STRCMP_EQUAL("StandbyOffline", str(res.body["Status"]["State"]).c_str());  // not a spare
  STRCMP_EQUAL("Critical", str(res.body["Status"]["Health"]).c_str());
  STRCMP_EQUAL("starting", str(res.body["Oem"]["DualSP"]["Role"]).c_str());

  result.mutable_sp_status()->set_health(proto::HEALTH_OK);
  b.bus.answer(result);
  STRCMP_EQUAL("StandbySpare",
               str(b.get("/redfish/v1/Managers/SPB").body["Status"]["State"]).c_str());

  result.mutable_sp_status()->set_role(proto::ROLE_TAKING_OVER);
  b.bus.answer(result);
  STRCMP_EQUAL("Starting", str(b.get("/redfish/v1/Managers/SPB").body["Status"]["State"]).c_str());
}

TEST(Manager, StaleAnswerSaysSoAndHowOld) {
  Served a(SpId::A, Role::Active);
  auto result = spStatusResult(proto::SP_B, proto::ROLE_PASSIVE);
  result.set_stale(true);
  result.set_age_ms(3200);
  a.bus.answer(result);
  Response res = a.get("/redfish/v1/Managers/SPB");
  LONGS_EQUAL(200, res.status);
  const Json& oem = res.body["Oem"]["DualSP"];
  CHECK(oem["Stale"].get<bool>());
  LONGS_EQUAL(3200, oem["AgeMs"].get<int>());
  STRCMP_EQUAL("B", str(oem["AnsweredBy"]).c_str());  // B's data, as A last knew it
  STRCMP_EQUAL("A", str(oem["ServedBy"]).c_str());
  STRCMP_EQUAL("StandbySpare", str(res.body["Status"]["State"]).c_str());
  // Its clock and power now are not known from an old answer, nor asked of a silent peer.
  CHECK(res.body["DateTime"].is_null());
  CHECK(res.body["DateTimeLocalOffset"].is_null());
  CHECK_FALSE(res.body.contains("PowerState"));
  CHECK(a.bus.commandsNamed("GetInventory").empty());
  CHECK(res.body["Manufacturer"].is_null());
  CHECK(res.body["Model"].is_null());
  CHECK(res.body["SerialNumber"].is_null());
  CHECK(res.body.contains("LastResetTime"));
}

TEST(Manager, PeerWithNoDataAtAllIsUnavailableOffline) {
  Served a(SpId::A, Role::Active);
  auto result = resultWithStatus(proto::CommandResult::UNAVAILABLE);
  a.bus.answer(result);
  Response res = a.get("/redfish/v1/Managers/SPB");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("SPB", str(res.body["Id"]).c_str());
  STRCMP_EQUAL("UnavailableOffline", str(res.body["Status"]["State"]).c_str());
  CHECK(res.body["Status"]["Health"].is_null());
  CHECK(res.body["DateTime"].is_null());
  CHECK(res.body["DateTimeLocalOffset"].is_null());
  CHECK(res.body["SerialNumber"].is_null());
  CHECK(res.body.contains("Description"));
  CHECK_FALSE(res.body["LocationIndicatorActive"].get<bool>());
  const Json& oem = res.body["Oem"]["DualSP"];
  CHECK(oem["Stale"].get<bool>());
  CHECK(oem["AgeMs"].is_null());
  CHECK(oem["Role"].is_null());
  CHECK(oem["AnsweredBy"].is_null());
  STRCMP_EQUAL("A", str(oem["ServedBy"]).c_str());
  STRCMP_EQUAL(kResetPath, str(res.body["Actions"]["#Manager.Reset"]["target"]).c_str());

  // About itself, an SP is never "offline": spd not able to answer is a 503.
  Response own = a.get("/redfish/v1/Managers/SPA");
  checkError(own, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
}

TEST(Manager, NoAnswerFromSpdIs503WithRetryAfter) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Managers/SPA");  // the fake answers nothing
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  STRCMP_EQUAL(std::to_string(kRetryAfterNoAnswerSeconds).c_str(),
               res.header("Retry-After").value_or("").c_str());
  checkCommonHeaders(res, "A");

  // TIMEOUT is spd's "it may have been done" (an unconfirmed change): never a 503, whose
  // promise is that nothing happened.
  a.bus.answer(resultWithStatus(proto::CommandResult::TIMEOUT));
  res = a.get("/redfish/v1/Managers/SPB");
  checkError(res, 500, "Base.1.22.1.OperationTimeout");
  CHECK_FALSE(res.header("Retry-After").has_value());
}

TEST(Manager, OtherFailuresMapToTheirStatus) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(resultWithStatus(proto::CommandResult::NOT_FOUND));
  Response res = a.get("/redfish/v1/Managers/SPB");
  checkError(res, 404, "Base.1.22.1.ResourceNotFound");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"Manager", "SPB"}));
  a.bus.answer(resultWithStatus(proto::CommandResult::INTERNAL));
  checkError(a.get("/redfish/v1/Managers/SPB"), 500, "Base.1.22.1.InternalError");
  a.bus.answer(resultWithStatus(proto::CommandResult::FORBIDDEN));
  checkError(a.get("/redfish/v1/Managers/SPB"), 403, "Base.1.22.1.InsufficientPrivilege");
  a.bus.answer(resultWithStatus(proto::CommandResult::BAD_REQUEST));
  checkError(a.get("/redfish/v1/Managers/SPB"), 400, "Base.1.22.1.GeneralError");
  // OK without the SpStatus it promises: spd's bug, not the client's.
  a.bus.answer(resultWithStatus(proto::CommandResult::OK));
  checkError(a.get("/redfish/v1/Managers/SPB"), 500, "Base.1.22.1.InternalError");
}

TEST(Manager, UnknownManagerIsResourceNotFoundWithoutAskingSpd) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Managers/SPC");
  checkError(res, 404, "Base.1.22.1.ResourceNotFound");
  checkCommonHeaders(res, "A");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"Manager", "SPC"}));
  checkError(a.post("/redfish/v1/Managers/SPC/Actions/Manager.Reset", ""), 404,
             "Base.1.22.1.ResourceNotFound");
  checkError(a.get("/redfish/v1/Nothing"), 404, "Base.1.22.1.ResourceNotFound");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST_GROUP(ManagerReset){};

TEST(ManagerReset, AcceptedIsNoContent) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(resultWithStatus(proto::CommandResult::ACCEPTED));
  Response res = a.post(kResetPath, R"({"ResetType": "GracefulRestart"})");
  LONGS_EQUAL(204, res.status);
  CHECK(res.body.is_null());
  STRCMP_EQUAL("A", res.header("X-DualSP-SP").value_or("").c_str());
  CHECK_FALSE(res.header("Content-Type").has_value());
  proto::Command c = a.bus.last();
  STRCMP_EQUAL("ResetSp", c.name().c_str());
  LONGS_EQUAL(proto::SP_B, c.target());
  STRCMP_EQUAL("GracefulRestart", c.args().at("type").c_str());
  STRCMP_EQUAL("web 198.18.0.100", c.caller().origin().c_str());

  a.bus.answer(resultWithStatus(proto::CommandResult::OK));
  LONGS_EQUAL(204, a.post(kResetPath, R"({"ResetType": "ForceRestart"})").status);
  STRCMP_EQUAL("ForceRestart", a.bus.last().args().at("type").c_str());
}

TEST(ManagerReset, NoBodyOrNoResetTypeIsAGracefulRestart) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(resultWithStatus(proto::CommandResult::ACCEPTED));
  for (const char* body : {"", "  \r\n", "{}"}) {
    LONGS_EQUAL(204, a.post(kResetPath, body).status);
    STRCMP_EQUAL("GracefulRestart", a.bus.last().args().at("type").c_str());
  }
  LONGS_EQUAL(3, a.bus.calls());
}

TEST(ManagerReset, AValueNotInTheListIsRefused) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(resultWithStatus(proto::CommandResult::ACCEPTED));
  Response res = a.post(kResetPath, R"({"ResetType": "PowerCycle"})");
  checkError(res, 400, "Base.1.22.1.ActionParameterValueNotInList");
  checkCommonHeaders(res, "A");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"PowerCycle", "ResetType", "Manager.Reset"}));
  res = a.post(kResetPath, R"({"ResetType": 42})");
  checkError(res, 400, "Base.1.22.1.ActionParameterValueNotInList");
  STRCMP_EQUAL("42", str(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"][0]).c_str());
  checkError(a.post(kResetPath, R"({"ResetType": "gracefulrestart"})"), 400,
             "Base.1.22.1.ActionParameterValueNotInList");
  res = a.post(kResetPath, R"({"ResetType": "GracefulRestart", "Delay": 5})");
  checkError(res, 400, "Base.1.22.1.ActionParameterNotSupported");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"Delay", "Manager.Reset"}));
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(ManagerReset, BadJsonIsMalformedJson) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(resultWithStatus(proto::CommandResult::ACCEPTED));
  for (const char* body : {"{", "ResetType=GracefulRestart", R"(["GracefulRestart"])", "null"})
    checkError(a.post(kResetPath, body), 400, "Base.1.22.1.MalformedJSON");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(ManagerReset, FailuresAreMappedLikeEveryCommand) {
  Served a(SpId::A, Role::Active);
  Response res = a.post(kResetPath, "");
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  CHECK(res.header("Retry-After").has_value());
  a.bus.answer(resultWithStatus(proto::CommandResult::UNAVAILABLE));  // peer unreachable
  checkError(a.post(kResetPath, ""), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  a.bus.answer(resultWithStatus(proto::CommandResult::INTERNAL));
  checkError(a.post(kResetPath, ""), 500, "Base.1.22.1.InternalError");
}

TEST(ManagerReset, DegradedModeResetsThisSpOnly) {
  Served b(SpId::B, Role::Active, ServeMode::Degraded);
  b.bus.answer(resultWithStatus(proto::CommandResult::ACCEPTED));
  LONGS_EQUAL(204, b.post(kResetPath, "").status);  // SPB is this SP
  LONGS_EQUAL(proto::SP_B, b.bus.last().target());
  Response peer = b.post("/redfish/v1/Managers/SPA/Actions/Manager.Reset", "");
  checkError(peer, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(1, b.bus.calls());
}

TEST(Manager, AnUnhealthyPassiveIsStandbyOffline) {
  Served a(SpId::A, Role::Active);
  auto result = spStatusResult(proto::SP_B, proto::ROLE_PASSIVE);
  result.mutable_sp_status()->set_health(proto::HEALTH_CRITICAL);
  a.bus.answer(result);
  Response res = a.get("/redfish/v1/Managers/SPB");
  STRCMP_EQUAL("StandbyOffline", str(res.body["Status"]["State"]).c_str());
  STRCMP_EQUAL("Critical", str(res.body["Status"]["Health"]).c_str());
  // A Warning is still healthy: the spare takes over when it must.
  result.mutable_sp_status()->set_health(proto::HEALTH_WARNING);
  a.bus.answer(result);
  STRCMP_EQUAL("StandbySpare",
               str(a.get("/redfish/v1/Managers/SPB").body["Status"]["State"]).c_str());
  // Both unhealthy: the active one still serves, degraded.
  result = spStatusResult(proto::SP_A, proto::ROLE_ACTIVE);
  result.mutable_sp_status()->set_health(proto::HEALTH_CRITICAL);
  a.bus.answer(result);
  STRCMP_EQUAL("Enabled", str(a.get("/redfish/v1/Managers/SPA").body["Status"]["State"]).c_str());
}

TEST_GROUP(ManagerRedundancy){};

TEST(ManagerRedundancy, TheTwoSpsAreOneFailoverSet) {
  Served a(SpId::A, Role::Active);
  ipc::StatusSnapshot board = snapshot(a.array_id, SpId::A, Role::Active);
  board.peer_health = Health::Ok;
  a.publish(board);
  auto result = spStatusResult(proto::SP_A, proto::ROLE_ACTIVE);
  result.mutable_sp_status()->set_health(proto::HEALTH_OK);
  a.bus.answer(result);
  Response res = a.get("/redfish/v1/Managers/SPA");
  LONGS_EQUAL(200, res.status);
  LONGS_EQUAL(1, res.body["Redundancy@odata.count"].get<int>());
  LONGS_EQUAL(1, res.body["Redundancy"].size());
  const Json& r = res.body["Redundancy"][0];
  STRCMP_EQUAL("/redfish/v1/Managers/SPA#/Redundancy/0", str(r["@odata.id"]).c_str());
  STRCMP_CONTAINS("#Redundancy.v1_", str(r["@odata.type"]).c_str());
  STRCMP_EQUAL("0", str(r["MemberId"]).c_str());
  STRCMP_EQUAL("Service processor failover", str(r["Name"]).c_str());
  STRCMP_EQUAL("Failover", str(r["Mode"]).c_str());
  LONGS_EQUAL(2, r["MaxNumSupported"].get<int>());
  LONGS_EQUAL(1, r["MinNumNeeded"].get<int>());
  CHECK(r["RedundancySet"] == Json::parse(R"([{"@odata.id": "/redfish/v1/Managers/SPA"},
                                              {"@odata.id": "/redfish/v1/Managers/SPB"}])"));
  CHECK(r["ActiveRedundancySet"] == Json::parse(R"([{"@odata.id": "/redfish/v1/Managers/SPA"}])"));
  STRCMP_EQUAL("Enabled", str(r["Status"]["State"]).c_str());
  STRCMP_EQUAL("OK", str(r["Status"]["Health"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure",
               str(res.body["Links"]["ManagerForChassis"][0]["@odata.id"]).c_str());
}

TEST(ManagerRedundancy, HealthSaysHowManySpsAreUp) {
  Served a(SpId::A, Role::Active);
  ipc::StatusSnapshot board = snapshot(a.array_id, SpId::A, Role::Active);
  auto own = spStatusResult(proto::SP_A, proto::ROLE_ACTIVE);
  own.mutable_sp_status()->set_health(proto::HEALTH_OK);
  a.bus.answer(own);
  auto health = [&] {
    return str(a.get("/redfish/v1/Managers/SPA").body["Redundancy"][0]["Status"]["Health"]);
  };
  board.peer_health = Health::Warning;  // the peer warns: still fault tolerant, but say so
  a.publish(board);
  STRCMP_EQUAL("Warning", health().c_str());
  board.peer_health = Health::Critical;  // one SP left
  a.publish(board);
  STRCMP_EQUAL("Warning", health().c_str());
  board.peer_health = Health::Ok;
  board.peer_alive = false;  // silent on every path: one SP left
  a.publish(board);
  STRCMP_EQUAL("Warning", health().c_str());
  own.mutable_sp_status()->set_health(proto::HEALTH_CRITICAL);  // and this one sick too
  a.bus.answer(own);
  STRCMP_EQUAL("Critical", health().c_str());
}

TEST(ManagerRedundancy, ThePeersViewUsesItsAnswerAndTheBoard) {
  Served a(SpId::A, Role::Passive);
  ipc::StatusSnapshot board = snapshot(a.array_id, SpId::A, Role::Passive);
  board.health = Health::Ok;
  board.peer_alive = true;
  a.publish(board);
  auto peer = spStatusResult(proto::SP_B, proto::ROLE_ACTIVE);
  peer.mutable_sp_status()->set_health(proto::HEALTH_OK);
  a.bus.answer(peer);
  const Json r = a.get("/redfish/v1/Managers/SPB").body["Redundancy"][0];
  CHECK(r["ActiveRedundancySet"] == Json::parse(R"([{"@odata.id": "/redfish/v1/Managers/SPB"}])"));
  STRCMP_EQUAL("OK", str(r["Status"]["Health"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB#/Redundancy/0", str(r["@odata.id"]).c_str());

  // The peer's last known state says active, but the heartbeats say it is gone.
  board.peer_alive = false;
  a.publish(board);
  peer.set_stale(true);
  a.bus.answer(peer);
  const Json gone = a.get("/redfish/v1/Managers/SPB").body["Redundancy"][0];
  CHECK(gone["ActiveRedundancySet"].empty());
  STRCMP_EQUAL("Warning", str(gone["Status"]["Health"]).c_str());
}

TEST(ManagerRedundancy, AnUnreachablePeerIsOutOfTheSet) {
  Served a(SpId::A, Role::Active);
  ipc::StatusSnapshot board = snapshot(a.array_id, SpId::A, Role::Active);
  board.peer_alive = false;
  a.publish(board);
  a.bus.answer(resultWithStatus(proto::CommandResult::UNAVAILABLE));
  Response res = a.get("/redfish/v1/Managers/SPB");
  STRCMP_EQUAL("UnavailableOffline", str(res.body["Status"]["State"]).c_str());
  const Json& r = res.body["Redundancy"][0];
  CHECK(r["ActiveRedundancySet"] == Json::parse(R"([{"@odata.id": "/redfish/v1/Managers/SPA"}])"));
  STRCMP_EQUAL("Warning", str(r["Status"]["Health"]).c_str());
}

TEST(ManagerRedundancy, WithoutTheBoardOnlyTheAnswerCounts) {
  Served a(SpId::A, Role::Active, ServeMode::Full, /*publish=*/false);
  auto own = spStatusResult(proto::SP_A, proto::ROLE_ACTIVE);
  own.mutable_sp_status()->set_health(proto::HEALTH_OK);
  a.bus.answer(own);
  Response res = a.get("/redfish/v1/Managers/SPA");
  LONGS_EQUAL(200, res.status);
  const Json& r = res.body["Redundancy"][0];
  STRCMP_EQUAL("OK", str(r["Status"]["Health"]).c_str());
  LONGS_EQUAL(1, r["ActiveRedundancySet"].size());
}

TEST(ManagerRedundancy, ADegradedSpDescribesItselfOnly) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  a.bus.answer(spStatusResult(proto::SP_A, proto::ROLE_ACTIVE));
  Response res = a.get("/redfish/v1/Managers/SPA");
  LONGS_EQUAL(200, res.status);
  CHECK_FALSE(res.body.contains("Redundancy"));
  CHECK_FALSE(res.body.contains("Links"));
  CHECK_FALSE(res.body["Actions"].contains("#Manager.ForceFailover"));
  // Its own clock and board are still known (GetInventory is served degraded).
  STRCMP_EQUAL(dateTimeString(kNowMs).c_str(), str(res.body["DateTime"]).c_str());
  STRCMP_EQUAL("+00:00", str(res.body["DateTimeLocalOffset"]).c_str());
  LONGS_EQUAL(proto::SP_A, a.bus.commandsNamed("GetInventory").at(0).target());
  CHECK(res.body["Actions"].contains("#Manager.Reset"));
  LONGS_EQUAL(1, res.body["Oem"]["DualSP"]["Faults"].size());  // health and faults stay

  Response managers = a.get("/redfish/v1/Managers");
  LONGS_EQUAL(1, managers.body["Members@odata.count"].get<int>());
  CHECK(managers.body["Members"] == Json::parse(R"([{"@odata.id": "/redfish/v1/Managers/SPA"}])"));
}

namespace {

const char* const kFailoverPath = "/redfish/v1/Managers/SPA/Actions/Manager.ForceFailover";

}  // namespace

TEST_GROUP(ManagerForceFailover){};

TEST(ManagerForceFailover, TheManagerAdvertisesIt) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(spStatusResult(proto::SP_B, proto::ROLE_PASSIVE));
  Response res = a.get("/redfish/v1/Managers/SPB");
  STRCMP_EQUAL("/redfish/v1/Managers/SPB/Actions/Manager.ForceFailover",
               str(res.body["Actions"]["#Manager.ForceFailover"]["target"]).c_str());
}

TEST(ManagerForceFailover, OkIsNoContent) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(resultWithStatus(proto::CommandResult::OK));
  Response res = a.post(kFailoverPath, "");
  LONGS_EQUAL(204, res.status);
  CHECK(res.body.is_null());
  STRCMP_EQUAL("A", res.header("X-DualSP-SP").value_or("").c_str());
  proto::Command c = a.bus.last();
  STRCMP_EQUAL("ForceFailover", c.name().c_str());
  LONGS_EQUAL(proto::SP_A, c.target());
  CHECK(c.args().empty());
  STRCMP_EQUAL("web 198.18.0.100", c.caller().origin().c_str());
}

TEST(ManagerForceFailover, TheBodyMayNameThePeer) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(resultWithStatus(proto::CommandResult::OK));
  for (const char* body :
       {"{}", " \n", R"({"NewManager": {"@odata.id": "/redfish/v1/Managers/SPB"}})",
        R"({"NewManager": {"@odata.id": "/redfish/v1/Managers/SPB/"}})"})
    LONGS_EQUAL(204, a.post(kFailoverPath, body).status);
  LONGS_EQUAL(4, a.bus.calls());
  // Addressed to SP-B (passive): spd there decides; spweb sends it the same way.
  LONGS_EQUAL(204, a.post("/redfish/v1/Managers/SPB/Actions/Manager.ForceFailover",
                          R"({"NewManager": {"@odata.id": "/redfish/v1/Managers/SPA"}})")
                       .status);
  LONGS_EQUAL(proto::SP_B, a.bus.last().target());
}

TEST(ManagerForceFailover, AnythingElseIsRefusedWithTheRightMessage) {
  Served a(SpId::A, Role::Active);
  a.bus.answer(resultWithStatus(proto::CommandResult::OK));
  Response res =
      a.post(kFailoverPath, R"({"NewManager": {"@odata.id": "/redfish/v1/Managers/SPA"}})");
  checkError(res, 400, "Base.1.22.1.ActionParameterValueConflict");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"NewManager", "/redfish/v1/Managers/SPA"}));
  res = a.post(kFailoverPath, R"({"NewManager": {"@odata.id": "/redfish/v1/Managers/SPC"}})");
  checkError(res, 400, "Base.1.22.1.ActionParameterValueError");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"NewManager", "Manager.ForceFailover"}));
  res = a.post(kFailoverPath, R"({"NewManager": "/redfish/v1/Managers/SPB"})");
  checkError(res, 400, "Base.1.22.1.ActionParameterValueTypeError");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"\"/redfish/v1/Managers/SPB\"", "NewManager", "Manager.ForceFailover"}));
  for (const char* body :
       {R"({"NewManager": null})", R"({"NewManager": {"@odata.id": 7}})", R"({"NewManager": {}})"})
    checkError(a.post(kFailoverPath, body), 400, "Base.1.22.1.ActionParameterValueTypeError");
  res = a.post(kFailoverPath, R"({"Force": true})");
  checkError(res, 400, "Base.1.22.1.ActionParameterNotSupported");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"Force", "Manager.ForceFailover"}));
  for (const char* body : {"{", "[]", "\"SPB\""})
    checkError(a.post(kFailoverPath, body), 400, "Base.1.22.1.MalformedJSON");
  checkError(a.post("/redfish/v1/Managers/SPC/Actions/Manager.ForceFailover", ""), 404,
             "Base.1.22.1.ResourceNotFound");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(ManagerForceFailover, ARefusalIsAConflictWithSpdsReason) {
  Served a(SpId::A, Role::Active);
  proto::CommandResult refused = resultWithStatus(proto::CommandResult::BAD_REQUEST);
  refused.set_error("SP-B is not healthy");
  a.bus.answer(refused);
  Response res = a.post(kFailoverPath, "");
  checkError(res, 409, "Base.1.22.1.GeneralError");
  checkCommonHeaders(res, "A");
  STRCMP_EQUAL("SP-B is not healthy", str(res.body["error"]["message"]).c_str());
  STRCMP_EQUAL("SP-B is not healthy",
               str(res.body["error"]["@Message.ExtendedInfo"][0]["Resolution"]).c_str());
  refused.set_error("");  // no reason given: still a refusal, still says by whom
  a.bus.answer(refused);
  res = a.post(kFailoverPath, "");
  checkError(res, 409, "Base.1.22.1.GeneralError");
  STRCMP_CONTAINS("SP-A", str(res.body["error"]["message"]).c_str());
}

TEST(ManagerForceFailover, OtherFailuresAreMappedLikeEveryCommand) {
  Served a(SpId::A, Role::Active);
  Response res = a.post(kFailoverPath, "");  // spd silent
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  CHECK(res.header("Retry-After").has_value());
  a.bus.answer(resultWithStatus(proto::CommandResult::UNAVAILABLE));
  checkError(a.post(kFailoverPath, ""), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  a.bus.answer(resultWithStatus(proto::CommandResult::FORBIDDEN));
  checkError(a.post(kFailoverPath, ""), 403, "Base.1.22.1.InsufficientPrivilege");
  a.bus.answer(resultWithStatus(proto::CommandResult::INTERNAL));
  checkError(a.post(kFailoverPath, ""), 500, "Base.1.22.1.InternalError");
}

TEST(ManagerForceFailover, NotServedInDegradedMode) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  a.bus.answer(resultWithStatus(proto::CommandResult::OK));
  checkError(a.post(kFailoverPath, ""), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(0, a.bus.calls());
}
