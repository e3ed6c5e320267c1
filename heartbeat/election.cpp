#include "heartbeat/election.hpp"

#include <algorithm>
#include <tuple>

namespace dualsp::heartbeat {

std::string_view pathName(Path p) {
  switch (p) {
    case Path::Peer:
      return "peer-link";
    case Path::Mgmt:
      return "management";
    case Path::Midplane:
      return "midplane";
  }
  return "unknown";
}

std::string_view alertName(Alert a) {
  switch (a) {
    case Alert::PeerFound:
      return "PeerFound";
    case Alert::PeerLost:
      return "PeerLost";
    case Alert::PartitionDetected:
      return "PartitionDetected";
    case Alert::PartitionHealed:
      return "PartitionHealed";
    case Alert::FenceFailed:
      return "FenceFailed";
    case Alert::StaleEpochRefused:
      return "StaleEpochRefused";
    case Alert::SteppedDown:
      return "SteppedDown";
    case Alert::HandedOver:
      return "HandedOver";
    case Alert::TookOver:
      return "TookOver";
    case Alert::NoCarrier:
      return "NoCarrier";
    case Alert::CarrierRestored:
      return "CarrierRestored";
    case Alert::WaitingForPeer:
      return "WaitingForPeer";
    case Alert::Stalled:
      return "Stalled";
    case Alert::OldBootRefused:
      return "OldBootRefused";
    case Alert::EpochOutOfRange:
      return "EpochOutOfRange";
    case Alert::PeerStalled:
      return "PeerStalled";
    case Alert::PeerResumed:
      return "PeerResumed";
  }
  return "Unknown";
}

std::string describe(const Action& a) {
  switch (a.kind) {
    case Action::Kind::SetRole:
      return "SetRole(" + std::string(roleName(a.role)) + ")";
    case Action::Kind::PersistEpoch:
      return "PersistEpoch(" + std::to_string(a.epoch) + ")";
    case Action::Kind::AddAddress:
      return "AddAddress";
    case Action::Kind::RemoveAddress:
      return "RemoveAddress";
    case Action::Kind::FencePeer:
      return "FencePeer";
    case Action::Kind::RaiseAlert:
      return "RaiseAlert(" + std::string(alertName(a.alert)) + ": " + a.detail + ")";
    case Action::Kind::QueryPeerPower:
      return "QueryPeerPower";
  }
  return "Unknown";
}

namespace {

Action alert(Alert which, std::string detail) {
  Action a{Action::Kind::RaiseAlert};
  a.alert = which;
  a.detail = std::move(detail);
  return a;
}

bool claimsRole(Role r) {
  return r == Role::Active || r == Role::TakingOver;
}

std::string versionText(const History& h) {
  return std::to_string(h.epoch) + "." + std::to_string(h.seq);
}

}  // namespace

Election::Election(const ElectionConfig& config, uint64_t persisted_epoch, Health health,
                   TimePoint now)
    : config_(config), health_(health), epoch_(persisted_epoch), started_(now) {}

bool Election::pathAlive(Path p, TimePoint now) const {
  const auto& timing = config_.paths[index(p)];
  const auto& heard = heard_[index(p)];
  return timing.enabled && heard && now - *heard <= timing.dead;
}

bool Election::peerAlive(TimePoint now) const {
  return (anyPathAlive(now) || silenceExcused(now)) && !midplaneSaysDead(now);
}

bool Election::silenceExcused(TimePoint now) const {
  if (config_.running_silence.count() <= 0 || !midplane_silent_since_) return false;
  // The chassis said "running" in this suspicion, or was asked in it and has not answered
  // yet (the answer decides: "off" or "stopped" is death at once).
  const bool running = running_said_in_ && *running_said_in_ == *midplane_silent_since_;
  const bool pending = power_asked_at_ && *power_asked_at_ >= *midplane_silent_since_ &&
                       !(power_answered_at_ && *power_answered_at_ >= *power_asked_at_);
  if (!running && !pending) return false;
  auto heard = lastHeard();
  return heard && now - *heard <= config_.running_silence;
}

bool Election::peerJudgedAlive(TimePoint now) const {
  if (peerAlive(now)) return true;
  if (!ever_heard_ || peer_lost_reported_ || midplaneSaysDead(now)) return false;
  const bool stall_not_noted = config_.stall_threshold.count() > 0 && last_event_ &&
                               now - *last_event_ > config_.stall_threshold;
  return now < listen_until_ || stall_not_noted;
}

bool Election::midplaneSilent(TimePoint now) const {
  // The midplane is memory both SPs map: a beat is never lost, so its silence is the peer's
  // own (or its CPU's: a virtual machine's vCPU can be held for tens of ms, real-time
  // priority or not), and it can be judged long before a network path's, where loss is
  // normal. The other paths must agree for as long, so a midplane that failed without a cut
  // flag cannot make a peer the networks still hear suspect.
  const auto mid = index(Path::Midplane);
  const Millis suspect = config_.midplane_suspect;
  if (!config_.paths[mid].enabled || suspect.count() <= 0 || !midplane_readable_ || !heard_[mid])
    return false;
  if (*heard_[mid] < midplane_readable_since_ || now - *heard_[mid] <= suspect) return false;
  for (size_t i = 0; i < kPathCount; ++i) {
    if (i == mid || !config_.paths[i].enabled || !heard_[i]) continue;
    if (now - *heard_[i] <= suspect) return false;
  }
  return true;
}

bool Election::midplaneSaysDead(TimePoint now) const {
  // Silence alone could be a stalled peer that runs again a moment later: the chassis, asked
  // after the silence began, must say the peer is off or hung (not running).
  return midplaneSilent(now) && midplane_silent_since_ && power_asked_at_ &&
         *power_asked_at_ >= *midplane_silent_since_ && power_answered_at_ &&
         *power_answered_at_ >= *power_asked_at_ &&
         (peer_power_ == PowerState::Off || peer_power_ == PowerState::Stopped);
}

bool Election::anyPathAlive(TimePoint now) const {
  for (size_t i = 0; i < kPathCount; ++i)
    if (pathAlive(static_cast<Path>(i), now)) return true;
  return false;
}

void Election::watchMidplane(TimePoint now, Actions& out) {
  if (!midplaneSilent(now)) {
    midplane_silent_since_.reset();
    return;
  }
  // Dead already (by every path's own interval, or by this rule), or this SP just stalled
  // itself: nothing to ask.
  if (!peerAlive(now) || now < listen_until_) return;
  if (midplane_silent_since_) {
    // Still suspect after a "running": a peer being stopped or dying process by process
    // (spd first, spweb a moment later) looks running at first. Asked again, answer by
    // answer, until the dead intervals (or running_silence) decide; less often once only
    // running_silence keeps the peer alive.
    const bool answered = power_answered_at_ && *power_answered_at_ >= *power_asked_at_;
    const Millis requery = anyPathAlive(now) ? kSuspectRequery : kRunningRequery;
    if (!answered || now - *power_asked_at_ < requery) return;
  } else {
    midplane_silent_since_ = now;
  }
  power_asked_at_ = now;  // whatever the periodic questions' pace
  out.push_back(Action{Action::Kind::QueryPeerPower});
}

void Election::setMidplaneReadable(bool readable, TimePoint now) {
  if (readable && !midplane_readable_) midplane_readable_since_ = now;
  midplane_readable_ = readable;
}

std::optional<TimePoint> Election::lastHeard() const {
  std::optional<TimePoint> latest;
  for (const auto& h : heard_)
    if (h && (!latest || *h > *latest)) latest = h;
  return latest;
}

Millis Election::longestDead() const {
  Millis longest{0};
  for (const auto& p : config_.paths)
    if (p.enabled) longest = std::max(longest, p.dead);
  return longest;
}

bool Election::iWin() const {
  // The same answer on both SPs: the one that can serve clients, then the one not handing
  // over, then the newer acknowledged history (its configuration and event ids continue),
  // then health, then the newer epoch, then SP-A.
  auto key = [](const Beat& b) {
    return std::make_tuple(b.can_serve, !b.yielding, b.history.epoch, b.history.seq,
                           isHealthy(b.health), b.epoch, b.sp == SpId::A);
  };
  return key(ownBeat()) > key(*peer_);
}

std::string Election::historyGap() const {
  if (!peer_ || !peer_->history.olderThan(history_)) return {};
  return std::string(spName(peerOf(config_.self))) + " does not hold every acknowledged change " +
         "yet (it is at version " + versionText(peer_->history) + ", " +
         std::string(spName(config_.self)) + " at " + versionText(history_) + ")";
}

void Election::noteTime(TimePoint now, Actions& out) {
  if (config_.stall_threshold.count() > 0 && last_event_ &&
      now - *last_event_ > config_.stall_threshold) {
    auto gap = std::chrono::duration_cast<Millis>(now - *last_event_);
    listen_until_ = now + longestDead();
    out.push_back(alert(Alert::Stalled, "this SP did not run for " + std::to_string(gap.count()) +
                                            " ms; listening for one dead interval before judging " +
                                            std::string(spName(peerOf(config_.self))) +
                                            "'s silence"));
  }
  last_event_ = now;
}

bool Election::powerFresh(TimePoint now) const {
  return power_answered_at_ && now - *power_answered_at_ <= config_.power_query_interval;
}

void Election::askPeerPower(TimePoint now, Actions& out) {
  if (power_asked_at_ && now - *power_asked_at_ < config_.power_query_interval) return;
  power_asked_at_ = now;
  out.push_back(Action{Action::Kind::QueryPeerPower});
}

bool Election::chassisSaysPeerOff(TimePoint now, Actions& out) {
  if (!powerFresh(now)) {
    askPeerPower(now, out);
    return false;
  }
  return peer_power_ == PowerState::Off;
}

bool Election::mayFence(TimePoint now, Actions& out) {
  const std::string peer = std::string(spName(peerOf(config_.self)));
  if (!can_serve_) {
    // Fencing would only take the address from an SP that may be serving clients.
    if (!no_carrier_reported_)
      out.push_back(alert(Alert::NoCarrier, "no carrier on the management link: not fencing " +
                                                peer + " and not taking the floating address"));
    no_carrier_reported_ = true;
    return false;
  }
  if (mutual_ || config_.startup_fence_always) return true;
  // Never heard since start (beats its kernel queued while this SP was off, sent before this
  // SP started, do not count): the peer may be up and serving behind cut paths. Only the
  // chassis can tell (wait_for_all).
  if (!powerFresh(now)) {
    askPeerPower(now, out);
    if (!power_answered_at_) return false;
  }
  if (peer_power_ == PowerState::Off || peer_power_ == PowerState::Stopped) return true;
  if (!waiting_reported_ || waiting_reported_for_ != peer_power_) {
    out.push_back(alert(
        Alert::WaitingForPeer,
        peer + " not heard since start and the chassis " +
            (peer_power_ == PowerState::Running ? std::string("says it is powered on and running")
                                                : std::string("cannot tell its power state")) +
            ": not fencing it, waiting to hear it (heartbeat.startup_fence)"));
    waiting_reported_ = true;
    waiting_reported_for_ = peer_power_;
  }
  return false;
}

void Election::setRole(Role r, Actions& out) {
  if (role_ == r) return;
  role_ = r;
  Action a{Action::Kind::SetRole};
  a.role = r;
  out.push_back(a);
}

void Election::adoptEpoch(uint64_t epoch, Actions& out) {
  if (epoch <= epoch_) return;
  epoch_ = epoch;
  Action persist{Action::Kind::PersistEpoch};
  persist.epoch = epoch_;
  out.push_back(persist);
}

void Election::becomeActive(TimePoint now, Actions& out, Alert why, const std::string& detail) {
  uint64_t newest = std::max(epoch_, peer_ ? peer_->epoch : 0);
  epoch_ = newest;
  adoptEpoch(newest + 1, out);  // before the address: a takeover must survive a reboot
  out.push_back(Action{Action::Kind::AddAddress});
  setRole(Role::Active, out);
  out.push_back(alert(why, detail + ", epoch " + std::to_string(epoch_)));
  fence_not_before_.reset();
}

void Election::becomePassive(Actions& out) {
  if (role_ == Role::Active) out.push_back(Action{Action::Kind::RemoveAddress});
  if (peer_) adoptEpoch(peer_->epoch, out);
  setRole(Role::Passive, out);
}

uint64_t bootNonce(std::string_view boot_id) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : boot_id) h = (h ^ c) * 1099511628211ULL;
  return h;
}

