// spweb's HTTP side: the Dispatcher behind CivetWeb on 127.0.0.1, port 0, asked over a raw
// socket.

#include <CppUTest/TestHarness.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "fake_command_client.hpp"
#include "fake_config_store.hpp"
#include "http_test_client.hpp"
#include "ipc/local_bus.hpp"
#include "test_dispatcher.hpp"
#include "test_status_board.hpp"
#include "webserver/dispatcher.hpp"
#include "webserver/routes/odata.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/status_board_source.hpp"
#include "webserver/web_server.hpp"

using namespace dualsp;
using namespace dualsp::web;
using dualsp::web::test::HttpReply;
using dualsp::web::test::HttpTestClient;

namespace {

struct RunningServer {
  std::string array_id;
  std::unique_ptr<test::TestStatusBoard> board;
  std::unique_ptr<StatusBoardSource> source;
  test::FakeCommandClient fake_bus;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<WebServer> server;

  // With `bus` null, commands go to fake_bus.
  RunningServer(SpId sp, ServeMode mode, bool publish = true, ipc::CommandClient* bus = nullptr,
                std::string array = test::uniqueArrayId())
      : array_id(std::move(array)) {
    board = std::make_unique<test::TestStatusBoard>(array_id, sp);
    if (publish) board->publish(test::snapshot(array_id, sp, Role::Active));
    source = std::make_unique<StatusBoardSource>(board->name());
    dispatcher = std::make_unique<Dispatcher>(
        buildRouteTable(), ServiceConfig{sp, mode, array_id, {}}, [this] { return source->read(); },
        bus ? *bus : fake_bus, systemWallClockMs, test::asAdministrator());
    server = std::make_unique<WebServer>(*dispatcher);
    std::string error;
    if (!server->start({.address = "127.0.0.1", .port = 0}, error)) FAIL(error.c_str());
  }
  ~RunningServer() { server->stop(); }  // before the dispatcher and board go
};

Json bodyOf(const HttpReply& reply) {
  return Json::parse(reply.body);
}

}  // namespace

TEST_GROUP(WebServer){};

TEST(WebServer, ServesTheServiceRootWithItsHeaders) {
  RunningServer s(SpId::A, ServeMode::Full);
  CHECK(s.server->port() > 0);
  HttpTestClient client(s.server->port());
  HttpReply reply = client.request("GET", "/redfish/v1/");
  LONGS_EQUAL(200, reply.status);
  STRCMP_EQUAL("A", reply.header("x-dualsp-sp").value_or("").c_str());
  STRCMP_EQUAL("application/json; charset=utf-8",
               reply.header("content-type").value_or("").c_str());
  STRCMP_EQUAL("4.0", reply.header("odata-version").value_or("").c_str());
  STRCMP_EQUAL("no-store", reply.header("cache-control").value_or("").c_str());
  Json body = bodyOf(reply);
  STRCMP_EQUAL("RootService", body["Id"].get<std::string>().c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPA",
               body["Links"]["ManagerProvidingService"]["@odata.id"].get<std::string>().c_str());
}

TEST(WebServer, KeepsTheConnectionAlive) {
  RunningServer s(SpId::B, ServeMode::Full);
  HttpTestClient client(s.server->port());
  proto::CommandResult own;
  own.mutable_sp_status()->set_role(proto::ROLE_ACTIVE);
  s.fake_bus.answer(own);
  for (const char* path : {"/redfish/v1", "/redfish/v1/Managers", "/redfish/v1/Managers/SPB",
                           "/redfish/v1/Managers/SPX"}) {
    HttpReply reply = client.request("GET", path);
    CHECK(reply.status == 200 || reply.status == 404);
    STRCMP_EQUAL("B", reply.header("x-dualsp-sp").value_or("").c_str());
    STRCMP_EQUAL("keep-alive", reply.header("connection").value_or("").c_str());
    CHECK(bodyOf(reply).is_object());
  }
  CHECK_FALSE(client.closedByServer(50));
}

