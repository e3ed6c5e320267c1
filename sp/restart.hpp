#pragma once
// Restarting the SP firmware in place (ResetSp on this SP): the request crosses from a
// command handler's thread to the main loop; an active SP first hands the role over
// (otherwise its silence during the restart looks like a death and the peer fences, powers
// off, the rebooting SP); then everything is shut down and spd re-executes itself like a
// freshly booted board.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "platform/sp_types.hpp"

namespace dualsp::sp {

class RestartRequest {
 public:
  void request(const std::string& why);  // any thread
  bool pending() const { return pending_.load(); }
  std::string reason() const;

 private:
  mutable std::mutex mu_;
  std::atomic<bool> pending_{false};
  std::string reason_;
};

// What the hand-over needs of the election (spd: the heartbeat service and the status board).
struct HandOverControl {
  std::function<Role()> role;
  // Asks the peer to take the role within `wait`; "" when it agreed, else why not.
  std::function<std::string(std::chrono::milliseconds wait)> force_failover;
  std::function<bool()> peer_active;  // the peer says it is active now
  std::function<void(std::chrono::milliseconds)> sleep = [](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
  };
};

enum class HandOver {
  NotActive,   // nothing to hand over
  Refused,     // the election refused (e.g. the peer is unhealthy): restart without
  HandedOver,  // the peer is active
  NotTaken,    // agreed, but the peer did not take the role within 2 s: restart anyway
};

// Hands the active role over and keeps the heartbeats going (the caller's threads run on)
// until the peer has taken it, at most 100 polls of 20 ms.
HandOver handOverBeforeRestart(const HandOverControl& control);

// Replaces the process image: path, argv. Returns only on failure (errno set).
using Exec = std::function<int(const std::string& path, const std::vector<std::string>& argv)>;
int execProcess(const std::string& path, const std::vector<std::string>& argv);  // execv(2)

// The restart once the main loop has ended for it: the hand-over (when active), then
// `shut_down` (every socket and segment closed before the new image binds them again),
// then `self_exe --settings settings_path` with no signal blocked. Returns only when the exec
// failed: the exit code 1.
int restartSp(const HandOverControl& control, const std::function<void()>& shut_down,
              const std::string& self_exe, const std::string& settings_path,
              const Exec& exec = execProcess);

}  // namespace dualsp::sp
