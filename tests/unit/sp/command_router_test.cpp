// The command router: where each command runs, stale answers, no thundering herd.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sp/command_router.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;
using Status = proto::CommandResult::Status;
using std::chrono::milliseconds;

namespace {

proto::Command command(const char* name, proto::SpId target, bool forwarded = false) {
  proto::Command c;
  c.set_name(name);
  c.set_target(target);
  c.set_forwarded(forwarded);
  return c;
}

struct DecisionRow {
  const char* name;
  const char* command;  // "" = not registered
  proto::SpId target;
  bool forwarded;
  Route expected;
};

// SP-A's point of view.
const std::vector<DecisionRow> kDecisions = {
    {"about this SP runs here", "GetSpStatus", proto::SP_A, false, Route::Local},
    {"no target means this SP", "GetSpStatus", proto::SP_UNKNOWN, false, Route::Local},
    {"about the peer is forwarded", "GetSpStatus", proto::SP_B, false, Route::Forward},
    {"forwarded to us about us runs here", "GetSpStatus", proto::SP_A, true, Route::Local},
    {"forwarded to us about the peer is refused", "GetSpStatus", proto::SP_B, true,
     Route::RefuseLoop},
    {"an action about the peer is forwarded", "ResetSp", proto::SP_B, false, Route::Forward},
    {"an unknown command is unknown", "", proto::SP_B, false, Route::Unknown},
};

// A peer link whose answers the test delivers by hand.
class FakePeer : public PeerTransport {
 public:
  void send(const proto::Command& c, milliseconds deadline,
            std::function<void(Answer)> done) override {
    sent.push_back(c);
    deadlines.push_back(deadline);
    pending.push_back(std::move(done));
  }
  void answer(size_t i, std::optional<proto::CommandResult> r,
              ipc::PeerError error = ipc::PeerError::None) {
    pending.at(i)(Answer{std::move(r), error});
  }
  bool usable() const override { return is_usable; }
  bool is_usable = true;
  std::vector<proto::Command> sent;
  std::vector<milliseconds> deadlines;
  std::vector<std::function<void(Answer)>> pending;
};

proto::CommandResult statusOf(proto::SpId sp, const char* boot_id) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(sp);
  r.mutable_sp_status()->set_boot_id(boot_id);
  return r;
}

}  // namespace

TEST_GROUP(RouterDecisions){};

TEST(RouterDecisions, EveryRowOfTheTable) {
  CommandSpec spec{"GetSpStatus", [](const proto::Command&, Reply) {}};
  for (const auto& row : kDecisions) {
    const CommandSpec* s = *row.command ? &spec : nullptr;
    Route got = decideRoute(command(row.command, row.target, row.forwarded), s, SpId::A);
    STRCMP_EQUAL_TEXT(std::string(routeName(row.expected)).c_str(),
                      std::string(routeName(got)).c_str(), row.name);
  }
}

TEST(RouterDecisions, CommandKeyIgnoresArgumentOrder) {
  proto::Command a = command("GetLog", proto::SP_B);
  (*a.mutable_args())["lines"] = "10";
  (*a.mutable_args())["x"] = "1";
  proto::Command b = command("GetLog", proto::SP_B);
  (*b.mutable_args())["x"] = "1";
  (*b.mutable_args())["lines"] = "10";
  STRCMP_EQUAL(commandKey(a).c_str(), commandKey(b).c_str());
  (*b.mutable_args())["lines"] = "11";
  CHECK(commandKey(a) != commandKey(b));
}

