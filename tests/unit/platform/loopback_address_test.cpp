// The loopback floating address: a real listener on 127.0.0.0/8 relaying to a real echo
// server standing in for this SP's web server.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/loopback/loopback_address.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

namespace dualsp::platform {
namespace {

// Every blocking call in these tests gives up after this.
constexpr int kIoTimeoutSeconds = 2;

sockaddr_in endpoint(const std::string& ip, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  return addr;
}

void setTimeouts(int fd) {
  timeval tv{kIoTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Binds port 0 to learn a port nobody uses right now.
int freePort(const std::string& ip) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = endpoint(ip, 0);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Connects to ip:port; returns the fd, or -errno.
int connectTo(const std::string& ip, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setTimeouts(fd);
  sockaddr_in addr = endpoint(ip, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

bool sendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads until `size` bytes, EOF (size < 0 means "until EOF") or the timeout.
std::string receive(int fd, long size) {
  std::string out;
  char buf[16384];
  while (size < 0 || static_cast<long>(out.size()) < size) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Whether the peer closed the connection (EOF or reset) within the timeout.
bool closedByPeer(int fd) {
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

// The SP's web server stand-in: echoes every byte, and closes after the client's FIN.
class EchoServer {
 public:
  EchoServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = endpoint("127.0.0.1", 0);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::listen(listener_, 16) == 0 &&
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
      acceptor_ = std::thread([this] { acceptLoop(); });
    }
  }
  ~EchoServer() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);  // wakes the echo threads
    }
    for (auto& t : echoers_) t.join();
    for (int fd : clients_) ::close(fd);  // after the joins: no echo thread uses a reused fd
    ::close(listener_);
  }
  int port() const { return port_; }

 private:
  void acceptLoop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mutex_);
      clients_.push_back(fd);
      echoers_.emplace_back([fd] {
        char buf[16384];
        for (;;) {
          ssize_t n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) break;
          if (!sendAll(fd, std::string(buf, static_cast<size_t>(n)))) break;
        }
        ::shutdown(fd, SHUT_WR);
      });
    }
  }

  int listener_ = -1;
  int port_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> clients_;
  std::vector<std::thread> echoers_;
};

// A loopback address besides 127.0.0.1 when the host allows it, as the harness uses.
std::string floatingIp() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = endpoint("127.0.0.10", 0);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok ? "127.0.0.10" : "127.0.0.1";
}

}  // namespace
}  // namespace dualsp::platform

using namespace dualsp::platform;

TEST_GROUP(LoopbackFloatingAddress) {
  std::unique_ptr<EchoServer> echo;
  std::string ip;
  int port = -1;
  std::unique_ptr<FloatingAddress> floating;
  std::vector<int> fds;  // client sockets, closed in teardown

  void setup() override {
    echo = std::make_unique<EchoServer>();
    CHECK_TRUE(echo->port() > 0);
    ip = floatingIp();
    port = freePort(ip);
    CHECK_TRUE(port > 0);
    floating = makeLoopbackFloatingAddress(ip, port, "127.0.0.1", echo->port());
  }
  void teardown() override {
    for (int fd : fds) ::close(fd);
    floating.reset();
    echo.reset();
  }

  int connectFloating() {
    int fd = connectTo(ip, port);
    if (fd >= 0) fds.push_back(fd);
    return fd;
  }
  void checkEchoes(const std::string& data) {
    int fd = connectFloating();
    CHECK_TRUE_TEXT(fd >= 0, "cannot connect to the floating address");
    CHECK_TRUE(sendAll(fd, data));
    STRCMP_EQUAL(data.c_str(), receive(fd, static_cast<long>(data.size())).c_str());
  }
};

TEST(LoopbackFloatingAddress, NotHeldBeforeAdd) {
  CHECK_FALSE(floating->held());
  LONGS_EQUAL(-ECONNREFUSED, connectTo(ip, port));
}

TEST(LoopbackFloatingAddress, AddRelaysToTheWebServer) {
  Status s = floating->add();
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  CHECK_TRUE(floating->held());
  checkEchoes("GET /redfish/v1 HTTP/1.1\r\n\r\n");
}

