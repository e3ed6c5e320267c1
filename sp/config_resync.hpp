#pragma once
// Resync (docs/CONFIG-STORE.md "Resync"): the active SP asks its passive for an offer
// (ConfigSyncOffer: its sync point and the records after it, in pages), merges what only the
// passive holds (ConfigMerge), then installs on the passive the records it lacks or a full
// copy (ConfigSyncInstall, in parts). Both halves: the active's and the passive's.

#include <chrono>
#include <optional>
#include <string>

#include "sp/config_core.hpp"
#include "sp/config_merge.hpp"

namespace dualsp::sp {

class ConfigResync {
 public:
  explicit ConfigResync(ConfigCore& core);

  // ---- The active side, on the worker ----
  // Resynchronises now unless a failed attempt asked to wait (backoff); true when done.
  bool resyncIfDue();
  bool resyncNow();  // blocking
  // The passive restarted: resync at the next tick.
  void resyncSoon();

  // ---- The passive side, on the worker ----
  // One page of the offer: the records after `after` (or the sync point), up to a part's size.
  proto::SyncOffer makeOffer(bool everything, std::optional<Version> after = std::nullopt,
                             std::optional<Version> shared = std::nullopt) const;
  void applyInstall(const proto::SyncInstall& install, Reply reply);

  // The request of one offer page: "all", "after <epoch>.<seq>" (the next page), "shared
  // <epoch>.<seq>" (how far the active knows the history to be on both SPs).
  static std::string offerPayload(bool everything, std::optional<Version> after, Version shared);
  struct OfferRequest {
    bool everything = false;
    std::optional<Version> after;
    std::optional<Version> shared;
  };
  static OfferRequest parseOfferPayload(const std::string& text);

 private:
  // The whole offer: its first page with the records of every later one.
  PeerTransport::Answer askOffer(bool everything);
  bool finishResync(const PeerTransport::Answer& answer, bool everything);
  // Commits the merged records, then brings the peer to this store; false with `error`.
  bool commitAndInstall(MergeOutcome& merged, bool full, Version peer_last, std::string& error);
  // Brings the peer to this SP's store: a full copy, or the records after `peer_last`, in
  // parts that fit a peer-link frame.
  bool sendCopy(bool full, Version peer_last, std::string& error);
  bool sendInstall(const proto::SyncInstall& install, std::string& error);
  void resynced(size_t conflicts, bool everything, bool restored_missing);
  // never_sent: the request certainly never left this SP (ipc::neverSent), so asking again
  // at the next tick costs nothing; any other failure backs off.
  bool fail(const std::string& why, bool never_sent = false);
  platform::Status installFull(const proto::SyncInstall& install);
  bool stageFullPart(const proto::SyncInstall& install, proto::ReplicateAnswer& answer);

  ConfigCore& core_;
  ConfigMerge merge_;
  std::chrono::steady_clock::time_point next_resync_{};
  std::chrono::milliseconds resync_backoff_;
  std::string last_resync_error_;
  // The parts of a full copy received so far (passive side).
  std::optional<proto::ConfigSnapshot> staged_;
  uint32_t staged_parts_ = 0;
};

}  // namespace dualsp::sp
