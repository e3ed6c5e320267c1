// The in-place restart: an active SP hands the role over before it goes, the exec comes
// only after the hand-over and the shut-down, with the same configuration and no signal
// blocked; a failed exec is exit code 1.
#include "sp/restart.hpp"

#include <signal.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;
using std::chrono::milliseconds;

namespace {

// An election the test scripts: the peer takes the role `take_after` polls after agreeing.
struct FakeElection {
  Role role_now = Role::Active;
  std::string refusal;  // "" = the peer agrees
  int take_after = 3;   // polls; -1: never
  int polls = 0;
  std::vector<std::string>* steps = nullptr;
  milliseconds asked_wait{0};
  bool peer_is_active = false;

  HandOverControl control() {
    HandOverControl c;
    c.role = [this] { return role_now; };
    c.force_failover = [this](milliseconds wait) {
      steps->push_back("hand over");
      asked_wait = wait;
      return refusal;
    };
    c.peer_active = [this] { return peer_is_active; };
    c.sleep = [this](milliseconds) {
      ++polls;
      if (take_after >= 0 && polls >= take_after) {
        role_now = Role::Passive;
        peer_is_active = true;
      }
    };
    return c;
  }
};

}  // namespace

TEST_GROUP(Restart) {
  std::vector<std::string> steps;
  FakeElection election;
  std::vector<std::string> exec_argv;
  std::string exec_path;
  void setup() override {
    election.steps = &steps;
  }
  Exec fakeExec(int rc = -1, int err = ENOENT) {
    return [this, rc, err](const std::string& path, const std::vector<std::string>& argv) {
      steps.push_back("exec");
      exec_path = path;
      exec_argv = argv;
      errno = err;
      return rc;
    };
  }
  int restart() {
    return restartSp(
        election.control(), [this] { steps.push_back("shut down"); }, "/opt/dualsp/spd",
        "/etc/dualsp/spd.json", fakeExec());
  }
};

TEST(Restart, AnActiveSpHandsOverThenShutsDownThenExecsItself) {
  CHECK_EQUAL(1, restart());  // the fake exec returns: the failure path's exit code
  CHECK_TRUE((steps == std::vector<std::string>{"hand over", "shut down", "exec"}));
  CHECK_EQUAL(100, election.asked_wait.count());
  CHECK_EQUAL(3, election.polls);  // it kept beating until the peer took the role
  CHECK_EQUAL(std::string("/opt/dualsp/spd"), exec_path);
  CHECK_TRUE((exec_argv ==
              std::vector<std::string>{"/opt/dualsp/spd", "--settings", "/etc/dualsp/spd.json"}));
}

TEST(Restart, APassiveSpHasNothingToHandOver) {
  election.role_now = Role::Passive;
  CHECK_TRUE(HandOver::NotActive == handOverBeforeRestart(election.control()));
  restart();
  CHECK_TRUE((steps == std::vector<std::string>{"shut down", "exec"}));
  CHECK_EQUAL(0, election.polls);
}

TEST(Restart, ARefusedHandOverRestartsAtOnceWithoutWaiting) {
  election.refusal = "the peer is unhealthy";
  CHECK_TRUE(HandOver::Refused == handOverBeforeRestart(election.control()));
  CHECK_EQUAL(0, election.polls);
  steps.clear();
  restart();
  CHECK_TRUE((steps == std::vector<std::string>{"hand over", "shut down", "exec"}));
}

TEST(Restart, HandOverOutcomes) {
  CHECK_TRUE(HandOver::HandedOver == handOverBeforeRestart(election.control()));
  CHECK_TRUE(Role::Passive == election.role_now);
}

TEST(Restart, APeerThatNeverTakesTheRoleIsWaitedForAtMostTwoSeconds) {
  election.take_after = -1;
  CHECK_TRUE(HandOver::NotTaken == handOverBeforeRestart(election.control()));
  CHECK_EQUAL(100, election.polls);  // 100 polls of 20 ms
}

TEST(Restart, TheNewImageStartsWithNoSignalBlocked) {
  sigset_t usr1, before;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &before);
  bool blocked_at_exec = true;
  election.role_now = Role::Passive;
  restartSp(
      election.control(), [] {}, "/x/spd", "/x/c.json",
      [&](const std::string&, const std::vector<std::string>&) {
        sigset_t now;
        pthread_sigmask(SIG_SETMASK, nullptr, &now);
        blocked_at_exec = sigismember(&now, SIGUSR1) == 1;
        return -1;
      });
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  CHECK_FALSE(blocked_at_exec);
}

TEST(Restart, ARequestFromAnotherThreadIsSeenWithItsReason) {
  RestartRequest r;
  CHECK_FALSE(r.pending());
  std::thread([&r] { r.request("ResetSp from the web"); }).join();
  CHECK_TRUE(r.pending());
  CHECK_EQUAL(std::string("ResetSp from the web"), r.reason());
}

TEST(Restart, TheRealExecReportsAMissingImage) {
  errno = 0;
  CHECK_EQUAL(-1, execProcess("/nonexistent/spd", {"/nonexistent/spd"}));
  CHECK_EQUAL(ENOENT, errno);
}
