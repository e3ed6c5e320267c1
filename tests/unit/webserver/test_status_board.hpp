#pragma once
// A status board of the test's own (unique name per process and per board), removed again
// when the test ends, and a plausible snapshot to publish on it.

#include <unistd.h>

#include <atomic>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdint>
#include <string>

#include "ipc/status_board.hpp"

namespace dualsp::web::test {

// An array id nobody else uses: the board is then statusBoardName(arrayId, sp), the default
// spweb computes itself.
inline std::string uniqueArrayId() {
  static std::atomic<int> counter{0};
  return "ut-web-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

class TestStatusBoard {
 public:
  TestStatusBoard(std::string array_id, SpId sp)
      : name_(ipc::statusBoardName(array_id, sp)), writer_(name_) {}
  ~TestStatusBoard() { boost::interprocess::shared_memory_object::remove(name_.c_str()); }
  void publish(const ipc::StatusSnapshot& snapshot) { writer_.publish(snapshot); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  ipc::StatusBoardWriter writer_;
};

inline constexpr int64_t kNowMs = 1'800'000'000'000;  // the tests' wall clock

inline ipc::StatusSnapshot snapshot(const std::string& array_id, SpId sp, Role role) {
  ipc::StatusSnapshot s;
  s.spd_pid = 4242;
  ipc::copyField(s.array_id, array_id);
  ipc::copyField(s.boot_id, "2b1f0c7e-0000-4000-8000-00000000000a");
  ipc::copyField(s.firmware_version, "0.1.0+test");
  ipc::copyField(s.management_address, "198.18.0.11");
  ipc::copyField(s.floating_address, "198.18.0.10");
  s.sp = sp;
  s.role = role;
  s.health = Health::Ok;
  s.holds_floating = role == Role::Active;
  s.epoch = 7;
  s.boot_time_ms = kNowMs - 90'500;
  s.updated_ms = kNowMs - 5;
  s.peer_alive = true;
  s.peer_role = role == Role::Active ? Role::Passive : Role::Active;
  s.peer_health = Health::Warning;
  s.peer_epoch = 7;
  s.peer_last_heard_ms = kNowMs - 12;
  s.paths_configured = 0b111;
  s.paths_alive = 0b101;  // mgmt path silent
  ipc::copyField(s.peer_boot_id, "2b1f0c7e-0000-4000-8000-00000000000b");
  return s;
}

}  // namespace dualsp::web::test
