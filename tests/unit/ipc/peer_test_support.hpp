#pragma once
// Shared by the peer-link and peer-channel tests: bounded io loops, link options on
// loopback, and a TCP relay that can black-hole a connection like a cut cable.

#include <array>
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ipc/peer_link.hpp"

namespace dualsp::ipc::test {

using Clock = std::chrono::steady_clock;

inline const std::string kKey = "pair-key-of-the-test-array-0001";

// Runs `io` until `pred` holds; false when `limit` passed first.
template <typename Pred>
bool runUntil(asio::io_context& io, Pred pred, Millis limit = Millis{3000}) {
  const auto end = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() >= end) return false;
    if (io.stopped()) io.restart();
    io.run_for(Millis{2});
  }
  return true;
}

inline void runFor(asio::io_context& io, Millis how_long) {
  runUntil(
      io, [] { return false; }, how_long);
}

inline Millis since(Clock::time_point t) {
  return std::chrono::duration_cast<Millis>(Clock::now() - t);
}

inline PeerLinkOptions linkOptions(SpId self, int port, const std::string& key = kKey) {
  PeerLinkOptions o;
  o.self = self;
  o.local_address = "127.0.0.1";
  o.peer_address = "127.0.0.1";
  o.port = port;
  o.key = key;
  o.reconnect_min = Millis{10};
  o.reconnect_max = Millis{100};
  o.stable_after = Millis{500};
  return o;
}

struct Outcome {
  int calls = 0;
  PeerLink::Result result;
  Clock::time_point at;
};

inline PeerLink::Done record(Outcome& o) {
  return [&o](PeerLink::Result r) {
    ++o.calls;
    o.result = std::move(r);
    o.at = Clock::now();
  };
}

// Forwards every connection made to port() to 127.0.0.1:target. Black-holed, it swallows
// the bytes of every connection in both directions and keeps them open, and a close on one
// side is not passed on: a cut cable, whose FINs are lost too. A connection made while
// black-holed is accepted (the kernel does that) but never reaches the target. Healed, it
// forwards again; the connections that lost bytes are closed (their streams are broken).
class TcpRelay {
 public:
  TcpRelay(asio::io_context& io, uint16_t target)
      : io_(io), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), target_(target) {
    accept();
  }
  ~TcpRelay() { closeAll(); }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  uint64_t swallowed() const { return swallowed_; }
  size_t accepted() const { return accepted_; }

  void setBlackHole(bool on) {
    black_hole_ = on;
    if (on) return;
    for (auto& s : sessions_)
      if (s->lossy) s->close();
  }

  void closeAll() {
    asio::error_code ec;
    acceptor_.close(ec);
    for (auto& s : sessions_) s->close();
    sessions_.clear();
  }

 private:
  struct Session {
    explicit Session(asio::io_context& io) : a(io), b(io) {}
    void close() {
      asio::error_code ec;
      a.close(ec);
      b.close(ec);
    }
    asio::ip::tcp::socket a;  // the dialler's side
    asio::ip::tcp::socket b;  // towards the target
    std::array<std::array<char, 16 * 1024>, 2> buffers{};
    bool lossy = false;
  };
  using SessionPtr = std::shared_ptr<Session>;

  void accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
      if (ec) return;  // closed
      ++accepted_;
      auto s = std::make_shared<Session>(io_);
      s->a = std::move(socket);
      sessions_.push_back(s);
      if (black_hole_) {  // the SYN would not reach the target: swallow what the dialler sends
        s->lossy = true;
        pump(s, s->a, s->b, 0);
        accept();
        return;
      }
      s->b.async_connect({asio::ip::make_address("127.0.0.1"), target_},
                         [this, s](const asio::error_code& e) {
                           if (e) {
                             s->close();
                             return;
                           }
                           pump(s, s->a, s->b, 0);
                           pump(s, s->b, s->a, 1);
                         });
      accept();
    });
  }

  void pump(const SessionPtr& s, asio::ip::tcp::socket& from, asio::ip::tcp::socket& to, int dir) {
    from.async_read_some(asio::buffer(s->buffers[dir]), [this, s, &from, &to, dir](
                                                            const asio::error_code& ec, size_t n) {
      if (ec == asio::error::operation_aborted) return;  // closed: the relay may be gone
      if (ec) {
        if (!black_hole_) s->close();  // a close is passed on only while forwarding
        return;
      }
      if (black_hole_) {
        swallowed_ += n;
        s->lossy = true;
        pump(s, from, to, dir);
        return;
      }
      asio::async_write(to, asio::buffer(s->buffers[dir], n),
                        [this, s, &from, &to, dir](const asio::error_code& e, size_t) {
                          if (e) {
                            s->close();
                            return;
                          }
                          pump(s, from, to, dir);
                        });
    });
  }

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t target_;
  std::vector<SessionPtr> sessions_;
  bool black_hole_ = false;
  uint64_t swallowed_ = 0;
  size_t accepted_ = 0;
};

}  // namespace dualsp::ipc::test