TEST_GROUP(Router) {
  CommandRegistry registry;
  FakePeer peer;
  std::chrono::steady_clock::time_point now =
      std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  std::optional<proto::CommandResult> fallback;
  int local_calls = 0;
  std::optional<CommandRouter> router;
  std::vector<proto::CommandResult> replies;

  void setup() override {
    registry.add({"GetSpStatus", [this](const proto::Command&, Reply reply) {
                    ++local_calls;
                    reply(statusOf(proto::SP_UNKNOWN, "local-boot"));
                  }});
    registry.add({"ResetSp",
                  [](const proto::Command&, Reply reply) {
                    reply(errorResult(proto::CommandResult::ACCEPTED, ""));
                  },
                  true, Privilege::ConfigureManager, true});
    CommandSpec metrics{"GetSpMetrics", [](const proto::Command&, Reply reply) {
                          reply(statusOf(proto::SP_UNKNOWN, "local-figures"));
                        }};
    metrics.fresh_only = true;
    registry.add(std::move(metrics));
    router.emplace(
        SpId::A, registry, peer, milliseconds(500),
        [this](const proto::Command&) { return fallback; }, [this] { return now; });
  }
  void dispatch(proto::Command c) {
    router->dispatch(std::move(c), [this](proto::CommandResult r) { replies.push_back(r); });
  }
  // The scheduler under test control: fire() runs what is due.
  std::vector<std::pair<milliseconds, std::function<void()>>> timers;
  void withStaleAfter(milliseconds ms) {
    router->setStaleAfter(ms, [this](milliseconds delay, std::function<void()> work) {
      timers.emplace_back(delay, std::move(work));
    });
  }
  void fire() {
    auto due = std::move(timers);
    timers.clear();
    for (auto& [delay, work] : due) work();
  }
};

TEST(Router, LocalCommandRunsHereAndNamesThisSp) {
  dispatch(command("GetSpStatus", proto::SP_A));
  CHECK_EQUAL(1, local_calls);
  CHECK_EQUAL(0u, peer.sent.size());
  CHECK_EQUAL(1u, replies.size());
  CHECK_EQUAL(proto::SP_A, replies[0].answered_by());
  CHECK_EQUAL(proto::SP_A, replies[0].served_by());
  CHECK_FALSE(replies[0].stale());
}

TEST(Router, PeerQueryIsForwardedOnceMarkedAndAnsweredFresh) {
  dispatch(command("GetSpStatus", proto::SP_B));
  CHECK_EQUAL(1u, peer.sent.size());
  CHECK_TRUE(peer.sent[0].forwarded());
  CHECK_EQUAL(500, peer.deadlines[0].count());
  CHECK_EQUAL(0u, replies.size());  // waits for the peer
  peer.answer(0, statusOf(proto::SP_B, "peer-boot"));
  CHECK_EQUAL(1u, replies.size());
  STRCMP_EQUAL("peer-boot", replies[0].sp_status().boot_id().c_str());
  CHECK_EQUAL(proto::SP_B, replies[0].answered_by());
  CHECK_EQUAL(proto::SP_A, replies[0].served_by());
  CHECK_FALSE(replies[0].stale());
  CHECK_EQUAL(0, local_calls);
}

TEST(Router, IdenticalQueriesInFlightShareOneRoundTrip) {
  for (int i = 0; i < 5; ++i) dispatch(command("GetSpStatus", proto::SP_B));
  CHECK_EQUAL(1u, peer.sent.size());
  peer.answer(0, statusOf(proto::SP_B, "peer-boot"));
  CHECK_EQUAL(5u, replies.size());
  for (const auto& r : replies) STRCMP_EQUAL("peer-boot", r.sp_status().boot_id().c_str());
  CHECK_EQUAL(4u, router->stats().coalesced);
  dispatch(command("GetSpStatus", proto::SP_B));  // after the answer: a new round trip
  CHECK_EQUAL(2u, peer.sent.size());
}

TEST(Router, TimeoutAnswersTheLastKnownStateWithItsAge) {
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, statusOf(proto::SP_B, "peer-boot"));
  now += milliseconds(1200);
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(1, std::nullopt, ipc::PeerError::Timeout);
  CHECK_EQUAL(2u, replies.size());
  CHECK_TRUE(replies[1].stale());
  CHECK_EQUAL(1200u, replies[1].age_ms());
  STRCMP_EQUAL("peer-boot", replies[1].sp_status().boot_id().c_str());
  CHECK_EQUAL(proto::SP_B, replies[1].answered_by());
  CHECK_EQUAL(proto::SP_A, replies[1].served_by());
}

TEST(Router, NoCopyYetFallsBackOnWhatHeartbeatsTold) {
  proto::CommandResult hb = statusOf(proto::SP_B, "from-heartbeats");
  hb.set_age_ms(30);
  fallback = hb;
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, std::nullopt, ipc::PeerError::NotConnected);
  CHECK_TRUE(replies[0].stale());
  CHECK_EQUAL(30u, replies[0].age_ms());
  STRCMP_EQUAL("from-heartbeats", replies[0].sp_status().boot_id().c_str());
}

