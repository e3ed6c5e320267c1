// The election, transition by transition (table-driven), and two elections wired together.
#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

#include "heartbeat/election.hpp"

using namespace dualsp;
using namespace dualsp::heartbeat;
using Kind = Action::Kind;

namespace {

constexpr Millis kDead{50};
constexpr Millis kStartupWait{300};
constexpr Millis kFenceDelay{200};
constexpr Millis kFenceRetry{1000};

ElectionConfig configFor(SpId self, Millis fence_delay = Millis{0}) {
  ElectionConfig c;
  c.self = self;
  for (auto& p : c.paths) p = PathTiming{true, kDead};
  c.startup_wait = kStartupWait;
  c.fence_delay = fence_delay;
  c.fence_retry = kFenceRetry;
  return c;
}

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);
TimePoint at(int ms) {
  return kT0 + Millis{ms};
}

// One step of a scenario: an event at a time.
struct Step {
  enum class Type { Beat, BeatOn, Tick, Health, FenceOk, FenceFail } type;
  int at_ms = 0;
  Role peer_role = Role::Passive;
  Health health = Health::Ok;  // peer's health for beats, own for Health
  uint64_t epoch = 1;
  Path path = Path::Peer;  // BeatOn only
};

Step beat(int ms, Role r, uint64_t epoch = 1, Health h = Health::Ok) {
  return Step{Step::Type::Beat, ms, r, h, epoch};
}
Step beatOn(Path p, int ms, Role r, uint64_t epoch = 1) {
  return Step{Step::Type::BeatOn, ms, r, Health::Ok, epoch, p};
}
Step tick(int ms) {
  return Step{Step::Type::Tick, ms};
}
Step health(int ms, Health h) {
  return Step{Step::Type::Health, ms, Role::Passive, h};
}
Step fenceOk(int ms) {
  return Step{Step::Type::FenceOk, ms};
}
Step fenceFail(int ms) {
  return Step{Step::Type::FenceFail, ms};
}

Actions apply(Election& e, const Step& s, SpId peer) {
  switch (s.type) {
    case Step::Type::Beat: {
      Actions all;
      for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane}) {
        Actions a = e.onBeat(p, Beat{peer, s.peer_role, s.health, s.epoch}, at(s.at_ms));
        all.insert(all.end(), a.begin(), a.end());
      }
      return all;
    }
    case Step::Type::BeatOn:
      return e.onBeat(s.path, Beat{peer, s.peer_role, s.health, s.epoch}, at(s.at_ms));
    case Step::Type::Tick:
      return e.onTick(at(s.at_ms));
    case Step::Type::Health:
      return e.onHealth(s.health, at(s.at_ms));
    case Step::Type::FenceOk:
      return e.onFenceResult(true, "powered off", at(s.at_ms));
    case Step::Type::FenceFail:
      return e.onFenceResult(false, "no answer from power controller", at(s.at_ms));
  }
  return {};
}

// Actions without alerts, as short names, e.g. "FencePeer SetRole(active)".
std::string effects(const Actions& actions) {
  std::string out;
  for (const Action& a : actions) {
    if (a.kind == Kind::RaiseAlert) continue;
    out += out.empty() ? "" : " ";
    out += describe(a);
  }
  return out;
}

std::string alerts(const Actions& actions) {
  std::string out;
  for (const Action& a : actions) {
    if (a.kind != Kind::RaiseAlert) continue;
    out += out.empty() ? "" : " ";
    out += alertName(a.alert);
  }
  return out;
}

struct Transition {
  const char* name;
  SpId self;
  Millis fence_delay;
  uint64_t persisted_epoch;
  std::vector<Step> setup;  // brings the machine into the state under test
  Step event;
  const char* effects;  // exact non-alert actions of `event`, in order
  const char* alerts;   // exact alerts of `event`
  Role role_after;
  uint64_t epoch_after;
};