Actions Election::onBeat(Path path, const Beat& beat, TimePoint now) {
  Actions out;
  if (beat.sp == config_.self || !config_.paths[index(path)].enabled) return out;
  noteTime(now, out);
  // Boots only move forward, across every path: a beat of an older boot is a replay of a
  // captured frame (its MAC is still valid) and proves nothing (docs/SECURITY.md).
  if (beat.boot_counter < peer_boot_counter_) {
    if (old_boot_beats_++ == 0)
      out.push_back(alert(Alert::OldBootRefused,
                          std::string(spName(beat.sp)) + " beat of boot " +
                              std::to_string(beat.boot_counter) + " refused: boot " +
                              std::to_string(peer_boot_counter_) + " was heard (a replay)"));
    return out;
  }
  // An epoch no takeover can pass is not heard at all (not even as a sign of life): adopting
  // it would make the next takeover's epoch wrap.
  if (beat.epoch > kMaxEpoch) {
    if (epoch_out_of_range_beats_++ == 0)
      out.push_back(alert(Alert::EpochOutOfRange, std::string(spName(beat.sp)) + " beat at epoch " +
                                                      std::to_string(beat.epoch) +
                                                      " refused: above the largest, " +
                                                      std::to_string(kMaxEpoch)));
    return out;
  }
  peer_boot_counter_ = beat.boot_counter;
  // On one path a sender's beats only move forward: an old one again is a replay (or a
  // duplicate) and proves nothing, not even that the peer is alive.
  auto& seen = last_on_path_[index(path)];
  if (beat.sent_us != 0 && seen && seen->first == beat.boot && beat.sent_us <= seen->second) {
    ++replayed_beats_;
    return out;
  }
  if (beat.sent_us != 0) seen = std::make_pair(beat.boot, beat.sent_us);
  heard_[index(path)] = now;
  if (beat.heard_boot == config_.own_boot) mutual_ = true;

  bool outdated =
      peer_ && beat.sent_us != 0 && beat.boot == peer_->boot && beat.sent_us < peer_->sent_us;
  if (outdated) {
    ++outdated_beats_;  // alive, but says nothing about its role now
    decide(now, out);
    return out;
  }

  Beat accepted = beat;
  if (beat.epoch < epoch_ && claimsRole(beat.role)) {
    // docs/DESIGN.md "Election": frames from a lower epoch are refused. The peer is alive, its
    // claim is not.
    if (refused_beats_++ == 0 || (peer_ && peer_->role != Role::Starting))
      out.push_back(alert(Alert::StaleEpochRefused, std::string(spName(beat.sp)) + " claims " +
                                                        std::string(roleName(beat.role)) +
                                                        " at epoch " + std::to_string(beat.epoch) +
                                                        " < " + std::to_string(epoch_)));
    accepted.role = Role::Starting;
  } else if (beat.epoch > epoch_) {
    if (role_ == Role::Active && beat.role == Role::Active) {
      out.push_back(Action{Action::Kind::RemoveAddress});
      setRole(Role::Passive, out);
      out.push_back(alert(Alert::SteppedDown, std::string(spName(beat.sp)) +
                                                  " is active at a newer epoch " +
                                                  std::to_string(beat.epoch)));
    }
    // A starting SP keeps its own epoch until it yields: the newer epoch wins the start-up
    // tie-break. An active SP adopts the newer epoch of a peer that does not claim the role
    // (one that served at that epoch while this SP never heard of it): otherwise the peer
    // would refuse its claims for ever and never settle as passive.
    if (claimsRole(beat.role) || role_ == Role::Passive || role_ == Role::Active)
      adoptEpoch(beat.epoch, out);
  }
  peer_ = accepted;
  decide(now, out);
  return out;
}

