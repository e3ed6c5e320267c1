#pragma once
// The election: which SP is active. A pure state machine (docs/DESIGN.md "Election"): events
// in, actions out, time passed in by the caller. No sockets, no clocks, no sleeps, so every
// transition is tested table-driven (tests/unit/heartbeat).
//
// Rules, each with the design decision it comes from (docs/ELECTION.md has the list):
//  - The peer is dead only when every configured path has been silent for its dead
//    interval. Silence on some paths only is a partition: alert, keep roles.
//  - The midplane never loses a beat: while both its sides can be read, silence on it for
//    `midplane_suspect` (6 beats), every other path silent at least as long, makes the peer
//    suspect; the chassis is asked at once, and a peer it says is off or hung is dead
//    (docs/ELECTION.md rule 1, "the midplane decides first").
//  - A passive SP whose peer is dead fences it, then increments and persists the epoch,
//    adds the floating IP and becomes active. A failed fence means no takeover: retry and
//    raise a critical alert.
//  - Serving the clients decides: an SP whose management link has no carrier never takes
//    the floating address and never fences (it could only take the address from an SP that
//    may be serving); it raises an alert and waits.
//  - A starting SP that has never heard its peer fences it only when the chassis says the
//    peer is off or hung (Pacemaker's wait_for_all), unless configured to fence anyway.
//  - Simultaneous fencing (both SPs see the other dead while neither is active) is resolved
//    by a per-SP fence delay: the SP with the shorter delay fences first and the other is
//    powered off before its delay ends.
//  - Both alive and neither active: the SP with the better claim (can serve clients, not
//    handing over, newer acknowledged history, healthy, newer epoch, SP-A) takes the role
//    once the other has declared itself passive, so the two never take the address at once.
//  - An active SP that turns unhealthy (or loses its carrier) while its peer is alive,
//    passive, able to serve and holding every acknowledged change hands over: it releases
//    the address first, then declares itself passive.
//  - Both unhealthy: the active one stays active, so the management address answers.
//  - No preemption: an SP that finds an active peer becomes passive whatever its health.
//  - Epochs: a beat with a higher epoch is adopted (an active SP that sees an active peer
//    with a higher epoch steps down). A beat with a lower epoch still proves the peer is
//    alive, but its claim to any role is refused and counted.
//  - An SP whose own timers stalled (the process was stopped, the machine starved it) does
//    not judge its peer's silence until it has listened for one dead interval again.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "platform/sp_types.hpp"