// clang-format off
const std::vector<Transition> kTransitions = {
  // --- start-up ---
  {"start: peer active -> passive (no preemption)", SpId::A, Millis{0}, 1,
   {}, beat(10, Role::Active, 1), "SetRole(passive)", "PeerFound", Role::Passive, 1},
  {"start: healthier self still yields to an active peer", SpId::A, Millis{0}, 1,
   {}, beat(10, Role::Active, 1, Health::Critical), "SetRole(passive)", "PeerFound", Role::Passive, 1},
  {"start: both starting, SP-A wins and waits for B to declare passive", SpId::A, Millis{0}, 1,
   {}, beat(10, Role::Starting), "", "PeerFound", Role::Starting, 1},
  {"start: both starting, SP-B loses and declares passive", SpId::B, Millis{0}, 1,
   {}, beat(10, Role::Starting), "SetRole(passive)", "PeerFound", Role::Passive, 1},
  {"start: the winner waits out the startup wait (old queued beats)", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting)}, beat(20, Role::Passive), "", "", Role::Starting, 1},
  {"start: winner takes the role once the peer is passive, no fence", SpId::A, Millis{0}, 1,
   {beat(260, Role::Starting), beat(270, Role::Passive)}, beat(300, Role::Passive),
   "PersistEpoch(2) AddAddress SetRole(active)", "TookOver", Role::Active, 2},
  {"start: a fresh active beat after queued passive ones -> passive", SpId::A, Millis{0}, 1,
   {beat(10, Role::Passive, 1), beat(11, Role::Passive, 1)}, beat(30, Role::Active, 2),
   "PersistEpoch(2) SetRole(passive)", "", Role::Passive, 2},
  {"start: an unhealthy SP-A loses to a healthy SP-B", SpId::A, Millis{0}, 1,
   {health(0, Health::Critical)}, beat(10, Role::Starting), "SetRole(passive)", "PeerFound",
   Role::Passive, 1},
  {"start: the newer epoch wins over SP-A", SpId::A, Millis{0}, 1,
   {}, beat(10, Role::Starting, 4), "PersistEpoch(4) SetRole(passive)", "PeerFound", Role::Passive, 4},
  {"start: nobody heard before the startup wait -> still starting", SpId::A, Millis{0}, 1,
   {}, tick(299), "", "", Role::Starting, 1},
  {"start: nobody heard -> fence the peer first", SpId::A, Millis{0}, 1,
   {}, tick(300), "SetRole(passive) SetRole(taking-over) FencePeer", "PeerLost", Role::TakingOver, 1},
  {"start: SP-B with a fence delay does not fence at once (simultaneous fencing)", SpId::B, kFenceDelay, 1,
   {}, tick(300), "SetRole(passive)", "PeerLost", Role::Passive, 1},
  {"start: SP-B fences after its fence delay", SpId::B, kFenceDelay, 1,
   {tick(300)}, tick(500), "SetRole(taking-over) FencePeer", "", Role::TakingOver, 1},
  {"start: the peer appears during the fence delay -> no fence", SpId::B, kFenceDelay, 1,
   {tick(300)}, beat(400, Role::Active), "", "PeerFound", Role::Passive, 1},

  // --- passive SP, peer active ---
  {"passive: beats keep it passive", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active)}, beat(40, Role::Active), "", "", Role::Passive, 1},
  {"passive: silence shorter than the dead interval is nothing", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active)}, tick(60), "", "", Role::Passive, 1},
  {"passive: one path silent is a partition, not a death", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), beatOn(Path::Mgmt, 55, Role::Active), beatOn(Path::Midplane, 55, Role::Active)},
   tick(61), "", "PartitionDetected", Role::Passive, 1},
  {"passive: two paths silent is still a partition", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), beatOn(Path::Midplane, 55, Role::Active)},
   tick(61), "", "PartitionDetected", Role::Passive, 1},
  {"passive: the partition heals", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), beatOn(Path::Midplane, 55, Role::Active), tick(61)},
   beat(70, Role::Active), "", "PartitionHealed", Role::Passive, 1},
  {"passive: every path silent -> fence at once (the peer was active: no delay)", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active)}, tick(61), "SetRole(taking-over) FencePeer", "PeerLost", Role::TakingOver, 1},
  {"passive: a peer silent on the last path only is not dead yet", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), beatOn(Path::Midplane, 40, Role::Active)}, tick(80), "", "PartitionDetected",
   Role::Passive, 1},

  // --- taking over ---
  {"taking over: fence ok -> epoch+1 persisted before the address", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), tick(61)}, fenceOk(70), "PersistEpoch(2) AddAddress SetRole(active)",
   "TookOver", Role::Active, 2},
  {"taking over: fence failed -> no takeover, critical alert", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), tick(61)}, fenceFail(70), "SetRole(passive)", "FenceFailed", Role::Passive, 1},
  {"taking over: no retry before the retry interval", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), tick(61), fenceFail(70)}, tick(1069), "", "", Role::Passive, 1},
  {"taking over: retry after the retry interval", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), tick(61), fenceFail(70)}, tick(1070), "SetRole(taking-over) FencePeer", "",
   Role::TakingOver, 1},
  {"taking over: the peer's beats do not cancel a fence in flight", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), tick(61)}, beat(65, Role::Active), "", "PeerFound", Role::TakingOver, 1},

  // --- active SP ---
  {"active: a dead passive peer is only an alert", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, tick(371), "", "PeerLost", Role::Active, 2},
  {"active: a lower-epoch active claim is refused", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, beat(330, Role::Active, 1), "",
   "StaleEpochRefused", Role::Active, 2},
  {"active: a higher-epoch active peer -> step down", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, beat(330, Role::Active, 7),
   "RemoveAddress SetRole(passive) PersistEpoch(7)", "SteppedDown", Role::Passive, 7},
  {"active: SP-B active at the same epoch as SP-A steps down", SpId::B, Millis{0}, 1,
   {beat(10, Role::Active, 1), tick(61), fenceOk(70)}, beat(80, Role::Active, 2),
   "RemoveAddress SetRole(passive)", "PeerFound SteppedDown", Role::Passive, 2},
  {"active: SP-A keeps the role against SP-B at the same epoch", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, beat(330, Role::Active, 2), "", "", Role::Active, 2},
  {"active: unhealthy with a healthy passive peer -> release then hand over", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, health(330, Health::Critical),
   "RemoveAddress SetRole(passive)", "HandedOver", Role::Passive, 2},
  {"active: warning is still healthy, no hand-over", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, health(330, Health::Warning), "", "", Role::Active, 2},
  {"active: both unhealthy -> stays active", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive, 1, Health::Critical)}, health(330, Health::Critical),
   "", "", Role::Active, 2},
  {"active: unhealthy and the peer is dead -> stays active", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive), tick(400)}, health(410, Health::Critical), "", "",
   Role::Active, 2},

  // --- passive SP, both alive and nobody active ---
  {"passive: the active peer handed over to us -> take without fence", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active, 1)}, beat(20, Role::Passive, 1, Health::Critical),
   "PersistEpoch(2) AddAddress SetRole(active)", "TookOver", Role::Active, 2},
  {"passive: unhealthy self does not take from a healthy passive peer", SpId::A, Millis{0}, 1,
   {health(0, Health::Critical), beat(10, Role::Active, 1)}, beat(20, Role::Passive), "", "",
   Role::Passive, 1},
};
// clang-format on

}  // namespace