std::string Election::forceFailoverRefusal(TimePoint now) const {
  std::string refusal;
  std::string peer = std::string(spName(peerOf(config_.self)));
  if (role_ != Role::Active) {
    refusal = std::string(spName(config_.self)) + " is not the active SP (" +
              std::string(roleName(role_)) + ")";
  } else if (!anyPathAlive(now) || !peerAlive(now) || !peer_) {
    refusal = peer + " is not reachable";
  } else if (peer_->role != Role::Passive) {
    refusal = peer + " is " + std::string(roleName(peer_->role)) + ", not passive";
  } else if (!isHealthy(peer_->health)) {
    refusal = peer + " is not healthy";
  } else if (!peer_->can_serve) {
    refusal = peer + " has no carrier on its management link";
  } else if (auto gap = historyGap(); !gap.empty()) {
    refusal = gap + ": wait for the resynchronisation";
  }
  return refusal;
}

void Election::handOver(TimePoint now, Actions& out, const std::string& detail) {
  becomePassive(out);  // releases the address before the peer may take it
  yielding_ = true;    // so the peer wins the tie-break, and this SP does not take it back
  yield_until_ = now + kYieldTimeout;
  out.push_back(alert(Alert::HandedOver, detail));
}

Actions Election::onForceFailover(TimePoint now, std::string& refusal) {
  Actions out;
  std::string peer = std::string(spName(peerOf(config_.self)));
  refusal = forceFailoverRefusal(now);
  if (!refusal.empty()) return out;
  handOver(now, out, "administrator request; " + peer + " takes the role");
  return out;
}

