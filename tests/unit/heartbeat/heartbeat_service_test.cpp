// The heartbeat service for real (its thread, timers and the executor of the election's
// actions) with a fake chassis and address: what the election decides reaches the chassis.
#include <CppUTest/TestHarness.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "heartbeat/heartbeat_service.hpp"

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

// A chassis that says the peer is off, and counts the questions.
class OffChassis final : public platform::Fencer {
 public:
  platform::Status fencePeer(std::chrono::milliseconds) override {
    ++fences;
    return platform::Status::success();
  }
  PowerState peerPower(std::chrono::milliseconds) override {
    ++questions;
    return PowerState::Off;
  }
  std::string describe() const override { return "fake chassis"; }
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