namespace dualsp::heartbeat {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;

enum class Path : uint8_t { Peer = 0, Mgmt = 1, Midplane = 2 };
constexpr size_t kPathCount = 3;
std::string_view pathName(Path p);

struct PathTiming {
  bool enabled = true;
  Millis dead{50};
};

constexpr Millis kYieldTimeout{2000};
// A suspect peer the chassis said runs is asked about again this often (rule 1), and once
// every path's dead interval is over (the silence ElectionConfig::running_silence allows),
// this often.
constexpr Millis kSuspectRequery{10};
constexpr Millis kRunningRequery{50};

struct ElectionConfig {
  SpId self = SpId::A;
  std::array<PathTiming, kPathCount> paths{};
  Millis startup_wait{300};  // listen this long at start before deciding alone
  Millis fence_delay{0};     // wait before fencing a peer that was not active
  Millis fence_retry{1000};  // after a failed fence
  // A starting SP that never heard its peer fences it even when the chassis cannot say it
  // is off or hung (heartbeat.startup_fence "always"). Default: wait for the peer.
  bool startup_fence_always = false;
  // How often the chassis is asked for the peer's power state while it matters.
  Millis power_query_interval{250};
  // Events further apart than this mean this SP's own thread stalled (0: not checked).
  Millis stall_threshold{0};
  // Midplane silence this long (every other path silent as long) makes the peer suspect:
  // the chassis is asked, and off or hung means dead (0: no early suspicion). Shorter than
  // the midplane's dead interval; the service sets 6 midplane intervals.
  Millis midplane_suspect{0};
  // A suspect peer the chassis says is running (asked since its silence began) is dead only
  // after this much silence on every path, not after the paths' dead intervals: its CPU can
  // be held for a while (a virtual machine's vCPU, 100 ms and more on a loaded host), and a
  // stalled peer fenced is a spurious failover. 0: the dead intervals decide (docs/ELECTION.md
  // rule 1).
  Millis running_silence{0};
  // This boot's nonce (bootNonce of the boot id): a peer's beat that names it was sent
  // after this SP started, so it says what the peer is now, not a beat queued from before.
  uint64_t own_boot = 0;
};

// What the peer said in a heartbeat, on any path.
struct Beat {
  SpId sp = SpId::B;
  Role role = Role::Starting;
  Health health = Health::Ok;
  uint64_t epoch = 0;
  // Freshness: the sender's boot (a nonce) and its monotonic clock when it sent the beat.
  // A beat older than one already taken from the same boot, on any path, only proves the
  // peer alive (e.g. beats the peer's kernel queued while our link was down). 0 = unknown.
  uint64_t boot = 0;
  uint64_t sent_us = 0;
  // The sender handed the role over on purpose and must lose the tie-break until the
  // other SP is active (or kYieldTimeout passes).
  bool yielding = false;
  // The sender's management link has carrier: it can serve the floating address.
  bool can_serve = true;
  // The sender's acknowledged configuration history.
  History history{};
  // The boot of the other SP the sender last heard (0: none). A role is taken from a passive
  // peer only when its beat names this boot: beats queued before this SP started cannot.
  uint64_t heard_boot = 0;
  // The sender's boot counter (persisted, one more at every start of spd; 0 = none). Beats of
  // a boot older than the newest one heard from the peer, on any path, are refused: a beat
  // captured during an earlier boot is still validly signed, but it is never taken again.
  uint64_t boot_counter = 0;
};

// A stable 64-bit nonce of a boot id (FNV-1a), the same on every SP and firmware build.
uint64_t bootNonce(std::string_view boot_id);

enum class Alert : uint8_t {
  PeerFound,          // the peer is heard again after being lost (or for the first time)
  PeerLost,           // every path silent for its dead interval
  PartitionDetected,  // some paths silent, others alive
  PartitionHealed,
  FenceFailed,        // critical: no takeover until a fence succeeds
  StaleEpochRefused,  // a beat from a lower epoch claimed a role; the claim was ignored
  SteppedDown,        // an active SP saw a peer with a better claim and released
  HandedOver,         // an unhealthy active SP released the role to a healthy peer
  TookOver,           // became active
  NoCarrier,          // cannot serve clients: no takeover, no fencing until carrier returns
  CarrierRestored,
  WaitingForPeer,   // never heard the peer, which is powered on (or its state unknown)
  Stalled,          // this SP's own timers stalled: peer silence is not judged for a while
  OldBootRefused,   // a beat of an older boot of the peer (a replay): refused (raised once)
  EpochOutOfRange,  // a beat (or hint) above kMaxEpoch: refused, never adopted (raised once)
  PeerStalled,      // the peer silent past the dead intervals, but the chassis says it runs
  PeerResumed,      // a stalled peer heard again before running_silence ran out
};

// The largest epoch an SP adopts. One takeover a millisecond would need 146 million years to
// reach it; a beat above it (signed, so from a holder of the pair key) is refused, so that a
// takeover's "newest + 1" never wraps to 0 and two takeovers never share an epoch.
inline constexpr uint64_t kMaxEpoch = uint64_t{1} << 62;
std::string_view alertName(Alert a);

struct Action {
  enum class Kind : uint8_t {
    SetRole,         // publish the new role (heartbeats carry it from now on)
    PersistEpoch,    // write `epoch` durably before anything that depends on it
    AddAddress,      // add the floating IP and announce it (gratuitous ARP)
    RemoveAddress,   // release the floating IP
    FencePeer,       // power the peer off; answer with onFenceResult
    RaiseAlert,      // log and, later, an event
    QueryPeerPower,  // ask the chassis for the peer's power state; answer with onPeerPower
  };
  explicit Action(Kind k) : kind(k) {}
  Kind kind;
  Role role = Role::Starting;
  uint64_t epoch = 0;
  Alert alert = Alert::PeerFound;
  std::string detail;

  bool operator==(const Action&) const = default;
};
std::string describe(const Action& a);

using Actions = std::vector<Action>;

class Election {
 public:
  Election(const ElectionConfig& config, uint64_t persisted_epoch, Health health, TimePoint now);

