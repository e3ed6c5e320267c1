#include "sp/config_resync.hpp"

#include <cinttypes>
#include <cstdio>

#include "platform/log.hpp"
#include "sp/events.hpp"

namespace dualsp::sp {
namespace {

constexpr std::chrono::milliseconds kMaxResyncBackoff{1000};
// Offers and copies travel in parts of about this size: a peer-link frame holds 1 MiB.
constexpr size_t kPartBytes = 256 * 1024;

}  // namespace

ConfigResync::ConfigResync(ConfigCore& core)
    : core_(core), merge_(core), resync_backoff_(core.options.resync_interval) {}

std::string ConfigResync::offerPayload(bool everything, std::optional<Version> after,
                                       Version shared) {
  std::string payload = everything ? "all" : "";
  if (after) payload += (payload.empty() ? "" : " ") + std::string("after ") + toString(*after);
  payload += (payload.empty() ? "" : " ") + std::string("shared ") + toString(shared);
  return payload;
}

ConfigResync::OfferRequest ConfigResync::parseOfferPayload(const std::string& text) {
  auto versionAfter = [&text](const char* word) -> std::optional<Version> {
    const std::string key = std::string(word) + " ";
    auto at = text.find(key);
    uint64_t epoch = 0, seq = 0;
    if (at == std::string::npos ||
        std::sscanf(text.c_str() + at + key.size(), "%" SCNu64 ".%" SCNu64, &epoch, &seq) != 2)
      return std::nullopt;
    return Version{epoch, seq};
  };
  return {text.rfind("all", 0) == 0, versionAfter("after"), versionAfter("shared")};
}

// ---- The active side ----

void ConfigResync::resyncSoon() {
  std::lock_guard lock(core_.mu);
  core_.peer_in_sync = false;
  next_resync_ = std::chrono::steady_clock::now();
}

bool ConfigResync::resyncIfDue() {
  if (std::chrono::steady_clock::now() < next_resync_) return false;
  return resyncNow();
}

PeerTransport::Answer ConfigResync::askOffer(bool everything) {
  auto request = [&](std::optional<Version> after) {
    Version shared;
    {
      std::lock_guard lock(core_.mu);
      shared = core_.synced;
    }
    return core_.peerCommand("ConfigSyncOffer", offerPayload(everything, after, shared),
                             core_.options.replicate_timeout);
  };
  // The offer comes in pages; the first answer carries everything but the later records.
  PeerTransport::Answer first =
      core_.askPeer(request(std::nullopt), core_.options.replicate_timeout);
  if (!first.result || first.result->status() != proto::CommandResult::OK) return first;
  proto::SyncOffer offer;
  if (!offer.ParseFromString(first.result->payload()) || !offer.more()) return first;
  for (int page = 0; page < 10000 && offer.more() && offer.divergent_size() > 0; ++page) {
    Version after = versionOf(*offer.divergent().rbegin());
    auto next = core_.askPeer(request(after), core_.options.replicate_timeout);
    proto::SyncOffer part;
    if (!next.result || next.result->status() != proto::CommandResult::OK ||
        !part.ParseFromString(next.result->payload()))
      return next.result ? next : PeerTransport::Answer{std::nullopt, next.error};
    for (auto& r : *part.mutable_divergent()) *offer.add_divergent() = std::move(r);
    offer.set_more(part.more());
  }
  first.result->set_payload(offer.SerializeAsString());
  return first;
}

bool ConfigResync::resyncNow() {
  if (!core_.store.isOpen() || (core_.deps.role && core_.deps.role() != Role::Active) ||
      !core_.deps.peer)
    return false;
  bool everything = core_.store.recoveryReport().needs_peer_copy;
  return finishResync(askOffer(everything), everything);
}

bool ConfigResync::fail(const std::string& why, bool never_sent) {
  if (why != last_resync_error_)
    LOG_INFO << "resync of " << core_.peerName() << " not done: " << why;
  last_resync_error_ = why;
  std::lock_guard lock(core_.mu);
  if (never_sent) {
    // Nothing was sent: cheap to ask again at the next tick, when the link may be back.
    next_resync_ = std::chrono::steady_clock::now();
    return false;
  }
  next_resync_ = std::chrono::steady_clock::now() + resync_backoff_;
  resync_backoff_ = std::min(resync_backoff_ * 2, kMaxResyncBackoff);
  return false;
}

bool ConfigResync::sendInstall(const proto::SyncInstall& install, std::string& error) {
  proto::CommandResult result;
  proto::ReplicateAnswer installed;
  if (!core_.callPeer("ConfigSyncInstall", install.SerializeAsString(),
                      core_.options.replicate_timeout * 3, result, error))
    return false;
  if (!installed.ParseFromString(result.payload()) || !installed.applied()) {
    error = "refused: " + installed.error();
    return false;
  }
  return true;
}

bool ConfigResync::sendCopy(bool full, Version peer_last, std::string& error) {
  if (full) {
    proto::ConfigSnapshot copy = core_.store.copy();
    proto::SyncInstall install;
    install.set_full(true);
    *install.mutable_snapshot()->mutable_last() = copy.last();
    size_t bytes = 0;
    uint32_t part = 0;
    for (int i = 0; i < copy.records_size(); ++i) {
      if (bytes > kPartBytes) {
        install.set_part(part++);
        install.set_more(true);
        if (!sendInstall(install, error)) return false;
        install.mutable_snapshot()->clear_records();
        bytes = 0;
      }
      bytes += copy.records(i).ByteSizeLong();
      *install.mutable_snapshot()->add_records() = copy.records(i);
    }
    install.set_part(part);
    install.set_more(false);
    return sendInstall(install, error);
  }
  proto::SyncInstall install;
  *install.mutable_prev() = toProtoVersion(peer_last);
  size_t bytes = 0;
  for (auto& r : core_.store.since(peer_last)) {
    if (bytes > kPartBytes) {
      if (!sendInstall(install, error)) return false;
      *install.mutable_prev() = install.records().rbegin()->version();
      install.clear_records();
      bytes = 0;
    }
    bytes += r.ByteSizeLong();
    *install.add_records() = std::move(r);
  }
  return sendInstall(install, error);
}

bool ConfigResync::finishResync(const PeerTransport::Answer& answer, bool everything) {
  if (!core_.store.isOpen() || (core_.deps.role && core_.deps.role() != Role::Active)) return false;
  if (!answer.result) return fail(ipc::toString(answer.error), ipc::neverSent(answer.error));
  if (answer.result->status() != proto::CommandResult::OK) return fail(answer.result->error());
  proto::SyncOffer offer;
  if (!offer.ParseFromString(answer.result->payload())) return fail("unreadable offer");

  const SpId peer = peerOf(core_.deps.self);
  const std::string peer_name = core_.peerName();
  Version peer_last = fromProtoVersion(offer.last());
  Version synced, common = fromProtoVersion(offer.sync_point());
  bool needs_full_copy = false;
  {
    std::lock_guard lock(core_.mu);
    synced = core_.synced;
    needs_full_copy = core_.peer_needs_full_copy;
  }
  // Both sync points are lower bounds of the shared history, so their max is too; unless
  // the passive lost records since (its store was damaged): then only its own point holds,
  // and what it wrote after it may carry versions this SP used for other changes.
  if (!offer.needs_copy() && !(peer_last < synced)) common = std::max(synced, common);
  MergeOutcome merged = merge_.merge(offer, common, everything);

  bool full = offer.needs_copy() || !merged.divergent.empty() || merged.dropped > 0 ||
              needs_full_copy || core_.store.last() < peer_last;
  size_t behind = full ? 0 : core_.store.since(peer_last).size();
  if (behind > core_.options.max_incremental) full = true;
  std::string detail = "Resynchronised " + peer_name + " from version " + toString(peer_last) +
                       " (" + (full ? "full copy" : std::to_string(behind) + " changes") + ")";
  if (!merged.divergent.empty())
    detail += "; merged its " + std::to_string(merged.taken) + " configuration changes and " +
              std::to_string(merged.events + merged.restored) + " events (" +
              std::to_string(merged.restored) + " under their own ids), " +
              std::to_string(merged.conflicts) + " conflicts";
  if (merged.dropped > 0)
    detail += "; dropped " + std::to_string(merged.dropped) + " unconfirmed records of " +
              core_.selfName();
  detail += ".";
  merge_.appendEvent(
      merged,
      makeEvent(message::kStateChanged, {managerUri(peer) + " configuration", "Synchronized"},
                managerUri(peer), merged.conflicts ? "Warning" : "OK", core_.deps.self, detail));
  const bool restored_missing = core_.missing && !(peer_last < versionOfHistory(*core_.missing));
  if (restored_missing) {
    merge_.appendEvent(
        merged, makeEvent(message::kErrorsCorrected, {"ConfigurationStore", "MissingChanges"},
                          managerUri(core_.deps.self), "OK", core_.deps.self,
                          "The configuration changes up to version " +
                              toString(versionOfHistory(*core_.missing)) + " that " + peer_name +
                              " acknowledged alone are merged back."));
  }
  std::string error;
  if (!commitAndInstall(merged, full, peer_last, error)) return fail(error);
  resynced(merged.conflicts, everything, restored_missing);
  LOG_NOTICE << detail;
  return true;
}

bool ConfigResync::commitAndInstall(MergeOutcome& merged, bool full, Version peer_last,
                                    std::string& error) {
  // Merged records are new changes of this SP: before they are journaled, the sync point.
  if (!core_.has_marker) {
    Version synced;
    {
      std::lock_guard lock(core_.mu);
      synced = core_.synced;
    }
    auto s = core_.saveSyncPoint(synced);
    if (!s.ok) {
      error = "merge not stored: " + s.error;
      return false;
    }
  }
  auto status = core_.store.commit(merged.merged);
  if (!status.ok) {
    if (isStorageError(status)) core_.storageFault(status);
    error = "merge not stored: " + status.error;
    return false;
  }
  core_.notifyListeners(merged.merged);
  if (!sendCopy(full, peer_last, error)) {
    error = "install: " + error;
    // Stamped at versions (and event ids) the peer already holds: records of this SP it
    // journaled without a confirmation (merged.dropped), which it takes over with if this SP
    // dies before a copy installs. Shown now, one event id would show two events (chaos seed
    // 53): they stay unseen until a resync installs, or this SP writes alone.
    if (!merged.merged.empty() && !(peer_last < versionOf(merged.merged.front()))) return false;
    // The merged records are this SP's (acknowledged) history now; the peer gets them next time.
    {
      std::lock_guard lock(core_.mu);
      core_.visible = core_.store.last();
    }
    core_.publishHistory();
    return false;
  }
  return true;
}

void ConfigResync::resynced(size_t conflicts, bool everything, bool restored_missing) {
  if (everything) {
    core_.store.clearNeedsPeerCopy();
    core_.clearFault("config-store");
  }
  if (restored_missing) {
    core_.clearMissing();
    core_.clearFault("config-missing");
  }
  core_.clearSyncPoint();  // the peer holds everything this SP has
  if (core_.history_unknown) {
    // The peer's own history has just been offered and merged: nothing is unknown any more.
    core_.history_unknown = false;
    core_.clearFault("config-unknown");
  }
  last_resync_error_.clear();
  {
    std::lock_guard lock(core_.mu);
    resync_backoff_ = core_.options.resync_interval;
    core_.peer_in_sync = true;
    core_.peer_needs_full_copy = false;
    core_.synced = core_.visible = core_.store.last();
    ++core_.stats.resyncs;
    core_.stats.conflicts += conflicts;
  }
  core_.publishHistory();
}

// ---- The passive side ----

proto::SyncOffer ConfigResync::makeOffer(bool everything, std::optional<Version> after,
                                         std::optional<Version> shared) const {
  proto::SyncOffer offer;
  // This SP's own point assumes everything it journaled is shared; the active may know less
  // (a change this SP journaled whose confirmation the active never had before it died):
  // records after the active's shared point are offered too.
  Version point = everything ? Version{} : core_.syncPoint();
  if (shared && *shared < point) point = *shared;
  *offer.mutable_sync_point() = toProtoVersion(point);
  *offer.mutable_last() = toProtoVersion(core_.store.last());
  size_t bytes = 0;
  for (auto& r : core_.store.since(after ? std::max(*after, point) : point)) {
    if (bytes > kPartBytes) {
      offer.set_more(true);
      break;
    }
    bytes += r.ByteSizeLong();
    *offer.add_divergent() = std::move(r);
  }
  offer.set_needs_copy(core_.store.recoveryReport().needs_peer_copy);
  return offer;
}

bool ConfigResync::stageFullPart(const proto::SyncInstall& install,
                                 proto::ReplicateAnswer& answer) {
  // A part of a full copy: kept aside until the last one (nothing changes before).
  if (install.part() == 0) {
    staged_ = install.snapshot();
    staged_parts_ = 1;
    answer.set_applied(true);
  } else if (staged_ && install.part() == staged_parts_) {
    for (const auto& r : install.snapshot().records()) *staged_->add_records() = r;
    ++staged_parts_;
    answer.set_applied(true);
  } else {
    answer.set_error("part " + std::to_string(install.part()) + " of a full copy out of order");
    staged_.reset();
  }
  return answer.applied();
}

platform::Status ConfigResync::installFull(const proto::SyncInstall& install) {
  platform::Status status;
  if (install.part() == 0) {
    status = core_.store.install(install.snapshot());
  } else if (staged_ && install.part() == staged_parts_) {
    for (const auto& r : install.snapshot().records()) *staged_->add_records() = r;
    status = core_.store.install(*staged_);
  } else {
    status = platform::Status::failure("last part " + std::to_string(install.part()) +
                                       " of a full copy out of order");
  }
  staged_.reset();
  return status;
}

void ConfigResync::applyInstall(const proto::SyncInstall& install, Reply reply) {
  proto::ReplicateAnswer answer;
  if (core_.deps.role && core_.deps.role() == Role::Active) {
    answer.set_error(core_.selfName() + " is active itself");
    staged_.reset();
  } else if (install.full() && install.more()) {
    stageFullPart(install, answer);
  } else {
    platform::Status status;
    if (install.full()) {
      status = installFull(install);
    } else if (fromProtoVersion(install.prev()) != core_.store.last()) {
      // (A sync.point here is no obstacle: the active found nothing after it that it lacks.)
      status = platform::Status::failure("incremental resync from " +
                                         toString(fromProtoVersion(install.prev())) +
                                         " does not fit this SP's " + toString(core_.store.last()));
    } else {
      std::vector<ConfigRecord> records(install.records().begin(), install.records().end());
      status = core_.store.commit(records);
    }
    if (!status.ok) {
      if (isStorageError(status)) core_.storageFault(status);
      answer.set_error(status.error);
      answer.set_sys_errno(status.sys_errno);
      LOG_ERROR << "resync from the active SP not applied: " << status.error;
    } else {
      answer.set_applied(true);
      core_.clearSyncPoint();
      {
        // The active installs only what it has acknowledged.
        std::lock_guard lock(core_.mu);
        core_.synced = core_.visible = core_.store.last();
      }
      core_.clearFault("config-store");
      LOG_NOTICE << "configuration resynchronised from " << core_.peerName() << " ("
                 << (install.full() ? "full copy"
                                    : std::to_string(install.records_size()) + " records")
                 << "), now at " << toString(core_.store.last()) << ", last event "
                 << core_.lastStoredEventId();
      core_.notifyAll();
      core_.publishHistory();
    }
  }
  *answer.mutable_last() = toProtoVersion(core_.store.last());
  reply(okResult(answer.SerializeAsString()));
}

}  // namespace dualsp::sp
