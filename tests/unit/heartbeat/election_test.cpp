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
  enum class Type { Beat, BeatOn, Tick, Health, FenceOk, FenceFail, Power, Carrier, History } type;
  int at_ms = 0;
  Role peer_role = Role::Passive;
  Health health = Health::Ok;  // peer's health for beats, own for Health
  uint64_t epoch = 1;
  Path path = Path::Peer;                  // BeatOn only
  PowerState power = PowerState::Unknown;  // Power only
  bool can_serve = true;                   // the peer's in beats, own for Carrier
  History history{};                       // the peer's in beats, own for History

  Beat peerBeat(SpId peer) const {
    Beat b{peer, peer_role, health, epoch};
    b.can_serve = can_serve;
    b.history = history;
    return b;
  }
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
Step power(int ms, PowerState p) {
  Step s{Step::Type::Power, ms};
  s.power = p;
  return s;
}
Step carrier(int ms, bool up) {
  Step s{Step::Type::Carrier, ms};
  s.can_serve = up;
  return s;
}
Step history(int ms, uint64_t seq) {
  Step s{Step::Type::History, ms};
  s.history = History{1, seq, seq};
  return s;
}
// A beat on every path from a peer that cannot serve / with a given history.
Step beatNoCarrier(int ms, Role r, uint64_t epoch = 1, Health h = Health::Ok) {
  Step s = beat(ms, r, epoch, h);
  s.can_serve = false;
  return s;
}
Step beatWithHistory(int ms, Role r, uint64_t seq, uint64_t epoch = 1, Health h = Health::Ok) {
  Step s = beat(ms, r, epoch, h);
  s.history = History{1, seq, seq};
  return s;
}

