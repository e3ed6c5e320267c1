// The heartbeat service for real (its thread, timers and the executor of the election's
// actions) with a fake chassis and address: what the election decides reaches the chassis.
#include <CppUTest/TestHarness.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/shared_memory_object.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "heartbeat/heartbeat_service.hpp"
#include "ipc/frame_codec.hpp"
#include "proto/heartbeat.pb.h"

using namespace dualsp;
using namespace dualsp::heartbeat;

namespace {

class FakeAddress final : public platform::FloatingAddress {
 public:
  platform::Status add() override {
    held_ = true;
    return platform::Status::success();
  }
  platform::Status remove() override {
    held_ = false;
    return platform::Status::success();
  }
  bool held() override { return held_; }
  platform::Status announce() override { return platform::Status::success(); }
  std::string describe() const override { return "fake address"; }

 private:
  std::atomic<bool> held_{false};
};

// A chassis that says the peer is off (or `answer`), and counts the questions.
class OffChassis final : public platform::Fencer {
 public:
  explicit OffChassis(PowerState says = PowerState::Off) : answer(says) {}
  platform::Status fencePeer(std::chrono::milliseconds) override {
    ++fences;
    return platform::Status::success();
  }
  PowerState peerPower(std::chrono::milliseconds) override {
    ++questions;
    return answer;
  }
  std::string describe() const override { return "fake chassis"; }
  const PowerState answer;
  std::atomic<int> questions{0};
  std::atomic<int> fences{0};
};

// Polls `pred` every 5 ms for at most `limit`.
template <typename Pred>
bool within(std::chrono::milliseconds limit, Pred pred) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace

TEST_GROUP(HeartbeatService) {
  std::string board_name = "dualsp-ut-hb-board-" + std::to_string(getpid());
};

// The start-up question to the chassis is the election's first action; it was once dropped
// (the first decision ran before the thread did) and the next question waited for the whole
// re-ask interval. Here that interval and the start-up wait are far longer than the limit, so
// only a question asked at once makes this SP active in time.
TEST(HeartbeatService, StartingSpAsksTheChassisAtOnceAndTakesOverFromAnOffPeer) {
  FakeAddress address;
  OffChassis chassis;
  ipc::StatusBoardWriter board(board_name);
  ServiceOptions options;
  options.array_id = "ut";
  options.boot_id = "0b5e2c1a-0000-4000-8000-000000000001";
  options.election.self = SpId::A;
  options.election.startup_wait = std::chrono::seconds(60);
  options.election.power_query_interval = std::chrono::seconds(60);
  options.peer.enabled = false;  // no heartbeat path: the peer is never heard
  options.mgmt.enabled = false;
  options.midplane.enabled = false;
  for (auto& p : options.election.paths) p.enabled = false;
  options.garp_refresh = Millis{0};
  ServiceDependencies deps{address,
                           chassis,
                           [](uint64_t) { return platform::Status::success(); },
                           board,
                           ipc::StatusSnapshot{},
                           {}};
  HeartbeatService service(options, deps);
  service.setInitialHistory(History{});
  service.start();
  const bool active =
      within(std::chrono::seconds(10), [&] { return service.role() == Role::Active; });
  service.stop();
  CHECK_TRUE(active);
  CHECK_TRUE(address.held());
  CHECK_EQUAL(1, chassis.questions.load());
  CHECK_EQUAL(1, chassis.fences.load());
  CHECK_EQUAL(1u, service.epoch());
}

namespace {

const std::string kPairKey(32, 'k');

// A UDP socket bound to `address` (port 0: any), receiving with a 50 ms timeout.
class TestSocket {
 public:
  TestSocket(const char* address, uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &sa.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    timeval tv{0, 50000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~TestSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  TestSocket(const TestSocket&) = delete;
  TestSocket& operator=(const TestSocket&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

uint16_t freeUdpPort(const char* address) {
  TestSocket fd(address, 0);
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

ServiceOptions loneSp(SpId self, const char* local, const char* peer, uint16_t port) {
  ServiceOptions o;
  o.array_id = "ut";
  o.election.self = self;
  for (auto& p : o.election.paths) p.enabled = false;
  o.election.paths[0] = PathTiming{true, Millis{50}};  // the peer path only
  o.peer = UdpPathOptions{true, local, peer, port, Millis{10}, kPairKey};
  o.mgmt.enabled = false;
  o.midplane.enabled = false;
  o.garp_refresh = Millis{0};
  return o;
}

struct SpUnderTest {
  SpUnderTest(ServiceOptions options, const std::string& board_name,
              PowerState peer_power = PowerState::Off)
      : chassis(peer_power),
        board(board_name),
        service(std::move(options),
                ServiceDependencies{address,
                                    chassis,
                                    [](uint64_t) { return platform::Status::success(); },
                                    board,
                                    ipc::StatusSnapshot{},
                                    {}}) {
    service.setInitialHistory(History{});
    service.start();
  }
  FakeAddress address;
  OffChassis chassis;
  ipc::StatusBoardWriter board;
  HeartbeatService service;
};

// Runs SP-A alone for one boot and returns the first frame it signed as active (as an attacker
// on the network sees it: body and MAC), captured at SP-B's address.
std::string captureActiveFrame(uint64_t boot_counter, uint16_t port, const std::string& board) {
  TestSocket sniffer("127.0.0.42", port);
  ServiceOptions o = loneSp(SpId::A, "127.0.0.41", "127.0.0.42", port);
  o.boot_id = "0b5e2c1a-0000-4000-8000-00000000000" + std::to_string(boot_counter);
  o.boot_counter = boot_counter;
  SpUnderTest a(o, board);
  std::array<char, 1500> buf{};
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sniffer.get() >= 0 && std::chrono::steady_clock::now() < end) {
    ssize_t n = ::recv(sniffer.get(), buf.data(), buf.size(), 0);
    if (n <= static_cast<ssize_t>(ipc::kFrameMacSize)) continue;
    proto::Heartbeat h;
    if (h.ParseFromArray(buf.data(), static_cast<int>(n - ipc::kFrameMacSize)) &&
        h.role() == proto::ROLE_ACTIVE)
      return std::string(buf.data(), static_cast<size_t>(n));
  }
  return {};
}

// Runs SP-A alone for one boot and returns two frames it signed, as SP-B receives them: one
// from before it was active (starting or passive) and then its first as active.
std::pair<std::string, std::string> captureFramesAroundActive(uint16_t port,
                                                              const std::string& board) {
  TestSocket sniffer("127.0.0.42", port);
  ServiceOptions o = loneSp(SpId::A, "127.0.0.41", "127.0.0.42", port);
  SpUnderTest a(o, board);
  std::array<char, 1500> buf{};
  std::string before;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sniffer.get() >= 0 && std::chrono::steady_clock::now() < end) {
    ssize_t n = ::recv(sniffer.get(), buf.data(), buf.size(), 0);
    if (n <= static_cast<ssize_t>(ipc::kFrameMacSize)) continue;
    proto::Heartbeat h;
    if (!h.ParseFromArray(buf.data(), static_cast<int>(n - ipc::kFrameMacSize))) continue;
    std::string frame(buf.data(), static_cast<size_t>(n));
    if (h.role() != proto::ROLE_ACTIVE) {
      before = frame;
    } else if (!before.empty()) {
      return {before, frame};
    }
  }
  return {};
}

}  // namespace

// The attack of issue 13 with real frames: SP-A's signed "active" beats, captured during two
// of its boots, replayed alternately to SP-B from SP-A's address while SP-A itself is silent.
// Each replay passed a freshness check that remembered one boot per path, so SP-B never took
// over; with boot counters only the first of each is taken, then SP-A is silent: fenced, and
// SP-B takes over.
TEST(HeartbeatService, CapturedFramesOfEarlierBootsDoNotKeepASilentPeerAlive) {
  const uint16_t port = freeUdpPort("127.0.0.42");
  const std::string boot1 = captureActiveFrame(1, port, board_name + "-a1");
  const std::string boot2 = captureActiveFrame(2, port, board_name + "-a2");
  CHECK_FALSE(boot1.empty());
  CHECK_FALSE(boot2.empty());

  // SP-A hung: the chassis says so (Stopped). Not Off: SP-B then listens its whole start-up
  // wait and hears the replays, instead of fencing at once a peer it never heard.
  SpUnderTest b(loneSp(SpId::B, "127.0.0.42", "127.0.0.41", port), board_name + "-b",
                PowerState::Stopped);
  TestSocket attacker("127.0.0.41", 0);  // SP-A's address, as the receiver checks
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.42", &to.sin_addr);
  bool taken_over = false;
  for (int i = 0; i < 600 && !taken_over; ++i) {  // every 5 ms, 3 s at most
    const std::string& frame = i % 2 ? boot2 : boot1;
    ::sendto(attacker.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
             sizeof to);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    taken_over = b.service.role() == Role::Active;
  }
  b.service.stop();
  CHECK_TRUE(taken_over);
  CHECK_EQUAL(1, b.chassis.fences.load());  // the silent SP-A was fenced first
  CHECK_TRUE(b.service.epoch() >= 2);       // past SP-A's, heard in the first replays
}

// Whoever can write the midplane window without the pair key forges SP-A's slot: "active at
// epoch 999999", a new beat every 2 ms. Unauthenticated, that made the real active SP-B step
// down at once; with the slots signed it is refused and SP-B stays active at its epoch.
TEST(HeartbeatService, AForgedMidplaneSlotCannotMakeTheActiveStepDown) {
  const std::string segment = "dualsp-ut-hb-midplane-" + std::to_string(getpid());
  ServiceOptions o = loneSp(SpId::B, "127.0.0.42", "127.0.0.41", 0);
  o.peer.enabled = false;
  o.election.paths[0].enabled = false;
  o.election.paths[2] = PathTiming{true, Millis{50}};
  o.midplane = MidplaneOptions{true, segment, Millis{2}, kPairKey};
  SpUnderTest b(o, board_name + "-b");
  CHECK_TRUE(within(std::chrono::seconds(5), [&] { return b.service.role() == Role::Active; }));
  const uint64_t epoch = b.service.epoch();

  platform::MidplaneSegment forger(segment, SpId::A);
  bool stayed = true;
  for (uint64_t i = 1; i <= 150 && stayed; ++i) {  // 300 ms of forged beats
    platform::MidplaneBeat forged;
    forged.beat_seq = i;
    forged.role = Role::Active;
    forged.epoch = 999999;
    forged.boot_counter = 999999;
    forger.write(forged);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    stayed = b.service.role() == Role::Active && b.service.epoch() == epoch;
  }
  b.service.stop();
  boost::interprocess::shared_memory_object::remove(segment.c_str());
  CHECK_TRUE(stayed);
}

// The peer's role on the status board (what spweb shows: the console, the Manager resources) is
// the election's, from the newest beat it took: a beat the peer sent earlier, arriving late
// (a queue, a slow path), proves the peer alive but must not roll its role back. The board
// used the last frame received, whatever its age: a survivor once showed its killed active
// peer as passive.
TEST(HeartbeatService, AnOutdatedBeatDoesNotRollThePeersRoleBackOnTheBoard) {
  const uint16_t port = freeUdpPort("127.0.0.42");
  const auto [earlier, active] = captureFramesAroundActive(port, board_name + "-a");
  CHECK_FALSE(earlier.empty());
  CHECK_FALSE(active.empty());
  SpUnderTest b(loneSp(SpId::B, "127.0.0.42", "127.0.0.41", port), board_name + "-b",
                PowerState::Running);
  ipc::StatusBoardReader reader(board_name + "-b");
  TestSocket sender("127.0.0.41", 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.42", &to.sin_addr);
  auto send = [&](const std::string& frame) {
    ::sendto(sender.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
             sizeof to);
  };
  auto peer_role = [&] {
    std::optional<ipc::StatusSnapshot> s = reader.read();
    return s ? s->peer_role : Role::Starting;
  };
  CHECK_TRUE(within(std::chrono::milliseconds(2000), [&] {
    send(active);  // the same frame again is a duplicate: only the first counts
    return peer_role() == Role::Active;
  }));
  // The earlier frame, again and again (a board is published every 100 ms).
  bool rolled_back = false;
  for (int i = 0; i < 60 && !rolled_back; ++i) {
    send(earlier);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    rolled_back = peer_role() != Role::Active;
  }
  b.service.stop();
  CHECK_FALSE(rolled_back);
}