  Actions onBeat(Path path, const Beat& beat, TimePoint now);
  Actions onTick(TimePoint now);
  Actions onHealth(Health health, TimePoint now);
  Actions onFenceResult(bool ok, const std::string& detail, TimePoint now);
  // Carrier on the management link (the interface that holds the floating address).
  Actions onCarrier(bool can_serve, TimePoint now);
  // This SP's acknowledged configuration history (carried in its beats).
  Actions onHistory(const History& history, TimePoint now);
  // The chassis's answer to QueryPeerPower.
  Actions onPeerPower(PowerState state, TimePoint now);
  // An epoch the peer reached that this SP has not heard in a beat (its midplane slot, left
  // behind when it died): adopted before this SP takes over, so two takeovers never share
  // an epoch.
  Actions onEpochHint(uint64_t epoch, TimePoint now);
  // A boot of the peer known otherwise (its authenticated midplane slot, left behind): beats of
  // older boots are refused from now on.
  void notePeerBoot(uint64_t boot_counter) {
    peer_boot_counter_ = std::max(peer_boot_counter_, boot_counter);
  }
  // Whether both sides of the midplane can be read now (no side cut). Its silence decides
  // the peer's death early only for beats heard while it has been readable since.
  void setMidplaneReadable(bool readable, TimePoint now);
  // An administrator asks the active SP to hand the role to its peer. Refused (with the
  // reason in `refusal`) unless this SP is active and the peer alive, passive and healthy.
  Actions onForceFailover(TimePoint now, std::string& refusal);
  // Why onForceFailover would refuse now; empty when it would hand over.
  std::string forceFailoverRefusal(TimePoint now) const;

  Role role() const { return role_; }
  uint64_t epoch() const { return epoch_; }
  Health health() const { return health_; }
  // What this SP says in its heartbeats.
  Beat ownBeat() const {
    Beat b{config_.self, role_, health_, epoch_};
    b.yielding = yielding_;
    b.can_serve = can_serve_;
    b.history = history_;
    b.heard_boot = peer_ ? peer_->boot : 0;
    return b;
  }
  bool canServe() const { return can_serve_; }
  const History& history() const { return history_; }
  // Why a voluntary hand-over to the peer would lose acknowledged changes; empty when the
  // peer's last beat shows it holds this SP's whole acknowledged history.
  std::string historyGap() const;

  bool peerAlive(TimePoint now) const;
  // What the rest of the SP acts on (the status board's peer_alive: replication writes alone
  // only when this is false): the peer's paths, except that right after this SP's own stall
  // (noted, or not noted yet because no election event ran since) a peer that was alive
  // stays alive until the listen decides. A stall longer than the dead intervals leaves every
  // path looking silent until the beats queued meanwhile are read; judging the peer dead
  // then let the active SP acknowledge changes alone while the peer lived.
  bool peerJudgedAlive(TimePoint now) const;
  bool pathAlive(Path p, TimePoint now) const;
  bool pathConfigured(Path p) const { return config_.paths[index(p)].enabled; }
  std::optional<Beat> lastPeerBeat() const { return peer_; }
  std::optional<TimePoint> lastHeard() const;
  uint64_t refusedBeats() const { return refused_beats_; }
  uint64_t outdatedBeats() const { return outdated_beats_; }
  uint64_t replayedBeats() const { return replayed_beats_; }
  // Beats refused for naming an older boot counter than the newest heard from the peer.
  uint64_t oldBootBeats() const { return old_boot_beats_; }
  uint64_t epochOutOfRangeBeats() const { return epoch_out_of_range_beats_; }
  uint64_t peerBootCounter() const { return peer_boot_counter_; }
  bool fenceInFlight() const { return fence_in_flight_; }

