#include "platform/sim/power_controller_fencer.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <string_view>
#include "platform/unique_fd.hpp"

namespace dualsp::platform {
namespace {

using Clock = std::chrono::steady_clock;

// A reply longer than this is not from the power controller.
constexpr size_t kMaxReply = 4096;

using Fd = UniqueFd;

// Waits for `events` on fd until the deadline; false on timeout.
bool waitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;  // ready, or an error the next call will report
    if (n < 0 && errno != EINTR) return true;
  }
}

class PowerControllerFencer final : public Fencer {
 public:
  PowerControllerFencer(std::string socket_path, SpId peer)
      : socket_path_(std::move(socket_path)), peer_(peer) {}

  Status fencePeer(std::chrono::milliseconds timeout) override {
    std::string reply;
    if (Status s = ask(std::string("power-off ") + spLetter(peer_), timeout, reply); !s.ok)
      return s;
    return parseReply(reply);
  }

  // "status X" -> "ok off" | "ok running" | "ok stopped"; anything else: Unknown.
  PowerState peerPower(std::chrono::milliseconds timeout) override {
    std::string reply;
    if (!ask(std::string("status ") + spLetter(peer_), timeout, reply).ok)
      return PowerState::Unknown;
    if (!reply.empty() && reply.back() == '\r') reply.pop_back();
    if (reply == "ok off") return PowerState::Off;
    if (reply == "ok running") return PowerState::Running;
    if (reply == "ok stopped") return PowerState::Stopped;
    return PowerState::Unknown;
  }

  std::string describe() const override {
    return "power controller at " + socket_path_ + " (powers off " + std::string(spName(peer_)) +
           ")";
  }

 private:
  // One request line, one reply line, within `timeout`.
  Status ask(const std::string& line, std::chrono::milliseconds timeout, std::string& reply) const {
    const auto deadline = Clock::now() + timeout;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path_.empty() || socket_path_.size() >= sizeof addr.sun_path) {
      return failure("socket path is empty or longer than " +
                     std::to_string(sizeof addr.sun_path - 1) + " bytes");
    }
    std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());

    Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (sock.get() < 0) return failure(std::string("socket: ") + std::strerror(errno));
    if (Status s = connect(sock.get(), addr, deadline, timeout); !s.ok) return s;

    if (Status s = sendAll(sock.get(), line + "\n", deadline, timeout); !s.ok) return s;
    return readLine(sock.get(), reply, deadline, timeout);
  }

  Status connect(int fd, const sockaddr_un& addr, Clock::time_point deadline,
                 std::chrono::milliseconds timeout) const {
    for (;;) {
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        return Status::success();
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        // The controller's backlog is full: it is busy, not gone; retry until the deadline.
        if (Clock::now() >= deadline) return timedOut("connecting", timeout);
        pollfd none{-1, 0, 0};
        ::poll(&none, 1, 5);
        continue;
      }
      if (errno == EINPROGRESS) {
        if (!waitFor(fd, POLLOUT, deadline)) return timedOut("connecting", timeout);
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) return Status::success();
        errno = err;
      }
      return failure(std::string("cannot connect: ") + std::strerror(errno));
    }
  }

  Status sendAll(int fd, std::string_view data, Clock::time_point deadline,
                 std::chrono::milliseconds timeout) const {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return failure(std::string("send: ") + std::strerror(errno));
      if (!waitFor(fd, POLLOUT, deadline)) return timedOut("sending", timeout);
    }
    return Status::success();
  }

  Status readLine(int fd, std::string& line, Clock::time_point deadline,
                  std::chrono::milliseconds timeout) const {
    char buf[256];
    for (;;) {
      if (auto end = line.find('\n'); end != std::string::npos) {
        line.resize(end);
        return Status::success();
      }
      if (line.size() > kMaxReply) return failure("reply line too long");
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        line.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {
        if (line.empty()) return failure("connection closed without a reply");
        return Status::success();  // a last line without its newline still counts
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return failure(std::string("receive: ") + std::strerror(errno));
      if (!waitFor(fd, POLLIN, deadline)) return timedOut("waiting for the reply", timeout);
    }
  }

  Status parseReply(std::string reply) const {
    if (!reply.empty() && reply.back() == '\r') reply.pop_back();
    if (reply == "ok" || reply.starts_with("ok ")) return Status::success();
    if (reply == "error" || reply.starts_with("error ")) {
      std::string why = reply.size() > 6 ? reply.substr(6) : "no reason given";
      return failure("refused to power off " + std::string(spName(peer_)) + ": " + why);
    }
    return failure("unexpected reply '" + reply + "'");
  }

  Status timedOut(const char* step, std::chrono::milliseconds timeout) const {
    return failure(std::string("timed out ") + step + " (" + std::to_string(timeout.count()) +
                   " ms)");
  }

  Status failure(const std::string& why) const {
    return Status::failure("power controller at " + socket_path_ + ": " + why);
  }

  std::string socket_path_;
  SpId peer_;
};

}  // namespace

std::unique_ptr<Fencer> makePowerControllerFencer(std::string socket_path, SpId peer) {
  return std::make_unique<PowerControllerFencer>(std::move(socket_path), peer);
}

}  // namespace dualsp::platform