TEST(LoopbackFloatingAddress, AddTwiceSucceeds) {
  CHECK_TRUE(floating->add().ok);
  Status s = floating->add();
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  checkEchoes("again");
}

TEST(LoopbackFloatingAddress, RelaysALargeStreamAndTheHalfClose) {
  CHECK_TRUE(floating->add().ok);
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
  int fd = connectFloating();
  CHECK_TRUE(fd >= 0);
  // Send on a thread: the echo comes back while we still send, and must be read meanwhile.
  bool sent = false;
  std::thread sender([&] {
    sent = sendAll(fd, data);
    ::shutdown(fd, SHUT_WR);
  });
  std::string back = receive(fd, -1);  // until the echo server's FIN comes through the relay
  sender.join();
  CHECK_TRUE(sent);
  LONGS_EQUAL(static_cast<long>(data.size()), static_cast<long>(back.size()));
  CHECK_TRUE(back == data);
}

TEST(LoopbackFloatingAddress, SecondHolderIsRefusedWithEaddrinuse) {
  CHECK_TRUE(floating->add().ok);
  auto other = makeLoopbackFloatingAddress(ip, port, "127.0.0.1", echo->port());
  Status s = other->add();
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("EADDRINUSE", s.error.c_str());
  CHECK_FALSE(other->held());
  CHECK_TRUE(floating->held());
  checkEchoes("still the first holder");
}

TEST(LoopbackFloatingAddress, RemoveRefusesNewAndClosesRelayedConnections) {
  CHECK_TRUE(floating->add().ok);
  int relayed = connectFloating();
  CHECK_TRUE(relayed >= 0);
  CHECK_TRUE(sendAll(relayed, "ping"));
  STRCMP_EQUAL("ping", receive(relayed, 4).c_str());
  Status s = floating->remove();
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  CHECK_FALSE(floating->held());
  LONGS_EQUAL(-ECONNREFUSED, connectTo(ip, port));
  CHECK_TRUE_TEXT(closedByPeer(relayed), "remove() left a relayed connection open");
  CHECK_TRUE(floating->remove().ok);  // removing again is fine
}

TEST(LoopbackFloatingAddress, AddAgainAfterRemove) {
  CHECK_TRUE(floating->add().ok);
  CHECK_TRUE(floating->remove().ok);
  Status s = floating->add();
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  checkEchoes("back");
}

TEST(LoopbackFloatingAddress, OtherSpTakesOverAfterRemove) {
  CHECK_TRUE(floating->add().ok);
  checkEchoes("from A");
  CHECK_TRUE(floating->remove().ok);
  auto other = makeLoopbackFloatingAddress(ip, port, "127.0.0.1", echo->port());
  Status s = other->add();
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  checkEchoes("from B");
  CHECK_TRUE(other->remove().ok);
}

TEST(LoopbackFloatingAddress, WebServerDownClosesTheClient) {
  auto orphan = makeLoopbackFloatingAddress(ip, port, "127.0.0.1", freePort("127.0.0.1"));
  CHECK_TRUE(orphan->add().ok);
  int fd = connectFloating();
  CHECK_TRUE(fd >= 0);
  CHECK_TRUE(closedByPeer(fd));
  CHECK_TRUE(orphan->remove().ok);
}

TEST(LoopbackFloatingAddress, AnnounceIsANoOpAndDescribeNamesBothEnds) {
  CHECK_TRUE(floating->announce().ok);
  std::string d = floating->describe();
  STRCMP_CONTAINS((ip + ":" + std::to_string(port)).c_str(), d.c_str());
  STRCMP_CONTAINS(("127.0.0.1:" + std::to_string(echo->port())).c_str(), d.c_str());
}

TEST(LoopbackFloatingAddress, InvalidAddressFails) {
  auto bad = makeLoopbackFloatingAddress("127.0.0.300", port, "127.0.0.1", echo->port());
  Status s = bad->add();
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("127.0.0.300", s.error.c_str());
  CHECK_FALSE(bad->held());
}
