#include "heartbeat/heartbeat_service.hpp"

#include <sys/time.h>

#include <algorithm>
#include <future>
#include <thread>

#include "heartbeat/heartbeat_frame.hpp"
#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"

namespace dualsp::heartbeat {
namespace {

using ipc::toProto;

constexpr Millis kTick{2};  // election re-evaluation: well under the shortest dead interval
constexpr Millis kPublish{100};

uint64_t monotonicMicros() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
          .count());
}

int64_t wallMillis() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

log::Level levelOf(Alert a) {
  switch (a) {
    case Alert::FenceFailed:
      return log::Level::Critical;
    case Alert::PeerLost:
    case Alert::PartitionDetected:
    case Alert::StaleEpochRefused:
    case Alert::SteppedDown:
    case Alert::NoCarrier:
    case Alert::WaitingForPeer:
    case Alert::Stalled:
    case Alert::OldBootRefused:
    case Alert::EpochOutOfRange:
    case Alert::PeerStalled:
      return log::Level::Warning;
    default:
      return log::Level::Notice;
  }
}

// Six midplane beats missed make the peer suspect (docs/ELECTION.md rule 1): 12 ms at the
// default 2 ms, 120 ms for the QEMU image's 20 ms.
constexpr int kMidplaneSuspectBeats = 6;

ServiceOptions withOwnBoot(ServiceOptions o) {
  o.election.own_boot = bootNonce(o.boot_id);
  if (o.midplane.enabled && o.election.midplane_suspect.count() == 0)
    o.election.midplane_suspect = kMidplaneSuspectBeats * o.midplane.interval;
  return o;
}

}  // namespace

HeartbeatService::HeartbeatService(ServiceOptions options, ServiceDependencies deps)
    : options_(withOwnBoot(std::move(options))),
      deps_(std::move(deps)),
      election_(options_.election, options_.persisted_epoch, options_.initial_health, Clock::now()),
      boot_nonce_(bootNonce(options_.boot_id)),
      peer_timer_(io_),
      mgmt_timer_(io_),
      midplane_timer_(io_),
      tick_timer_(io_),
      reconcile_timer_(io_),
      publish_timer_(io_),
      garp_timer_(io_),
      failover_timer_(io_),
      carrier_timer_(io_),
      garp_refresh_timer_(io_) {
  auto on_udp = [this](Path p, const proto::Heartbeat& f) { onUdpBeat(p, f); };
  if (options_.peer.enabled)
    peer_path_ = std::make_unique<UdpPath>(io_, Path::Peer, options_.peer, on_udp);
  if (options_.mgmt.enabled)
    mgmt_path_ = std::make_unique<UdpPath>(io_, Path::Mgmt, options_.mgmt, on_udp);
  if (options_.midplane.enabled) {
    segment_ = std::make_unique<platform::MidplaneSegment>(options_.midplane.segment,
                                                           options_.election.self);
    midplane_path_ = std::make_unique<MidplanePath>(*segment_, options_.midplane.key);
  }
}

HeartbeatService::~HeartbeatService() {
  stop();
}

void HeartbeatService::setInitialHistory(const History& history) {
  {
    std::lock_guard lock(history_mu_);
    if (segment_) segment_->writeHistory(history);
  }
  // What the election decides now (at start: to ask the chassis about a silent peer) is
  // carried out on the heartbeat thread once it runs. Dropped, a question the election
  // believes asked held the start-up's chassis question back by its whole re-ask interval
  // (250 ms).
  asio::post(io_,
             [this, actions = election_.onHistory(history, Clock::now())] { execute(actions); });
}

void HeartbeatService::start() {
  epoch_ = election_.epoch();
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { run(); });
}

void HeartbeatService::stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  io_.stop();
  thread_.join();
  if (fence_thread_.joinable()) fence_thread_.join();
  if (power_thread_.joinable()) power_thread_.join();
}

void HeartbeatService::setHistory(const History& history) {
  {
    std::lock_guard lock(history_mu_);
    // Synchronously: the peer can read it from the midplane even if this SP dies next.
    if (segment_) segment_->writeHistory(history);
  }
  asio::post(io_, [this, history] {
    if (history == election_.history()) return;
    execute(election_.onHistory(history, Clock::now()));
    publish();
  });
}

std::optional<History> HeartbeatService::peerHistory() const {
  std::lock_guard lock(history_mu_);
  if (segment_) {
    if (auto h = segment_->readPeerHistory()) return h;
  }
  return peer_history_;
}