TEST(WebServer, HeadHasTheLengthButNoBody) {
  RunningServer s(SpId::A, ServeMode::Full);
  HttpTestClient client(s.server->port());
  HttpReply head = client.request("HEAD", "/redfish/v1");
  LONGS_EQUAL(200, head.status);
  CHECK(std::stoul(head.header("content-length").value_or("0")) > 0);
  HttpReply get = client.request("GET", "/redfish/v1");  // parses cleanly: HEAD sent no body
  LONGS_EQUAL(200, get.status);
  STRCMP_EQUAL(head.header("content-length")->c_str(), std::to_string(get.body.size()).c_str());
}

TEST(WebServer, ErrorsAreRedfishBodies) {
  RunningServer s(SpId::A, ServeMode::Full);
  HttpTestClient client(s.server->port());
  HttpReply missing = client.request("GET", "/redfish/v1/Managers/SPC");
  LONGS_EQUAL(404, missing.status);
  STRCMP_EQUAL("Base.1.22.1.ResourceNotFound",
               bodyOf(missing)["error"]["code"].get<std::string>().c_str());
  HttpReply post = client.request("POST", "/redfish/v1/Managers/SPA");
  LONGS_EQUAL(405, post.status);
  STRCMP_EQUAL("GET, HEAD, PATCH", post.header("allow").value_or("").c_str());
  STRCMP_EQUAL("Base.1.22.1.OperationNotAllowed",
               bodyOf(post)["error"]["code"].get<std::string>().c_str());
}

TEST(WebServer, DegradedModeAnswers503OutsideTheRescueSubset) {
  RunningServer s(SpId::A, ServeMode::Degraded);
  HttpTestClient client(s.server->port());
  LONGS_EQUAL(200, client.request("GET", "/redfish/v1").status);
  LONGS_EQUAL(200, client.request("GET", "/redfish/v1/Managers/SPA/LogServices").status);
  HttpReply peer = client.request("GET", "/redfish/v1/Managers/SPB");
  LONGS_EQUAL(503, peer.status);
  STRCMP_EQUAL(std::to_string(kRetryAfterDegradedSeconds).c_str(),
               peer.header("retry-after").value_or("").c_str());
  STRCMP_EQUAL("Base.1.22.1.ServiceTemporarilyUnavailable",
               bodyOf(peer)["error"]["code"].get<std::string>().c_str());
}

TEST(WebServer, NoStatusBoardAnswers503) {
  RunningServer s(SpId::A, ServeMode::Full, /*publish=*/false);
  HttpTestClient client(s.server->port());
  HttpReply reply = client.request("GET", "/redfish/v1");
  LONGS_EQUAL(503, reply.status);
  STRCMP_EQUAL("1", reply.header("retry-after").value_or("").c_str());
  STRCMP_EQUAL("A", reply.header("x-dualsp-sp").value_or("").c_str());
}

TEST(WebServer, MalformedRequestStillSaysWhichSpAnswered) {
  RunningServer s(SpId::B, ServeMode::Full);
  HttpTestClient client(s.server->port());
  client.sendRaw("GARBAGE\r\n\r\n");
  HttpReply reply = client.readReply();
  CHECK(reply.status >= 400 && reply.status < 500);
  STRCMP_EQUAL("B", reply.header("x-dualsp-sp").value_or("").c_str());
}

