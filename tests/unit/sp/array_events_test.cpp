// The array events derived from what spd sees each turn of its loop, with the time passed in:
// role changes, the peer's heartbeats, the peer link's route, a partition of the link (and
// its fault), silent heartbeat paths. Each only once, and only after it has settled.
#include "sp/array_events.hpp"

#include <string>

#include "sp/events.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;
using std::chrono::milliseconds;

namespace {
constexpr uint8_t kAllPaths = 0b111;
}

TEST_GROUP(ArrayEvents) {
  ArrayEvents::Clock::time_point t0 = ArrayEvents::Clock::time_point{} + std::chrono::hours(1);
  ArrayEvents events{SpId::A, /*link_configured=*/true, t0};
  ArraySight s;

  void setup() override {
    s.now = t0;
    s.role = Role::Passive;
    s.epoch = 3;
    s.peer_alive = true;
    s.paths_configured = kAllPaths;
    s.paths_alive = kAllPaths;
    s.link_up = true;
    s.route = "peer-link";
    s.route_count = 2;
  }
  ArrayEvents::Changes at(milliseconds after) {
    s.now = t0 + after;
    return events.observe(s);
  }
};

TEST(ArrayEvents, TheFirstLookReportsTheRoleAndThePeerButNotTheDedicatedRoute) {
  auto c = at(milliseconds{0});
  CHECK_EQUAL(2u, c.events.size());
  CHECK_EQUAL(std::string(message::kStateChanged), c.events[0].message_id());
  CHECK_EQUAL(std::string("passive"), c.events[0].args(1));
  STRCMP_CONTAINS("SP-A is now passive (epoch 3).", c.events[0].message().c_str());
  CHECK_EQUAL(std::string("/redfish/v1/Managers/SPB"), c.events[1].origin());
  CHECK_EQUAL(std::string("Enabled"), c.events[1].args(1));
  CHECK_FALSE(c.peer_link_fault.has_value());
  // Settled on the dedicated link: how it should be, not news.
  CHECK_TRUE(at(milliseconds{400}).events.empty());
}

TEST(ArrayEvents, TakingOverFromAPeerThatHandedTheRoleOverSaysSo) {
  at(milliseconds{0});
  s.role = Role::Active;
  s.epoch = 4;
  auto c = at(milliseconds{10});
  CHECK_EQUAL(1u, c.events.size());
  STRCMP_CONTAINS("SP-A is now active (epoch 4); the peer handed the role over.",
                  c.events[0].message().c_str());
}

TEST(ArrayEvents, ALostPeerIsAWarningAndItsReturnOk) {
  at(milliseconds{0});
  s.peer_alive = false;
  s.link_up = false;
  auto lost = at(milliseconds{10});
  CHECK_EQUAL(1u, lost.events.size());
  CHECK_EQUAL(std::string("UnavailableOffline"), lost.events[0].args(1));
  CHECK_EQUAL(std::string("Warning"), lost.events[0].severity());
  s.role = Role::Active;
  auto took = at(milliseconds{20});
  STRCMP_CONTAINS("took over from its peer", took.events[0].message().c_str());
  CHECK_TRUE(at(milliseconds{2000}).events.empty());  // a dead peer is no partition
  s.peer_alive = true;
  s.link_up = true;
  auto back = at(milliseconds{2010});
  CHECK_EQUAL(1u, back.events.size());
  CHECK_EQUAL(std::string("OK"), back.events[0].severity());
}

TEST(ArrayEvents, ALinkDownWhileThePeerIsHeardIsAPartitionWithAFaultAfterHalfASecond) {
  at(milliseconds{0});
  s.link_up = false;
  s.route = "";
  CHECK_TRUE(at(milliseconds{100}).events.empty());
  auto early = at(milliseconds{600});  // down since 0 ms (the last time it was up)
  CHECK_EQUAL(1u, early.events.size());
  CHECK_EQUAL(std::string(message::kErrorsDetected), early.events[0].message_id());
  CHECK_EQUAL(std::string("LinkDown"), early.events[0].args(1));
  CHECK_EQUAL(std::string("Warning"), early.events[0].severity());
  CHECK_TRUE(early.peer_link_fault.has_value() && early.peer_link_fault->has_value());
  CHECK_EQUAL(std::string("firmware:peer-link"), (*early.peer_link_fault)->id);
  CHECK_TRUE((*early.peer_link_fault)->severity == Health::Warning);
  CHECK_TRUE(at(milliseconds{700}).events.empty());  // once
  s.link_up = true;
  s.route = "peer-link";
  auto healed = at(milliseconds{800});
  CHECK_EQUAL(1u, healed.events.size());
  CHECK_EQUAL(std::string(message::kErrorsCorrected), healed.events[0].message_id());
  CHECK_TRUE(healed.peer_link_fault.has_value() && !healed.peer_link_fault->has_value());
}

