// The status board between spd and spweb: what is published is read back whole.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <string>

#include "ipc/status_board.hpp"
#include "platform/private_shm.hpp"
#include "tests/unit/platform/dropped_child.hpp"
#include "tests/unit/platform/foreign_shm.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::ipc;

TEST_GROUP(StatusBoard) {
  std::string name;
  void setup() override {
    name = "dualsp-ut-board-" + std::to_string(getpid());
  }
  void teardown() override {
    boost::interprocess::shared_memory_object::remove(name.c_str());
  }
};

TEST(StatusBoard, NothingToReadBeforeSpdPublishes) {
  StatusBoardReader reader(name);
  CHECK_FALSE(reader.read().has_value());  // no segment at all
  StatusBoardWriter writer(name);
  CHECK_FALSE(reader.read().has_value());  // segment, never published
}

TEST(StatusBoard, PublishedSnapshotIsReadBack) {
  StatusBoardWriter writer(name);
  StatusBoardReader reader(name);
  StatusSnapshot s;
  s.sp = SpId::B;
  s.role = Role::Active;
  s.epoch = 42;
  copyField(s.boot_id, "5e1f7a2c-0000-4000-8000-000000000001");
  writer.publish(s);
  auto got = reader.read();
  CHECK_TRUE(got.has_value());
  CHECK(got->sp == SpId::B);
  CHECK(got->role == Role::Active);
  CHECK_EQUAL(42u, got->epoch);
  STRCMP_EQUAL("5e1f7a2c-0000-4000-8000-000000000001", got->boot_id);
  s.epoch = 43;
  writer.publish(s);
  CHECK_EQUAL(43u, reader.read()->epoch);
}

TEST(StatusBoard, ReaderSurvivesARestartOfSpd) {
  StatusBoardReader reader(name);
  {
    StatusBoardWriter first(name);
    StatusSnapshot s;
    s.epoch = 1;
    first.publish(s);
    CHECK_EQUAL(1u, reader.read()->epoch);
  }
  StatusBoardWriter second(name);  // spd restarted
  StatusSnapshot s;
  s.epoch = 2;
  second.publish(s);
  CHECK_EQUAL(2u, reader.read()->epoch);
}

TEST(StatusBoard, CleanStopRemovesTheSegment) {
  { StatusBoardWriter writer(name); }
  CHECK_FALSE(access(("/dev/shm/" + name).c_str(), F_OK) == 0);
}

TEST(StatusBoard, CopyFieldTruncatesAndTerminates) {
  char small[4];
  copyField(small, "abcdef");
  STRCMP_EQUAL("abc", small);
}

// Issue 13: a local user who creates the board before spd (mode 0666) could write "active,
// healthy" into what spweb reads. spd's writer replaces such a segment with its own, 0600.
TEST(StatusBoard, AWriterReplacesABoardSomeoneElseCreatedFirst) {
  if (!test::createAsNobody(name, 4096)) return;  // needs root to act as another user
  CHECK_EQUAL(test::kNobody, test::statShm(name).st_uid);
  StatusBoardWriter writer(name);
  struct stat st = test::statShm(name);
  CHECK_EQUAL(::geteuid(), st.st_uid);
  CHECK_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 07777));
}

// And spweb's reader refuses a board that is not spd's: here spd's own content, but the
// segment handed to another user and opened to everyone, as one an attacker made would be.
TEST(StatusBoard, AReaderRefusesABoardSomeoneElseOwns) {
  if (::geteuid() != 0) return;  // chown needs root
  StatusBoardWriter writer(name);
  StatusSnapshot s;
  s.role = Role::Active;
  writer.publish(s);
  StatusBoardReader reader(name);
  CHECK_TRUE(reader.read().has_value());
  StatusBoardReader fresh(name);
  const std::string path = "/dev/shm/" + name;
  CHECK_EQUAL(0, ::chown(path.c_str(), test::kNobody, test::kNobody));
  CHECK_EQUAL(0, ::chmod(path.c_str(), 0666));
  CHECK_FALSE(fresh.read().has_value());
}

// spweb runs unprivileged once bound (docs/SECURITY.md "What runs as whom"): spd, root, gives
// the board to the web group, read-only, and spweb reads it after its drop.
TEST(StatusBoard, TheWebGroupReadsTheBoardAfterDroppingRoot) {
  if (::geteuid() != 0) return;  // only root gives a segment a group and drops
  const platform::UnixIdentity web = test::kTestWebIdentity;
  StatusBoardWriter writer(name, web);
  struct stat st = test::statShm(name);
  CHECK_EQUAL(0u, st.st_uid);
  CHECK_EQUAL(web.gid, st.st_gid);
  CHECK_EQUAL(0640u, static_cast<unsigned>(st.st_mode & 07777));
  StatusSnapshot s;
  s.role = Role::Active;
  s.epoch = 77;
  writer.publish(s);
  const std::string board = name;
  std::string outcome = test::inChild([board, web]() -> std::string {
    if (std::string why = platform::dropPrivileges(web); !why.empty()) return "drop: " + why;
    StatusBoardReader reader(board, web);
    std::optional<StatusSnapshot> read = reader.read();
    if (!read) return "the board cannot be read after the drop";
    if (read->epoch != 77) return "wrong snapshot";
    // Read-only for the group: the drop left no way to write it.
    int fd = ::shm_open(("/" + board).c_str(), O_RDWR, 0);
    if (fd >= 0) return "the web user may write the board";
    return {};
  });
  STRCMP_EQUAL("ok", outcome.c_str());
  // A second writer (spd restarted) takes the shared board over as its own.
  StatusBoardWriter again(name, web);
  CHECK_EQUAL(0640u, static_cast<unsigned>(test::statShm(name).st_mode & 07777));
}

// Only exactly that is trusted: not a broader mode, not another group, not a board the web
// user owns (spweb itself could have made it), and with no web identity, no group at all.
TEST(StatusBoard, ABoardSharedMoreBroadlyOrWithAnotherGroupIsRefused) {
  if (::geteuid() != 0) return;  // chown needs root
  const platform::UnixIdentity web = test::kTestWebIdentity;
  StatusBoardWriter writer(name, web);
  StatusSnapshot s;
  writer.publish(s);
  const std::string path = "/dev/shm/" + name;
  CHECK_TRUE(StatusBoardReader(name, web).read().has_value());
  CHECK_FALSE(StatusBoardReader(name).read().has_value());  // no web identity: 0600 only
  CHECK_EQUAL(0, ::chmod(path.c_str(), 0660));              // the group may write
  CHECK_FALSE(StatusBoardReader(name, web).read().has_value());
  CHECK_EQUAL(0, ::chmod(path.c_str(), 0644));  // others may read
  CHECK_FALSE(StatusBoardReader(name, web).read().has_value());
  CHECK_EQUAL(0, ::chmod(path.c_str(), 0640));
  CHECK_EQUAL(0, ::chown(path.c_str(), 0, test::kNobody));  // another group
  CHECK_FALSE(StatusBoardReader(name, web).read().has_value());
  CHECK_EQUAL(0, ::chown(path.c_str(), web.uid, web.gid));  // the web user's own
  CHECK_FALSE(StatusBoardReader(name, web).read().has_value());
  CHECK_EQUAL(0, ::chown(path.c_str(), 0, web.gid));
  CHECK_TRUE(StatusBoardReader(name, web).read().has_value());
}
