// The Redfish resources, through the Dispatcher (no socket): a snapshot published on a real
// status board, read back the way spweb reads it.

#include <CppUTest/TestHarness.h>

#include <memory>
#include <regex>
#include <stdexcept>

#include "test_status_board.hpp"
#include "webserver/dispatcher.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/status_board_source.hpp"

using namespace dualsp;
using namespace dualsp::web;
using dualsp::web::test::kNowMs;

namespace {

struct Served {
  std::string array_id;
  std::unique_ptr<test::TestStatusBoard> board;
  std::unique_ptr<StatusBoardSource> source;
  std::unique_ptr<Dispatcher> dispatcher;

  // Publishes `role` for SP `sp` (unless publish is false) and serves it in `mode`.
  Served(SpId sp, Role role, ServeMode mode = ServeMode::Full, bool publish = true,
         std::string array = test::uniqueArrayId())
      : array_id(std::move(array)) {
    board = std::make_unique<test::TestStatusBoard>(array_id, sp);
    if (publish) board->publish(test::snapshot(array_id, sp, role));
    source = std::make_unique<StatusBoardSource>(board->name());
    dispatcher = std::make_unique<Dispatcher>(
        buildRouteTable(), ServiceConfig{sp, mode, array_id}, [this] { return source->read(); },
        [] { return kNowMs; });
  }
  void publish(const ipc::StatusSnapshot& s) { board->publish(s); }
  Response get(const std::string& path) const {
    return dispatcher->handle({HttpMethod::Get, path});
  }
};

std::string str(const Json& j) {
  return j.get<std::string>();
}

void checkCommonHeaders(const Response& res, const char* sp) {
  STRCMP_EQUAL(sp, res.header("X-DualSP-SP").value_or("").c_str());
  STRCMP_EQUAL("4.0", res.header("OData-Version").value_or("").c_str());
  STRCMP_EQUAL("no-store", res.header("Cache-Control").value_or("").c_str());
  STRCMP_EQUAL("application/json; charset=utf-8", res.header("Content-Type").value_or("").c_str());
}

void checkError(const Response& res, int status, const char* message_id) {
  LONGS_EQUAL(status, res.status);
  STRCMP_EQUAL(message_id, str(res.body["error"]["code"]).c_str());
  STRCMP_EQUAL(message_id, str(res.body["error"]["@Message.ExtendedInfo"][0]["MessageId"]).c_str());
}

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
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
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

TEST(Managers, OwnManagerWhenActive) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Managers/SPA");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  const Json& b = res.body;
  STRCMP_EQUAL("SPA", str(b["Id"]).c_str());
  STRCMP_EQUAL("ManagementController", str(b["ManagerType"]).c_str());
  STRCMP_EQUAL(managerUuid(a.array_id, SpId::A).c_str(), str(b["UUID"]).c_str());
  STRCMP_EQUAL("0.1.0+test", str(b["FirmwareVersion"]).c_str());
  STRCMP_EQUAL("Enabled", str(b["Status"]["State"]).c_str());
  STRCMP_EQUAL("OK", str(b["Status"]["Health"]).c_str());
  STRCMP_EQUAL("On", str(b["PowerState"]).c_str());
  STRCMP_EQUAL(dateTimeString(kNowMs).c_str(), str(b["DateTime"]).c_str());
  const Json& oem = b["Oem"]["DualSP"];
  STRCMP_EQUAL("active", str(oem["Role"]).c_str());
  LONGS_EQUAL(7, oem["Epoch"].get<int>());
  STRCMP_EQUAL("2b1f0c7e-0000-4000-8000-00000000000a", str(oem["BootId"]).c_str());
  LONGS_EQUAL(90, oem["UptimeSeconds"].get<int>());
  CHECK(oem["HoldsFloatingIp"].get<bool>());
  STRCMP_EQUAL("198.18.0.11", str(oem["ManagementAddress"]).c_str());
  STRCMP_EQUAL("198.18.0.10", str(oem["FloatingAddress"]).c_str());
  CHECK_FALSE(oem["Stale"].get<bool>());
  LONGS_EQUAL(0, oem["AgeMs"].get<int>());
  STRCMP_EQUAL("A", str(oem["AnsweredBy"]).c_str());
  STRCMP_EQUAL("Alive", str(oem["Paths"]["Peer"]).c_str());
  STRCMP_EQUAL("Silent", str(oem["Paths"]["Mgmt"]).c_str());
  STRCMP_EQUAL("Alive", str(oem["Paths"]["Midplane"]).c_str());
}

TEST(Managers, OwnManagerWhenPassiveStartingOrTakingOver) {
  Served b(SpId::B, Role::Passive);
  Response res = b.get("/redfish/v1/Managers/SPB/");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("StandbySpare", str(res.body["Status"]["State"]).c_str());
  CHECK_FALSE(res.body["Oem"]["DualSP"]["HoldsFloatingIp"].get<bool>());
  STRCMP_EQUAL("B", str(res.body["Oem"]["DualSP"]["AnsweredBy"]).c_str());

  auto s = test::snapshot(b.array_id, SpId::B, Role::Starting);
  s.paths_configured = 0b011;
  s.health = Health::Critical;
  b.publish(s);
  res = b.get("/redfish/v1/Managers/SPB");
  STRCMP_EQUAL("StandbySpare", str(res.body["Status"]["State"]).c_str());
  STRCMP_EQUAL("Critical", str(res.body["Status"]["Health"]).c_str());
  STRCMP_EQUAL("NotConfigured", str(res.body["Oem"]["DualSP"]["Paths"]["Midplane"]).c_str());

  b.publish(test::snapshot(b.array_id, SpId::B, Role::TakingOver));
  res = b.get("/redfish/v1/Managers/SPB");
  STRCMP_EQUAL("Starting", str(res.body["Status"]["State"]).c_str());
}

