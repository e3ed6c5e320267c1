// The status board between spd and spweb: what is published is read back whole.
#include <unistd.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <string>

#include "ipc/status_board.hpp"

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