Actions apply(Election& e, const Step& s, SpId peer) {
  switch (s.type) {
    case Step::Type::Beat: {
      Actions all;
      for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane}) {
        Actions a = e.onBeat(p, s.peerBeat(peer), at(s.at_ms));
        all.insert(all.end(), a.begin(), a.end());
      }
      return all;
    }
    case Step::Type::BeatOn:
      return e.onBeat(s.path, s.peerBeat(peer), at(s.at_ms));
    case Step::Type::Power:
      return e.onPeerPower(s.power, at(s.at_ms));
    case Step::Type::Carrier:
      return e.onCarrier(s.can_serve, at(s.at_ms));
    case Step::Type::History:
      return e.onHistory(s.history, at(s.at_ms));
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
  {"start: nobody heard before the startup wait -> still starting, the chassis asked", SpId::A, Millis{0}, 1,
   {}, tick(299), "QueryPeerPower", "", Role::Starting, 1},
  {"start: nobody heard, the chassis says the peer is off -> no need to listen on", SpId::A, Millis{0}, 1,
   {tick(20)}, power(21, PowerState::Off), "SetRole(passive) SetRole(taking-over) FencePeer", "PeerLost", Role::TakingOver, 1},
  {"start: nobody heard, the chassis says the peer runs -> listen the whole startup wait", SpId::A, Millis{0}, 1,
   {tick(20)}, power(21, PowerState::Running), "", "", Role::Starting, 1},
  {"start: nobody heard, the chassis says the peer is hung -> listen the whole startup wait", SpId::A, Millis{0}, 1,
   {tick(20)}, power(21, PowerState::Stopped), "", "", Role::Starting, 1},
  {"start: the chassis said off, then the peer is heard -> normal election", SpId::B, kFenceDelay, 1,
   {tick(20), power(21, PowerState::Off)}, beat(40, Role::Starting), "", "PeerFound", Role::Passive, 1},
  {"start: nobody heard -> ask the chassis about the peer first", SpId::A, Millis{0}, 1,
   {}, tick(300), "SetRole(passive) QueryPeerPower", "PeerLost", Role::Passive, 1},
  {"start: never heard, the chassis says it is off -> fence it", SpId::A, Millis{0}, 1,
   {tick(300)}, power(301, PowerState::Off), "SetRole(taking-over) FencePeer", "", Role::TakingOver, 1},
  {"start: never heard, the chassis says it is hung -> fence it", SpId::A, Millis{0}, 1,
   {tick(300)}, power(301, PowerState::Stopped), "SetRole(taking-over) FencePeer", "", Role::TakingOver, 1},
  {"start: never heard but powered on and running -> wait for it (wait_for_all)", SpId::A, Millis{0}, 1,
   {tick(300)}, power(301, PowerState::Running), "", "WaitingForPeer", Role::Passive, 1},
  {"start: never heard, power state unknown -> wait", SpId::A, Millis{0}, 1,
   {tick(300)}, power(301, PowerState::Unknown), "", "WaitingForPeer", Role::Passive, 1},
  {"start: waiting, the chassis is asked again after the query interval", SpId::A, Millis{0}, 1,
   {tick(300), power(301, PowerState::Running)}, tick(560), "QueryPeerPower", "", Role::Passive, 1},
  {"start: waiting, the peer is heard -> normal election, no fence", SpId::A, Millis{0}, 1,
   {tick(300), power(301, PowerState::Running)}, beat(400, Role::Active), "", "PeerFound", Role::Passive, 1},
  {"start: SP-B with a fence delay does not fence at once (simultaneous fencing)", SpId::B, kFenceDelay, 1,
   {tick(300)}, power(301, PowerState::Off), "", "", Role::Passive, 1},
  {"start: SP-B fences after its fence delay", SpId::B, kFenceDelay, 1,
   {tick(300), power(301, PowerState::Off)}, tick(501), "SetRole(taking-over) FencePeer", "", Role::TakingOver, 1},
  {"start: the peer appears during the fence delay -> no fence", SpId::B, kFenceDelay, 1,
   {tick(300), power(301, PowerState::Off)}, beat(400, Role::Active), "", "PeerFound", Role::Passive, 1},
  {"start: no carrier -> neither asks nor fences", SpId::A, Millis{0}, 1,
   {carrier(0, false)}, tick(300), "SetRole(passive)", "PeerLost", Role::Passive, 1},
  {"start: both starting, the newer history wins over SP-A", SpId::A, Millis{0}, 1,
   {history(0, 5)}, beatWithHistory(10, Role::Starting, 7), "SetRole(passive)", "PeerFound", Role::Passive, 1},
  {"start: both starting, the SP that can serve wins over SP-A", SpId::A, Millis{0}, 1,
   {carrier(0, false)}, beat(10, Role::Starting), "SetRole(passive)", "PeerFound", Role::Passive, 1},
  {"start: a winner without carrier does not take the address", SpId::A, Millis{0}, 1,
   {carrier(0, false), beatNoCarrier(10, Role::Starting), beatNoCarrier(270, Role::Passive)},
   beatNoCarrier(300, Role::Passive), "", "", Role::Starting, 1},

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
  {"passive: a partition is named again when another path goes silent", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), beatOn(Path::Mgmt, 55, Role::Active), beatOn(Path::Midplane, 55, Role::Active),
    tick(61), beatOn(Path::Midplane, 100, Role::Active), tick(106), beatOn(Path::Midplane, 150, Role::Active)},
   tick(156), "", "PartitionDetected", Role::Passive, 1},
  {"passive: every path silent without carrier -> no fence, alert", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), carrier(20, false)}, tick(61), "", "PeerLost", Role::Passive, 1},
  {"passive: carrier back with the peer dead -> fence and take over", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active), carrier(20, false), tick(61)}, carrier(80, true),
   "SetRole(taking-over) FencePeer", "CarrierRestored", Role::TakingOver, 1},
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
  {"active: a dead passive peer: ask the chassis", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, tick(371), "QueryPeerPower", "PeerLost", Role::Active, 2},
  {"active: a silent passive that is running is left alone (a partition)", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive), tick(371)}, power(372, PowerState::Running), "", "",
   Role::Active, 2},
  {"active: a silent passive that the chassis says hung is fenced", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive), tick(371)}, power(372, PowerState::Stopped), "FencePeer",
   "", Role::Active, 2},
  {"active: fencing a hung passive keeps the role", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive), tick(371), power(372, PowerState::Stopped)},
   fenceOk(380), "", "PeerLost", Role::Active, 2},
  {"active: unhealthy, the healthy peer lacks acknowledged changes -> no hand-over", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive), history(310, 9)}, health(330, Health::Critical),
   "", "", Role::Active, 2},
  {"active: unhealthy, hand-over once the peer holds every change", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive), history(310, 9), health(330, Health::Critical)},
   beatWithHistory(340, Role::Passive, 9), "RemoveAddress SetRole(passive)", "HandedOver", Role::Passive, 2},
  {"active: unhealthy, no hand-over to a peer without carrier", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive), beatNoCarrier(320, Role::Passive)},
   health(330, Health::Critical), "", "", Role::Active, 2},
  {"active: no carrier, hands over to a peer that can serve, even unhealthy", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive, 1, Health::Critical)}, carrier(330, false),
   "RemoveAddress SetRole(passive)", "NoCarrier HandedOver", Role::Passive, 2},
  {"active: no carrier and neither can serve -> stays active", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive), beatNoCarrier(320, Role::Passive)},
   carrier(330, false), "", "NoCarrier", Role::Active, 2},
  {"active: a lower-epoch active claim is refused", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, beat(330, Role::Active, 1), "",
   "StaleEpochRefused", Role::Active, 2},
  {"active: a higher-epoch active peer -> step down", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, beat(330, Role::Active, 7),
   "RemoveAddress SetRole(passive) PersistEpoch(7)", "SteppedDown", Role::Passive, 7},
  {"active: SP-B active at the same epoch as SP-A steps down", SpId::B, Millis{0}, 1,
   {beat(10, Role::Active, 1), tick(61), fenceOk(70)}, beat(80, Role::Active, 2),
   "RemoveAddress SetRole(passive)", "PeerFound SteppedDown", Role::Passive, 2},
  {"active: a starting peer at a higher epoch -> adopt it, stay active", SpId::A, Millis{0}, 1,
   {beat(10, Role::Starting), beat(300, Role::Passive)}, beat(330, Role::Starting, 7), "PersistEpoch(7)",
   "", Role::Active, 7},
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
  {"passive: the active peer handed over for lack of carrier -> take it", SpId::B, kFenceDelay, 1,
   {beat(10, Role::Active, 1)}, beatNoCarrier(20, Role::Passive),
   "PersistEpoch(2) AddAddress SetRole(active)", "TookOver", Role::Active, 2},
  {"passive: no carrier, does not take a handed-over role", SpId::B, kFenceDelay, 1,
   {carrier(0, false), beat(10, Role::Active, 1)}, beat(20, Role::Passive, 1, Health::Critical), "", "",
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

  // Executes FencePeer at once (the fenced SP loses power) and answers QueryPeerPower
  // from the model.
  void run(Election& self, Actions actions, TimePoint now) {
    bool self_is_a = &self == &a;
    for (const Action& act : actions) {
      if (act.kind == Kind::QueryPeerPower) {
        bool other_on = self_is_a ? b_powered : a_powered;
        run(self, self.onPeerPower(other_on ? PowerState::Running : PowerState::Off, now), now);
        continue;
      }
      if (act.kind != Kind::FencePeer) continue;
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

TEST(ElectionPair, EveryPathCutFromTheStartWaitsForAll) {
  // Both powered on and running, never heard: neither fences the other (wait_for_all), so a
  // starting SP with a stale store never takes the array from one that may be serving.
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.wire_up = false;
  p.advance(0, 1000);
  CHECK_EQUAL(0, p.fences_by_a + p.fences_by_b);
  CHECK_EQUAL(0, p.actives());
  // The paths heal: a normal election, one active, no fence.
  p.wire_up = true;
  p.advance(1005, 1500);
  CHECK_EQUAL(0, p.fences_by_a + p.fences_by_b);
  CHECK_EQUAL(1, p.actives());
}

TEST(ElectionPair, SimultaneousFencingLeavesOneSurvivor) {
  ElectionConfig ca = configFor(SpId::A);
  ElectionConfig cb = configFor(SpId::B, kFenceDelay);
  ca.startup_fence_always = cb.startup_fence_always = true;  // heartbeat.startup_fence "always"
  Pair p(ca, cb);
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

TEST(ElectionPair, AStartingSpWithAStaleHistoryDoesNotFenceTheServingActive) {
  // Issue 11 (6): B starts while every path is cut and A serves with a newer history.
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.run(p.a, p.a.onHistory(History{1, 40, 40}, at(0)), at(0));
  p.advance(0, 400);
  CHECK(p.a.role() == Role::Active);
  p.b = Election(configFor(SpId::B, kFenceDelay), p.b.epoch(), Health::Ok, at(400));
  p.wire_up = false;
  p.advance(405, 2000);
  CHECK_EQUAL(0, p.fences_by_b);
  CHECK_TRUE(p.a_powered);
  CHECK(p.a.role() == Role::Active);
  CHECK(p.b.role() == Role::Passive);
}

TEST(ElectionPair, AnSpWithoutCarrierNeverTakesTheArrayFromOneThatServes) {
  // Issue 11 (2): A's cable pulled, then every heartbeat path cut: B keeps serving.
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  CHECK(p.a.role() == Role::Active);
  p.run(p.a, p.a.onCarrier(false, at(401)), at(401));  // hands over to B
  p.advance(405, 600);
  CHECK(p.b.role() == Role::Active);
  p.wire_up = false;
  p.advance(605, 3000);
  CHECK_EQUAL(0, p.fences_by_a + p.fences_by_b);
  CHECK(p.b.role() == Role::Active);
  CHECK(p.a.role() != Role::Active);
  CHECK_EQUAL(1, p.actives());
}

TEST(ElectionPair, ForceFailoverWaitsForThePeerToHoldEveryChange) {
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  p.run(p.a, p.a.onHistory(History{2, 5, 3}, at(401)), at(401));
  p.advance(405, 420);
  std::string why = p.a.forceFailoverRefusal(at(421));
  CHECK(why.find("does not hold every acknowledged change") != std::string::npos);
  p.run(p.b, p.b.onHistory(History{2, 5, 3}, at(422)), at(422));
  p.advance(425, 440);
  STRCMP_EQUAL("", p.a.forceFailoverRefusal(at(441)).c_str());
}

TEST(ElectionPair, AReturningSpWithAHigherEpochSettlesAsPassive) {
  // Chaos seed 3: SP-B served at epoch 5 and died; SP-A, which never heard that epoch, took
  // over at 3; SP-B returns with 5. SP-A adopts 5 and SP-B becomes passive (no stalemate).
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay), Health::Ok, Health::Ok, 2, 5);
  p.b_powered = false;
  p.advance(0, 400);
  p.run(p.a, p.a.onPeerPower(PowerState::Off, at(401)), at(401));
  p.advance(405, 600);
  CHECK(p.a.role() == Role::Active);
  CHECK_EQUAL(3u, p.a.epoch());
  p.b = Election(configFor(SpId::B, kFenceDelay), 5, Health::Ok, at(600));
  p.b_powered = true;
  p.advance(605, 1200);
  CHECK(p.a.role() == Role::Active);
  CHECK(p.b.role() == Role::Passive);
  CHECK_EQUAL(5u, p.a.epoch());
  CHECK_EQUAL(1, p.actives());
}

TEST(ElectionPair, AHandOverMeetingAFaultDoesNotBounceTheRoleBackAndForth) {
  // Chaos seed 1: SP-A hands the role over (ForceFailover, yielding) just as SP-B turns
  // Critical: SP-B takes it and must not hand it straight back to a yielding SP-A (they passed
  // it back and forth, one epoch each time, until the carrier check caught up).
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  std::string why;
  p.run(p.a, p.a.onForceFailover(at(401), why), at(401));
  CHECK_TRUE(why.empty());
  p.run(p.b, p.b.onHealth(Health::Critical, at(402)), at(402));
  const uint64_t epoch_before = p.b.epoch();
  int changes = 0;
  Role last_b = p.b.role();
  for (int t = 405; t <= 3000; t += 5) {
    p.advance(t, t);
    CHECK(p.actives() <= 1);
    if (p.b.role() != last_b) ++changes;
    last_b = p.b.role();
  }
  CHECK(changes <= 2);  // took it, then handed it to a healthy SP-A at most once
  CHECK(p.b.epoch() <= epoch_before + 2);
  CHECK_EQUAL(1, p.actives());
  CHECK(p.a.role() == Role::Active);  // in the end the healthy SP serves
}

TEST(ElectionPair, AnEpochLeftOnTheMidplaneIsPassedByTheNextTakeover) {
  // SP-B starts alone after SP-A died at epoch 26 (its midplane slot says so): its takeover
  // uses 27, not its own 25 + 1.
  ElectionConfig c = configFor(SpId::B);
  Election e(c, 25, Health::Ok, at(0));
  STRCMP_EQUAL("PersistEpoch(26)", effects(e.onEpochHint(26, at(1))).c_str());
  e.onTick(at(300));
  e.onPeerPower(PowerState::Off, at(301));
  e.onTick(at(302));
  Actions a = e.onFenceResult(true, "powered off", at(303));
  STRCMP_EQUAL("PersistEpoch(27) AddAddress SetRole(active)", effects(a).c_str());
  STRCMP_EQUAL("", effects(e.onEpochHint(30, at(304))).c_str());  // not while active
}

TEST(ElectionPair, AHealthHandOverWhoseFaultClearsAtOnceDoesNotMakeTwoActives) {
  // Chaos seed 1: SP-A hands over for a fan fault that is cleared the next instant; SP-B takes
  // the role on SP-A's passive beat while SP-A, healthy again, took it on SP-B's: both held
  // the address for 4 ms. A hand-over yields, so only SP-B takes it.
  Pair p(configFor(SpId::A), configFor(SpId::B, kFenceDelay));
  p.advance(0, 400);
  CHECK(p.a.role() == Role::Active);
  p.run(p.a, p.a.onHealth(Health::Critical, at(401)), at(401));
  CHECK(p.a.role() == Role::Passive);
  // SP-B hears SP-A's hand-over and takes the role...
  for (Path path : {Path::Peer, Path::Mgmt, Path::Midplane})
    p.run(p.b, p.b.onBeat(path, p.a.ownBeat(), at(402)), at(402));
  CHECK(p.b.role() == Role::Active);
  // ...while SP-A, healthy again, still has SP-B's last beat: passive.
  p.run(p.a, p.a.onHealth(Health::Ok, at(403)), at(403));
  CHECK(p.a.role() == Role::Passive);
  CHECK_EQUAL(1, p.actives());
  for (int t = 405; t <= 3000; t += 5) {
    p.advance(t, t);
    CHECK(p.actives() <= 1);
  }
  CHECK(p.b.role() == Role::Active);
  CHECK(p.a.role() == Role::Passive);
}

TEST_GROUP(ElectionStall){};

TEST(ElectionStall, AStalledPassiveListensBeforeJudgingThePeer) {
  ElectionConfig c = configFor(SpId::B, kFenceDelay);
  c.stall_threshold = Millis{25};
  Election e(c, 1, Health::Ok, at(0));
  for (int t = 0; t <= 100; t += 5) {
    for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane})
      e.onBeat(p, Beat{SpId::A, Role::Active, Health::Ok, 1}, at(t));
    e.onTick(at(t));
  }
  // SIGSTOP for 5 s, then SIGCONT: the first thing it runs is a tick.
  Actions a = e.onTick(at(5100));
  STRCMP_EQUAL("", effects(a).c_str());
  STRCMP_EQUAL("Stalled", alerts(a).c_str());
  // The active peer's beats arrive: nothing happens.
  for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane})
    STRCMP_EQUAL(
        "", effects(e.onBeat(p, Beat{SpId::A, Role::Active, Health::Ok, 1}, at(5102))).c_str());
  CHECK(e.role() == Role::Passive);
}