 private:
  static size_t index(Path p) { return static_cast<size_t>(p); }
  // Re-evaluates the role after any event; appends to `out`.
  void decide(TimePoint now, Actions& out);
  void trackPaths(TimePoint now, Actions& out);
  bool iWin() const;  // both alive, neither active: do I take the role?
  // The peer's last beat was sent after this SP started (it names this boot).
  bool peerHearsThisBoot() const { return peer_ && peer_->heard_boot == config_.own_boot; }
  // Peer dead: may this SP fence it now? Emits QueryPeerPower and alerts as needed.
  // A fresh answer of the chassis says the peer is powered off; asks it when there is none.
  bool chassisSaysPeerOff(TimePoint now, Actions& out);
  bool mayFence(TimePoint now, Actions& out);
  void askPeerPower(TimePoint now, Actions& out);
  bool powerFresh(TimePoint now) const;
  void noteTime(TimePoint now, Actions& out);
  // An event: its own changes (`update`), then the decision, with the stall check first.
  template <typename Update>
  Actions thenDecide(TimePoint now, Update&& update);
  Millis longestDead() const;
  // The midplane, readable and silent for its dead interval, and every other path silent
  // at least that long: the peer is suspect; the chassis is asked at once.
  bool midplaneSilent(TimePoint now) const;
  bool anyPathAlive(TimePoint now) const;  // by every path's own dead interval
  // Suspect, and the chassis, asked since, says the peer is off or hung: it is dead though
  // the UDP paths' dead intervals run on.
  bool midplaneSaysDead(TimePoint now) const;
  // Suspect, every path past its dead interval, but the chassis, asked in this silence, says
  // the peer runs, and the silence is not longer than running_silence: not dead yet.
  bool silenceExcused(TimePoint now) const;
  void watchMidplane(TimePoint now, Actions& out);
  void becomeActive(TimePoint now, Actions& out, Alert why, const std::string& detail);
  void becomePassive(Actions& out);
  // Passive and yielding (for kYieldTimeout or until the peer is active), with HandedOver.
  void handOver(TimePoint now, Actions& out, const std::string& detail);
  void adoptEpoch(uint64_t epoch, Actions& out);
  void setRole(Role r, Actions& out);

  ElectionConfig config_;
  Role role_ = Role::Starting;
  Health health_;
  uint64_t epoch_;
  TimePoint started_;
  std::array<std::optional<TimePoint>, kPathCount> heard_{};
  std::optional<Beat> peer_;  // last accepted beat (role claim refused → role Starting)
  bool ever_heard_ = false;
  // A beat naming this boot arrived: the peer and this SP have heard each other since this SP
  // started (beats queued in the peer's kernel before that do not count).
  bool mutual_ = false;
  TimePoint found_at_{};  // when the peer was last found
  bool peer_lost_reported_ = false;
  bool partition_reported_ = false;
  std::optional<TimePoint> fence_not_before_;  // fence delay or retry pending
  bool fence_in_flight_ = false;
  uint64_t refused_beats_ = 0;
  uint64_t outdated_beats_ = 0;
  uint64_t replayed_beats_ = 0;
  uint64_t old_boot_beats_ = 0;
  uint64_t epoch_out_of_range_beats_ = 0;
  uint64_t peer_boot_counter_ = 0;  // the newest boot of the peer heard on any path
  // Per path, the (boot, send time) of the newest beat taken.
  std::array<std::optional<std::pair<uint64_t, uint64_t>>, kPathCount> last_on_path_{};
  bool yielding_ = false;
  TimePoint yield_until_{};
  bool can_serve_ = true;
  bool no_carrier_reported_ = false;
  History history_{};
  PowerState peer_power_ = PowerState::Unknown;
  std::optional<TimePoint> power_answered_at_;
  std::optional<TimePoint> power_asked_at_;
  bool waiting_reported_ = false;
  PowerState waiting_reported_for_ = PowerState::Unknown;
  bool fencing_passive_ = false;  // the active fences a hung passive
  std::optional<TimePoint> last_event_;
  TimePoint listen_until_{};     // after a stall: judge no silence before this
  std::string partition_paths_;  // the silent paths last reported
  std::string candidate_paths_;  // the silent paths now, and since when
  TimePoint candidate_since_{};
  bool midplane_readable_ = true;
  TimePoint midplane_readable_since_{};
  std::optional<TimePoint> midplane_silent_since_;  // the peer suspect since
  // The suspicion (its midplane_silent_since_) in which the chassis last said "running".
  std::optional<TimePoint> running_said_in_;
  bool stall_reported_ = false;  // PeerStalled raised, PeerResumed or PeerLost not yet
};

}  // namespace dualsp::heartbeat