// CivetWeb refuses a method it does not know before spweb sees the request; spweb still
// answers it, 501 with a Redfish body (docs/WEB.md "Protocol").
TEST(WebServer, AnUnknownMethodIsNotImplementedWithARedfishBody) {
  RunningServer s(SpId::B, ServeMode::Full);
  HttpTestClient client(s.server->port());
  client.sendRaw("FAKEMETHODFORTEST /redfish/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  HttpReply reply = client.readReply();
  LONGS_EQUAL(501, reply.status);
  STRCMP_EQUAL("B", reply.header("x-dualsp-sp").value_or("").c_str());
  STRCMP_EQUAL("4.0", reply.header("odata-version").value_or("").c_str());
  STRCMP_EQUAL("application/json; charset=utf-8",
               reply.header("content-type").value_or("").c_str());
  STRCMP_EQUAL("close", reply.header("connection").value_or("").c_str());
  STRCMP_EQUAL("Base.1.22.1.GeneralError",
               bodyOf(reply)["error"]["code"].get<std::string>().c_str());
  CHECK(client.closedByServer(1000));
  // A method CivetWeb knows and spweb does not take on the resource: 405, as before.
  HttpTestClient second(s.server->port());
  HttpReply put = second.request("PUT", "/redfish/v1", "{}");
  LONGS_EQUAL(405, put.status);
  STRCMP_EQUAL("GET, HEAD", put.header("allow").value_or("").c_str());
  // A method CivetWeb knows and spweb does not at all (WebDAV): 501 from the dispatcher.
  HttpReply propfind = second.request("PROPFIND", "/redfish/v1");
  LONGS_EQUAL(501, propfind.status);
}

TEST(WebServer, ServesTheODataDocumentsAndProtocolHeaders) {
  RunningServer s(SpId::A, ServeMode::Degraded);
  HttpTestClient client(s.server->port());
  HttpReply metadata = client.request("GET", "/redfish/v1/$metadata");
  LONGS_EQUAL(200, metadata.status);
  STRCMP_EQUAL("application/xml; charset=utf-8",
               metadata.header("content-type").value_or("").c_str());
  STRCMP_EQUAL(metadataDocument().c_str(), metadata.body.c_str());
  HttpReply head = client.request("HEAD", "/redfish/v1/$metadata");
  LONGS_EQUAL(200, head.status);
  STRCMP_EQUAL(std::to_string(metadataDocument().size()).c_str(),
               head.header("content-length").value_or("").c_str());
  HttpReply odata = client.request("GET", "/redfish/v1/odata");
  LONGS_EQUAL(200, odata.status);
  STRCMP_EQUAL("/redfish/v1/$metadata", bodyOf(odata)["@odata.context"].get<std::string>().c_str());
  HttpReply root = client.request("GET", "/redfish/v1/?$only");
  LONGS_EQUAL(501, root.status);
  root = client.request("GET", "/redfish/v1/?$select=Id");
  LONGS_EQUAL(200, root.status);
  STRCMP_EQUAL("RootService", bodyOf(root)["Id"].get<std::string>().c_str());
  CHECK_FALSE(bodyOf(root).contains("Name"));
  root = client.request("GET", "/redfish/v1/?unknown");
  LONGS_EQUAL(200, root.status);
  STRCMP_EQUAL("GET, HEAD", root.header("allow").value_or("").c_str());
  STRCMP_CONTAINS("rel=describedby", root.header("link").value_or("").c_str());
  CHECK(root.header("etag").has_value());
}

TEST(WebServer, APortInUseIsAClearStartError) {
  RunningServer s(SpId::A, ServeMode::Full);
  WebServer second(*s.dispatcher);
  std::string error;
  CHECK_FALSE(second.start({.address = "127.0.0.1", .port = s.server->port()}, error));
  STRCMP_CONTAINS("Address already in use", error.c_str());
  LONGS_EQUAL(-1, second.port());
}

// spd restarts spweb to switch modes; the port must come free at once, not after CivetWeb's
// 2 s poll quantum.
TEST(WebServer, StopsPromptlyEvenWithAnIdleKeepAliveConnection) {
  RunningServer s(SpId::A, ServeMode::Full);
  HttpTestClient client(s.server->port());
  LONGS_EQUAL(200, client.request("GET", "/redfish/v1").status);
  const int port = s.server->port();
  auto start = std::chrono::steady_clock::now();
  s.server->stop();
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_TEXT(took < std::chrono::milliseconds(1000), "mg_stop took a second or more");
  WebServer again(*s.dispatcher);
  std::string error;
  CHECK_TEXT(again.start({.address = "127.0.0.1", .port = port}, error), error.c_str());
}

TEST(WebServer, ABodyAboveTheLimitIsPayloadTooLarge) {
  RunningServer s(SpId::A, ServeMode::Full);
  HttpTestClient client(s.server->port());
  HttpReply reply = client.request("POST", "/redfish/v1/Managers/SPA/Actions/Manager.Reset",
                                   std::string(kMaxRequestBodyBytes + 1, ' '));
  LONGS_EQUAL(413, reply.status);
  STRCMP_EQUAL("Base.1.22.1.PayloadTooLarge",
               bodyOf(reply)["error"]["code"].get<std::string>().c_str());
  LONGS_EQUAL(0, s.fake_bus.calls());
}

namespace {

// A stand-in for spd on the real local bus: answers GetSpStatus and ResetSp, and keeps the
// commands it was sent.
struct FakeSpd {
  std::mutex mutex;
  std::vector<proto::Command> commands;
  std::unique_ptr<ipc::LocalBusServer> server;

  explicit FakeSpd(const std::string& name) {
    server = std::make_unique<ipc::LocalBusServer>(
        name, [this](const proto::Command& c, ipc::LocalBusServer::Reply reply) {
          handle(c, std::move(reply));
        });
    server->start();
  }
  void handle(const proto::Command& c, const ipc::LocalBusServer::Reply& reply) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      commands.push_back(c);
    }
    proto::CommandResult r;
    r.set_answered_by(c.target());
    r.set_served_by(proto::SP_A);
    if (c.name() == "GetSpStatus") {
      r.mutable_sp_status()->set_sp(c.target());
      r.mutable_sp_status()->set_role(c.target() == proto::SP_A ? proto::ROLE_ACTIVE
                                                                : proto::ROLE_PASSIVE);
      r.mutable_sp_status()->set_epoch(12);
      r.mutable_sp_status()->set_firmware_version("0.1.0+bus");
    } else if (c.name() == "ResetSp") {
      r.set_status(proto::CommandResult::ACCEPTED);
    } else {
      r.set_status(proto::CommandResult::NOT_FOUND);
    }
    reply(r);
  }
  proto::Command last() {
    std::lock_guard<std::mutex> lock(mutex);
    return commands.back();
  }
  // The last command named `name` (an empty one when none).
  proto::Command lastNamed(const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = commands.rbegin(); it != commands.rend(); ++it)
      if (it->name() == name) return *it;
    return {};
  }
};

}  // namespace