TEST_GROUP(ElectionTransitions){};

TEST(ElectionTransitions, EveryRowOfTheTable) {
  for (const Transition& t : kTransitions) {
    Election e(configFor(t.self, t.fence_delay), t.persisted_epoch, Health::Ok, at(0));
    for (const Step& s : t.setup) apply(e, s, peerOf(t.self));
    Actions got = apply(e, t.event, peerOf(t.self));
    std::string name = t.name;
    STRCMP_EQUAL_TEXT(t.effects, effects(got).c_str(), name.c_str());
    STRCMP_EQUAL_TEXT(t.alerts, alerts(got).c_str(), name.c_str());
    STRCMP_EQUAL_TEXT(std::string(roleName(t.role_after)).c_str(),
                      std::string(roleName(e.role())).c_str(), name.c_str());
    UNSIGNED_LONGLONGS_EQUAL_TEXT(t.epoch_after, e.epoch(), name.c_str());
  }
}

TEST(ElectionTransitions, BeatsFromItselfAreIgnored) {
  Election e(configFor(SpId::A), 1, Health::Ok, at(0));
  Actions a = e.onBeat(Path::Peer, Beat{SpId::A, Role::Active, Health::Ok, 9}, at(10));
  CHECK_TRUE(a.empty());
  CHECK_FALSE(e.peerAlive(at(10)));
}

