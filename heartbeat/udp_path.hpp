#pragma once
// A heartbeat path over UDP (the peer link or the management network): sends this SP's
// beat to the peer's address, receives the peer's. Binding retries while the local address
// is not there yet (link down at boot), so a path can come up late.

#include <asio.hpp>
#include <functional>
#include <string>

#include "heartbeat/election.hpp"
#include "proto/heartbeat.pb.h"

namespace dualsp::heartbeat {

struct UdpPathOptions {
  bool enabled = true;
  std::string local_address;
  std::string peer_address;
  int port = 7400;
  Millis interval{10};
  std::string key;  // the pair key: frames carry an HMAC-SHA256; empty = unauthenticated
};

class UdpPath {
 public:
  using OnBeat = std::function<void(Path, const proto::Heartbeat&)>;

  UdpPath(asio::io_context& io, Path which, UdpPathOptions options, OnBeat on_beat);
  void start();
  // Sends one serialized Heartbeat, signed when a key is set.
  void send(const std::string& frame);
  uint64_t received() const { return received_; }
  uint64_t malformed() const { return malformed_; }
  uint64_t badMac() const { return bad_mac_; }

 private:
  void bind();
  void receive();

  asio::io_context& io_;
  Path which_;
  UdpPathOptions options_;
  OnBeat on_beat_;
  asio::ip::udp::socket socket_;
  asio::ip::udp::endpoint peer_;
  asio::ip::udp::endpoint from_;
  asio::steady_timer rebind_;
  std::array<char, 1500> buffer_{};
  bool bound_ = false;
  uint64_t received_ = 0;
  uint64_t malformed_ = 0;
  uint64_t bad_mac_ = 0;
  uint64_t send_errors_ = 0;
  uint64_t rebind_attempts_ = 0;
};

}  // namespace dualsp::heartbeat
