// makeRealtime on the real scheduler. Runs as root here, so SCHED_FIFO must be granted.

#include <pthread.h>
#include <sched.h>

#include <thread>

#include "platform/platform.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

using namespace dualsp::platform;

namespace {

struct Outcome {
  Status status;
  int policy = -1;
  int priority = -1;
};

// On a thread of its own, so the test runner never runs real-time.
Outcome tryRealtime(int priority) {
  Outcome out;
  std::thread t([&] {
    out.status = makeRealtime(priority);
    sched_param param{};
    pthread_getschedparam(pthread_self(), &out.policy, &param);
    out.priority = param.sched_priority;
  });
  t.join();
  return out;
}

}  // namespace

TEST_GROUP(Realtime){};

TEST(Realtime, ZeroLeavesTheThreadAlone) {
  Outcome out = tryRealtime(0);
  CHECK_TRUE_TEXT(out.status.ok, out.status.error.c_str());
  LONGS_EQUAL(SCHED_OTHER, out.policy);
}

TEST(Realtime, NegativeLeavesTheThreadAlone) {
  Outcome out = tryRealtime(-5);
  CHECK_TRUE(out.status.ok);
  LONGS_EQUAL(SCHED_OTHER, out.policy);
}

TEST(Realtime, PriorityTenGivesSchedFifo) {
  Outcome out = tryRealtime(10);
  CHECK_TRUE_TEXT(out.status.ok, out.status.error.c_str());  // EPERM here is a failure
  LONGS_EQUAL(SCHED_FIFO, out.policy);
  LONGS_EQUAL(10, out.priority);
}

TEST(Realtime, OutOfRangePriorityFailsWithErrnoText) {
  Outcome out = tryRealtime(sched_get_priority_max(SCHED_FIFO) + 1);
  CHECK_FALSE(out.status.ok);
  STRCMP_CONTAINS("Invalid argument", out.status.error.c_str());
  LONGS_EQUAL(SCHED_OTHER, out.policy);
}