TEST(ElectionTransitions, DisabledPathIsNeitherHeardNorAPartition) {
  ElectionConfig c = configFor(SpId::B);
  c.paths[static_cast<size_t>(Path::Midplane)].enabled = false;
  Election e(c, 1, Health::Ok, at(0));
  e.onBeat(Path::Midplane, Beat{SpId::A, Role::Active, Health::Ok, 1}, at(10));
  CHECK_FALSE(e.peerAlive(at(10)));
  e.onBeat(Path::Peer, Beat{SpId::A, Role::Active, Health::Ok, 1}, at(20));
  e.onBeat(Path::Mgmt, Beat{SpId::A, Role::Active, Health::Ok, 1}, at(20));
  STRCMP_EQUAL("", alerts(e.onTick(at(65))).c_str());
}

TEST(ElectionTransitions, RefusedClaimStillProvesThePeerAlive) {
  Election e(configFor(SpId::B), 5, Health::Ok, at(0));
  e.onBeat(Path::Peer, Beat{SpId::A, Role::Active, Health::Ok, 3}, at(10));
  CHECK_TRUE(e.peerAlive(at(10)));
  CHECK_EQUAL(1u, e.refusedBeats());
  CHECK(e.lastPeerBeat()->role == Role::Starting);
}

// Two elections wired back to back: what both SPs do together.
namespace {

struct Pair {
  Election a;
  Election b;
  bool wire_up = true;
  bool a_powered = true;
  bool b_powered = true;
  int fences_by_a = 0;
  int fences_by_b = 0;

  Pair(ElectionConfig ca, ElectionConfig cb, Health ha = Health::Ok, Health hb = Health::Ok,
       uint64_t ea = 1, uint64_t eb = 1)
      : a(ca, ea, ha, at(0)), b(cb, eb, hb, at(0)) {}

  // Executes FencePeer at once: the fenced SP loses power.
  void run(Election& self, Actions actions, TimePoint now) {
    for (const Action& act : actions) {
      if (act.kind != Kind::FencePeer) continue;
      bool self_is_a = &self == &a;
      (self_is_a ? fences_by_a : fences_by_b)++;
      (self_is_a ? b_powered : a_powered) = false;
      run(self, self.onFenceResult(true, "powered off", now), now);
    }
  }

  // Every 5 ms both send beats on all paths, then both tick.
  void advance(int from_ms, int to_ms) {
    for (int t = from_ms; t <= to_ms; t += 5) {
      if (wire_up) {
        for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane}) {
          if (a_powered && b_powered) {
            Beat from_a = a.ownBeat();
            Beat from_b = b.ownBeat();
            run(b, b.onBeat(p, from_a, at(t)), at(t));
            run(a, a.onBeat(p, from_b, at(t)), at(t));
          }
        }
      }
      if (a_powered) run(a, a.onTick(at(t)), at(t));
      if (b_powered) run(b, b.onTick(at(t)), at(t));
    }
  }

  int actives() const {
    return (a_powered && a.role() == Role::Active) + (b_powered && b.role() == Role::Active);
  }
};

}  // namespace

TEST_GROUP(ElectionPair){};