// The whole path in one process: HTTP on 127.0.0.1, the dispatcher, LocalBusClient, the
// message queues and a LocalBusServer standing in for spd.
TEST(WebServer, ManagerThroughTheRealLocalBus) {
  const std::string array_id = test::uniqueArrayId();
  const std::string bus_name = ipc::busRequestQueueName(array_id, SpId::A);
  auto spd = std::make_unique<FakeSpd>(bus_name);
  ipc::LocalBusClient bus(bus_name);
  RunningServer s(SpId::A, ServeMode::Full, true, &bus, array_id);
  HttpTestClient client(s.server->port());

  HttpReply reply = client.request("GET", "/redfish/v1/Managers/SPB");
  LONGS_EQUAL(200, reply.status);
  Json body = bodyOf(reply);
  STRCMP_EQUAL("StandbySpare", body["Status"]["State"].get<std::string>().c_str());
  STRCMP_EQUAL("0.1.0+bus", body["FirmwareVersion"].get<std::string>().c_str());
  STRCMP_EQUAL("B", body["Oem"]["DualSP"]["AnsweredBy"].get<std::string>().c_str());
  STRCMP_EQUAL("A", body["Oem"]["DualSP"]["ServedBy"].get<std::string>().c_str());
  const proto::Command status = spd->lastNamed("GetSpStatus");
  STRCMP_EQUAL("GetSpStatus", status.name().c_str());
  LONGS_EQUAL(proto::SP_B, status.target());
  STRCMP_EQUAL("web 127.0.0.1", status.caller().origin().c_str());
  // Then the board's inventory (this fake knows none: the board's identity is null).
  STRCMP_EQUAL("GetInventory", spd->last().name().c_str());
  CHECK(body["SerialNumber"].is_null());

  reply = client.request("POST", "/redfish/v1/Managers/SPA/Actions/Manager.Reset",
                         R"({"ResetType": "ForceRestart"})");
  LONGS_EQUAL(204, reply.status);
  STRCMP_EQUAL("", reply.body.c_str());
  STRCMP_EQUAL("ResetSp", spd->last().name().c_str());
  STRCMP_EQUAL("ForceRestart", spd->last().args().at("type").c_str());

  reply = client.request("POST", "/redfish/v1/Managers/SPA/Actions/Manager.Reset",
                         R"({"ResetType": "Off"})");
  LONGS_EQUAL(400, reply.status);

  // spd gone: an answer at once, not after the bus timeout.
  spd.reset();
  auto start = std::chrono::steady_clock::now();
  reply = client.request("GET", "/redfish/v1/Managers/SPA");
  LONGS_EQUAL(503, reply.status);
  CHECK(reply.header("retry-after").has_value());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));

  // spd back: served again.
  spd = std::make_unique<FakeSpd>(bus_name);
  reply = client.request("GET", "/redfish/v1/Managers/SPA");
  LONGS_EQUAL(200, reply.status);
  STRCMP_EQUAL("Enabled", bodyOf(reply)["Status"]["State"].get<std::string>().c_str());
}

