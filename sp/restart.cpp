#include "sp/restart.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/log.hpp"

namespace dualsp::sp {

void RestartRequest::request(const std::string& why) {
  std::lock_guard lock(mu_);
  reason_ = why;
  pending_ = true;
}

std::string RestartRequest::reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

HandOver handOverBeforeRestart(const HandOverControl& control) {
  if (control.role() != Role::Active) return HandOver::NotActive;
  std::string refusal = control.force_failover(std::chrono::milliseconds{100});
  if (!refusal.empty()) {
    LOG_WARNING << "restarting as the active SP without a hand-over: " << refusal;
    return HandOver::Refused;
  }
  // Keep beating until the peer has really taken the role (bounded: 2 s).
  for (int i = 0; i < 100 && (control.role() == Role::Active || !control.peer_active()); ++i)
    control.sleep(std::chrono::milliseconds{20});
  if (control.peer_active()) {
    LOG_NOTICE << "handed the active role over before restarting";
    return HandOver::HandedOver;
  }
  LOG_WARNING << "the peer did not take the role within 2 s; restarting anyway";
  return HandOver::NotTaken;
}

int execProcess(const std::string& path, const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return execv(path.c_str(), args.data());
}

int restartSp(const HandOverControl& control, const std::function<void()>& shut_down,
              const std::string& self_exe, const std::string& settings_path, const Exec& exec) {
  handOverBeforeRestart(control);
  shut_down();
  LOG_NOTICE << "spd re-executing " << self_exe;
  // The new image starts like a freshly booted board: new boot id, election from scratch.
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  exec(self_exe, {self_exe, "--settings", settings_path});
  LOG_CRITICAL << "cannot re-execute " << self_exe << ": " << strerror(errno);
  return 1;
}

}  // namespace dualsp::sp
