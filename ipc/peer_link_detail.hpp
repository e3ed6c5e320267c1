#pragma once
// What the parts of PeerLink (peer_link.cpp, peer_link_connect.cpp, peer_link_liveness.cpp)
// share and nothing else uses.

#include <array>
#include <cstdint>
#include <deque>
#include <string>

#include "ipc/peer_link.hpp"

namespace dualsp::ipc::detail {

using SteadyClock = std::chrono::steady_clock;

// The peer's HELLO and its proof must arrive within this of the TCP connection, or it is
// abandoned.
constexpr Millis kHandshakeTimeout{500};
// Our pings still unanswered are forgotten beyond this many (a peer that answers none is
// dropped after dead_after anyway).
constexpr size_t kMaxPingsInFlight = 64;
// SP-B retries binding while its peer-link address is not up yet (link down at boot).
constexpr Millis kRebindInterval{500};

// Repeated failures (a wrong key retried forever) log the first few, then every 100th.
inline bool worthLogging(uint64_t count) {
  return count <= 10 || count % 100 == 0;
}

inline std::string endpointText(const asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

constexpr size_t kReadChunk = 16 * 1024;

}  // namespace dualsp::ipc::detail

namespace dualsp::ipc {

// One TCP connection to the peer, from connect (or accept) to close.
struct PeerLink::Connection {
  Connection(asio::ip::tcp::socket s, const PeerLinkOptions& o)
      : socket(std::move(s)), handshake(socket.get_executor()), decoder(o.key, o.max_frame) {}

  asio::ip::tcp::socket socket;
  asio::steady_timer handshake;  // connect + the peer's HELLO
  FrameDecoder decoder;
  std::string nonce;       // ours, sent in our HELLO: the peer MACs its frames with it
  std::string peer_nonce;  // the peer's: we MAC our frames with it
  std::string remote;      // address:port, for the log
  std::array<char, detail::kReadChunk> buffer{};
  struct Outgoing {
    std::string bytes;
    bool counted;  // in stats().frames_out; pings and their answers are not
  };
  std::deque<Outgoing> out;  // encoded frames; the front one is being written
  size_t out_bytes = 0;
  bool writing = false;
  bool connecting = false;  // SP-A: the TCP connect has not completed yet
  bool hello = false;       // the peer's HELLO (its nonce, the challenge) has been received
  // The peer answered our challenge: a frame MACed with our nonce (its proof, a ping naming
  // its own nonce again; an older peer's first ping).
  bool up = false;
  uint32_t peer_version = 0;
  detail::SteadyClock::time_point last_heard{};
  uint64_t send_seq = kHelloSequence;
};

}  // namespace dualsp::ipc