namespace {

// Reads from a raw socket until `text` has arrived (or 5 s pass).
std::string readUntil(int fd, std::string& buffer, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (buffer.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return buffer;
}

int connectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) FAIL("cannot connect");
  return fd;
}

}  // namespace

// The SSE stream over a real socket: headers without a length, the events after
// Last-Event-ID, a new one as it is recorded, ordinary requests served meanwhile, and a stop
// that does not wait for the open stream.
TEST(WebServer, StreamsEventsOverServerSentEvents) {
  RunningServer s(SpId::A, ServeMode::Full);
  test::FakeConfigStore log(s.fake_bus);
  for (int i = 0; i < 3; ++i) log.addEvent("ResourceEvent.1.4.3.ResourceChanged", "changed");
  int fd = connectTo(s.server->port());
  const std::string request =
      "GET /redfish/v1/EventService/SSE HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Accept: text/event-stream\r\nLast-Event-ID: 1\r\n\r\n";
  CHECK(send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size()));
  std::string received;
  readUntil(fd, received, "id: 3\n");
  STRCMP_CONTAINS("HTTP/1.1 200", received.c_str());
  STRCMP_CONTAINS("Content-Type: text/event-stream", received.c_str());
  STRCMP_CONTAINS("Cache-Control: no-cache", received.c_str());
  STRCMP_CONTAINS("X-DualSP-SP: A", received.c_str());
  CHECK(received.find("Content-Length") == std::string::npos);
  CHECK(received.find("id: 1\n") == std::string::npos);
  const size_t two = received.find("id: 2\ndata: {");
  CHECK(two != std::string::npos);
  CHECK(two < received.find("id: 3\ndata: {"));

  // While the stream holds its thread, the rest of the service answers.
  HttpTestClient other(s.server->port());
  LONGS_EQUAL(200, other.request("GET", "/redfish/v1").status);

  log.addEvent("ResourceEvent.1.4.3.ResourceCreated", "created");
  readUntil(fd, received, "id: 4\n");
  STRCMP_CONTAINS("ResourceCreated", received.c_str());
  LONGS_EQUAL(1, s.server->eventStreams());

  auto start = std::chrono::steady_clock::now();
  s.server->stop();
  CHECK_TEXT(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000),
             "stop waited for the open stream");
  close(fd);
}

