// The midplane path's slots are signed with the pair key: the peer's own beats pass, a slot
// written without the key (or under another key) is refused and counted.
#include <CppUTest/TestHarness.h>
#include <unistd.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <string>

#include "heartbeat/midplane_path.hpp"

using namespace dualsp;
using namespace dualsp::heartbeat;

TEST_GROUP(MidplanePath) {
  std::string name = "dualsp-ut-midplane-path-" + std::to_string(getpid());
  const std::string key = std::string(32, 'k');
  void teardown() override {
    boost::interprocess::shared_memory_object::remove(name.c_str());
  }

  Beat beatOfA(uint64_t epoch, Role role) {
    Beat b{SpId::A, role, Health::Ok, epoch, 77, 1000 + epoch};
    b.boot_counter = 3;
    return b;
  }
};

TEST(MidplanePath, ThePeersSignedBeatsPass) {
  platform::MidplaneSegment side_a(name, SpId::A);
  platform::MidplaneSegment side_b(name, SpId::B);
  MidplanePath a(side_a, key);
  MidplanePath b(side_b, key);
  a.write(beatOfA(1, Role::Active));
  CHECK_FALSE(b.poll(SpId::A).has_value());  // the first slot seen primes the path
  a.write(beatOfA(2, Role::Active));
  auto got = b.poll(SpId::A);
  CHECK_TRUE(got.has_value());
  CHECK_EQUAL(2u, got->epoch);
  CHECK_EQUAL(3u, got->boot_counter);
  CHECK_EQUAL(0u, b.badMac());
}

TEST(MidplanePath, ASlotWrittenWithoutTheKeyIsRefused) {
  platform::MidplaneSegment forger(name, SpId::A);
  platform::MidplaneSegment side_b(name, SpId::B);
  MidplanePath b(side_b, key);
  MidplanePath wrong_key(forger, std::string(32, 'x'));
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    platform::MidplaneBeat forged;
    forged.beat_seq = 100 + seq;
    forged.role = Role::Active;
    forged.epoch = 999999;
    forger.write(forged);
    CHECK_FALSE(b.poll(SpId::A).has_value());
    wrong_key.write(beatOfA(999999, Role::Active));
    CHECK_FALSE(b.poll(SpId::A).has_value());
  }
  CHECK_EQUAL(6u, b.badMac());
  CHECK_FALSE(b.readPeer(SpId::A).has_value());  // nor as the slot a dead peer left behind
}

// SP-B's own signed slot copied into SP-A's does not speak for SP-A.
TEST(MidplanePath, ASlotSignedForTheOtherSideIsRefused) {
  platform::MidplaneSegment side_a(name, SpId::A);
  platform::MidplaneSegment side_b(name, SpId::B);
  MidplanePath b(side_b, key);
  Beat own{SpId::B, Role::Active, Health::Ok, 5, 88, 1};
  platform::MidplaneBeat copy;
  copy.beat_seq = 9;
  copy.role = own.role;
  copy.epoch = own.epoch;
  copy.boot = own.boot;
  copy.sent_us = own.sent_us;
  copy.mac = midplaneMac(key, SpId::B, copy);
  side_a.write(copy);
  CHECK_FALSE(b.poll(SpId::A).has_value());
  CHECK_EQUAL(1u, b.badMac());
}