TEST(ElectionPair, SimultaneousStartGivesExactlyOneActive) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  CHECK_EQUAL(1, p.actives());
  CHECK(p.a.role() == Role::Active);
  CHECK(p.b.role() == Role::Passive);
  CHECK_EQUAL(0, p.fences_by_a + p.fences_by_b);
  CHECK_EQUAL(p.a.epoch(), p.b.epoch());
}

TEST(ElectionPair, UnhealthySpAAtStartLeavesTheRoleToSpB) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay), Health::Critical, Health::Ok);
  p.advance(0, 400);
  CHECK(p.b.role() == Role::Active);
  CHECK(p.a.role() == Role::Passive);
}

TEST(ElectionPair, SimultaneousFencingLeavesOneSurvivor) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.wire_up = false;  // every path cut from the start
  p.advance(0, 1000);
  CHECK_EQUAL(1, p.fences_by_a);
  CHECK_EQUAL(0, p.fences_by_b);
  CHECK_TRUE(p.a_powered);
  CHECK_FALSE(p.b_powered);
  CHECK_EQUAL(1, p.actives());
}

TEST(ElectionPair, ActiveUnhealthyHandsOverToTheHealthyPeer) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  p.run(p.a, p.a.onHealth(Health::Critical, at(401)), at(401));
  p.advance(405, 500);
  CHECK(p.b.role() == Role::Active);
  CHECK(p.a.role() == Role::Passive);
  CHECK_EQUAL(0, p.fences_by_a + p.fences_by_b);
  // No preemption when A recovers.
  p.run(p.a, p.a.onHealth(Health::Ok, at(501)), at(501));
  p.advance(505, 700);
  CHECK(p.b.role() == Role::Active);
  CHECK(p.a.role() == Role::Passive);
}

TEST(ElectionPair, NeverTwoActivesThroughAHandOver) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  p.run(p.a, p.a.onHealth(Health::Critical, at(401)), at(401));
  for (int t = 405; t <= 600; t += 5) {
    p.advance(t, t);
    CHECK(p.actives() <= 1);
  }
}

TEST(ElectionPair, KillOfTheActiveFailsOverWithinTheDeadInterval) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  p.a_powered = false;  // power loss
  int took_over_at = -1;
  for (int t = 405; t <= 700 && took_over_at < 0; t += 5) {
    p.advance(t, t);
    if (p.b.role() == Role::Active) took_over_at = t;
  }
  CHECK(took_over_at > 0);
  CHECK(took_over_at - 400 <= kDead.count() + 10);
  CHECK_EQUAL(1, p.fences_by_b);
  CHECK_EQUAL(p.a.epoch() + 1, p.b.epoch());
}

TEST(ElectionPair, ReturningSpStaysPassive) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  p.a_powered = false;
  p.advance(405, 700);
  CHECK(p.b.role() == Role::Active);
  // A boots again with its old persisted epoch.
  p.a = Election(configFor(SpId::A), p.a.epoch(), Health::Ok, at(700));
  p.a_powered = true;
  p.advance(705, 1300);
  CHECK(p.b.role() == Role::Active);
  CHECK(p.a.role() == Role::Passive);
  CHECK_EQUAL(p.b.epoch(), p.a.epoch());
}

TEST_GROUP(ElectionFreshness){};

// Beats the peer's kernel queued while our link was down arrive after newer ones from
// another path: they prove the peer alive but must not roll its role back.
TEST(ElectionFreshness, AnOutdatedBeatOfTheSameBootChangesNothing) {
  Election e(configFor(SpId::A), 1, Health::Ok, at(0));
  e.onBeat(Path::Midplane, Beat{SpId::B, Role::Active, Health::Ok, 2, 77, 5000}, at(10));
  CHECK(e.role() == Role::Passive);
  Actions a = e.onBeat(Path::Peer, Beat{SpId::B, Role::Passive, Health::Ok, 1, 77, 4000}, at(11));
  STRCMP_EQUAL("", effects(a).c_str());
  CHECK(e.lastPeerBeat()->role == Role::Active);
  CHECK_EQUAL(1u, e.outdatedBeats());
  CHECK_TRUE(e.pathAlive(Path::Peer, at(11)));  // still proof of life on that path
}