// spd restarts spweb in the other mode while a change waits in spd for the passive SP (up to
// seconds): the stop closes the bus, so the request is answered at once, 500 OperationTimeout
// saying that the change may have been applied (spd got it: not a 503, which promises nothing
// was done), and the stop does not wait for spd (docs/WEB.md "Stopping").
TEST(WebServer, AStopAnswersARequestWaitingForSpdAtOnceAsOutcomeUnknown) {
  const std::string array_id = test::uniqueArrayId();
  const std::string bus_name = ipc::busRequestQueueName(array_id, SpId::A);
  std::atomic<int> received{0};
  ipc::LocalBusServer silent_spd(bus_name, [&](const proto::Command&, ipc::LocalBusServer::Reply) {
    ++received;  // and never answers
  });
  silent_spd.start();
  ipc::LocalBusClient bus(bus_name);
  RunningServer s(SpId::A, ServeMode::Full, true, &bus, array_id);
  s.server->onStopping([&bus] { bus.close(); });
  HttpReply reply;
  std::thread client([&reply, port = s.server->port()] {
    HttpTestClient c(port);
    reply = c.request("PATCH", "/redfish/v1/Chassis/Enclosure", R"({"AssetTag": "R7-12"})");
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (received.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK_TEXT(received.load() > 0, "the PATCH never reached spd");

  const auto start = std::chrono::steady_clock::now();
  CHECK_TEXT(s.server->stopWithin(kStopBound), "the stop waited for spd");
  CHECK(std::chrono::steady_clock::now() - start < kStopBound);
  client.join();
  LONGS_EQUAL(500, reply.status);
  STRCMP_EQUAL("Base.1.22.1.OperationTimeout",
               bodyOf(reply)["error"]["code"].get<std::string>().c_str());
  const std::string message = bodyOf(reply)["error"]["message"].get<std::string>();
  STRCMP_CONTAINS("restarting", message.c_str());
  STRCMP_CONTAINS("may have been applied", message.c_str());
  CHECK(bus.closed());
}

// A client that sends its body slowly holds a worker in CivetWeb's read, which notices a stop
// only every 2 s: the stop gives up after its bound (spweb then exits), and a later stop()
// waits for CivetWeb to finish.
TEST(WebServer, AStopWaitsNoLongerThanItsBoundForAClientSendingSlowly) {
  RunningServer s(SpId::A, ServeMode::Full);
  const int fd = connectTo(s.server->port());
  const std::string partial =
      "PATCH /redfish/v1/Chassis/Enclosure HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: 64\r\n\r\n{\"AssetTag\":";
  CHECK(send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(partial.size()));
  // Connections go to the workers in the order they came: once a later one is answered, the
  // slow one is in a worker, reading its body.
  HttpTestClient other(s.server->port());
  LONGS_EQUAL(200, other.request("GET", "/redfish/v1").status);

  const auto bound = std::chrono::milliseconds(100);
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE_TEXT(s.server->stopWithin(bound), "the slow body did not hold a worker");
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK_TEXT(took < bound + std::chrono::milliseconds(100), "the stop overran its bound");
  LONGS_EQUAL(-1, s.server->port());

  close(fd);  // the worker's read ends, the request is answered, CivetWeb stops
  start = std::chrono::steady_clock::now();
  s.server->stop();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2500));
}

namespace {

void answerLarge(const RequestContext&, Response& res) {
  res.status = 200;
  res.body = Json{{"Filler", std::string(size_t{8} << 20, 'x')}};  // more than the sockets buffer
}

// A server with one route, /large (8 MiB), and the real route table's service root, taking
// `max_client_requests` at once from one address.
struct OneClientPlace {
  test::Served served{SpId::A, Role::Active};
  std::unique_ptr<Dispatcher> dispatcher;
  WebServer server{*makeDispatcher()};

  explicit OneClientPlace(std::chrono::milliseconds grace) {
    std::string error;
    if (!server.start({.address = "127.0.0.1",
                       .port = 0,
                       .max_client_requests = 1,
                       .client_place_grace = grace},
                      error))
      FAIL(error.c_str());
  }
  ~OneClientPlace() { server.stop(); }
  const Dispatcher* makeDispatcher() {
    RouteTable table;
    table.add(Route{.pattern = "/large",
                    .methods = {HttpMethod::Get},
                    .privilege = Privilege::NoAuth,
                    .source = DataSource::None,
                    .handler = answerLarge});
    const RouteTable all = buildRouteTable();  // a range-for over a temporary's routes dangles
    for (const Route& r : all.routes())
      if (r.pattern == "/redfish/v1") table.add(r);
    dispatcher = std::make_unique<Dispatcher>(
        std::move(table), ServiceConfig{SpId::A, ServeMode::Full, served.array_id, {}},
        [this] { return served.source->read(); }, served.bus, [] { return test::kNowMs; },
        test::asAdministrator());
    return dispatcher.get();
  }
  void waitUntil(const std::function<bool()>& done, const char* what) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) FAIL(what);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
};

}  // namespace