template <typename Update>
Actions Election::thenDecide(TimePoint now, Update&& update) {
  Actions out;
  noteTime(now, out);
  update(out);
  decide(now, out);
  return out;
}

Actions Election::onTick(TimePoint now) {
  return thenDecide(now, [](Actions&) {});
}

Actions Election::onHealth(Health health, TimePoint now) {
  return thenDecide(now, [&](Actions&) { health_ = health; });
}

Actions Election::onCarrier(bool can_serve, TimePoint now) {
  return thenDecide(now, [&](Actions& out) {
    if (can_serve == can_serve_) return;
    can_serve_ = can_serve;
    if (can_serve) {
      if (no_carrier_reported_)
        out.push_back(alert(Alert::CarrierRestored, "carrier back on the management link"));
      no_carrier_reported_ = false;
    } else {
      out.push_back(alert(Alert::NoCarrier,
                          "no carrier on the management link: this SP cannot serve clients"));
      no_carrier_reported_ = true;
    }
  });
}

Actions Election::onHistory(const History& history, TimePoint now) {
  return thenDecide(now, [&](Actions&) { history_ = history; });
}

Actions Election::onPeerPower(PowerState state, TimePoint now) {
  return thenDecide(now, [&](Actions&) {
    peer_power_ = state;
    power_answered_at_ = now;
    // The answer to a question asked in this suspicion: "running" excuses the silence for a
    // while (silenceExcused); any other answer ends the excuse.
    if (state == PowerState::Running && midplane_silent_since_ && power_asked_at_ &&
        *power_asked_at_ >= *midplane_silent_since_)
      running_said_in_ = midplane_silent_since_;
    else
      running_said_in_.reset();
  });
}

