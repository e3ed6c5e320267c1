#include "sp/config_writer.hpp"

#include <algorithm>
#include <thread>

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"
#include "sp/idempotency.hpp"

namespace dualsp::sp {
namespace {

// Between checks while a change waits for the passive to become reachable.
constexpr std::chrono::milliseconds kWaitStep{10};

bool sameContent(const ConfigRecord& a, const ConfigRecord& b) {
  return a.deleted() == b.deleted() && (a.deleted() || a.value() == b.value());
}

}  // namespace

ConfigWriter::ConfigWriter(ConfigCore& core, ConfigTakeover& takeover,
                           std::function<bool()> resync_now)
    : core_(core), takeover_(takeover), resync_now_(std::move(resync_now)) {}

ConfigWriter::Mode ConfigWriter::writeMode() {
  // Took over without knowing how far the dead peer's history went: nothing is numbered or
  // acknowledged until that is known (the midplane reads again, or a resync with the peer).
  takeover_.resolveUnknownHistory();
  if (core_.history_unknown) return Mode::Wait;
  // Dead means the election says so: every heartbeat path silent. Only then alone, and only
  // when how far this history reaches can be left where the peer will read it.
  if (!core_.peerAlive()) return core_.canPublishHistory() ? Mode::Alone : Mode::Wait;
  if (!core_.peerReachable()) return Mode::Wait;
  {
    std::lock_guard lock(core_.mu);
    if (core_.peer_in_sync && !core_.peer_needs_full_copy) return Mode::Replicate;
  }
  // The passive is there but behind (it just started, or a change did not reach it): bring
  // it up to date first, so this change too is acknowledged with both copies.
  return resync_now_ && resync_now_() ? Mode::Replicate : Mode::Wait;
}

ConfigWriter::Sent ConfigWriter::replicate(const std::vector<ConfigRecord>& records, Version prev,
                                           Deadline deadline, platform::Status& why) {
  proto::ReplicateRequest request;
  *request.mutable_prev() = toProtoVersion(prev);
  for (const auto& r : records) *request.add_records() = r;
  request.set_epoch(core_.deps.epoch ? core_.deps.epoch() : 0);
  const std::string payload = request.SerializeAsString();
  bool maybe_arrived = false;
  for (int attempt = 0;; ++attempt) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (attempt > 0 && left.count() <= 0) break;
    // The same request again is harmless: the passive answers "applied" for what it holds.
    auto timeout = std::clamp(left, std::chrono::milliseconds{50}, core_.options.replicate_timeout);
    auto answer = core_.askPeer(core_.peerCommand("ConfigReplicate", payload, timeout), timeout);
    if (answer.result) {
      if (answer.result->status() != proto::CommandResult::OK) {
        why = platform::Status::failure(answer.result->error());
        return maybe_arrived ? Sent::InDoubt : Sent::Refused;
      }
      proto::ReplicateAnswer replicated;
      if (replicated.ParseFromString(answer.result->payload()) && replicated.applied())
        return Sent::Applied;
      why = platform::Status::failure(
          replicated.error().empty() ? "unreadable answer" : replicated.error(),
          replicated.sys_errno());
      if (replicated.superseded()) return Sent::Superseded;
      return maybe_arrived ? Sent::InDoubt : Sent::Refused;
    }
    why = platform::Status::failure(ipc::toString(answer.error));
    if (!ipc::neverSent(answer.error)) maybe_arrived = true;
    if (!core_.peerAlive()) break;  // the election declared it dead meanwhile
    std::this_thread::sleep_for(kWaitStep);
  }
  return maybe_arrived ? Sent::InDoubt : Sent::NotSent;
}