TEST(Router, TheHeartbeatsNewerRoleWinsOverTheLastAnswer) {
  // B answered as passive, then took the role over (the heartbeats say active) and died:
  // its last known state names the role it had, not the one it answered 1.2 s before.
  proto::CommandResult answered = statusOf(proto::SP_B, "peer-boot");
  answered.mutable_sp_status()->set_role(proto::ROLE_PASSIVE);
  answered.mutable_sp_status()->set_epoch(3);
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, answered);
  now += milliseconds(1200);
  proto::CommandResult hb = statusOf(proto::SP_B, "peer-boot");
  hb.mutable_sp_status()->set_role(proto::ROLE_ACTIVE);
  hb.mutable_sp_status()->set_epoch(4);
  hb.set_age_ms(200);
  fallback = hb;
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(1, std::nullopt, ipc::PeerError::Timeout);
  CHECK_TRUE(replies[1].stale());
  CHECK_EQUAL(proto::ROLE_ACTIVE, replies[1].sp_status().role());
  CHECK_EQUAL(4u, replies[1].sp_status().epoch());
  CHECK_EQUAL(1200u, replies[1].age_ms());  // the rest of the answer is as old as it was
}

TEST(Router, OlderHeartbeatsDoNotRollTheLastAnswerBack) {
  proto::CommandResult answered = statusOf(proto::SP_B, "peer-boot");
  answered.mutable_sp_status()->set_role(proto::ROLE_ACTIVE);
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, answered);
  now += milliseconds(100);
  proto::CommandResult hb = statusOf(proto::SP_B, "peer-boot");
  hb.mutable_sp_status()->set_role(proto::ROLE_PASSIVE);
  hb.set_age_ms(900);
  fallback = hb;
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(1, std::nullopt, ipc::PeerError::Timeout);
  CHECK_EQUAL(proto::ROLE_ACTIVE, replies[1].sp_status().role());
}

TEST(Router, AnAnswerOfAnEarlierBootIsReplacedByTheHeartbeats) {
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, statusOf(proto::SP_B, "boot-1"));
  now += milliseconds(5000);
  proto::CommandResult hb = statusOf(proto::SP_B, "boot-2");
  hb.set_age_ms(100);
  fallback = hb;
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(1, std::nullopt, ipc::PeerError::Timeout);
  CHECK_TRUE(replies[1].stale());
  STRCMP_EQUAL("boot-2", replies[1].sp_status().boot_id().c_str());
  CHECK_EQUAL(100u, replies[1].age_ms());
}

TEST(Router, NothingKnownIsUnavailable) {
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, std::nullopt, ipc::PeerError::NotConnected);
  CHECK_EQUAL(Status::CommandResult_Status_UNAVAILABLE, replies[0].status());
  CHECK(replies[0].error().find("SP-B did not answer") != std::string::npos);
}

TEST(Router, ThePeersOwnErrorIsPassedOnNotReplacedByStaleData) {
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, statusOf(proto::SP_B, "peer-boot"));
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(1, errorResult(proto::CommandResult::BAD_REQUEST, "bad argument"));
  CHECK_EQUAL(Status::CommandResult_Status_BAD_REQUEST, replies[1].status());
  CHECK_FALSE(replies[1].stale());
}

TEST(Router, ActionsAreNeitherCoalescedNorAnsweredStale) {
  dispatch(command("ResetSp", proto::SP_B));
  dispatch(command("ResetSp", proto::SP_B));
  CHECK_EQUAL(2u, peer.sent.size());
  peer.answer(0, std::nullopt, ipc::PeerError::Timeout);
  peer.answer(1, errorResult(proto::CommandResult::ACCEPTED, ""));
  CHECK_EQUAL(Status::CommandResult_Status_TIMEOUT, replies[0].status());
  CHECK_FALSE(replies[0].stale());
  CHECK_EQUAL(Status::CommandResult_Status_ACCEPTED, replies[1].status());
}

