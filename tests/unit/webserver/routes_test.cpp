// The service root, the Managers collection and the dispatcher's checks, without a socket: a
// snapshot published on a real status board, read back the way spweb reads it.

#include <CppUTest/TestHarness.h>

#include <cstring>
#include <regex>
#include <stdexcept>

#include "test_dispatcher.hpp"
#include "webserver/redfish_format.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

void handleThrows(const RequestContext&, Response&) {
  throw std::runtime_error("boom");
}

}  // namespace

TEST_GROUP(ServiceRoot){};

TEST(ServiceRoot, DescribesTheServiceAndWhoProvidesIt) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  const Json& b = res.body;
  STRCMP_EQUAL("/redfish/v1", str(b["@odata.id"]).c_str());
  STRCMP_EQUAL("#ServiceRoot.v1_17_0.ServiceRoot", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("RootService", str(b["Id"]).c_str());
  STRCMP_EQUAL("1.17.0", str(b["RedfishVersion"]).c_str());
  STRCMP_EQUAL(serviceRootUuid(a.array_id).c_str(), str(b["UUID"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers", str(b["Managers"]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPA",
               str(b["Links"]["ManagerProvidingService"]["@odata.id"]).c_str());
  STRCMP_EQUAL("A", str(b["Oem"]["DualSP"]["ServingSp"]).c_str());
  STRCMP_EQUAL("active", str(b["Oem"]["DualSP"]["Role"]).c_str());
  STRCMP_EQUAL("full", str(b["Oem"]["DualSP"]["Mode"]).c_str());
  CHECK(a.get("/redfish/v1/").body == b);
  STRCMP_EQUAL("/redfish/v1/", str(a.get("/redfish").body["v1"]).c_str());
}

TEST(ServiceRoot, BothSpsPresentOneServiceUuid) {
  Served a(SpId::A, Role::Active);
  Served b(SpId::B, Role::Passive, ServeMode::Full, true, a.array_id);  // the same array
  Response ra = a.get("/redfish/v1");
  Response rb = b.get("/redfish/v1");
  CHECK(ra.body["UUID"] == rb.body["UUID"]);
  STRCMP_EQUAL("B", rb.header("X-DualSP-SP").value_or("").c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB",
               str(rb.body["Links"]["ManagerProvidingService"]["@odata.id"]).c_str());
  STRCMP_EQUAL("passive", str(rb.body["Oem"]["DualSP"]["Role"]).c_str());
}

TEST(ServiceRoot, UuidsAreStableWellFormedAndDistinct) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  CHECK(std::regex_match(serviceRootUuid("sp-pair"), uuid));
  CHECK(std::regex_match(managerUuid("sp-pair", SpId::A), uuid));
  STRCMP_EQUAL(serviceRootUuid("sp-pair").c_str(), serviceRootUuid("sp-pair").c_str());
  CHECK(serviceRootUuid("sp-pair") != serviceRootUuid("sp-pais"));
  CHECK(managerUuid("sp-pair", SpId::A) != managerUuid("sp-pair", SpId::B));
}

TEST_GROUP(Managers){};

TEST(Managers, CollectionListsBothSps) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Managers");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("#ManagerCollection.ManagerCollection", str(res.body["@odata.type"]).c_str());
  LONGS_EQUAL(2, res.body["Members@odata.count"].get<int>());
  STRCMP_EQUAL("/redfish/v1/Managers/SPA", str(res.body["Members"][0]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB", str(res.body["Members"][1]["@odata.id"]).c_str());
}

TEST(Managers, UnknownManagerIsResourceNotFound) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Managers/SPC");
  checkError(res, 404, "Base.1.22.1.ResourceNotFound");
  checkCommonHeaders(res, "A");
  CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
        Json::array({"Manager", "SPC"}));
  checkError(a.get("/redfish/v1/Nothing"), 404, "Base.1.22.1.ResourceNotFound");
}

TEST_GROUP(Dispatch){};