// A client at its limit whose earlier answer is still being written (it has part of it, or all
// of it and the worker has not let the place go yet) is served once that answer is out, not
// refused: on a busy SP the worker is often preempted between the two (a 503 seen by
// test_partial_failure's 10 clients with 12 places each).
TEST(WebServer, AClientAtItsLimitWaitsForAnAnswerBeingWritten) {
  OneClientPlace s(std::chrono::seconds(5));
  const int large = connectTo(s.server.port());
  const std::string get = "GET /large HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  CHECK(send(large, get.data(), get.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(get.size()));
  pollfd p{large, POLLIN, 0};
  CHECK_TEXT(poll(&p, 1, 5000) == 1, "the large answer did not start");  // it is being written

  std::atomic<int> status{0};
  std::thread second([&] {
    HttpTestClient client(s.server.port());
    status = client.request("GET", "/redfish/v1").status;
  });
  s.waitUntil([&] { return s.server.waitingForClientPlaces() == 1; },
              "the second request did not wait for the client's place");
  size_t received = 0;
  char buffer[65536];
  for (ssize_t n; (n = recv(large, buffer, sizeof buffer, 0)) > 0;) received += n;
  close(large);
  second.join();
  CHECK(received > (size_t{8} << 20));
  LONGS_EQUAL(200, status.load());
}

// The wait is only for a place being let go: a client whose one place is still reading a
// body (a slow sender) is refused at once.
TEST(WebServer, AClientAtItsLimitWithNoAnswerBeingWrittenIsRefusedAtOnce) {
  OneClientPlace s(std::chrono::seconds(5));
  const int slow = connectTo(s.server.port());
  const std::string partial =
      "PATCH /redfish/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 64\r\n\r\n{";
  CHECK(send(slow, partial.data(), partial.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(partial.size()));
  // The slow request takes the place when a worker has read its headers; a second request
  // sent before that would race it for the place (and win, some of the time).
  s.waitUntil([&] { return s.server.clientPlacesTaken("127.0.0.1") == 1; },
              "the slow request did not take its place");
  const auto start = std::chrono::steady_clock::now();
  HttpTestClient client(s.server.port());
  HttpReply reply = client.request("GET", "/redfish/v1");
  LONGS_EQUAL(503, reply.status);
  STRCMP_EQUAL("1", reply.header("retry-after").value_or("").c_str());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  close(slow);
}
