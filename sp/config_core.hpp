#pragma once
// The state the configuration service's units share (docs/CONFIG-STORE.md "Units"): the
// store, the worker thread that makes every change in order, what is known of the peer's
// copy, the sync point, and the helpers every unit needs (versions, event ids, the peer
// link, faults). The units (writer, resync, merge, event log, forwarder) each hold a
// reference to one ConfigCore; ConfigService owns it and them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/platform.hpp"
#include "platform/sp_types.hpp"
#include "proto/config.pb.h"
#include "sp/command_registry.hpp"
#include "sp/command_router.hpp"
#include "sp/config_store/config_store.hpp"

namespace dualsp::sp {

struct ConfigServiceOptions {
  // One attempt to have the passive journal a change (and the wait for a resync offer).
  std::chrono::milliseconds replicate_timeout{500};
  // How long a change waits for the passive to become reachable (link connecting, a
  // resync under way, both routes sick) before it is refused with 503 and Retry-After.
  std::chrono::milliseconds change_wait{2000};
  // A passive SP waits this long for the active's answer to a forwarded write.
  std::chrono::milliseconds forward_timeout{3000};
  // Between resync attempts while the passive is behind.
  std::chrono::milliseconds resync_interval{300};
  // More records than this behind: the passive gets a full copy instead of the records.
  size_t max_incremental = 500;
  size_t snapshot_every = ConfigStore::kDefaultSnapshotEvery;
};

// What a configuration write changed, for the parts of spd that act on it.
using ChangeListener = std::function<void(const ConfigRecord& record)>;

struct ConfigServiceDependencies {
  SpId self = SpId::A;
  std::function<Role()> role;
  std::function<uint64_t()> epoch;
  // The election hears the peer on some heartbeat path. False means the election has
  // declared it dead: only then does the active SP acknowledge a change alone.
  std::function<bool()> peer_alive;
  // Some route of the peer link is up and answering: a change can be replicated now.
  std::function<bool()> peer_reachable;
  // Changes whenever the peer restarts: the active resynchronises it.
  std::function<std::string()> peer_session;
  PeerTransport* peer = nullptr;  // the peer link, for the peer-only commands
  // The one router path to the peer for client commands (CommandRouter::dispatch): a passive
  // forwards writes and its events through it. The command's target is the peer.
  std::function<void(proto::Command, Reply)> forward;
  std::function<int64_t()> wall_ms;
  // This SP's acknowledged history, published (midplane first) before an acknowledgement
  // that depends on it; and how far the peer's reaches as last heard or read.
  std::function<void(const History&)> publish_history;
  std::function<std::optional<History>()> peer_history;
  // Whether this SP can publish its history where its peer will read it even after this SP's
  // death (the midplane; true when the platform has none). Without it no change is
  // acknowledged alone: the survivor could neither name what it lacks nor keep its ids free.
  std::function<bool()> history_publishable;
  // Whether the peer's history area can be read (true when the platform has no midplane).
  // An SP that took over from a dead peer without reading it takes no change until it can,
  // or the peer returns: the peer may have acknowledged changes alone before it died.
  std::function<bool()> peer_history_readable;
  // Raised (true) and cleared (false) store faults: "config-store" (cannot open, or
  // recovered without the peer's copy), "config-storage" (a write refused by the disk),
  // "config-missing" (took over without changes only the dead peer holds).
  std::function<void(const std::string& id, bool raised, const std::string& message_id,
                     const std::string& text, Health severity)>
      fault;
};

struct ConfigStats {
  uint64_t writes = 0;
  uint64_t replicated = 0;
  uint64_t alone = 0;     // acknowledged while the election had declared the peer dead
  uint64_t refused = 0;   // 503: the passive was heard but could not be reached in time
  uint64_t in_doubt = 0;  // sent, no confirmation: not applied here, dropped there
  uint64_t forwarded = 0;
  uint64_t resyncs = 0;
  uint64_t conflicts = 0;
  bool peer_in_sync = false;
  Version last;
  Version sync_point;
};

// ---- Helpers shared by the units ----
inline constexpr const char* kEventPrefix = "events/";
bool isEventKey(const std::string& key);
// accounts/, sessions/, account_service/: the account service's records (sp/account_service);
// security/: the HTTPS certificate (sp/https_certificate); idempotency/: the results of keyed
// client requests (sp/idempotency.hpp). No client reads or writes them.
bool isPrivateKey(const std::string& key);
// Written only by the service that owns it (a ConfigWrite marked "private"): the private keys
// and the array's storage (storage/, sp/storage_service.hpp), whose changes are checked there.
bool isServiceOwnedKey(const std::string& key);
uint64_t eventIdOf(const std::string& key);
std::string eventKey(uint64_t id);
proto::Version toProtoVersion(Version v);
Version fromProtoVersion(const proto::Version& v);
inline Version versionOfHistory(const History& h) {
  return {h.epoch, h.seq};
}
proto::CommandResult okResult(const std::string& payload);
// The disk, not the request, refused the write (ENOSPC, EFBIG, EDQUOT, EROFS): decided on
// the errno the store carries up (Status::sys_errno), never on its text.
bool isStorageErrno(int err);
inline bool isStorageError(const platform::Status& status) {
  return !status.ok && isStorageErrno(status.sys_errno);
}

class ConfigCore {
 public:
  using Job = std::function<void()>;
  ConfigCore(std::string dir, ConfigServiceDependencies deps, ConfigServiceOptions options);