TEST(Router, AnActionsLinkFailureMapsToOneStatusPerError) {
  using ipc::PeerError;
  const std::vector<std::pair<PeerError, Status>> rows = {
      {PeerError::Timeout, proto::CommandResult::TIMEOUT},
      {PeerError::NotConnected, proto::CommandResult::UNAVAILABLE},
      {PeerError::Disconnected, proto::CommandResult::TIMEOUT},  // it may have arrived
      {PeerError::Stopped, proto::CommandResult::UNAVAILABLE},
      {PeerError::TooLarge, proto::CommandResult::UNAVAILABLE},
      {PeerError::Unreadable, proto::CommandResult::TIMEOUT},  // it ran; the answer is lost
      {PeerError::NoAnswer, proto::CommandResult::TIMEOUT},
      {PeerError::NoLink, proto::CommandResult::UNAVAILABLE},
      {PeerError::PeerDead, proto::CommandResult::UNAVAILABLE}};
  for (size_t i = 0; i < rows.size(); ++i) {
    dispatch(command("ResetSp", proto::SP_B));
    peer.answer(i, std::nullopt, rows[i].first);
    CHECK_EQUAL(i + 1, replies.size());
    CHECK_EQUAL(rows[i].second, replies[i].status());
    // The reason reaches the caller as text, for people.
    STRCMP_CONTAINS(ipc::toString(rows[i].first).c_str(), replies[i].error().c_str());
    CHECK_EQUAL(rows[i].second, statusFor(rows[i].first));
  }
}

TEST(Router, ForwardedQueryAboutThePeerIsRefused) {
  dispatch(command("GetSpStatus", proto::SP_B, true));
  CHECK_EQUAL(0u, peer.sent.size());
  CHECK_EQUAL(Status::CommandResult_Status_BAD_REQUEST, replies[0].status());
  CHECK_EQUAL(1u, router->stats().refused_loops);
}

TEST(Router, UnknownCommandIsNotFound) {
  dispatch(command("FormatAllDisks", proto::SP_A));
  CHECK_EQUAL(Status::CommandResult_Status_NOT_FOUND, replies[0].status());
}

TEST(Router, CallerDeadlineIsPassedOn) {
  proto::Command c = command("GetSpStatus", proto::SP_B);
  c.set_deadline_ms(120);
  dispatch(c);
  CHECK_EQUAL(120, peer.deadlines[0].count());
  CHECK_EQUAL(120u, peer.sent[0].deadline_ms());
}

// Issue 11: a peer link known to be sick never holds the caller.
TEST(Router, ANoUsableRouteAnswersAtOnceFromTheLastKnownState) {
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, statusOf(proto::SP_B, "peer-boot"));
  peer.is_usable = false;
  now += milliseconds(40);
  dispatch(command("GetSpStatus", proto::SP_B));
  CHECK_EQUAL(1u, peer.sent.size());  // not even asked
  CHECK_EQUAL(2u, replies.size());
  CHECK_TRUE(replies[1].stale());
  CHECK_EQUAL(40u, replies[1].age_ms());
  CHECK_EQUAL(1u, router->stats().unusable);
}

TEST(Router, ANoUsableRouteRefusesAnActionAtOnce) {
  peer.is_usable = false;
  dispatch(command("ResetSp", proto::SP_B));
  CHECK_EQUAL(0u, peer.sent.size());
  CHECK_EQUAL(1u, replies.size());
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, replies[0].status());
}

TEST(Router, ASlowRoundTripIsAnsweredStaleAtStaleAfterAndStillRefreshesTheState) {
  withStaleAfter(milliseconds(50));
  dispatch(command("GetSpStatus", proto::SP_B));
  peer.answer(0, statusOf(proto::SP_B, "old"));
  CHECK_EQUAL(1u, replies.size());
  fire();  // the first round trip's timer: already answered, nothing to do
  CHECK_EQUAL(1u, replies.size());

  for (int i = 0; i < 3; ++i) dispatch(command("GetSpStatus", proto::SP_B));
  CHECK_EQUAL(2u, peer.sent.size());
  CHECK_EQUAL(1u, timers.size());
  CHECK_EQUAL(50, timers[0].first.count());
  now += milliseconds(50);
  fire();
  CHECK_EQUAL(4u, replies.size());
  for (size_t i = 1; i < 4; ++i) {
    CHECK_TRUE(replies[i].stale());
    STRCMP_EQUAL("old", replies[i].sp_status().boot_id().c_str());
  }
  // A caller arriving while that round trip is still out gets the same at once.
  dispatch(command("GetSpStatus", proto::SP_B));
  CHECK_EQUAL(5u, replies.size());
  CHECK_EQUAL(2u, peer.sent.size());
  // The late answer refreshes the state for the next caller and answers nobody twice.
  peer.answer(1, statusOf(proto::SP_B, "new"));
  CHECK_EQUAL(5u, replies.size());
  peer.is_usable = false;
  dispatch(command("GetSpStatus", proto::SP_B));
  STRCMP_EQUAL("new", replies[5].sp_status().boot_id().c_str());
}