TEST(ElectionStall, AfterListeningASilentPeerIsDeadAfterAll) {
  ElectionConfig c = configFor(SpId::B, kFenceDelay);
  c.stall_threshold = Millis{25};
  Election e(c, 1, Health::Ok, at(0));
  for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane})
    e.onBeat(p, Beat{SpId::A, Role::Active, Health::Ok, 1}, at(10));
  e.onTick(at(12));
  STRCMP_EQUAL("", effects(e.onTick(at(5000))).c_str());
  Actions late;
  for (int t = 5010; t <= 5060 && late.empty(); t += 10) late = e.onTick(at(t));
  STRCMP_EQUAL("SetRole(taking-over) FencePeer", effects(late).c_str());
}

// SP-A running until `until_ms`, hearing a passive SP-B on the midplane every 5 ms.
static void runActiveWithAPassivePeer(Election& e, int until_ms) {
  for (int t = 0; t <= until_ms; t += 5) {
    e.onBeat(Path::Midplane, Beat{SpId::B, Role::Passive, Health::Ok, 1}, at(t));
    e.onTick(at(t));
  }
}

// CI (test_partial_failure): both SPs stalled ~100 ms under load with the peer link and the
// management network cut. The active SP's status board said the peer dead before the queued
// midplane beats were read, so the configuration writer acknowledged a change alone while the
// passive lived (a failover then would have lost it). What the SP acts on keeps a peer that
// was alive alive through its own stall until the listen decides.
TEST(ElectionStall, AnActiveThatStallsKeepsItsLivePeerAliveWhileItListens) {
  ElectionConfig c = configFor(SpId::A);
  c.stall_threshold = Millis{25};
  Election e(c, 1, Health::Ok, at(0));
  runActiveWithAPassivePeer(e, 400);
  CHECK(e.role() == Role::Active);
  CHECK_TRUE(e.peerJudgedAlive(at(400)));
  // Stalled for longer than every dead interval: before anything ran, the paths look silent
  // but the stall is not noted yet (the status board is published by a timer of its own).
  const int resumed = 400 + 3 * kDead.count();
  CHECK_FALSE(e.peerAlive(at(resumed)));
  CHECK_TRUE(e.peerJudgedAlive(at(resumed)));
  STRCMP_EQUAL("Stalled", alerts(e.onTick(at(resumed))).c_str());
  CHECK_TRUE(e.peerJudgedAlive(at(resumed + 1)));
  // The beats queued meanwhile arrive: alive, as it was all along.
  e.onBeat(Path::Midplane, Beat{SpId::B, Role::Passive, Health::Ok, 1}, at(resumed + 2));
  CHECK_TRUE(e.peerAlive(at(resumed + 2)));
  CHECK_TRUE(e.peerJudgedAlive(at(resumed + 2)));
}