bool HeartbeatService::historyPublishable() const {
  std::lock_guard lock(history_mu_);
  return !segment_ || !segment_->cut(options_.election.self);
}

bool HeartbeatService::peerHistoryReadable() const {
  std::lock_guard lock(history_mu_);
  return !segment_ ||
         (!segment_->cut(options_.election.self) && !segment_->cut(peerOf(options_.election.self)));
}

void HeartbeatService::setPeerLinkRoute(const std::string& route) {
  asio::post(io_, [this, route] {
    if (route == peer_link_route_) return;
    peer_link_route_ = route;
    publish();
  });
}

void HeartbeatService::setHealth(Health health) {
  asio::post(io_, [this, health] {
    if (health == election_.health()) return;
    LOG_NOTICE << "health is now " << healthName(health);
    execute(election_.onHealth(health, Clock::now()));
  });
}

std::string HeartbeatService::onThread(std::function<std::string()> f,
                                       const std::string& fallback) {
  auto result = std::make_shared<std::promise<std::string>>();
  auto answer = result->get_future();
  asio::post(io_, [result, f = std::move(f)] { result->set_value(f()); });
  if (answer.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return fallback;
  return answer.get();
}

std::string HeartbeatService::handOverGap() {
  return onThread(
      [this] {
        if (election_.role() != Role::Active || !election_.peerAlive(Clock::now()))
          return std::string();
        return election_.historyGap();
      },
      "");
}

std::string HeartbeatService::forceFailover(Millis drain) {
  // The peer's beats say how far its history reaches; right after a change they may lag a
  // beat or two behind: give them a moment before refusing for that reason.
  for (int attempt = 0; attempt < 25; ++attempt) {
    if (handOverGap().empty()) break;
    std::this_thread::sleep_for(Millis{20});
  }
  return onThread(
      [this, drain] {
        std::string why = election_.forceFailoverRefusal(Clock::now());
        if (!why.empty()) return why;
        // Requests in flight on the floating address (this one's answer among them) finish
        // before the address goes.
        LOG_NOTICE << "ForceFailover: releasing the active role in " << drain.count() << " ms";
        releaseAfter(drain, kHandOverGapRetries);
        return std::string();
      },
      "the heartbeat service did not answer");
}

void HeartbeatService::releaseAfter(Millis delay, int gap_retries) {
  failover_timer_.expires_after(delay);
  failover_timer_.async_wait([this, gap_retries](const asio::error_code& ec) {
    if (ec) return;
    const auto now = Clock::now();
    // Under a steady stream of changes the peer's last beat may name the history of a moment
    // ago (every change reaches the passive before it is acknowledged, the beat saying so
    // follows within a beat interval): look again shortly rather than abandon the hand-over.
    if (gap_retries > 0 && !election_.forceFailoverRefusal(now).empty() &&
        !election_.historyGap().empty())
      return releaseAfter(Millis{20}, gap_retries - 1);
    std::string late;
    Actions actions = election_.onForceFailover(now, late);
    if (!late.empty()) LOG_WARNING << "ForceFailover abandoned: " << late;
    execute(actions);
  });
}

void HeartbeatService::setFaults(std::vector<ipc::SnapshotFault> faults) {
  asio::post(io_, [this, faults = std::move(faults)] {
    faults_ = faults;
    publish();
  });
}

void HeartbeatService::every(asio::steady_timer& timer, Millis period, std::function<void()> work) {
  work();
  timer.expires_after(period);
  timer.async_wait([this, &timer, period, work](const asio::error_code& ec) {
    if (!ec) every(timer, period, work);
  });
}

void HeartbeatService::run() {
  auto rt = platform::makeRealtime(options_.realtime_priority);
  if (!rt.ok)
    LOG_WARNING << "heartbeat thread runs at normal priority: " << rt.error;
  else if (options_.realtime_priority > 0)
    LOG_INFO << "heartbeat thread at SCHED_FIFO priority " << options_.realtime_priority;

  if (peer_path_) {
    peer_path_->start();
    every(peer_timer_, options_.peer.interval, [this] { peer_path_->send(frame()); });
  }
  if (mgmt_path_) {
    mgmt_path_->start();
    every(mgmt_timer_, options_.mgmt.interval, [this] { mgmt_path_->send(frame()); });
  }
  if (segment_) {
    // The peer's slot as it left it (maybe dead): its epoch is one this SP must pass.
    auto left =
        midplane_path_ ? midplane_path_->readPeer(peerOf(options_.election.self)) : std::nullopt;
    if (left && left->epoch > election_.epoch()) {
      LOG_INFO << "the midplane shows " << spName(peerOf(options_.election.self)) << " at epoch "
               << left->epoch;
      execute(election_.onEpochHint(left->epoch, Clock::now()));
    }
    // Its boot too: beats of older boots are replays from the first beat on.
    if (left) election_.notePeerBoot(left->boot_counter);
  }
  if (midplane_path_) {
    LOG_INFO << "heartbeat midplane: segment " << options_.midplane.segment << " every "
             << options_.midplane.interval.count() << " ms";
    every(midplane_timer_, options_.midplane.interval,
          [this] { midplane_path_->write(stamped(election_.ownBeat())); });
  }
  every(tick_timer_, kTick, [this] {
    // The midplane is read on every tick, just before the judgement: a beat the peer wrote
    // is never judged missing because this thread ran late.
    pollMidplane();
    execute(election_.onTick(Clock::now()));
  });
  every(reconcile_timer_, options_.reconcile_interval, [this] {
    // The address follows the role, whatever happened behind our back (docs/DESIGN.md "Election": a
    // returning SP that finds the address on itself while passive removes it).
    bool held = deps_.floating.held();
    if (held != holds_) publish();
    holds_ = held;
    Role r = election_.role();
    if (r == Role::Active && !held) {
      LOG_WARNING << "active but the floating address is missing; adding it again";
      addAddress();
    } else if (r != Role::Active && held) {
      LOG_WARNING << "found the floating address on this SP while " << roleName(r)
                  << "; removing it";
      auto s = deps_.floating.remove();
      if (!s.ok) LOG_ERROR << "cannot remove the floating address: " << s.error;
      holds_ = deps_.floating.held();
    }
  });
  every(publish_timer_, kPublish, [this] { publish(); });
  if (!options_.carrier_interface.empty() && deps_.has_carrier)
    every(carrier_timer_, options_.carrier_poll, [this] { pollCarrier(); });
  if (options_.garp_refresh.count() > 0) {
    every(garp_refresh_timer_, options_.garp_refresh, [this] {
      if (election_.role() != Role::Active || !holds_) return;
      auto s = deps_.floating.announce();
      if (!s.ok) LOG_WARNING << "periodic gratuitous ARP failed: " << s.error;
    });
  }
  io_.run();
}

std::string HeartbeatService::frame() {
  proto::Heartbeat f;
  Beat own = stamped(election_.ownBeat());
  f.set_version(1);
  f.set_array_id(options_.array_id);
  f.set_sp(toProto(own.sp));
  f.set_role(static_cast<proto::Role>(own.role));
  f.set_health(static_cast<proto::Health>(own.health));
  f.set_epoch(own.epoch);
  f.set_seq(++seq_);
  f.set_boot_id(options_.boot_id);
  f.set_sent_us(own.sent_us);
  f.set_yielding(own.yielding);
  f.set_no_carrier(!own.can_serve);
  f.set_history_epoch(own.history.epoch);
  f.set_history_seq(own.history.seq);
  f.set_last_event_id(own.history.last_event_id);
  f.set_heard_boot(own.heard_boot);
  f.set_boot_counter(own.boot_counter);
  return f.SerializeAsString();
}

Beat HeartbeatService::stamped(Beat beat) const {
  beat.boot = boot_nonce_;
  beat.sent_us = monotonicMicros();
  beat.boot_counter = options_.boot_counter;
  return beat;
}

void HeartbeatService::pollMidplane() {
  if (!midplane_path_) return;
  const SpId self = options_.election.self;
  const auto now = Clock::now();
  const bool readable = !segment_->cut(self) && !segment_->cut(peerOf(self));
  election_.setMidplaneReadable(readable, now);
  auto beat = midplane_path_->poll(peerOf(self));
  if (!beat) return;
  noteMidplaneGap(readable, now);
  onBeat(Path::Midplane, *beat);
}

void HeartbeatService::noteMidplaneGap(bool readable, TimePoint now) {
  // How close the peer's beats came to making it suspect (docs/ELECTION.md "Why these
  // timings": the margin against a needless question to the chassis under load). Gaps across a
  // death, a restart or a cut are not the peer's timing and are not counted.
  const Millis suspect = options_.election.midplane_suspect;
  if (readable && last_midplane_beat_ && now - *last_midplane_beat_ <= 4 * suspect) {
    auto gap = std::chrono::duration_cast<std::chrono::microseconds>(now - *last_midplane_beat_);
    if (gap > longest_midplane_gap_) {
      longest_midplane_gap_ = gap;
      if (gap > 2 * options_.midplane.interval)
        LOG_INFO << "midplane: longest gap between " << spName(peerOf(options_.election.self))
                 << "'s beats so far " << gap.count() / 1000.0 << " ms (suspect after "
                 << suspect.count() << " ms)";
    }
  }
  last_midplane_beat_ = readable ? std::optional<TimePoint>(now) : std::nullopt;
}

void HeartbeatService::beatNow() {
  // A new role is told at once on every path (the peer waits for it in a hand-over), not at
  // the next interval.
  if (midplane_path_) midplane_path_->write(stamped(election_.ownBeat()));
  if (peer_path_) peer_path_->send(frame());
  if (mgmt_path_) mgmt_path_->send(frame());
}

void HeartbeatService::onUdpBeat(Path path, const proto::Heartbeat& f) {
  std::optional<Beat> beat = beatOfFrame(f, options_.array_id, options_.election.self);
  if (!beat) return;
  peer_boot_id_ = f.boot_id();
  onBeat(path, *beat);
}

void HeartbeatService::onBeat(Path path, const Beat& beat) {
  {
    // Never wait here: the holder may be a normal-priority thread that CPU load keeps off
    // the CPU, and this thread's beats must not stop for it (12 ms of midplane silence make
    // the peer ask the chassis about this SP). Missed now, the next beat (2 ms) carries the same
    // history.
    std::unique_lock lock(history_mu_, std::try_to_lock);
    if (lock.owns_lock()) peer_history_ = beat.history;
  }
  execute(election_.onBeat(path, beat, Clock::now()));
}

void HeartbeatService::execute(const Actions& actions) {
  if (actions.empty()) return;
  epoch_ = election_.epoch();
  bool role_changed = false;
  for (const Action& a : actions) {
    switch (a.kind) {
      case Action::Kind::SetRole:
        LOG_NOTICE << "role " << roleName(role_.load()) << " -> " << roleName(a.role) << " (epoch "
                   << election_.epoch() << ")";
        role_ = a.role;
        role_changed = true;
        break;
      case Action::Kind::PersistEpoch: {
        auto s = deps_.persist_epoch(a.epoch);
        if (!s.ok)
          LOG_CRITICAL << "cannot persist epoch " << a.epoch << ": " << s.error;
        else
          LOG_INFO << "epoch " << a.epoch << " persisted";
        break;
      }
      case Action::Kind::AddAddress:
        addAddress();
        break;
      case Action::Kind::RemoveAddress: {
        auto s = deps_.floating.remove();
        if (!s.ok)
          LOG_ERROR << "cannot release the floating address " << deps_.floating.describe() << ": "
                    << s.error;
        else
          LOG_NOTICE << "released the floating address " << deps_.floating.describe();
        holds_ = false;
        garp_timer_.cancel();
        break;
      }
      case Action::Kind::FencePeer:
        fence();
        break;
      case Action::Kind::RaiseAlert:
        log::write(levelOf(a.alert), "alert " + std::string(alertName(a.alert)) + ": " + a.detail);
        break;
      case Action::Kind::QueryPeerPower:
        queryPeerPower();
        break;
    }
  }
  if (role_changed) beatNow();
  publish();
}

void HeartbeatService::addAddress() {
  auto s = deps_.floating.add();
  if (!s.ok) {
    LOG_ERROR << "cannot add the floating address " << deps_.floating.describe() << ": " << s.error
              << " (retrying)";
    return;
  }
  holds_ = true;
  LOG_NOTICE << "holding the floating address " << deps_.floating.describe();
  announce(options_.garp_count);
}

void HeartbeatService::announce(int remaining) {
  if (remaining <= 0 || election_.role() != Role::Active) return;
  auto s = deps_.floating.announce();
  if (!s.ok) LOG_WARNING << "gratuitous ARP failed: " << s.error;
  garp_timer_.expires_after(options_.garp_interval);
  garp_timer_.async_wait([this, remaining](const asio::error_code& ec) {
    if (!ec) announce(remaining - 1);
  });
}

void HeartbeatService::fence() {
  if (fence_thread_.joinable()) fence_thread_.join();
  LOG_WARNING << "fencing " << spName(peerOf(options_.election.self)) << " through "
              << deps_.fencer.describe();
  // Fencing blocks on the chassis; heartbeats must keep flowing meanwhile.
  fence_thread_ = std::thread([this] {
    auto started = Clock::now();
    auto s = deps_.fencer.fencePeer(options_.fence_timeout);
    auto took = std::chrono::duration_cast<Millis>(Clock::now() - started).count();
    asio::post(io_, [this, s, took] {
      if (s.ok)
        LOG_NOTICE << "fenced " << spName(peerOf(options_.election.self)) << " in " << took
                   << " ms";
      execute(election_.onFenceResult(s.ok, s.ok ? "powered off" : s.error, Clock::now()));
    });
  });
}

void HeartbeatService::queryPeerPower() {
  LOG_DEBUG << "asking the chassis about " << spName(peerOf(options_.election.self))
            << (power_query_in_flight_ ? " (an answer is under way: asking again after it)" : "");
  if (power_query_in_flight_) {
    // The answer under way was asked for before: the election wants one asked from now.
    power_query_again_ = true;
    return;
  }
  power_query_in_flight_ = true;
  if (power_thread_.joinable()) power_thread_.join();
  // The chassis is asked off the heartbeat thread: a busy controller must not delay beats.
  power_thread_ = std::thread([this] {
    PowerState state = deps_.fencer.peerPower(Millis{500});
    asio::post(io_, [this, state] {
      power_query_in_flight_ = false;
      LOG_DEBUG << "chassis: " << spName(peerOf(options_.election.self)) << " is "
                << powerStateName(state);
      execute(election_.onPeerPower(state, Clock::now()));
      if (power_query_again_) {
        power_query_again_ = false;
        queryPeerPower();
      }
    });
  });
}

void HeartbeatService::pollCarrier() {
  const bool carrier = deps_.has_carrier(options_.carrier_interface);
  if (carrier_ && *carrier_ == carrier) return;
  const bool was = carrier_.value_or(true);
  carrier_ = carrier;
  can_serve_ = carrier;
  execute(election_.onCarrier(carrier, Clock::now()));
  if (carrier && !was && election_.role() == Role::Active && holds_) {
    // Caches on the LAN may still point at the old holder (a takeover while the cable was
    // out): tell them again now that they can hear us (keepalived users asked for this).
    LOG_NOTICE << "carrier back on " << options_.carrier_interface
               << " while holding the floating address: gratuitous ARP";
    announce(options_.garp_count);
  }
  publish();
}

void HeartbeatService::publish() {
  ipc::StatusSnapshot s = deps_.board_template;
  auto now = Clock::now();
  int64_t wall = wallMillis();
  s.role = election_.role();
  s.health = election_.health();
  s.epoch = election_.epoch();
  s.holds_floating = holds_;
  s.updated_ms = wall;
  s.peer_alive = election_.peerJudgedAlive(now);
  if (auto b = election_.lastPeerBeat()) {
    // The election's newest accepted beat: a late, older one must not roll the role back.
    s.peer_role = b->role;
    s.peer_health = b->health;
    s.peer_epoch = b->epoch;
  }
  if (auto heard = election_.lastHeard())
    s.peer_last_heard_ms = wall - std::chrono::duration_cast<Millis>(now - *heard).count();
  for (size_t i = 0; i < kPathCount; ++i) {
    Path p = static_cast<Path>(i);
    if (election_.pathConfigured(p)) s.paths_configured |= 1u << i;
    if (election_.pathAlive(p, now)) s.paths_alive |= 1u << i;
  }
  ipc::copyField(s.peer_boot_id, peer_boot_id_);
  s.can_serve = election_.canServe();
  if (auto b = election_.lastPeerBeat()) s.peer_can_serve = b->can_serve;
  ipc::copyField(s.peer_link_route, peer_link_route_);
  s.history = election_.history();
  if (auto b = election_.lastPeerBeat()) s.peer_history = b->history;
  s.fault_count = static_cast<uint8_t>(std::min(faults_.size(), ipc::StatusSnapshot::kMaxFaults));
  for (size_t i = 0; i < s.fault_count; ++i) s.faults[i] = faults_[i];
  deps_.board.publish(s);
}

}  // namespace dualsp::heartbeat