Actions Election::onEpochHint(uint64_t epoch, TimePoint now) {
  Actions out;
  noteTime(now, out);
  if (epoch > kMaxEpoch) {
    if (epoch_out_of_range_beats_++ == 0)
      out.push_back(alert(Alert::EpochOutOfRange, "epoch hint " + std::to_string(epoch) +
                                                      " refused: above the largest, " +
                                                      std::to_string(kMaxEpoch)));
    return out;
  }
  if (role_ != Role::Active && role_ != Role::TakingOver) adoptEpoch(epoch, out);
  return out;
}

Actions Election::onFenceResult(bool ok, const std::string& detail, TimePoint now) {
  Actions out;
  noteTime(now, out);
  fence_in_flight_ = false;
  if (ok) {
    // Powered off by this very request: what the chassis says now (the midplane's verdict
    // holds, so the peer's last network beats do not make it "found" again).
    peer_power_ = PowerState::Off;
    power_answered_at_ = now;
  } else {
    power_answered_at_.reset();  // whatever the chassis said before may have changed
  }
  if (fencing_passive_) {
    fencing_passive_ = false;
    const std::string peer = std::string(spName(peerOf(config_.self)));
    if (ok)
      out.push_back(
          alert(Alert::PeerLost, "the hung passive " + peer + " was fenced (" + detail + ")"));
    else
      out.push_back(
          alert(Alert::FenceFailed, "fencing the hung passive " + peer + " failed: " + detail));
    return out;
  }
  if (role_ != Role::TakingOver) return out;
  if (ok && !can_serve_) {
    // The carrier went while the fence was under way: the peer is off, the address waits.
    setRole(Role::Passive, out);
    out.push_back(alert(Alert::NoCarrier, std::string(spName(peerOf(config_.self))) +
                                              " fenced, but no carrier on the management link: "
                                              "not taking the floating address yet"));
    no_carrier_reported_ = true;
    return out;
  }
  if (ok) {
    becomeActive(now, out, Alert::TookOver,
                 std::string(spName(peerOf(config_.self))) + " fenced (" + detail + ")");
  } else {
    // docs/DESIGN.md "Election": when fencing fails the SP does not take over; it retries and
    // alerts.
    setRole(Role::Passive, out);
    out.push_back(alert(Alert::FenceFailed, "fencing " + std::string(spName(peerOf(config_.self))) +
                                                " failed: " + detail + "; retrying"));
    fence_not_before_ = now + config_.fence_retry;
  }
  decide(now, out);
  return out;
}

