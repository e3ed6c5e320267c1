// spweb gives up root once its port is bound (docs/SECURITY.md "What runs as whom"): the
// drop runs before CivetWeb starts a thread, every thread (CivetWeb's workers and one started
// before) then has the web identity, root cannot be regained, and requests are still served,
// with the status board spd shared with the web group. In forked children: a drop is for good.
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "fake_command_client.hpp"
#include "http_test_client.hpp"
#include "platform/privilege.hpp"
#include "test_dispatcher.hpp"
#include "test_status_board.hpp"
#include "tests/unit/platform/dropped_child.hpp"
#include "webserver/dispatcher.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/status_board_source.hpp"
#include "webserver/web_server.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::web;
using dualsp::web::test::HttpReply;
using dualsp::web::test::HttpTestClient;

namespace {

std::string ids(long uid, long euid, long gid, long egid) {
  return std::to_string(uid) + "/" + std::to_string(euid) + "/" + std::to_string(gid) + "/" +
         std::to_string(egid);
}

std::string idsOfThisThread() {
  return ids(::syscall(SYS_getuid), ::syscall(SYS_geteuid), ::syscall(SYS_getgid),
             ::syscall(SYS_getegid));
}

}  // namespace

TEST_GROUP(DropRoot){};

TEST(DropRoot, AServerThatDroppedRootAfterBindingServesAsTheWebUser) {
  if (::geteuid() != 0) return;  // only root drops
  const platform::UnixIdentity web = dualsp::test::kTestWebIdentity;
  const std::string want = ids(web.uid, web.uid, web.gid, web.gid);
  const std::string array_id = dualsp::web::test::uniqueArrayId();
  const std::string board_name = ipc::statusBoardName(array_id, SpId::A);
  std::string outcome = dualsp::test::inChild([&]() -> std::string {
    // spd's part, as root: the board, shared with the web group.
    auto writer = std::make_unique<ipc::StatusBoardWriter>(board_name, web);
    writer->publish(dualsp::web::test::snapshot(array_id, SpId::A, Role::Active));

    StatusBoardSource source(board_name, web);
    dualsp::web::test::FakeCommandClient bus;
    std::mutex worker_mutex;
    std::string worker_ids;  // as a CivetWeb worker saw them, in the authenticator
    Authenticator record = [&](const Request&) {
      std::lock_guard<std::mutex> lock(worker_mutex);
      worker_ids = idsOfThisThread();
      return AuthOutcome{AuthStatus::Ok, Identity{"admin", "Administrator", "", false}};
    };
    Dispatcher dispatcher(
        buildRouteTable(), ServiceConfig{SpId::A, ServeMode::Full, array_id, {}},
        [&source] { return source.read(); }, bus, systemWallClockMs, record);

    std::atomic<bool> dropped{false};
    std::string before_ids;
    std::thread before([&] {  // like the bus client's receiver: started before the drop
      while (!dropped.load()) std::this_thread::yield();
      before_ids = idsOfThisThread();
    });
    std::string bind_ids;
    WebServer server(dispatcher);
    std::string error;
    const bool started = server.start({.address = "127.0.0.1",
                                       .port = 0,
                                       .after_bind =
                                           [&] {
                                             bind_ids = idsOfThisThread();
                                             std::string why = platform::dropPrivileges(web);
                                             dropped = true;
                                             return why;
                                           }},
                                      error);
    dropped = true;
    before.join();
    if (!started) return "start: " + error;
    if (bind_ids != "0/0/0/0") return "after_bind ran as " + bind_ids + ", not root";
    if (idsOfThisThread() != want) return "main thread is " + idsOfThisThread();
    if (before_ids != want) return "a thread started before the drop is " + before_ids;
    if (::setuid(0) == 0 || ::seteuid(0) == 0) return "root regained";

    HttpTestClient client(server.port());
    HttpReply root = client.request("GET", "/redfish/v1/");
    if (root.status != 200)  // from the status board, read after the drop
      return "service root answered " + std::to_string(root.status);
    // Authenticated (the authenticator notes the worker's ids); the fake spd never answers: 503.
    HttpReply manager = client.request("GET", "/redfish/v1/Managers/SPA");
    if (manager.status != 503) return "the manager answered " + std::to_string(manager.status);
    {
      std::lock_guard<std::mutex> lock(worker_mutex);
      if (worker_ids != want) return "a CivetWeb worker runs as " + worker_ids;
    }
    server.stop();
    // The board is root's (spd's): the web user cannot remove it, the parent does.
    (void)writer.release();
    return {};
  });
  boost::interprocess::shared_memory_object::remove(board_name.c_str());
  STRCMP_EQUAL("ok", outcome.c_str());
}

// A drop that fails fails the start: the reason comes back and nothing is served.
TEST(DropRoot, AFailedAfterBindFailsTheStartAndServesNothing) {
  dualsp::web::test::FakeCommandClient bus;
  Dispatcher dispatcher(
      buildRouteTable(), ServiceConfig{SpId::A, ServeMode::Full, "ut-drop", {}},
      [] { return std::optional<ipc::StatusSnapshot>{}; }, bus, systemWallClockMs,
      dualsp::web::test::asAdministrator());
  WebServer server(dispatcher);
  std::string error;
  CHECK_FALSE(server.start({.address = "127.0.0.1",
                            .port = 0,
                            .after_bind = [] { return std::string("setresuid: not permitted"); }},
                           error));
  STRCMP_EQUAL("setresuid: not permitted", error.c_str());
  LONGS_EQUAL(-1, server.port());
  // A good start afterwards on the same object still works.
  CHECK_TRUE(server.start({.address = "127.0.0.1", .port = 0}, error));
  HttpTestClient client(server.port());
  LONGS_EQUAL(503, client.request("GET", "/redfish/v1/").status);  // served: no board here
  server.stop();
}