TEST(ArrayEvents, APartitionWithRefusedFramesNamesThePairKey) {
  s.auth_failures = 5;
  at(milliseconds{0});
  s.link_up = false;
  s.auth_failures = 12;
  auto c = at(milliseconds{600});
  STRCMP_CONTAINS("7 of its frames were refused for a bad MAC", c.events[0].message().c_str());
  STRCMP_CONTAINS("pair key", (*c.peer_link_fault)->text.c_str());
}

// Boards with different keys hear nothing of each other (every path is authenticated): the
// only sign is the peer's refused frames, raised as a fault on this SP's own address.
TEST(ArrayEvents, APeerNeverHeardWhoseFramesFailTheirMacNamesThePairKey) {
  s.peer_alive = false;
  s.paths_alive = 0;
  s.link_up = false;
  s.route = "";
  s.auth_failures = ArrayEvents::kKeyMismatchFrames - 1;
  auto early = at(milliseconds{0});
  CHECK_FALSE(early.pair_key_fault.has_value());  // a frame or two: not yet a pattern
  s.auth_failures = ArrayEvents::kKeyMismatchFrames + 4;
  auto c = at(milliseconds{500});
  CHECK_TRUE(c.pair_key_fault.has_value() && c.pair_key_fault->has_value());
  STRCMP_CONTAINS("do not hold the same pair key", (*c.pair_key_fault)->text.c_str());
  STRCMP_CONTAINS("7 refused", (*c.pair_key_fault)->text.c_str());
  CHECK_FALSE(c.peer_link_fault.has_value());  // not a partition: the peer is not heard
  s.auth_failures += 10;
  CHECK_FALSE(at(milliseconds{900}).pair_key_fault.has_value());  // raised once
  s.peer_alive = true;  // the keys agree again (a board re-provisioned)
  s.link_up = true;
  auto healed = at(milliseconds{1500});
  CHECK_TRUE(healed.pair_key_fault.has_value() && !healed.pair_key_fault->has_value());
}

TEST(ArrayEvents, ADeadPeerRaisesNoPairKeyFault) {
  s.peer_alive = false;
  s.paths_alive = 0;
  s.link_up = false;
  at(milliseconds{0});
  CHECK_FALSE(at(milliseconds{5000}).pair_key_fault.has_value());
}

TEST(ArrayEvents, WithoutAConfiguredLinkThereIsNoPartition) {
  ArrayEvents unlinked{SpId::A, /*link_configured=*/false, t0};
  s.link_up = false;
  s.now = t0;
  unlinked.observe(s);
  s.now = t0 + milliseconds{5000};
  auto c = unlinked.observe(s);
  CHECK_TRUE(c.events.empty());
  CHECK_FALSE(c.peer_link_fault.has_value());
}

TEST(ArrayEvents, MovingToTheManagementRouteIsReportedOnceItHeld300ms) {
  at(milliseconds{0});
  s.route = "management";
  CHECK_TRUE(at(milliseconds{100}).events.empty());
  CHECK_TRUE(at(milliseconds{399}).events.empty());
  auto moved = at(milliseconds{400});
  CHECK_EQUAL(1u, moved.events.size());
  CHECK_EQUAL(std::string("management"), moved.events[0].args(1));
  CHECK_EQUAL(std::string("Warning"), moved.events[0].severity());
  s.route = "peer-link";
  at(milliseconds{500});
  auto back = at(milliseconds{800});
  CHECK_EQUAL(1u, back.events.size());
  CHECK_EQUAL(std::string("OK"), back.events[0].severity());
  STRCMP_CONTAINS("dedicated link again", back.events[0].message().c_str());
}

TEST(ArrayEvents, HeartbeatPathsSilentWhileThePeerIsHeardAreNamedOnceSettled) {
  at(milliseconds{0});
  s.paths_alive = 0b100;  // only the midplane
  CHECK_TRUE(at(milliseconds{100}).events.empty());
  auto c = at(milliseconds{300});
  CHECK_EQUAL(1u, c.events.size());
  CHECK_EQUAL(std::string("Partition"), c.events[0].args(1));
  CHECK_EQUAL(std::string("Warning"), c.events[0].severity());
  STRCMP_CONTAINS("silent on: peer-link, management; roles unchanged.",
                  c.events[0].message().c_str());
  s.paths_alive = kAllPaths;
  at(milliseconds{400});
  auto healed = at(milliseconds{600});
  CHECK_EQUAL(1u, healed.events.size());
  CHECK_EQUAL(std::string(message::kErrorsCorrected), healed.events[0].message_id());
}