TEST(ElectionFreshness, ANewBootIsTakenWhateverItsClock) {
  Election e(configFor(SpId::A), 1, Health::Ok, at(0));
  e.onBeat(Path::Peer, Beat{SpId::B, Role::Active, Health::Ok, 2, 77, 5000}, at(10));
  e.onBeat(Path::Peer, Beat{SpId::B, Role::Starting, Health::Ok, 2, 78, 100}, at(20));
  CHECK(e.lastPeerBeat()->role == Role::Starting);
  CHECK_EQUAL(0u, e.outdatedBeats());
}

TEST(ElectionFreshness, BootNonceIsStable) {
  CHECK_EQUAL(bootNonce("d44ab43e-1d87-4601-ac2e-8f70eaf975ed"),
              bootNonce("d44ab43e-1d87-4601-ac2e-8f70eaf975ed"));
  CHECK(bootNonce("a") != bootNonce("b"));
  CHECK_EQUAL(1469598103934665603ULL, bootNonce(""));  // FNV-1a offset basis
}

TEST_GROUP(ElectionForceFailover){};

TEST(ElectionForceFailover, RefusedUnlessActiveWithAHealthyPassivePeer) {
  Election e(configFor(SpId::B), 1, Health::Ok, at(0));
  std::string why;
  CHECK_TRUE(e.onForceFailover(at(1), why).empty());
  CHECK(why.find("not the active SP") != std::string::npos);
  // Active, but the peer is unhealthy.
  e.onBeat(Path::Peer, Beat{SpId::A, Role::Active, Health::Ok, 1}, at(10));
  e.onTick(at(61));
  e.onFenceResult(true, "off", at(62));
  CHECK(e.role() == Role::Active);
  for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane})
    e.onBeat(p, Beat{SpId::A, Role::Passive, Health::Critical, 2}, at(100));
  why.clear();
  CHECK_TRUE(e.onForceFailover(at(101), why).empty());
  CHECK(why.find("not healthy") != std::string::npos);
  // The peer is dead.
  why.clear();
  e.onForceFailover(at(500), why);
  CHECK(why.find("not reachable") != std::string::npos);
  CHECK(e.role() == Role::Active);
}

TEST(ElectionForceFailover, TheRoleMovesWithoutAFenceAndDoesNotComeBack) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  CHECK(p.a.role() == Role::Active);
  std::string why;
  Actions a = p.a.onForceFailover(at(401), why);
  CHECK_TRUE(why.empty());
  STRCMP_EQUAL("RemoveAddress SetRole(passive)", effects(a).c_str());
  for (int t = 405; t <= 3000; t += 5) {
    p.advance(t, t);
    CHECK(p.actives() <= 1);
  }
  CHECK(p.b.role() == Role::Active);
  CHECK(p.a.role() == Role::Passive);  // SP-A would win a plain tie-break: yielding held it
  CHECK_EQUAL(0, p.fences_by_a + p.fences_by_b);
}

TEST(ElectionFreshness, AReplayedBeatOnAPathIsNotEvenProofOfLife) {
  Election e(configFor(SpId::B), 1, Health::Ok, at(0));
  Beat b{SpId::A, Role::Active, Health::Ok, 1, 77, 5000};
  e.onBeat(Path::Peer, b, at(10));
  CHECK_TRUE(e.pathAlive(Path::Peer, at(55)));
  e.onBeat(Path::Peer, b, at(55));  // the same frame again (a replay)
  CHECK_FALSE(e.pathAlive(Path::Peer, at(70)));
  CHECK_EQUAL(1u, e.replayedBeats());
  b.sent_us = 5001;  // a new beat
  e.onBeat(Path::Peer, b, at(71));
  CHECK_TRUE(e.pathAlive(Path::Peer, at(71)));
}