void Election::trackPaths(TimePoint now, Actions& out) {
  size_t configured = 0;
  size_t alive = 0;
  std::string silent;
  const bool midplane_verdict = midplaneSaysDead(now);
  for (size_t i = 0; i < kPathCount; ++i) {
    if (!config_.paths[i].enabled) continue;
    ++configured;
    if (!midplane_verdict && pathAlive(static_cast<Path>(i), now)) {
      ++alive;
    } else {
      silent += silent.empty() ? "" : ", ";
      silent += pathName(static_cast<Path>(i));
    }
  }
  if (alive > 0) {
    if (stall_reported_) {
      out.push_back(alert(Alert::PeerResumed, std::string(spName(peerOf(config_.self))) +
                                                  " heard again: it had stalled, not died"));
      stall_reported_ = false;
    }
    if (!ever_heard_ || peer_lost_reported_) {
      out.push_back(alert(Alert::PeerFound, std::string(spName(peerOf(config_.self))) + " heard"));
      ever_heard_ = true;
      peer_lost_reported_ = false;
      found_at_ = now;
    }
    // A path not heard yet right after the peer appeared is not a partition.
    bool settled = now - found_at_ >= longestDead();
    // A suspect peer (silent everywhere for the midplane's interval) is not a partition.
    if (alive < configured && settled && !midplaneSilent(now)) {
      // Named again when the set of silent paths changes and stays changed for a dead
      // interval (paths heal one by one within a moment; that is not news).
      if (silent != candidate_paths_) {
        candidate_paths_ = silent;
        candidate_since_ = now;
      }
      bool report = !partition_reported_ ||
                    (silent != partition_paths_ && now - candidate_since_ >= longestDead());
      if (report) {
        out.push_back(alert(Alert::PartitionDetected,
                            "peer alive but silent on: " + silent + "; roles unchanged"));
        partition_reported_ = true;
        partition_paths_ = silent;
      }
    } else if (alive == configured && partition_reported_) {
      out.push_back(alert(Alert::PartitionHealed, "every heartbeat path alive again"));
      partition_reported_ = false;
      partition_paths_.clear();
    }
    return;
  }
  if (!midplane_verdict && silenceExcused(now)) {  // suspect: the chassis says it runs
    if (!stall_reported_) {
      out.push_back(alert(Alert::PeerStalled,
                          std::string(spName(peerOf(config_.self))) +
                              " silent on every path past its dead interval, but the chassis "
                              "says it runs (or has not answered yet): judged only after " +
                              std::to_string(config_.running_silence.count()) + " ms of silence"));
      stall_reported_ = true;
    }
    return;
  }
  if (now < listen_until_) return;  // our own stall, not the peer's silence
  bool waited = now - started_ >= config_.startup_wait;
  if (!peer_lost_reported_ && (ever_heard_ || waited)) {
    stall_reported_ = false;
    out.push_back(alert(Alert::PeerLost,
                        std::string(spName(peerOf(config_.self))) +
                            (!ever_heard_       ? " not heard since start"
                             : midplane_verdict ? " silent on every path (the midplane decided)"
                                                : " silent on every path")));
    peer_lost_reported_ = true;
    partition_reported_ = false;
    partition_paths_.clear();
  }
}