TEST(ElectionStall, AfterItsStallAnActiveJudgesASilentPeerDeadOnceItHasListened) {
  ElectionConfig c = configFor(SpId::A);
  c.stall_threshold = Millis{25};
  Election e(c, 1, Health::Ok, at(0));
  runActiveWithAPassivePeer(e, 400);
  const int resumed = 400 + 3 * kDead.count();
  e.onTick(at(resumed));  // Stalled: listen for one dead interval
  std::string lost;
  int t = resumed;
  for (; t <= resumed + 4 * kDead.count() && lost.empty(); t += 5) {
    if (t < resumed + kDead.count()) CHECK_TRUE(e.peerJudgedAlive(at(t)));  // listening
    lost = alerts(e.onTick(at(t)));
  }
  STRCMP_EQUAL("PeerLost", lost.c_str());
  CHECK(t - resumed >= kDead.count());
  CHECK_FALSE(e.peerJudgedAlive(at(t)));
}

TEST(ElectionStall, WithoutAStallTheJudgementIsThePaths) {
  ElectionConfig c = configFor(SpId::A);
  c.stall_threshold = Millis{25};
  Election e(c, 1, Health::Ok, at(0));
  e.onBeat(Path::Midplane, Beat{SpId::B, Role::Passive, Health::Ok, 1}, at(0));
  int t = 0;
  for (; t <= 3 * kDead.count() && e.peerAlive(at(t)); t += 5) {
    CHECK_TRUE(e.peerJudgedAlive(at(t)));
    e.onTick(at(t));
  }
  CHECK_FALSE(e.peerAlive(at(t)));
  CHECK_FALSE(e.peerJudgedAlive(at(t)));  // ticks ran every 5 ms: no stall, no grace
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

// Chaos seed 3 (two holders for 4 ms): SP-A restarts while SP-B is active; beats SP-B sent
// while it was briefly passive, before SP-A started, were queued and arrive first. SP-A must
// not take the role on them: they do not name SP-A's new boot.
TEST(ElectionFreshness, APassiveBeatQueuedBeforeThisBootNeverHandsTheRoleOver) {
  ElectionConfig c = configFor(SpId::A);
  c.own_boot = 222;
  Election e(c, 19, Health::Ok, at(0));
  Beat queued{SpId::B, Role::Passive, Health::Ok, 19, 77, 5000};
  queued.heard_boot = 111;  // SP-A's previous boot
  for (Path p : {Path::Peer, Path::Mgmt})
    STRCMP_EQUAL("", effects(e.onBeat(p, queued, at(400))).c_str());
  CHECK(e.role() == Role::Starting);
  STRCMP_EQUAL("", effects(e.onTick(at(450))).c_str());
  // SP-B's current beats: active.
  Beat now{SpId::B, Role::Active, Health::Ok, 20, 77, 9000};
  now.heard_boot = 111;
  e.onBeat(Path::Midplane, now, at(451));
  CHECK(e.role() == Role::Passive);
  CHECK_EQUAL(20u, e.epoch());
  // Once SP-B has heard this boot, a passive SP-B (it handed over) is believed.
  Beat handed{SpId::B, Role::Passive, Health::Critical, 20, 77, 9500};
  handed.heard_boot = 222;
  Actions a = e.onBeat(Path::Midplane, handed, at(500));
  STRCMP_EQUAL("PersistEpoch(21) AddAddress SetRole(active)", effects(a).c_str());
}

// The same queued beats, then silence: they do not count as having heard the peer, so the
// starting SP asks the chassis before it fences (it would fence an SP that serves).
TEST(ElectionFreshness, BeatsQueuedBeforeThisBootDoNotMakeAPeerKnownForFencing) {
  ElectionConfig c = configFor(SpId::B);
  c.own_boot = 222;
  Election e(c, 1, Health::Ok, at(0));
  Beat queued{SpId::A, Role::Active, Health::Ok, 1, 77, 5000};
  queued.heard_boot = 111;  // sent before this boot
  for (Path p : {Path::Peer, Path::Mgmt}) e.onBeat(p, queued, at(10));
  CHECK(e.role() == Role::Passive);  // it claimed the role: no preemption
  Actions a = e.onTick(at(300));
  STRCMP_EQUAL("QueryPeerPower", effects(a).c_str());
  STRCMP_EQUAL("", effects(e.onPeerPower(PowerState::Running, at(301))).c_str());
  CHECK(e.role() == Role::Passive);
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

// Attacks on the election with beats captured during an earlier boot of the peer: they are
// validly signed, so only the boot counter tells them apart (docs/SECURITY.md).
TEST_GROUP(ElectionBootCounter){};

namespace {

// SP-A's beat as it was sent during boot `counter` (boot nonce `nonce`), naming SP-B's boot.
Beat capturedBeat(Role role, uint64_t epoch, uint64_t nonce, uint64_t sent_us, uint64_t counter) {
  Beat b{SpId::A, role, Health::Ok, epoch, nonce, sent_us};
  b.heard_boot = 222;
  b.boot_counter = counter;
  return b;
}

ElectionConfig spBOfBoot222() {
  ElectionConfig c = configFor(SpId::B, kFenceDelay);
  c.own_boot = 222;
  return c;
}

}  // namespace

// SP-A handed the role to SP-B during its boot 4 (a passive beat captured then), came back as
// boot 5 and is active again. The captured "passive" beat replayed to SP-B would make it take
// the address without fencing while SP-A still holds it.
TEST(ElectionBootCounter, AReplayedPassiveBeatOfAnEarlierBootDoesNotHandTheRoleOver) {
  Election e(spBOfBoot222(), 3, Health::Ok, at(0));
  const Beat active_now = capturedBeat(Role::Active, 3, 88, 1000, 5);
  for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane}) e.onBeat(p, active_now, at(10));
  CHECK(e.role() == Role::Passive);

  const Beat replayed = capturedBeat(Role::Passive, 2, 77, 5000, 4);
  Actions a = e.onBeat(Path::Mgmt, replayed, at(15));
  STRCMP_EQUAL("", effects(a).c_str());
  STRCMP_EQUAL("OldBootRefused", alerts(a).c_str());
  CHECK(e.role() == Role::Passive);
  CHECK(e.lastPeerBeat()->role == Role::Active);
  // Again, on another path: refused, counted, alerted only once.
  a = e.onBeat(Path::Peer, replayed, at(16));
  STRCMP_EQUAL("", effects(a).c_str());
  STRCMP_EQUAL("", alerts(a).c_str());
  CHECK(e.role() == Role::Passive);
  CHECK_EQUAL(2u, e.oldBootBeats());
  CHECK_EQUAL(5u, e.peerBootCounter());
}

