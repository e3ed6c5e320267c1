#pragma once
// Keeps spweb running: starts it, restarts it within a second when it dies, and stops it
// with spd. spweb gets SIGTERM if spd itself dies (PR_SET_PDEATHSIG), so no web server
// outlives its daemon and keeps answering for a dead SP.

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace dualsp::sp {

class Supervisor {
 public:
  Supervisor(std::string program, std::vector<std::string> args);
  // Called with the pid of a child that ended by itself (crash), after it is reaped.
  std::function<void(pid_t)> on_exit;
  ~Supervisor();

  void start();
  // Reaps a dead child and restarts it when due; call often (every ~100 ms).
  void poll();
  void stop(std::chrono::milliseconds grace);
  // Runs spweb with `--mode <mode>` from now on, restarting it at once if the mode changed.
  void setMode(const std::string& mode);
  const std::string& mode() const { return mode_; }
  // Stops spweb and starts it again at once (its HTTPS certificate changed), if it runs.
  void restart(const std::string& why);
  // kCrashLoopCount unexpected exits within kCrashLoopWindow (DESIGN: a fault, then degraded).
  bool crashLooping() const;
  pid_t pid() const { return pid_; }
  int restarts() const { return restarts_; }

  static constexpr int kCrashLoopCount = 5;
  static constexpr std::chrono::seconds kCrashLoopWindow{60};

 private:
  void spawn();

  std::string program_;
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  int restarts_ = 0;
  std::chrono::steady_clock::time_point restart_at_{};
  bool restart_pending_ = false;
  std::string mode_;
  std::deque<std::chrono::steady_clock::time_point> crashes_;
};

}  // namespace dualsp::sp
