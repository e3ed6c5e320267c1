// The simulated chassis's fencer against a real UNIX-socket server playing the power controller.

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "platform/sim/power_controller_fencer.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

namespace dualsp::platform {
namespace {

using namespace std::chrono_literals;

// Bounds every wait of the fake controller, so a broken fencer cannot hang the test.
constexpr int kServerWaitMs = 2000;

// A temporary directory for the socket, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/dualsp-ut-pc-XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) std::system(("rm -rf " + path_).c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int bindUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, kServerWaitMs) > 0;
}

// Accepts one connection, records the request line, answers `reply` (nothing when empty,
// then waits for the fencer to hang up), and closes.
class FakePowerController {
 public:
  FakePowerController(const std::string& path, std::string reply) : reply_(std::move(reply)) {
    listener_ = bindUnix(path);
    if (listener_ >= 0 && ::listen(listener_, 4) == 0) {
      thread_ = std::thread([this] { serve(); });
    }
  }
  ~FakePowerController() {
    if (thread_.joinable()) thread_.join();
    if (listener_ >= 0) ::close(listener_);
  }
  bool ok() const { return thread_.joinable(); }
  // The bytes the fencer sent, complete once the fencer has returned and join() ran.
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void serve() {
    if (!readable(listener_)) return;
    int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    char buf[256];
    while (request_.find('\n') == std::string::npos && readable(client)) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    if (!reply_.empty()) {
      ::send(client, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    } else {
      readable(client);  // stay silent until the fencer gives up and closes
    }
    ::close(client);
  }

  std::string reply_;
  int listener_ = -1;
  std::string request_;
  std::thread thread_;
};

}  // namespace
}  // namespace dualsp::platform

using namespace dualsp::platform;
using namespace std::chrono_literals;

TEST_GROUP(PowerControllerFencer) {
  std::unique_ptr<TempDir> dir;
  std::string socket_path;

  void setup() override {
    dir = std::make_unique<TempDir>();
    CHECK_FALSE(dir->path().empty());
    socket_path = dir->path() + "/power.sock";
  }
  void teardown() override {
    dir.reset();
  }
};

TEST(PowerControllerFencer, OkReplyFencesAndSendsExactRequest) {
  FakePowerController server(socket_path, "ok\n");
  CHECK_TRUE(server.ok());
  auto fencer = makePowerControllerFencer(socket_path, dualsp::SpId::B);
  Status s = fencer->fencePeer(2s);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  STRCMP_EQUAL("power-off B\n", server.request().c_str());
}

TEST(PowerControllerFencer, OkWithTextForPeerA) {
  FakePowerController server(socket_path, "ok SP-A powered off\n");
  CHECK_TRUE(server.ok());
  Status s = makePowerControllerFencer(socket_path, dualsp::SpId::A)->fencePeer(2s);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  STRCMP_EQUAL("power-off A\n", server.request().c_str());
}

TEST(PowerControllerFencer, ErrorReplyFailsWithItsText) {
  FakePowerController server(socket_path, "error no power\n");
  CHECK_TRUE(server.ok());
  Status s = makePowerControllerFencer(socket_path, dualsp::SpId::B)->fencePeer(2s);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("no power", s.error.c_str());
}

TEST(PowerControllerFencer, UnexpectedReplyFails) {
  FakePowerController server(socket_path, "maybe\n");
  CHECK_TRUE(server.ok());
  Status s = makePowerControllerFencer(socket_path, dualsp::SpId::B)->fencePeer(2s);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("unexpected reply 'maybe'", s.error.c_str());
}

TEST(PowerControllerFencer, SilentControllerTimesOutOnTime) {
  FakePowerController server(socket_path, "");
  CHECK_TRUE(server.ok());
  auto start = std::chrono::steady_clock::now();
  Status s = makePowerControllerFencer(socket_path, dualsp::SpId::B)->fencePeer(100ms);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("timed out", s.error.c_str());
  CHECK_TRUE(elapsed >= 100ms);
  CHECK_TRUE_TEXT(elapsed < 300ms, "fencePeer(100ms) blocked past its timeout");
}

TEST(PowerControllerFencer, NoControllerAtPathFails) {
  auto start = std::chrono::steady_clock::now();
  Status s = makePowerControllerFencer(socket_path, dualsp::SpId::B)->fencePeer(100ms);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("cannot connect", s.error.c_str());
  STRCMP_CONTAINS(socket_path.c_str(), s.error.c_str());
  CHECK_TRUE(std::chrono::steady_clock::now() - start < 300ms);
}

TEST(PowerControllerFencer, StaleSocketFileFailsAsRefused) {
  int fd = bindUnix(socket_path);  // bound, never listening: what a dead controller leaves
  CHECK_TRUE(fd >= 0);
  Status s = makePowerControllerFencer(socket_path, dualsp::SpId::B)->fencePeer(100ms);
  ::close(fd);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("Connection refused", s.error.c_str());
}

TEST(PowerControllerFencer, HangUpWithoutReplyFails) {
  int fd = bindUnix(socket_path);
  CHECK_TRUE(fd >= 0 && ::listen(fd, 4) == 0);
  std::thread hangup([fd] {
    if (!readable(fd)) return;
    int client = ::accept(fd, nullptr, nullptr);
    if (client < 0) return;
    char buf[64];
    if (readable(client)) ::recv(client, buf, sizeof buf, 0);  // take the request, then hang up
    ::close(client);
  });
  Status s = makePowerControllerFencer(socket_path, dualsp::SpId::B)->fencePeer(1s);
  hangup.join();
  ::close(fd);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("without a reply", s.error.c_str());
}

TEST(PowerControllerFencer, DescribeNamesPathAndPeer) {
  auto fencer = makePowerControllerFencer("/run/dualsp/power.sock", dualsp::SpId::B);
  STRCMP_CONTAINS("/run/dualsp/power.sock", fencer->describe().c_str());
  STRCMP_CONTAINS("SP-B", fencer->describe().c_str());
}