// SP-A (boot 5) goes silent. An attacker alternates two captured "active" beats, one of boot 4
// and one of boot 5, on both networks: each passes a per-path check that remembers one boot
// only, and SP-B would never take over. Refused, they leave SP-A silent: fenced, taken over.
TEST(ElectionBootCounter, AlternatingCapturedActiveBeatsOfTwoBootsDoNotKeepASilentPeerAlive) {
  Election e(spBOfBoot222(), 3, Health::Ok, at(0));
  const Beat boot5 = capturedBeat(Role::Active, 3, 88, 1000, 5);
  for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane}) e.onBeat(p, boot5, at(10));
  const Beat boot4 = capturedBeat(Role::Active, 2, 77, 5000, 4);
  bool fenced = false;
  for (int t = 20; t <= 1000 && !fenced; t += 5) {
    const Beat& replay = (t / 5) % 2 ? boot4 : boot5;
    for (Path p : {Path::Peer, Path::Mgmt}) {
      Actions a = e.onBeat(p, replay, at(t));
      fenced = fenced || effects(a).find("FencePeer") != std::string::npos;
    }
    fenced = fenced || effects(e.onTick(at(t))).find("FencePeer") != std::string::npos;
  }
  CHECK_TRUE(fenced);
  e.onFenceResult(true, "powered off", at(1001));
  CHECK(e.role() == Role::Active);
  CHECK(e.oldBootBeats() > 0);
  CHECK(e.replayedBeats() > 0);
}

