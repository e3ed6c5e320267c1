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
  for (size_t i = 0; i < kPathCount; ++i)
    if (pathAlive(static_cast<Path>(i), now)) return true;
  return false;
}

std::optional<TimePoint> Election::lastHeard() const {
  std::optional<TimePoint> latest;
  for (const auto& h : heard_)
    if (h && (!latest || *h > *latest)) latest = h;
  return latest;
}

bool Election::iWin() const {
  // Healthy first, then the newer epoch, then SP-A: the same answer on both SPs.
  auto key = [](Health h, bool yielding, uint64_t epoch, SpId sp) {
    return std::make_tuple(isHealthy(h), !yielding, epoch, sp == SpId::A);
  };
  return key(health_, yielding_, epoch_, config_.self) >
         key(peer_->health, peer_->yielding, peer_->epoch, peer_->sp);
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
  // On one path a sender's beats only move forward: an old one again is a replay (or a
  // duplicate) and proves nothing, not even that the peer is alive.
  auto& seen = last_on_path_[index(path)];
  if (beat.sent_us != 0 && seen && seen->first == beat.boot && beat.sent_us <= seen->second) {
    ++replayed_beats_;
    return out;
  }
  if (beat.sent_us != 0) seen = std::make_pair(beat.boot, beat.sent_us);
  heard_[index(path)] = now;

  bool outdated =
      peer_ && beat.sent_us != 0 && beat.boot == peer_->boot && beat.sent_us < peer_->sent_us;
  if (outdated) {
    ++outdated_beats_;  // alive, but says nothing about its role now
    decide(now, out);
    return out;
  }

  Beat accepted = beat;
  if (beat.epoch < epoch_ && claimsRole(beat.role)) {
    // DESIGN.md: frames from a lower epoch are refused. The peer is alive, its claim is not.
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
    // tie-break (its configuration is the newer one).
    if (claimsRole(beat.role) || role_ == Role::Passive) adoptEpoch(beat.epoch, out);
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
  } else if (!peerAlive(now) || !peer_) {
    refusal = peer + " is not reachable";
  } else if (peer_->role != Role::Passive) {
    refusal = peer + " is " + std::string(roleName(peer_->role)) + ", not passive";
  } else if (!isHealthy(peer_->health)) {
    refusal = peer + " is not healthy";
  }
  return refusal;
}

Actions Election::onForceFailover(TimePoint now, std::string& refusal) {
  Actions out;
  std::string peer = std::string(spName(peerOf(config_.self)));
  refusal = forceFailoverRefusal(now);
  if (!refusal.empty()) return out;
  becomePassive(out);  // releases the address before the peer may take it
  yielding_ = true;
  yield_until_ = now + kYieldTimeout;
  out.push_back(alert(Alert::HandedOver, "administrator request; " + peer + " takes the role"));
  return out;
}

Actions Election::onTick(TimePoint now) {
  Actions out;
  decide(now, out);
  return out;
}

Actions Election::onHealth(Health health, TimePoint now) {
  Actions out;
  health_ = health;
  decide(now, out);
  return out;
}

Actions Election::onFenceResult(bool ok, const std::string& detail, TimePoint now) {
  Actions out;
  fence_in_flight_ = false;
  if (role_ != Role::TakingOver) return out;
  if (ok) {
    becomeActive(now, out, Alert::TookOver,
                 std::string(spName(peerOf(config_.self))) + " fenced (" + detail + ")");
  } else {
    // DESIGN.md: when fencing fails the SP does not take over; it retries and alerts.
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
  Millis longest_dead{0};
  for (size_t i = 0; i < kPathCount; ++i) {
    if (!config_.paths[i].enabled) continue;
    ++configured;
    longest_dead = std::max(longest_dead, config_.paths[i].dead);
    if (pathAlive(static_cast<Path>(i), now)) {
      ++alive;
    } else {
      silent += silent.empty() ? "" : ", ";
      silent += pathName(static_cast<Path>(i));
    }
  }
  if (alive > 0) {
    if (!ever_heard_ || peer_lost_reported_) {
      out.push_back(alert(Alert::PeerFound, std::string(spName(peerOf(config_.self))) + " heard"));
      ever_heard_ = true;
      peer_lost_reported_ = false;
      found_at_ = now;
    }
    // A path not heard yet right after the peer appeared is not a partition.
    bool settled = now - found_at_ >= longest_dead;
    if (alive < configured && settled && !partition_reported_) {
      out.push_back(alert(Alert::PartitionDetected,
                          "peer alive but silent on: " + silent + "; roles unchanged"));
      partition_reported_ = true;
    } else if (alive == configured && partition_reported_) {
      out.push_back(alert(Alert::PartitionHealed, "every heartbeat path alive again"));
      partition_reported_ = false;
    }
    return;
  }
  bool waited = now - started_ >= config_.startup_wait;
  if (!peer_lost_reported_ && (ever_heard_ || waited)) {
    out.push_back(alert(Alert::PeerLost,
                        std::string(spName(peerOf(config_.self))) +
                            (ever_heard_ ? " silent on every path" : " not heard since start")));
    peer_lost_reported_ = true;
    partition_reported_ = false;
  }
}

void Election::decide(TimePoint now, Actions& out) {
  trackPaths(now, out);
  const bool alive = peerAlive(now) && peer_.has_value();
  if (yielding_ && (now >= yield_until_ || (alive && peer_->role == Role::Active)))
    yielding_ = false;  // handed over, or nobody took it: back to the normal rules

  if (role_ == Role::Starting) {
    if (alive) {
      if (claimsRole(peer_->role) || !iWin()) {
        becomePassive(out);  // no preemption; or let the winner take the role
      } else if (peer_->role == Role::Passive && now - started_ >= config_.startup_wait) {
        // Not before the startup wait: beats the peer queued while our link was down (its
        // ARP queue) arrive first and may be older than its current role.
        becomeActive(now, out, Alert::TookOver,
                     std::string(spName(peer_->sp)) + " is alive and passive");
      }
      return;  // winner waits for a starting peer to declare itself passive
    }
    if (now - started_ < config_.startup_wait) return;
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
        if (!claimsRole(peer_->role) && peer_->role == Role::Passive && iWin())
          becomeActive(now, out, Alert::TookOver,
                       std::string(spName(peer_->sp)) + " is alive and passive");
        return;
      }
      if (fence_in_flight_) return;
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
      if (!alive) return;
      if (peer_->role == Role::Active && peer_->epoch == epoch_ && config_.self == SpId::B) {
        // Two actives at one epoch cannot both have fenced; SP-A keeps the role.
        becomePassive(out);
        out.push_back(alert(Alert::SteppedDown, "SP-A is active at the same epoch"));
        return;
      }
      if (!isHealthy(health_) && peer_->role == Role::Passive && isHealthy(peer_->health)) {
        becomePassive(out);  // releases the address before the peer may take it
        out.push_back(alert(Alert::HandedOver, "unhealthy; " + std::string(spName(peer_->sp)) +
                                                   " is healthy and takes the role"));
      }
      return;
  }
}

}  // namespace dualsp::heartbeat