bool ConfigWriter::stampChange(proto::ConfigWrite& change, Version v,
                               std::vector<ConfigRecord>& records, proto::ConfigWriteAnswer& answer,
                               const Reply& reply) {
  records.clear();
  answer.Clear();
  for (const auto& in : change.records()) {
    ConfigRecord r = in;
    if (!change.create_prefix().empty()) r.set_key(change.create_prefix() + std::to_string(v.seq));
    if (r.deleted()) {
      r.clear_value();
      if (!core_.store.get(r.key())) {
        reply(errorResult(proto::CommandResult::NOT_FOUND, "no " + r.key() + " to remove"));
        return false;
      }
    }
    *r.mutable_version() = toProtoVersion(v);
    r.set_writer(ipc::toProto(core_.deps.self));
    answer.add_keys(r.key());
    records.push_back(std::move(r));
    ++v.seq;
    if (!change.create_prefix().empty()) break;
  }
  *answer.mutable_version() = toProtoVersion(records.empty() ? v : versionOf(records.back()));
  if (change.has_idempotency()) {
    // In the same change: if it commits, the survivor of a failover knows it was applied.
    const std::string key = idempotency::recordKey(change.idempotency().id());
    std::optional<std::string> value = idempotency::appliedValue(
        change.idempotency(), core_.store.get(key), {answer.keys().begin(), answer.keys().end()},
        change.create_prefix(), core_.deps.wall_ms ? core_.deps.wall_ms() : 0);
    if (!value) {
      auto refused = errorResult(proto::CommandResult::BAD_REQUEST,
                                 "another request with this Idempotency-Key made the change "
                                 "already; it was not made again");
      refused.set_message_key(idempotency::kKeyApplied);
      reply(std::move(refused));
      return false;
    }
    ConfigRecord marker;
    marker.set_key(key);
    marker.set_value(std::move(*value));
    *marker.mutable_version() = toProtoVersion(v);
    marker.set_writer(ipc::toProto(core_.deps.self));
    records.push_back(std::move(marker));
    ++v.seq;
  }
  if (change.has_event()) {
    proto::Event event = change.event();
    // A created object: the event is about it, not about its collection.
    if (!change.create_prefix().empty() && !event.origin().empty() && !answer.keys().empty())
      event.set_origin(event.origin() + "/" + answer.keys(0).substr(change.create_prefix().size()));
    records.push_back(core_.eventRecord(std::move(event), v, core_.nextEventId()));
  }
  return true;
}

platform::Status ConfigWriter::commitLocal(std::vector<ConfigRecord>& records, bool alone) {
  // Records after the sync point may be news to the peer: keep the point on disk before
  // the first of them, so a restart still knows what to offer in a merge.
  if (alone && !core_.has_marker) {
    Version synced;
    {
      std::lock_guard lock(core_.mu);
      synced = core_.synced;
    }
    auto s = core_.saveSyncPoint(synced);
    if (!s.ok) {
      // A full disk refuses the sync point before the journal: the same fault.
      if (isStorageError(s)) core_.storageFault(s);
      return s;
    }
  }
  auto status = core_.store.commit(records);
  if (!status.ok) {
    if (isStorageError(status)) core_.storageFault(status);
    return status;
  }
  core_.storageRecovered();
  core_.notifyListeners(records);
  acknowledged(alone);
  return status;
}

void ConfigWriter::acknowledged(bool alone) {
  {
    std::lock_guard lock(core_.mu);
    ++core_.stats.writes;
    if (alone) {
      ++core_.stats.alone;
      core_.peer_in_sync = false;
    } else {
      ++core_.stats.replicated;
      core_.synced = core_.store.last();
    }
    // The active SP commits only acknowledged changes: all of its store is visible.
    core_.visible = core_.store.last();
  }
  // Before the caller answers: a survivor must know how far this history reaches.
  core_.publishHistory();
}

void ConfigWriter::refuse(const Reply& reply, const std::string& why) {
  {
    std::lock_guard lock(core_.mu);
    ++core_.stats.refused;
  }
  reply(errorResult(proto::CommandResult::UNAVAILABLE, why));
}

std::string ConfigWriter::refusalAfterWait(const std::string& last_refusal) const {
  const std::string self = core_.selfName();
  const std::string peer = core_.peerName();
  LOG_WARNING << "configuration change refused after " << core_.options.change_wait.count()
              << " ms: " << (last_refusal.empty() ? peer + " unreachable" : last_refusal);
  if (core_.history_unknown)
    return self + " took over from " + peer + " without reading on the midplane " + "how far " +
           peer + "'s configuration history reached, so it takes " + "no change until it can or " +
           peer + " returns; it was not applied: " + "retry";
  if (!core_.peerAlive())
    return peer + " is down and " + self + " cannot record on the midplane how " +
           "far its configuration history reaches (its side of the midplane " +
           "is cut), so it cannot take a change alone; it was not applied: retry";
  if (!last_refusal.empty())
    return peer + " did not take the change (" + last_refusal +
           "); it was not applied anywhere: retry";
  return peer + " is alive (its heartbeats are heard) but cannot be reached on " +
         "the peer link, so the change cannot be written on both SPs; it was " +
         "not applied anywhere: retry";
}

