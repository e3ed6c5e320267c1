// A UDP heartbeat frame from the datagram to what the election hears
// (heartbeat/heartbeat_frame.hpp); the same code is fuzzed by tests/fuzz/heartbeat_fuzz.cpp.
#include <string>

#include "heartbeat/heartbeat_frame.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::heartbeat;

namespace {

const std::string kKey(32, 'k');

proto::Heartbeat frameOf(proto::Role role, proto::Health health) {
  proto::Heartbeat f;
  f.set_version(1);
  f.set_array_id("ut");
  f.set_sp(proto::SP_B);
  f.set_role(role);
  f.set_health(health);
  f.set_epoch(7);
  f.set_boot_id("boot-b");
  f.set_sent_us(1234);
  f.set_boot_counter(3);
  return f;
}

}  // namespace

TEST_GROUP(HeartbeatFrame){};

TEST(HeartbeatFrame, ASignedFrameDecodesToTheBeatSent) {
  const std::string datagram = signHeartbeatFrame(
      frameOf(proto::ROLE_ACTIVE, proto::HEALTH_WARNING).SerializeAsString(), kKey);
  FrameProblem problem = FrameProblem::Malformed;
  auto f = decodeHeartbeatFrame(datagram, kKey, problem);
  CHECK(f.has_value());
  CHECK(problem == FrameProblem::None);
  auto b = beatOfFrame(*f, "ut", SpId::A);
  CHECK(b.has_value());
  CHECK(b->sp == SpId::B);
  CHECK(b->role == Role::Active);
  CHECK(b->health == Health::Warning);
  LONGS_EQUAL(7, b->epoch);
  LONGS_EQUAL(3, b->boot_counter);
  CHECK(b->boot == bootNonce("boot-b"));
}

TEST(HeartbeatFrame, AFlippedByteOrAnotherKeyIsABadMac) {
  std::string datagram =
      signHeartbeatFrame(frameOf(proto::ROLE_PASSIVE, proto::HEALTH_OK).SerializeAsString(), kKey);
  FrameProblem problem = FrameProblem::None;
  CHECK_FALSE(decodeHeartbeatFrame(datagram, std::string(32, 'x'), problem).has_value());
  CHECK(problem == FrameProblem::BadMac);
  datagram[3] ^= 1;
  CHECK_FALSE(decodeHeartbeatFrame(datagram, kKey, problem).has_value());
  CHECK(problem == FrameProblem::BadMac);
  CHECK_FALSE(decodeHeartbeatFrame("short", kKey, problem).has_value());
  CHECK(problem == FrameProblem::BadMac);
}

TEST(HeartbeatFrame, FramesOfAnotherArrayOrOfThisSpAreNotHeard) {
  proto::Heartbeat f = frameOf(proto::ROLE_PASSIVE, proto::HEALTH_OK);
  CHECK_FALSE(beatOfFrame(f, "other", SpId::A).has_value());
  CHECK_FALSE(beatOfFrame(f, "ut", SpId::B).has_value());
  f.set_sp(proto::SP_UNKNOWN);
  CHECK_FALSE(beatOfFrame(f, "ut", SpId::A).has_value());
}

// Found by tests/fuzz/heartbeat_fuzz.cpp: proto3 enums are open, so a validly signed frame may
// carry role -17 or health -1. Only values above the known ones were refused: the election
// heard role 239, and a negative health became Health(255), which isHealthy() calls healthy.
TEST(HeartbeatFrame, NegativeRolesAndHealthsAreRefused) {
  CHECK_FALSE(beatOfFrame(frameOf(static_cast<proto::Role>(-17), proto::HEALTH_OK), "ut", SpId::A)
                  .has_value());
  CHECK_FALSE(
      beatOfFrame(frameOf(proto::ROLE_PASSIVE, static_cast<proto::Health>(-1)), "ut", SpId::A)
          .has_value());
  CHECK_FALSE(beatOfFrame(frameOf(static_cast<proto::Role>(4), proto::HEALTH_OK), "ut", SpId::A)
                  .has_value());
  // Through the wire as well: a signed frame, parsed.
  const std::string datagram = signHeartbeatFrame(
      frameOf(proto::ROLE_PASSIVE, static_cast<proto::Health>(-1)).SerializeAsString(), kKey);
  FrameProblem problem = FrameProblem::None;
  auto f = decodeHeartbeatFrame(datagram, kKey, problem);
  CHECK(f.has_value());
  CHECK_FALSE(beatOfFrame(*f, "ut", SpId::A).has_value());
}