TEST(Router, WithNothingKnownASlowRoundTripIsWaitedFor) {
  withStaleAfter(milliseconds(50));
  dispatch(command("GetSpStatus", proto::SP_B));
  fire();
  CHECK_EQUAL(0u, replies.size());
  peer.answer(0, statusOf(proto::SP_B, "peer-boot"));
  CHECK_EQUAL(1u, replies.size());
  CHECK_FALSE(replies[0].stale());
}

// Performance figures: the peer's own answer now, or UNAVAILABLE; never an earlier copy nor
// what the heartbeats told.
TEST(Router, AFreshOnlyReadIsNeverAnsweredFromTheLastKnownState) {
  withStaleAfter(milliseconds(50));
  fallback = statusOf(proto::SP_B, "from-heartbeats");
  dispatch(command("GetSpMetrics", proto::SP_B));
  CHECK_EQUAL(0u, timers.size());  // no stale answer at stale_after
  peer.answer(0, statusOf(proto::SP_B, "figures-1"));
  CHECK_EQUAL(1u, replies.size());
  CHECK_FALSE(replies[0].stale());
  STRCMP_EQUAL("figures-1", replies[0].sp_status().boot_id().c_str());

  for (ipc::PeerError error : {ipc::PeerError::Timeout, ipc::PeerError::NotConnected,
                               ipc::PeerError::Disconnected, ipc::PeerError::PeerDead}) {
    dispatch(command("GetSpMetrics", proto::SP_B));
    peer.answer(peer.sent.size() - 1, std::nullopt, error);
    const proto::CommandResult& r = replies.back();
    CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, r.status());  // a read: nothing was done
    CHECK_FALSE(r.stale());
    CHECK_FALSE(r.has_sp_status());
    STRCMP_CONTAINS("SP-B did not answer GetSpMetrics", r.error().c_str());
    STRCMP_CONTAINS(ipc::toString(error).c_str(), r.error().c_str());
  }
  // The peer's own error is passed on.
  dispatch(command("GetSpMetrics", proto::SP_B));
  peer.answer(peer.sent.size() - 1, errorResult(proto::CommandResult::INTERNAL, "broken"));
  CHECK_EQUAL(proto::CommandResult::INTERNAL, replies.back().status());
  CHECK_EQUAL(0u, router->stats().stale);
}

TEST(Router, AFreshOnlyReadWithNoUsableRouteIsUnavailableAtOnce) {
  dispatch(command("GetSpMetrics", proto::SP_B));
  peer.answer(0, statusOf(proto::SP_B, "figures-1"));
  peer.is_usable = false;
  fallback = statusOf(proto::SP_B, "from-heartbeats");
  dispatch(command("GetSpMetrics", proto::SP_B));
  CHECK_EQUAL(1u, peer.sent.size());
  CHECK_EQUAL(2u, replies.size());
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, replies[1].status());
  CHECK_FALSE(replies[1].stale());
  STRCMP_CONTAINS("cannot be reached on the peer link", replies[1].error().c_str());
  // about this SP it runs here as usual
  dispatch(command("GetSpMetrics", proto::SP_A));
  CHECK_EQUAL(proto::CommandResult::OK, replies[2].status());
}

TEST(Router, FreshOnlyReadsInFlightShareOneFreshRoundTrip) {
  for (int i = 0; i < 3; ++i) dispatch(command("GetSpMetrics", proto::SP_B));
  CHECK_EQUAL(1u, peer.sent.size());
  peer.answer(0, statusOf(proto::SP_B, "figures-1"));
  CHECK_EQUAL(3u, replies.size());
  for (const auto& r : replies) CHECK_FALSE(r.stale());
}