TEST(Dispatch, DegradedModeServesOnlyTheRescueSubset) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  Response root = a.get("/redfish/v1");
  LONGS_EQUAL(200, root.status);
  STRCMP_EQUAL("degraded", str(root.body["Oem"]["DualSP"]["Mode"]).c_str());
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers").status);
  proto::CommandResult own;
  own.mutable_sp_status()->set_role(proto::ROLE_ACTIVE);
  a.bus.answer(own);
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers/SPA").status);
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers/SPA/LogServices").status);
  LONGS_EQUAL(3, a.bus.calls());  // GetConfig, GetSpStatus and GetInventory for the Manager
  Response peer = a.get("/redfish/v1/Managers/SPB");
  checkError(peer, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  STRCMP_EQUAL(std::to_string(kRetryAfterDegradedSeconds).c_str(),
               peer.header("Retry-After").value_or("").c_str());
  checkCommonHeaders(peer, "A");
  LONGS_EQUAL(404, a.get("/redfish/v1/Managers/SPC").status);
  for (const char* path :
       {"/redfish/v1/Managers/SPB/LogServices", "/redfish/v1/Managers/SPB/LogServices/Log",
        "/redfish/v1/Managers/SPB/LogServices/Log/Entries"})
    LONGS_EQUAL(503, a.get(path).status);
  LONGS_EQUAL(503, a.post("/redfish/v1/Managers/SPB/Actions/Manager.Reset", "").status);
  LONGS_EQUAL(3, a.bus.calls());  // the peer's routes never reached the bus
}

TEST(Dispatch, NoStatusBoardIsServiceTemporarilyUnavailable) {
  Served a(SpId::A, Role::Active, ServeMode::Full, /*publish=*/false);
  Response res = a.get("/redfish/v1");
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  STRCMP_EQUAL("1", res.header("Retry-After").value_or("").c_str());
  checkCommonHeaders(res, "A");

  a.publish(snapshot(a.array_id, SpId::A, Role::Active));  // spd publishes: served
  LONGS_EQUAL(200, a.get("/redfish/v1").status);

  FakeCommandClient bus;
  Dispatcher absent(
      buildRouteTable(), {SpId::A, ServeMode::Full, "x", {}},
      [] { return std::optional<ipc::StatusSnapshot>(); }, bus, systemWallClockMs,
      asAdministrator());
  LONGS_EQUAL(503, absent.handle(makeRequest(HttpMethod::Get, "/redfish/v1/Managers")).status);
}

// Routes that ask spd over the bus do not depend on the board: spd answers for itself.
TEST(Dispatch, BusRoutesDoNotNeedTheStatusBoard) {
  Served a(SpId::A, Role::Active, ServeMode::Full, /*publish=*/false);
  proto::CommandResult own;
  own.mutable_sp_status()->set_role(proto::ROLE_ACTIVE);
  a.bus.answer(own);
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers/SPA").status);
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers/SPA/LogServices/Log").status);
  LONGS_EQUAL(200, a.get("/redfish").status);
  LONGS_EQUAL(503, a.get("/redfish/v1").status);
}