TEST(Managers, PeerManagerFromHeartbeatsIsStale) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Managers/SPB");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("SPB", str(res.body["Id"]).c_str());
  STRCMP_EQUAL("StandbySpare", str(res.body["Status"]["State"]).c_str());  // peer is passive
  STRCMP_EQUAL("Warning", str(res.body["Status"]["Health"]).c_str());
  const Json& oem = res.body["Oem"]["DualSP"];
  STRCMP_EQUAL("passive", str(oem["Role"]).c_str());
  STRCMP_EQUAL("2b1f0c7e-0000-4000-8000-00000000000b", str(oem["BootId"]).c_str());
  CHECK(oem["Stale"].get<bool>());
  LONGS_EQUAL(12, oem["AgeMs"].get<int>());
  STRCMP_EQUAL("A", str(oem["AnsweredBy"]).c_str());
  STRCMP_EQUAL("heartbeat", str(oem["Source"]).c_str());
}

TEST(Managers, PeerManagerUnavailableOfflineWhenPeerIsDead) {
  Served a(SpId::A, Role::Active);
  auto s = test::snapshot(a.array_id, SpId::A, Role::Active);
  s.peer_alive = false;
  s.peer_last_heard_ms = kNowMs - 3000;
  a.publish(s);
  Response res = a.get("/redfish/v1/Managers/SPB");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("UnavailableOffline", str(res.body["Status"]["State"]).c_str());
  CHECK(res.body["Oem"]["DualSP"]["Stale"].get<bool>());
  LONGS_EQUAL(3000, res.body["Oem"]["DualSP"]["AgeMs"].get<int>());

  s.peer_last_heard_ms = 0;  // never heard since spd started
  ipc::copyField(s.peer_boot_id, "");
  a.publish(s);
  res = a.get("/redfish/v1/Managers/SPB");
  STRCMP_EQUAL("UnavailableOffline", str(res.body["Status"]["State"]).c_str());
  CHECK(res.body["Status"]["Health"].is_null());
  CHECK(res.body["Oem"]["DualSP"]["AgeMs"].is_null());
  CHECK(res.body["Oem"]["DualSP"]["Role"].is_null());
  CHECK(res.body["Oem"]["DualSP"]["BootId"].is_null());
  CHECK(res.body["Oem"]["DualSP"]["Stale"].get<bool>());
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
  LONGS_EQUAL(200, a.get("/redfish/v1/Managers/SPA").status);
  Response peer = a.get("/redfish/v1/Managers/SPB");
  checkError(peer, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  STRCMP_EQUAL(std::to_string(kRetryAfterDegradedSeconds).c_str(),
               peer.header("Retry-After").value_or("").c_str());
  checkCommonHeaders(peer, "A");
  LONGS_EQUAL(404, a.get("/redfish/v1/Managers/SPC").status);
}

TEST(Dispatch, NoStatusBoardIsServiceTemporarilyUnavailable) {
  Served a(SpId::A, Role::Active, ServeMode::Full, /*publish=*/false);
  Response res = a.get("/redfish/v1");
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  STRCMP_EQUAL("1", res.header("Retry-After").value_or("").c_str());
  checkCommonHeaders(res, "A");

  a.publish(test::snapshot(a.array_id, SpId::A, Role::Active));  // spd publishes: served
  LONGS_EQUAL(200, a.get("/redfish/v1").status);

  Dispatcher absent(buildRouteTable(), {SpId::A, ServeMode::Full, "x"},
                    [] { return std::optional<ipc::StatusSnapshot>(); });
  LONGS_EQUAL(503, absent.handle({HttpMethod::Get, "/redfish/v1/Managers/SPA"}).status);
}

TEST(Dispatch, TheOtherSpsBoardIsNotReadAsOurs) {
  Served a(SpId::A, Role::Active);
  a.publish(test::snapshot(a.array_id, SpId::B, Role::Active));
  checkError(a.get("/redfish/v1"), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
}

TEST(Dispatch, WrongMethodIsOperationNotAllowed) {
  Served a(SpId::A, Role::Active);
  for (HttpMethod m :
       {HttpMethod::Post, HttpMethod::Patch, HttpMethod::Delete, HttpMethod::Other}) {
    Response res = a.dispatcher->handle({m, "/redfish/v1/Managers/SPA"});
    checkError(res, 405, "Base.1.22.1.OperationNotAllowed");
    STRCMP_EQUAL("GET, HEAD", res.header("Allow").value_or("").c_str());
  }
  LONGS_EQUAL(200, a.dispatcher->handle({HttpMethod::Head, "/redfish/v1"}).status);
}

TEST(Dispatch, AHandlerExceptionIsInternalError) {
  Served a(SpId::B, Role::Active);
  RouteTable table;
  table.add({.pattern = "/boom",
             .methods = {HttpMethod::Get},
             .privilege = Privilege::Login,
             .degraded = DegradedService::Yes,
             .handler = handleThrows});
  Dispatcher d(std::move(table), {SpId::B, ServeMode::Full, a.array_id},
               [&a] { return a.source->read(); });
  Response res = d.handle({HttpMethod::Get, "/boom"});
  checkError(res, 500, "Base.1.22.1.InternalError");
  checkCommonHeaders(res, "B");
}