void ConfigWriter::writeAsActive(proto::ConfigWrite change, Deadline deadline, Reply reply) {
  const std::string self = core_.selfName();
  std::string last_refusal;
  for (int round = 0;; ++round) {
    if (!core_.store.isOpen())
      return reply(errorResult(proto::CommandResult::UNAVAILABLE, "configuration store not open"));
    if (core_.deps.role && core_.deps.role() != Role::Active)
      return refuse(reply,
                    self + " stopped being the active SP; the change was not applied: retry");
    takeover_.noteRole(Role::Active);
    if (round > 0 && core_.stopping()) {
      // spd is shutting down or restarting: a change not yet sent is refused now rather than
      // holding the shutdown (and the floating address, with nobody answering) for its wait.
      LOG_WARNING << "configuration change refused: " << self << " is shutting down";
      return refuse(reply, self +
                               " is restarting or shutting down; the change was not applied "
                               "anywhere: retry");
    }
    if (round > 0 && std::chrono::steady_clock::now() >= deadline)
      return refuse(reply, refusalAfterWait(last_refusal));
    if (attemptWrite(change, deadline, reply, last_refusal) == Attempt::Answered) return;
  }
}

ConfigWriter::Attempt ConfigWriter::attemptWrite(proto::ConfigWrite& change, Deadline deadline,
                                                 const Reply& reply, std::string& last_refusal) {
  const std::string self = core_.selfName();
  const std::string peer = core_.peerName();
  const Mode mode = writeMode();
  if (mode == Mode::Wait) {
    std::this_thread::sleep_for(kWaitStep);
    return Attempt::Again;
  }
  const bool alone = mode == Mode::Alone;
  const Version prev = core_.store.last();
  std::vector<ConfigRecord> records;
  proto::ConfigWriteAnswer answer;
  if (alone && change.has_event())
    change.mutable_event()->set_message(change.event().message() + " (acknowledged by " + self +
                                        " alone: " + peer + " was down)");
  if (!stampChange(change, core_.nextVersion(prev), records, answer, reply))
    return Attempt::Answered;

  bool held_alone = alone;
  if (!alone) {
    platform::Status why;
    const Deadline until =
        std::max(deadline, std::chrono::steady_clock::now() + core_.options.replicate_timeout);
    const Sent sent = replicate(records, prev, until, why);
    if (sent == Sent::Refused || sent == Sent::Superseded) {
      core_.peerBehind(false);
      LOG_WARNING << peer << " refused configuration " << toString(versionOf(records.back()))
                  << ": " << why.error;
      if (sent == Sent::Superseded) {
        refuse(reply, peer + " refused the change (" + why.error + "): " + self +
                          " is no longer the active SP; it was not applied: retry");
        return Attempt::Answered;
      }
      if (isStorageError(why)) {
        reply(errorResult(
            proto::CommandResult::INSUFFICIENT_STORAGE,
            peer + " could not store the change (" + why.error + "); it was not applied anywhere"));
        return Attempt::Answered;
      }
      last_refusal = why.error;
      return Attempt::Again;  // out of sync: resynchronise and try again within the deadline
    }
    if (sent == Sent::NotSent) return Attempt::Again;  // the loop waits or finds the peer dead
    if (sent == Sent::InDoubt) {
      // Declared dead meanwhile: whatever it got, this SP's copy is the one that counts, but
      // only where this SP can leave how far its history reaches on the midplane (else a
      // survivor would give this change's event id to another: chaos seed 11).
      if (core_.peerAlive() || !core_.canPublishHistory()) {
        core_.peerBehind(true);
        {
          std::lock_guard lock(core_.mu);
          ++core_.stats.in_doubt;
        }
        LOG_WARNING << "configuration " << toString(versionOf(records.back())) << " sent to "
                    << peer << " without a confirmation (" << why.error << "); not applied on "
                    << self << ", dropped on " << peer << " at the next resynchronisation";
        reply(errorResult(proto::CommandResult::TIMEOUT,
                          peer + " did not confirm the change (" + why.error +
                              "). It was not applied on " + self + " and " + peer +
                              " drops it at the next resynchronisation, unless " + self +
                              " fails first: read it back before retrying"));
        return Attempt::Answered;
      }
      held_alone = true;
    }
  }
  auto status = commitLocal(records, held_alone);
  if (!status.ok) {
    // The passive journaled what this SP could not: its copy goes with the next resync.
    if (!held_alone) core_.peerBehind(true);
    auto code = isStorageError(status) ? proto::CommandResult::INSUFFICIENT_STORAGE
                                       : proto::CommandResult::INTERNAL;
    reply(errorResult(code, "the configuration change was not stored: " + status.error +
                                (held_alone ? ""
                                            : "; " + peer +
                                                  "'s copy is dropped at the next "
                                                  "resynchronisation")));
    return Attempt::Answered;
  }
  answer.set_replicated(!held_alone);
  answer.set_written_by(ipc::toProto(core_.deps.self));
  auto result = okResult(answer.SerializeAsString());
  result.set_answered_by(ipc::toProto(core_.deps.self));
  result.set_served_by(ipc::toProto(core_.deps.self));
  reply(std::move(result));
  return Attempt::Answered;
}