  // ---- The worker: every change is made on it, in order ----
  void startWorker();
  void stopWorker();
  void post(Job job);
  bool stopping() const;

  // ---- What the election and the link say ----
  Role role() const { return deps.role ? deps.role() : Role::Active; }
  bool peerAlive() const { return !deps.peer_alive || deps.peer_alive(); }
  bool peerReachable() const { return !deps.peer_reachable || deps.peer_reachable(); }
  // This SP can leave how far its history reaches where a survivor reads it (the midplane):
  // the condition for acknowledging a change alone.
  bool canPublishHistory() const { return !deps.history_publishable || deps.history_publishable(); }
  std::string selfName() const;  // "SP-A"
  std::string peerName() const;

  // ---- Versions and event ids ----
  Version nextVersion(Version after) const;
  uint64_t lastStoredEventId() const;
  uint64_t nextEventId() const;
  ConfigRecord eventRecord(proto::Event event, Version v, uint64_t id) const;
  Version visibleVersion() const;
  // The newest event id a client may see (up to the visible version).
  uint64_t lastVisibleEventId() const;
  History currentHistory() const;
  void publishHistory();

  // ---- Listeners, faults ----
  void notifyListeners(const std::vector<ConfigRecord>& records);
  void notifyAll();
  void storageFault(const platform::Status& status);
  void storageRecovered();
  void clearFault(const std::string& id);
  // The peer no longer holds what this SP holds; `full`: it may hold records this SP never
  // committed, which only a full copy drops.
  void peerBehind(bool full);

  // ---- Files beside the store (sync.point, missing.point), written durably ----
  void loadPoints();
  platform::Status saveSyncPoint(Version v);
  void clearSyncPoint();
  Version syncPoint() const;
  void saveMissing(const History& reach);
  void clearMissing();

  // ---- The peer-only commands ----
  proto::Command peerCommand(const std::string& name, const std::string& payload,
                             std::chrono::milliseconds deadline) const;
  // Blocking: the peer's answer, or why there is none, within `deadline` (+500 ms).
  PeerTransport::Answer askPeer(const proto::Command& command, std::chrono::milliseconds deadline);
  bool callPeer(const std::string& name, const std::string& payload,
                std::chrono::milliseconds deadline, proto::CommandResult& result,
                std::string& error);

  const std::string dir;
  const ConfigServiceDependencies deps;
  const ConfigServiceOptions options;
  ConfigStore store;

  mutable std::mutex mu;  // guards the fields marked (mu); the rest belong to the worker
  std::string open_error;
  std::vector<proto::Event> pending_events;     // waiting for an SP to record them
  std::map<std::string, std::string> defaults;  // (mu)
  bool peer_in_sync = false;                    // (mu)
  // The passive may hold records this SP never committed (a change whose confirmation was
  // lost, or one this SP's disk refused after the passive took it): the next resync
  // installs a full copy, which drops them there.
  bool peer_needs_full_copy = false;  // (mu)
  bool has_marker = false;            // sync.point on disk: records after it may be the peer's news
  Version marker;
  Version synced;  // (mu) newest version both SPs are known to hold (in memory)
  // Records up to here are acknowledged: GetEvents shows no event beyond it, so no client
  // sees an event a failover could take back. The active's whole store is acknowledged; a
  // passive follows the active's acknowledged history.
  Version visible;  // (mu)
  // Taking over without the dead peer's latest acknowledged history: event ids continue
  // after the peer's, so the ones it holds come back under their own ids.
  uint64_t event_floor = 0;
  std::optional<History> missing;  // the peer's reach we lack, while the fault is raised
  // Took over from a dead peer without being able to read how far its history reached.
  bool history_unknown = false;
  bool storage_fault = false;
  bool acting_active = false;
  std::atomic<uint64_t> active_since{0};
  std::vector<std::pair<std::string, ChangeListener>> listeners;
  ConfigStats stats;  // (mu)

 private:
  void workerLoop();
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace dualsp::sp
