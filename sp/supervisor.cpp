#include "sp/supervisor.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "platform/log.hpp"

namespace dualsp::sp {
namespace {

constexpr std::chrono::milliseconds kRestartDelay{200};  // "restarts it if it dies", fast

std::string describeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

Supervisor::Supervisor(std::string program, std::vector<std::string> args)
    : program_(std::move(program)), args_(std::move(args)) {
  for (size_t i = 0; i + 1 < args_.size(); ++i)
    if (args_[i] == "--mode") mode_ = args_[i + 1];
}

void Supervisor::setMode(const std::string& mode) {
  if (mode == mode_) return;
  LOG_NOTICE << "web server mode " << mode_ << " -> " << mode;
  mode_ = mode;
  for (size_t i = 0; i + 1 < args_.size(); ++i)
    if (args_[i] == "--mode") args_[i + 1] = mode;
  bool was_running = pid_ > 0 || restart_pending_;
  stop(std::chrono::milliseconds{1000});
  if (was_running) spawn();
}

void Supervisor::restart(const std::string& why) {
  bool was_running = pid_ > 0 || restart_pending_;
  if (!was_running) return;
  LOG_NOTICE << "restarting the web server: " << why;
  stop(std::chrono::milliseconds{1000});
  spawn();
}

bool Supervisor::crashLooping() const {
  if (crashes_.size() < static_cast<size_t>(kCrashLoopCount)) return false;
  return crashes_.back() - crashes_[crashes_.size() - kCrashLoopCount] <= kCrashLoopWindow;
}

Supervisor::~Supervisor() {
  stop(std::chrono::milliseconds{2000});
}

void Supervisor::start() {
  spawn();
}

void Supervisor::spawn() {
  std::vector<char*> argv;
  argv.push_back(program_.data());
  for (auto& a : args_) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(program_.c_str(), argv.data());
    _exit(127);
  }
  if (pid < 0) {
    LOG_ERROR << "cannot start " << program_ << ": " << strerror(errno);
    restart_pending_ = true;
    restart_at_ = std::chrono::steady_clock::now() + kRestartDelay;
    return;
  }
  pid_ = pid;
  LOG_INFO << "started " << program_ << " (pid " << pid << ")";
}

void Supervisor::poll() {
  if (pid_ > 0) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      LOG_ERROR << "spweb (pid " << pid_ << ") " << describeExit(status) << "; restarting";
      if (on_exit) on_exit(pid_);
      pid_ = -1;
      crashes_.push_back(std::chrono::steady_clock::now());
      while (crashes_.size() > static_cast<size_t>(kCrashLoopCount)) crashes_.pop_front();
      restart_pending_ = true;
      restart_at_ = std::chrono::steady_clock::now() + kRestartDelay;
    }
  }
  if (restart_pending_ && std::chrono::steady_clock::now() >= restart_at_) {
    restart_pending_ = false;
    ++restarts_;
    spawn();
  }
}

void Supervisor::stop(std::chrono::milliseconds grace) {
  restart_pending_ = false;
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  LOG_WARNING << "spweb did not stop within " << grace.count() << " ms; killing it";
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace dualsp::sp
