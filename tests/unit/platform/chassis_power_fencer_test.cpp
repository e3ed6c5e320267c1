// The QEMU chassis's fencer against a thread playing the chassis watcher of tools/qemu-pair.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "platform/midplane_segment.hpp"
#include "platform/sim/chassis_power_fencer.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

namespace dualsp::platform {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The chassis: watches request[target] and, after `delay`, confirms it in done[target],
// through a mapping of its own as the harness has (a third party to both SPs).
class FakeChassis {
 public:
  FakeChassis(const std::string& path, std::chrono::milliseconds delay)
      : thread_([this, path, delay] { watch(path, delay); }) {}
  ~FakeChassis() {
    stop_ = true;
    thread_.join();
  }
  int poweredOff() const { return powered_off_; }

 private:
  void watch(const std::string& path, std::chrono::milliseconds delay) {
    const auto deadline = Clock::now() + 5s;  // bounded whatever the fencer does
    while (!stop_ && Clock::now() < deadline) {
      FILE* f = fopen(path.c_str(), "r+b");
      if (f) {
        uint64_t request = 0, done = 0;
        fseek(f, MidplaneSegment::kPowerRequestOffset + 8, SEEK_SET);  // request[B]
        fread(&request, sizeof request, 1, f);
        fseek(f, MidplaneSegment::kPowerDoneOffset + 8, SEEK_SET);  // done[B]
        fread(&done, sizeof done, 1, f);
        if (request != done) {
          std::this_thread::sleep_for(delay);
          ++powered_off_;
          fseek(f, MidplaneSegment::kPowerDoneOffset + 8, SEEK_SET);
          fwrite(&request, sizeof request, 1, f);
        }
        fclose(f);
      }
      std::this_thread::sleep_for(2ms);
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> powered_off_{0};
  std::thread thread_;
};

}  // namespace

TEST_GROUP(ChassisPowerFencer) {
  std::string path;
  void setup() override {
    path = "/tmp/dualsp-ut-chassis-" + std::to_string(getpid());
    FILE* f = fopen(path.c_str(), "wb");  // the window exists, as the ivshmem BAR does
    CHECK(f != nullptr);
    fclose(f);
  }
  void teardown() override {
    unlink(path.c_str());
  }
};

TEST(ChassisPowerFencer, SucceedsOnceTheChassisConfirmsThePeerIsOff) {
  auto fencer = makeChassisPowerFencer(path, SpId::A);
  FakeChassis chassis(path, 50ms);
  auto started = Clock::now();
  Status s = fencer->fencePeer(2000ms);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  CHECK(Clock::now() - started >= 50ms);  // it waited for the confirmation
  CHECK_EQUAL(1, chassis.poweredOff());
  // A second fence is a new request, confirmed again.
  s = fencer->fencePeer(2000ms);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  CHECK_EQUAL(2, chassis.poweredOff());
}

TEST(ChassisPowerFencer, FailsNamingTheWindowWhenNoChassisAnswers) {
  auto fencer = makeChassisPowerFencer(path, SpId::A);
  auto started = Clock::now();
  Status s = fencer->fencePeer(100ms);
  auto took = Clock::now() - started;
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("did not confirm power-off of SP-B", s.error.c_str());
  STRCMP_CONTAINS(path.c_str(), s.error.c_str());
  CHECK(took >= 100ms);
  CHECK(took < 1000ms);
}

TEST(ChassisPowerFencer, AWindowThatCannotBeMappedThrows) {
  CHECK_THROWS(std::runtime_error, makeChassisPowerFencer("/nonexistent/dir/window", SpId::A));
}

}  // namespace dualsp::platform