ConfigWriter::EventsOutcome ConfigWriter::recordEvents(const std::vector<proto::Event>& events,
                                                       platform::Status& refusal) {
  const Mode mode = writeMode();
  if (mode == Mode::Wait) return EventsOutcome::Wait;
  const bool alone = mode == Mode::Alone;
  const Version prev = core_.store.last();
  Version v = core_.nextVersion(prev);
  uint64_t id = core_.nextEventId();
  std::vector<ConfigRecord> records;
  for (const auto& event : events) {
    records.push_back(core_.eventRecord(event, v, id++));
    ++v.seq;
  }
  bool held_alone = alone;
  if (!alone) {
    platform::Status why;
    const Sent sent = replicate(
        records, prev, std::chrono::steady_clock::now() + core_.options.replicate_timeout, why);
    if (sent == Sent::InDoubt && !core_.peerAlive()) {
      held_alone = true;
    } else if (sent != Sent::Applied) {
      core_.peerBehind(sent == Sent::InDoubt);
      return EventsOutcome::Wait;  // they wait for the next tick
    }
  }
  refusal = commitLocal(records, held_alone);
  if (!refusal.ok) {
    LOG_WARNING << records.size() << " array events not recorded: " << refusal.error;
    if (!held_alone) core_.peerBehind(true);
    return EventsOutcome::Refused;
  }
  return EventsOutcome::Recorded;
}

// ---- The passive side ----

bool ConfigWriter::holdsAlready(const proto::ReplicateRequest& request) const {
  // The same request again (its answer was lost): answer it as applied.
  if (request.records().empty()) return false;
  if (versionOf(*request.records().rbegin()) != core_.store.last()) return false;
  for (const auto& r : request.records()) {
    auto mine = core_.store.find(r.key());
    if (!mine || versionOf(*mine) != versionOf(r) || !sameContent(*mine, r)) return false;
  }
  return true;
}

void ConfigWriter::applyReplicate(const proto::ReplicateRequest& request, Reply reply) {
  proto::ReplicateAnswer answer;
  Version last = core_.store.last();
  Version prev = fromProtoVersion(request.prev());
  if (core_.deps.role && core_.deps.role() == Role::Active) {
    answer.set_error(core_.selfName() + " is active itself");
  } else if (core_.deps.epoch && request.epoch() < core_.deps.epoch()) {
    // An SP that lost the role without knowing it (it was hung, the peer took over).
    answer.set_error("change from epoch " + std::to_string(request.epoch()) +
                     " refused: this SP is at epoch " + std::to_string(core_.deps.epoch()));
    answer.set_superseded(true);
  } else if (holdsAlready(request)) {
    answer.set_applied(true);
  } else if (core_.has_marker) {
    answer.set_error("this SP has changes the active SP has not seen: resync needed");
  } else if (prev != last) {
    answer.set_error("out of sync: this SP is at " + toString(last) + ", the change follows " +
                     toString(prev));
  } else {
    std::vector<ConfigRecord> records(request.records().begin(), request.records().end());
    auto status = core_.store.commit(records);
    if (!status.ok) {
      if (isStorageError(status)) core_.storageFault(status);
      answer.set_error(status.error);
      answer.set_sys_errno(status.sys_errno);
    } else {
      answer.set_applied(true);
      core_.notifyListeners(records);
      std::lock_guard lock(core_.mu);
      core_.synced = core_.store.last();
    }
  }
  if (answer.applied()) {
    // Everything up to `prev` is acknowledged on the active SP (it commits only what this
    // SP holds); the change itself becomes visible when the active's history says so.
    {
      std::lock_guard lock(core_.mu);
      core_.visible = std::max(core_.visible, std::min(prev, core_.store.last()));
    }
    core_.publishHistory();
  }
  *answer.mutable_last() = toProtoVersion(core_.store.last());
  reply(okResult(answer.SerializeAsString()));
}

}  // namespace dualsp::sp
