// The forwarder alone, against a scripted router path: a passive's write goes to the active
// through the router (target: the peer, the forward deadline), the active's answer comes
// back as it is, and when no answer came the client learns whether the change certainly
// never left or may have been applied. Events the active could not take are queued again.

#include "sp/config_forwarder.hpp"

#include "CppUTest/TestHarness.h"
#include "config_test_support.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using namespace dualsp::sp::testing;

TEST_GROUP(ConfigForwarder) {
  TempDir tmp;
  std::vector<proto::Command> routed;
  std::function<proto::CommandResult(const proto::Command&)> router;
  std::unique_ptr<ConfigCore> core;
  void setup() override {
    auto deps = activeDeps(SpId::B, nullptr);
    deps.role = [] { return Role::Passive; };
    deps.forward = [this](proto::Command c, Reply reply) {
      routed.push_back(c);
      reply(router(c));
    };
    core = openCore(tmp.path, deps);
  }
  proto::CommandResult forward() {
    proto::Command c;
    c.set_name("ConfigWrite");
    Captured answer;
    ConfigForwarder(*core).forwardWrite(c, Role::Passive, answer.reply());
    return *answer.result;
  }
  // What the router answers itself when the peer gave none.
  static proto::CommandResult routerSays(proto::CommandResult::Status status) {
    auto r = errorResult(status, "SP-A did not answer: x");
    r.set_answered_by(proto::SP_B);
    return r;
  }
};

TEST(ConfigForwarder, AWriteGoesToTheActiveThroughTheRouterAndItsAnswerComesBack) {
  router = [](const proto::Command&) {
    auto r = okResult("answer");
    r.set_answered_by(proto::SP_A);
    return r;
  };
  auto result = forward();
  CHECK_EQUAL(proto::CommandResult::OK, result.status());
  STRCMP_EQUAL("answer", result.payload().c_str());
  CHECK_EQUAL(1u, routed.size());
  CHECK_EQUAL(proto::SP_A, routed[0].target());
  CHECK_FALSE(routed[0].forwarded());  // the router marks it as it sends it
  CHECK_EQUAL(300u, routed[0].deadline_ms());
  CHECK_EQUAL(1u, core->stats.forwarded);
}

TEST(ConfigForwarder, NoAnswerThatNeverLeftIsNotApplied) {
  router = [](const proto::Command&) { return routerSays(proto::CommandResult::UNAVAILABLE); };
  auto result = forward();
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, result.status());
  CHECK_TRUE(result.error().find("was not applied") != std::string::npos);
}

TEST(ConfigForwarder, NoAnswerAfterSendingIsAnUnknownOutcome) {
  router = [](const proto::Command&) { return routerSays(proto::CommandResult::TIMEOUT); };
  auto result = forward();
  CHECK_EQUAL(proto::CommandResult::TIMEOUT, result.status());
  CHECK_TRUE(result.error().find("may have been applied") != std::string::npos);
}

TEST(ConfigForwarder, APassiveThatDoesNotHearTheActiveForwardsNothing) {
  auto deps = core->deps;
  deps.peer_alive = [] { return false; };
  TempDir other;
  core = openCore(other.path, deps);
  auto result = forward();
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, result.status());
  CHECK_TRUE(routed.empty());
}

TEST(ConfigForwarder, AnEventTheActiveCouldNotTakeIsQueuedAgainAnotherRefusalIsNot) {
  int requeued = 0;
  proto::Event e;
  e.set_message("m");
  router = [](const proto::Command&) { return routerSays(proto::CommandResult::TIMEOUT); };
  ConfigForwarder(*core).forwardEvent(e, [&] { ++requeued; });
  CHECK_EQUAL(1, requeued);
  router = [](const proto::Command&) {
    auto r = errorResult(proto::CommandResult::BAD_REQUEST, "no");
    r.set_answered_by(proto::SP_A);
    return r;
  };
  ConfigForwarder(*core).forwardEvent(e, [&] { ++requeued; });
  CHECK_EQUAL(1, requeued);
  proto::ConfigWrite sent;
  CHECK_TRUE(sent.ParseFromString(routed[0].payload()));
  STRCMP_EQUAL("m", sent.event().message().c_str());
}
