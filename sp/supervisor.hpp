#pragma once
// Keeps spweb running: starts it, restarts it within a second when it dies, and stops it
// with spd. spweb gets SIGTERM if spd itself dies (PR_SET_PDEATHSIG), so no web server
// outlives its daemon and keeps answering for a dead SP.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace dualsp::sp {

class Supervisor {
 public:
  Supervisor(std::string program, std::vector<std::string> args);
  ~Supervisor();

  void start();
  // Reaps a dead child and restarts it when due; call often (every ~100 ms).
  void poll();
  void stop(std::chrono::milliseconds grace);
  pid_t pid() const { return pid_; }
  int restarts() const { return restarts_; }

 private:
  void spawn();

  std::string program_;
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  int restarts_ = 0;
  std::chrono::steady_clock::time_point restart_at_{};
  bool restart_pending_ = false;
};

}  // namespace dualsp::sp
