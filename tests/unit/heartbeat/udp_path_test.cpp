// A UDP heartbeat path on loopback: signed beats pass, forged or unsigned ones are dropped.
#include <asio.hpp>
#include <string>
#include <vector>

#include "heartbeat/udp_path.hpp"
#include "ipc/frame_codec.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::heartbeat;

namespace {

constexpr int kPort = 47411;  // loopback only, two addresses of 127.0.0.0/8

std::string beatFrame(uint64_t seq) {
  proto::Heartbeat h;
  h.set_array_id("ut");
  h.set_sp(proto::SP_A);
  h.set_role(proto::ROLE_ACTIVE);
  h.set_seq(seq);
  return h.SerializeAsString();
}

}  // namespace

TEST_GROUP(UdpPath) {
  asio::io_context io;
  std::vector<uint64_t> received;
  const std::string key = std::string(32, 'k');

  UdpPathOptions options(const char* local, const char* peer, std::string k) {
    UdpPathOptions o;
    o.local_address = local;
    o.peer_address = peer;
    o.port = kPort;
    o.key = std::move(k);
    return o;
  }
  void runBriefly() {
    io.restart();
    io.run_for(std::chrono::milliseconds(100));
  }
};

TEST(UdpPath, SignedBeatsPassAndForgedOnesAreDropped) {
  UdpPath receiver(io, Path::Peer, options("127.0.0.61", "127.0.0.62", key),
                   [this](Path, const proto::Heartbeat& h) { received.push_back(h.seq()); });
  UdpPath sender(io, Path::Peer, options("127.0.0.62", "127.0.0.61", key),
                 [](Path, const proto::Heartbeat&) {});
  UdpPath forger(io, Path::Peer, options("127.0.0.62", "127.0.0.61", std::string(32, 'x')),
                 [](Path, const proto::Heartbeat&) {});
  UdpPath unsigned_sender(io, Path::Peer, options("127.0.0.62", "127.0.0.61", ""),
                          [](Path, const proto::Heartbeat&) {});
  receiver.start();
  sender.start();
  forger.start();
  unsigned_sender.start();
  runBriefly();
  sender.send(beatFrame(1));
  forger.send(beatFrame(2));
  unsigned_sender.send(beatFrame(3));
  sender.send(beatFrame(4));
  runBriefly();
  CHECK_EQUAL(2u, received.size());
  CHECK_EQUAL(1u, received[0]);
  CHECK_EQUAL(4u, received[1]);
  CHECK_EQUAL(2u, receiver.badMac());
}

TEST(UdpPath, MacHelpersAgree) {
  std::string mac = ipc::hmacSha256(key, "beat");
  CHECK_EQUAL(ipc::kFrameMacSize, mac.size());
  CHECK_TRUE(ipc::macEquals(mac, ipc::hmacSha256(key, "beat")));
  CHECK_FALSE(ipc::macEquals(mac, ipc::hmacSha256(key, "beat!")));
  CHECK_FALSE(ipc::macEquals(mac, mac.substr(1)));
}
