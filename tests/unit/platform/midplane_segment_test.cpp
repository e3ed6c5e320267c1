// The midplane window: each SP writes its slot, reads the peer's; a cut side is silent.
#include <unistd.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdio>
#include <cstring>
#include <string>

#include "platform/midplane_segment.hpp"
#include "tests/unit/platform/foreign_shm.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::platform;

TEST_GROUP(MidplaneSegment) {
  std::string name;
  void setup() override {
    name = "dualsp-ut-midplane-" + std::to_string(getpid());
  }
  void teardown() override {
    boost::interprocess::shared_memory_object::remove(name.c_str());
  }

  // What the harness does: poke the cut word of one side in the file.
  void setCut(SpId side, uint32_t value) {
    FILE* f = fopen(("/dev/shm/" + name).c_str(), "r+b");
    CHECK(f != nullptr);
    fseek(f, MidplaneSegment::kCutOffset + (side == SpId::A ? 0 : 4), SEEK_SET);
    fwrite(&value, sizeof value, 1, f);
    fclose(f);
  }
};

TEST(MidplaneSegment, EachSideReadsTheOthersBeat) {
  MidplaneSegment a(name, SpId::A);
  MidplaneSegment b(name, SpId::B);
  CHECK_TRUE(a.write(MidplaneBeat{7, 3, Role::Active, Health::Warning, 11, 1234}));
  auto seen = b.readPeer();
  CHECK_TRUE(seen.has_value());
  CHECK_EQUAL(7u, seen->beat_seq);
  CHECK_EQUAL(3u, seen->epoch);
  CHECK(seen->role == Role::Active);
  CHECK(seen->health == Health::Warning);
  CHECK_EQUAL(11u, seen->boot);
  CHECK_EQUAL(1234u, seen->sent_us);
  CHECK_EQUAL(0u, a.readPeer()->beat_seq);  // B wrote nothing yet
}

TEST(MidplaneSegment, ACutSideNeitherWritesNorReads) {
  MidplaneSegment a(name, SpId::A);
  MidplaneSegment b(name, SpId::B);
  a.write(MidplaneBeat{1, 1, Role::Active, Health::Ok, 1, 1});
  setCut(SpId::A, 1);
  CHECK_TRUE(a.cut(SpId::A));
  CHECK_FALSE(a.write(MidplaneBeat{2, 1, Role::Active, Health::Ok, 1, 2}));
  CHECK_FALSE(b.readPeer().has_value());  // the peer's side is cut
  CHECK_FALSE(a.readPeer().has_value());  // and A reads nothing either
  setCut(SpId::A, 0);
  CHECK_EQUAL(1u, b.readPeer()->beat_seq);  // the cut write never landed
}

TEST(MidplaneSegment, GarbageInTheSlotIsRefused) {
  MidplaneSegment a(name, SpId::A);
  MidplaneSegment b(name, SpId::B);
  a.write(MidplaneBeat{1, 1, static_cast<Role>(9), Health::Ok, 1, 1});
  CHECK_FALSE(b.readPeer().has_value());
}

// Under QEMU the window is a file (the ivshmem BAR); both SPs map the same bytes.
TEST_GROUP(MidplaneWindowFile) {
  std::string path;
  void setup() override {
    path = "/tmp/dualsp-ut-midplane-file-" + std::to_string(getpid());
    FILE* f = fopen(path.c_str(), "wb");  // an empty file: the segment extends it
    CHECK(f != nullptr);
    fclose(f);
  }
  void teardown() override {
    unlink(path.c_str());
  }
};

TEST(MidplaneWindowFile, APathIsMappedSharedByBothSides) {
  MidplaneSegment a(path, SpId::A);
  MidplaneSegment b(path, SpId::B);
  CHECK_TRUE(b.write(MidplaneBeat{5, 2, Role::Passive, Health::Ok, 9, 99}));
  auto seen = a.readPeer();
  CHECK_TRUE(seen.has_value());
  CHECK_EQUAL(5u, seen->beat_seq);
  CHECK(seen->role == Role::Passive);
}

TEST(MidplaneWindowFile, AMissingWindowIsAnErrorNamingIt) {
  std::string missing = path + "-absent";
  try {
    MidplaneSegment m(missing, SpId::A);
    FAIL("a missing window was mapped");
  } catch (const std::runtime_error& e) {
    STRCMP_CONTAINS(missing.c_str(), e.what());
    STRCMP_CONTAINS("No such file", e.what());
  }
}

TEST(MidplaneWindowFile, PowerRequestsLandAtTheRegisterTheChassisWatches) {
  MidplaneSegment a(path, SpId::A);
  CHECK_EQUAL(1u, a.requestPowerOff(SpId::B));
  CHECK_EQUAL(2u, a.requestPowerOff(SpId::B));
  CHECK_EQUAL(0u, a.powerOffDone(SpId::B));
  // The chassis side, as tools/qemu-pair does it: read request[B] at offset 264, write
  // done[B] at offset 280, little-endian.
  FILE* f = fopen(path.c_str(), "r+b");
  CHECK(f != nullptr);
  uint64_t request = 0;
  fseek(f, MidplaneSegment::kPowerRequestOffset + 8, SEEK_SET);
  CHECK_EQUAL(1u, fread(&request, sizeof request, 1, f));
  CHECK_EQUAL(2u, request);
  fseek(f, MidplaneSegment::kPowerDoneOffset + 8, SEEK_SET);
  fwrite(&request, sizeof request, 1, f);
  fclose(f);
  CHECK_EQUAL(2u, a.powerOffDone(SpId::B));
  CHECK_EQUAL(0u, a.powerOffDone(SpId::A));
}

// Issue 13: a local user who creates the midplane segment first (mode 0666) writes SP-A's slot
// as it likes ("active at epoch 999999"). The SP replaces such a segment with its own, 0600,
// so nothing the user wrote (or writes later through its mapping) reaches the election.
TEST(MidplaneSegment, ASegmentSomeoneElseCreatedFirstIsReplaced) {
  std::string slot_a(32, '\0');
  const uint64_t beat_seq = 5, epoch = 999999;
  const uint32_t active = 3;
  std::memcpy(&slot_a[8], &beat_seq, 8);
  std::memcpy(&slot_a[16], &epoch, 8);
  std::memcpy(&slot_a[24], &active, 4);
  if (!test::createAsNobody(name, MidplaneSegment::kSize, 64, slot_a)) return;  // needs root
  MidplaneSegment b(name, SpId::B);
  struct stat st = test::statShm(name);
  CHECK_EQUAL(::geteuid(), st.st_uid);
  CHECK_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 07777));
  auto peer = b.readPeer();
  CHECK_TRUE(peer.has_value());
  CHECK_EQUAL(0u, peer->epoch);
  CHECK(peer->role != Role::Active);
}