// The counter orders boots whatever their nonces and clocks: a newer boot is taken at once.
TEST(ElectionBootCounter, ANewerBootIsTakenAndOlderOnesAreRefusedOnEveryPath) {
  Election e(spBOfBoot222(), 3, Health::Ok, at(0));
  e.onBeat(Path::Peer, capturedBeat(Role::Active, 3, 88, 9000, 5), at(10));
  e.onBeat(Path::Midplane, capturedBeat(Role::Starting, 3, 99, 10, 6), at(20));
  CHECK(e.lastPeerBeat()->role == Role::Starting);
  CHECK_EQUAL(6u, e.peerBootCounter());
  e.onBeat(Path::Peer, capturedBeat(Role::Active, 3, 88, 9500, 5), at(30));
  CHECK(e.lastPeerBeat()->role == Role::Starting);
  CHECK_EQUAL(1u, e.oldBootBeats());
  CHECK_FALSE(e.pathAlive(Path::Peer, at(70)));  // a refused beat is no proof of life
}

TEST_GROUP(ElectionEpochLimit){};

// Found by tests/fuzz/heartbeat_fuzz.cpp (a signed beat: it takes a holder of the pair key).
// SP-B announced itself active at epoch 2^64-1; SP-A adopted it, then fenced the silent SP-B
// and took over: becomeActive's "newest + 1" wrapped to 0, nothing was persisted and SP-A
// served at the very epoch SP-B claimed (two takeovers sharing an epoch). Now an epoch above
// kMaxEpoch is refused, and the largest one accepted still leaves room for a takeover.
TEST(ElectionEpochLimit, AnEpochNoTakeoverCanPassIsRefused) {
  Election e(configFor(SpId::A), 1, Health::Ok, at(0));
  Beat top{SpId::B, Role::Active, Health::Ok, UINT64_MAX};
  Actions first = e.onBeat(Path::Peer, top, at(10));
  STRCMP_EQUAL("EpochOutOfRange", alerts(first).c_str());
  for (Path p : {Path::Mgmt, Path::Midplane}) e.onBeat(p, top, at(10));
  e.onEpochHint(kMaxEpoch + 1, at(11));
  LONGS_EQUAL(1, e.epoch());
  CHECK_FALSE(e.lastPeerBeat().has_value());  // not even heard as alive
  LONGS_EQUAL(4, e.epochOutOfRangeBeats());
}

TEST(ElectionEpochLimit, ATakeoverAfterTheLargestEpochStillPersistsANewerOne) {
  Election e(configFor(SpId::A), 1, Health::Ok, at(0));
  Beat top{SpId::B, Role::Active, Health::Ok, kMaxEpoch};
  for (Path p : {Path::Peer, Path::Mgmt, Path::Midplane}) e.onBeat(p, top, at(10));
  CHECK(e.role() == Role::Passive);
  Actions fence = e.onTick(at(100));  // silent on every path for 90 ms: fenced at once
  STRCMP_EQUAL("SetRole(taking-over) FencePeer", effects(fence).c_str());
  Actions takeover = e.onFenceResult(true, "powered off", at(101));
  // What every other takeover does: a newer epoch, persisted before the address.
  CHECK(effects(takeover).rfind("PersistEpoch(", 0) == 0);
  CHECK(e.epoch() != UINT64_MAX);
}