void Election::decide(TimePoint now, Actions& out) {
  watchMidplane(now, out);
  trackPaths(now, out);
  const bool alive = peerAlive(now) && peer_.has_value();
  if (yielding_ && (now >= yield_until_ || (alive && peer_->role == Role::Active)))
    yielding_ = false;  // handed over, or nobody took it: back to the normal rules
  if (!alive && now < listen_until_) return;  // after our own stall: listen first

  if (role_ == Role::Starting) {
    if (alive) {
      if (claimsRole(peer_->role) || !iWin()) {
        becomePassive(out);  // no preemption; or let the winner take the role
      } else if (peer_->role == Role::Passive && now - started_ >= config_.startup_wait &&
                 can_serve_ && peerHearsThisBoot()) {
        // Not before the startup wait: beats the peer queued while our link was down (its
        // ARP queue) arrive first and may be older than its current role.
        becomeActive(now, out, Alert::TookOver,
                     std::string(spName(peer_->sp)) + " is alive and passive");
      }
      return;  // winner waits for a starting peer to declare itself passive
    }
    // The listen is for an active peer; one the chassis says is powered off can be neither
    // active nor about to answer, so there is nothing to wait for (docs/ELECTION.md rule 5).
    if (now - started_ < config_.startup_wait) {
      if (!chassisSaysPeerOff(now, out)) return;
      if (!peer_lost_reported_) {
        out.push_back(alert(Alert::PeerLost, std::string(spName(peerOf(config_.self))) +
                                                 " not heard since start; the chassis says it "
                                                 "is powered off"));
        peer_lost_reported_ = true;
      }
    }
    setRole(Role::Passive, out);  // nobody answered: decide as a passive SP with a dead peer
  }

  switch (role_) {
    case Role::Starting:
      return;
    case Role::TakingOver:
      return;  // waiting for onFenceResult
    case Role::Passive:
      if (alive) {
        fence_not_before_.reset();
        // Only on a beat sent after this SP started: one the peer's kernel queued while
        // this SP was off may say "passive" of a peer that is active now.
        if (!claimsRole(peer_->role) && peer_->role == Role::Passive && iWin() && can_serve_ &&
            peerHearsThisBoot())
          becomeActive(now, out, Alert::TookOver,
                       std::string(spName(peer_->sp)) + " is alive and passive");
        return;
      }
      if (fence_in_flight_) return;
      if (!mayFence(now, out)) {
        fence_not_before_.reset();
        return;
      }
      if (!fence_not_before_) {
        // Only a peer that was not active can be fencing us at this moment too.
        bool peer_was_active = peer_ && peer_->role == Role::Active;
        fence_not_before_ = now + (peer_was_active ? Millis{0} : config_.fence_delay);
      }
      if (now < *fence_not_before_) return;
      fence_in_flight_ = true;
      setRole(Role::TakingOver, out);
      out.push_back(Action{Action::Kind::FencePeer});
      return;
    case Role::Active:
      if (!alive) {
        // A passive silent on every path: fenced only when the chassis says it hung (a live
        // one behind cut paths keeps its power; it is resynchronised when it is heard again).
        if (!fence_in_flight_ && ever_heard_ && peer_ && !claimsRole(peer_->role)) {
          if (!powerFresh(now)) {
            askPeerPower(now, out);
          } else if (peer_power_ == PowerState::Stopped) {
            fence_in_flight_ = true;
            fencing_passive_ = true;
            out.push_back(Action{Action::Kind::FencePeer});
          }
        }
        return;
      }
      if (peer_->role == Role::Active && peer_->epoch == epoch_ && config_.self == SpId::B) {
        // Two actives at one epoch cannot both have fenced; SP-A keeps the role.
        becomePassive(out);
        out.push_back(alert(Alert::SteppedDown, "SP-A is active at the same epoch"));
        return;
      }
      {
        // A hand-over never costs an acknowledged change and never goes to an SP that
        // cannot serve either.
        // Not to a peer that is handing the role over itself (a ForceFailover meeting a
        // fault): the two would pass it back and forth.
        // Heard, not only excused: a peer whose CPU is held cannot take the role now.
        const bool peer_can_take = anyPathAlive(now) && peer_->role == Role::Passive &&
                                   peer_->can_serve && !peer_->yielding && historyGap().empty();
        const std::string peer = std::string(spName(peer_->sp));
        // Handing over, this SP yields (as for ForceFailover): should its health come back
        // in the same instant, it must not take the role back while the peer takes it
        // (chaos seed 1: both took it, two holders for 4 ms).
        if (!isHealthy(health_) && peer_can_take && isHealthy(peer_->health)) {
          handOver(now, out, "unhealthy; " + peer + " is healthy and takes the role");
        } else if (!can_serve_ && peer_can_take) {
          handOver(now, out,
                   "no carrier on the management link; " + peer +
                       " can serve clients and takes the role");
        }
      }
      return;
  }
}

}  // namespace dualsp::heartbeat