TEST(Dispatch, ABodyTooLargeIsPayloadTooLarge) {
  Served a(SpId::A, Role::Active);
  Request request = makeRequest(HttpMethod::Post, "/redfish/v1/Managers/SPA/Actions/Manager.Reset");
  request.body_too_large = true;
  Response res = a.dispatcher->handle(request);
  checkError(res, 413, "Base.1.22.1.PayloadTooLarge");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(Dispatch, TheOtherSpsBoardIsNotReadAsOurs) {
  Served a(SpId::A, Role::Active);
  a.publish(snapshot(a.array_id, SpId::B, Role::Active));
  checkError(a.get("/redfish/v1"), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
}

TEST(Dispatch, WrongMethodIsOperationNotAllowed) {
  Served a(SpId::A, Role::Active);
  Response get = a.dispatcher->handle(
      makeRequest(HttpMethod::Get, "/redfish/v1/Managers/SPA/Actions/Manager.Reset"));
  checkError(get, 405, "Base.1.22.1.OperationNotAllowed");
  STRCMP_EQUAL("POST", get.header("Allow").value_or("").c_str());
  for (HttpMethod m : {HttpMethod::Post, HttpMethod::Put, HttpMethod::Delete}) {
    Response res = a.dispatcher->handle(makeRequest(m, "/redfish/v1/Managers/SPA"));
    checkError(res, 405, "Base.1.22.1.OperationNotAllowed");
    STRCMP_EQUAL("GET, HEAD, PATCH", res.header("Allow").value_or("").c_str());
  }
  LONGS_EQUAL(200, a.dispatcher->handle(makeRequest(HttpMethod::Head, "/redfish/v1")).status);
  // A method spweb does not know at all is 501, not 405 (tests/unit/webserver/protocol_test.cpp).
  LONGS_EQUAL(501, a.dispatcher->handle(makeRequest(HttpMethod::Other, "/redfish/v1")).status);
}

TEST(Dispatch, AHandlerExceptionIsInternalError) {
  Served a(SpId::B, Role::Active);
  RouteTable table;
  table.add({.pattern = "/boom",
             .methods = {HttpMethod::Get},
             .privilege = Privilege::Login,
             .degraded = DegradedService::Yes,
             .handler = handleThrows});
  Dispatcher d(
      std::move(table), {SpId::B, ServeMode::Full, a.array_id, {}},
      [&a] { return a.source->read(); }, a.bus, systemWallClockMs, asAdministrator());
  Response res = d.handle(makeRequest(HttpMethod::Get, "/boom"));
  checkError(res, 500, "Base.1.22.1.InternalError");
  checkCommonHeaders(res, "B");
}

// Found by tests/fuzz/request_handlers_fuzz.cpp: CivetWeb decodes %9F into the path, the
// subscription id reached spd as a protobuf string that is not UTF-8, and spd could not parse
// the command (GET: dropped, the client waited the whole bus timeout for a 503; DELETE: a
// ConfigWrite spd refused as unreadable). No resource has such a name: 404, spd not asked.
TEST(Dispatch, APathThatIsNotUtf8NamesNoResource) {
  Served a(SpId::A, Role::Active);
  for (HttpMethod m : {HttpMethod::Get, HttpMethod::Delete}) {
    Response res = a.send(m, "/redfish/v1/EventService/Subscriptions/\x9f", "");
    LONGS_EQUAL(404, res.status);
    STRCMP_EQUAL("Base.1.22.1.ResourceNotFound", str(res.body["error"]["code"]).c_str());
  }
  for (const char* overlong : {"/redfish/v1/Managers/SP\xc1\x81", "/redfish/v1/\xed\xa0\x80",
                               "/redfish/v1/Managers/SPA\xf4\x90\x80\x80"})
    LONGS_EQUAL(404, a.get(overlong).status);
  LONGS_EQUAL(0, a.bus.calls());
  // UTF-8 that names nothing is the handler's own 404, as before.
  LONGS_EQUAL(404, a.get("/redfish/v1/Managers/SP\xc3\xa9").status);
}

TEST(ServiceRoot, LinksOnlyWhatTheModeServes) {
  Served full(SpId::A, Role::Active);
  Response res = full.get("/redfish/v1");
  STRCMP_EQUAL("/redfish/v1/Chassis", str(res.body["Chassis"]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/SessionService", str(res.body["SessionService"]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/SessionService/Sessions",
               str(res.body["Links"]["Sessions"]["@odata.id"]).c_str());
  // What sushy and redfishtool look for from the root.
  STRCMP_EQUAL("/redfish/v1/Systems", str(res.body["Systems"]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/UpdateService", str(res.body["UpdateService"]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/EventService", str(res.body["EventService"]["@odata.id"]).c_str());

  Served degraded(SpId::B, Role::Active, ServeMode::Degraded);
  res = degraded.get("/redfish/v1");
  CHECK_FALSE(res.body.contains("Chassis"));  // it would answer 503
  CHECK_FALSE(res.body.contains("Systems"));
  CHECK_FALSE(res.body.contains("UpdateService"));
  CHECK(res.body["Links"].contains("Sessions"));
  CHECK(res.body["Links"].contains("ManagerProvidingService"));
}

TEST_GROUP(SessionService){};

namespace {

proto::CommandResult okPayload(const std::string& payload) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_payload(payload);
  return r;
}

constexpr const char* kAccountState =
    R"({"accounts":[{"UserName":"admin","RoleId":"Administrator","Enabled":true,"Locked":false,)"
    R"("PasswordChangeRequired":false}],"sessions":[{"Id":"7","UserName":"admin",)"
    R"("CreatedMs":1700000000000,"Origin":"198.18.0.100"}],"policy":{"SessionTimeout":900,)"
    R"("AccountLockoutThreshold":5,"AccountLockoutDuration":300,"AccountLockoutCounterResetAfter":300}})";

}  // namespace

TEST(SessionService, ShowsTheSessionsSpdKeeps) {
  for (ServeMode mode : {ServeMode::Full, ServeMode::Degraded}) {
    Served a(SpId::A, Role::Active, mode);
    a.bus.answerFor("GetAccounts", proto::SP_A, okPayload(kAccountState));
    Response res = a.get("/redfish/v1/SessionService");
    LONGS_EQUAL(200, res.status);
    STRCMP_CONTAINS("#SessionService.", str(res.body["@odata.type"]).c_str());
    CHECK(res.body["ServiceEnabled"].get<bool>());
    LONGS_EQUAL(900, res.body["SessionTimeout"].get<int>());
    res = a.get("/redfish/v1/SessionService/Sessions");
    LONGS_EQUAL(200, res.status);
    LONGS_EQUAL(1, res.body["Members@odata.count"].get<int>());
    STRCMP_EQUAL("/redfish/v1/SessionService/Sessions/7",
                 str(res.body["Members"][0]["@odata.id"]).c_str());
    res = a.get("/redfish/v1/SessionService/Sessions/7");
    LONGS_EQUAL(200, res.status);
    STRCMP_EQUAL("admin", str(res.body["UserName"]).c_str());
    CHECK(res.body["Password"].is_null());
    // Another user's session: only its owner or an administrator sees it.
    a.identity = Identity{"viewer", "ReadOnly", "", false};
    checkError(a.get("/redfish/v1/SessionService/Sessions/7"), 403,
               "Base.1.22.1.InsufficientPrivilege");
  }
}

TEST(SessionService, ALoginAnswers201WithTheToken) {
  Served a(SpId::A, Role::Active);
  a.identity.reset();  // a login needs no credentials
  a.bus.answerFor(
      "CreateSession", proto::SP_A,
      okPayload(R"({"id":"8","token":"0123abcd","user":"admin","role":"Administrator"})"));
  Response res = a.post("/redfish/v1/SessionService/Sessions",
                        R"({"UserName":"admin","Password":"pass-word-1234"})");
  LONGS_EQUAL(201, res.status);
  STRCMP_EQUAL("0123abcd", res.header("X-Auth-Token").value_or("").c_str());
  STRCMP_EQUAL("/redfish/v1/SessionService/Sessions/8",
               res.header("Location").value_or("").c_str());
  STRCMP_EQUAL("admin", str(res.body["UserName"]).c_str());
  // spd got the password once, for this SP only (never forwarded).
  std::vector<proto::Command> sent = a.bus.commandsNamed("CreateSession");
  LONGS_EQUAL(1, sent.size());
  LONGS_EQUAL(proto::SP_A, sent[0].target());
  STRCMP_EQUAL("pass-word-1234", sent[0].args().at("password").c_str());
}

TEST(SessionService, ABadLoginIs401AndAMalformedOne400) {
  Served a(SpId::A, Role::Active);
  a.identity.reset();
  proto::CommandResult refused;
  refused.set_status(proto::CommandResult::UNAUTHORIZED);
  a.bus.answerFor("CreateSession", proto::SP_A, refused);
  checkError(a.post("/redfish/v1/SessionService/Sessions",
                    R"({"UserName":"admin","Password":"wrong-password"})"),
             401, "Base.1.22.1.NoValidSession");
  checkError(a.post("/redfish/v1/SessionService/Sessions", R"({"UserName":"admin"})"), 400,
             "Base.1.22.1.PropertyMissing");
  // A password of the wrong type is not quoted back.
  Response typed = a.post("/redfish/v1/SessionService/Sessions",
                          R"({"UserName":"admin","Password":12345678901234})");
  checkError(typed, 400, "Base.1.22.1.PropertyValueTypeError");
  CHECK(typed.body.dump().find("12345678901234") == std::string::npos);
  // Everything else needs credentials.
  checkError(a.get("/redfish/v1/SessionService"), 401, "Base.1.22.1.NoValidSession");
}

namespace {

void addFault(ipc::StatusSnapshot& s, const char* id, const char* text, Health severity) {
  ipc::SnapshotFault& f = s.faults[s.fault_count++];
  ipc::copyField(f.message_id, id);
  ipc::copyField(f.text, text);
  f.severity = severity;
}

}  // namespace

TEST(Dispatch, DegradedRefusalNamesTheFaults) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  ipc::StatusSnapshot s = snapshot(a.array_id, SpId::A, Role::Active);
  s.health = Health::Critical;
  addFault(s, "Environmental.1.4.0.SensorThresholdCritical", "CPU 0 temperature is critical",
           Health::Critical);
  addFault(s, "Platform.1.3.2.FanFailed", "Fan 0 failed.", Health::Warning);
  a.publish(s);
  for (const char* path : {"/redfish/v1/Chassis", "/redfish/v1/Managers/SPB",
                           "/redfish/v1/Chassis/Enclosure/Sensors"}) {
    Response res = a.get(path);
    checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
    checkCommonHeaders(res, "A");
    STRCMP_EQUAL("2", res.header("Retry-After").value_or("").c_str());
    const Json& error = res.body["error"];
    STRCMP_EQUAL(
        "The service is temporarily unavailable.  Retry in 2 seconds.  SP-A serves only its rescue "
        "subset while it is unhealthy: CPU 0 temperature is critical; Fan 0 failed.",
        str(error["message"]).c_str());
    const Json& info = error["@Message.ExtendedInfo"];
    LONGS_EQUAL(3, info.size());
    STRCMP_EQUAL("Base.1.22.1.ServiceTemporarilyUnavailable", str(info[0]["MessageId"]).c_str());
    STRCMP_EQUAL("Environmental.1.4.0.SensorThresholdCritical", str(info[1]["MessageId"]).c_str());
    STRCMP_EQUAL("CPU 0 temperature is critical", str(info[1]["Message"]).c_str());
    STRCMP_EQUAL("Critical", str(info[1]["MessageSeverity"]).c_str());
    STRCMP_EQUAL("#Message.v1_1_1.Message", str(info[1]["@odata.type"]).c_str());
    STRCMP_EQUAL("Platform.1.3.2.FanFailed", str(info[2]["MessageId"]).c_str());
    STRCMP_EQUAL("Fan 0 failed.", str(info[2]["Message"]).c_str());
    STRCMP_EQUAL("Warning", str(info[2]["MessageSeverity"]).c_str());
  }
  checkError(a.post("/redfish/v1/Managers/SPA/Actions/Manager.ForceFailover", ""), 503,
             "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(Dispatch, DegradedRefusalWithoutFaultsOrBoardStillExplains) {
  Served a(SpId::B, Role::Passive, ServeMode::Degraded);
  Response res = a.get("/redfish/v1/Chassis");
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  STRCMP_CONTAINS("SP-B serves only its rescue subset while it is unhealthy.",
                  str(res.body["error"]["message"]).c_str());
  LONGS_EQUAL(1, res.body["error"]["@Message.ExtendedInfo"].size());

  Served unpublished(SpId::B, Role::Passive, ServeMode::Degraded, /*publish=*/false);
  res = unpublished.get("/redfish/v1/Chassis");
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  STRCMP_CONTAINS("its faults are not known", str(res.body["error"]["message"]).c_str());
  STRCMP_EQUAL("2", res.header("Retry-After").value_or("").c_str());
}

TEST(Dispatch, FaultsOnTheBoardAreReadWithinBounds) {
  ipc::StatusSnapshot s = snapshot("x", SpId::A, Role::Active);
  s.fault_count = 200;  // a board written by a confused spd: never more than the array holds
  std::memset(s.faults[0].text, 'x', sizeof s.faults[0].text);  // no terminating NUL
  std::vector<messages::FaultMessage> faults = faultsOnBoard(s);
  LONGS_EQUAL(ipc::StatusSnapshot::kMaxFaults, faults.size());
  LONGS_EQUAL(sizeof s.faults[0].text, faults[0].text.size());
}

TEST_GROUP(UpdateService){};

// Present for the clients that look for it, and honest: the firmware is not updated through
// Redfish, so the service is disabled and offers nothing to call.
TEST(UpdateService, IsDisabledAndOffersNoAction) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/UpdateService");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  const Json& b = res.body;
  STRCMP_EQUAL("/redfish/v1/UpdateService", str(b["@odata.id"]).c_str());
  STRCMP_EQUAL("#UpdateService.v1_17_0.UpdateService", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("UpdateService", str(b["Id"]).c_str());
  CHECK(b["ServiceEnabled"] == false);
  STRCMP_EQUAL("Disabled", str(b["Status"]["State"]).c_str());
  CHECK(b["Actions"] == Json::object());  // there, for sushy, and empty
  CHECK_FALSE(b.contains("HttpPushUri"));
  CHECK_FALSE(b.contains("MultipartHttpPushUri"));
  LONGS_EQUAL(0, a.bus.calls());
  LONGS_EQUAL(405, a.send(HttpMethod::Post, "/redfish/v1/UpdateService", "{}").status);

  Served degraded(SpId::A, Role::Active, ServeMode::Degraded);
  LONGS_EQUAL(503, degraded.get("/redfish/v1/UpdateService").status);
}
