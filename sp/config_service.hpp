#pragma once
// The replicated configuration store and event log (DESIGN.md "Configuration and events",
// docs/CONFIG-STORE.md "Replication").
//
// The active SP is the only writer. It stamps each change with (epoch, seq), sends it to the
// passive SP, and journals it itself only once the passive has journaled it; then the client
// gets its 2xx. The one exception is a passive the election has declared dead (silent on
// every heartbeat path): then the active journals alone, publishes how far its history now
// reaches on the midplane, and acknowledges ("held by one SP"). While the passive is heard
// but cannot be reached on any route of the peer link, a change waits (bounded) and is then
// refused with nothing applied anywhere. A passive SP forwards the writes it receives to the
// active one and never takes a change alone.
//
// Events are records too ("events/<id>"): ids are consecutive, assigned by the active SP, and
// an event becomes visible to clients only when it is acknowledged, so no id is ever shown
// with one event and later reused for another.
//
// Every store mutation runs on one worker thread, in order; reads go straight to the store.

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
  PeerTransport* peer = nullptr;  // the peer link
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

class ConfigService {
 public:
  ConfigService(std::string dir, ConfigServiceDependencies deps, ConfigServiceOptions options = {});
  ~ConfigService();
  ConfigService(const ConfigService&) = delete;
  ConfigService& operator=(const ConfigService&) = delete;

  // Opens the store (recovery, events for what recovery found) and starts the worker. A
  // store that cannot be opened raises a Critical fault; spd runs on, writes answer 503.
  void start();
  void stop();

  // ConfigWrite, GetConfig, GetEvents and the peer-only ConfigReplicate, ConfigSyncOffer,
  // ConfigSyncInstall.
  void registerCommands(CommandRegistry& registry);

  // An event spd saw (role change, fault, peer lost...): recorded by the active SP.
  void recordEvent(proto::Event event);

  // Called from spd's main loop (every 100 ms): records waiting events, starts a resync when
  // the passive is behind, follows the active's acknowledged history on the passive.
  void tick();

  // Calls `listener` for every applied record (put or removal), on the worker thread, and
  // once at start for every live record under `prefix`.
  void onChange(const std::string& prefix, ChangeListener listener);

  std::optional<ConfigRecord> get(const std::string& key) const;
  std::vector<ConfigRecord> list(const std::string& prefix) const;
  // Acknowledged events with an id above `after`, oldest first, at most `max`.
  std::vector<proto::Event> eventsAfter(uint64_t after, size_t max) const;
  uint64_t lastEventId() const;
  // How far this SP's history reaches (the store's last version and event id). After start().
  History history() const { return currentHistory(); }
  // The newest event id when this SP last started acting as the active one: a new active
  // SP delivers to subscribers what came after it (its predecessor delivered the rest).
  uint64_t activeSince() const { return active_since_.load(); }
  // What GetConfig answers for `key` while no record exists (the running value of a setting
  // from spd's configuration file, e.g. network/management).
  void setDefault(const std::string& key, const std::string& value);

  struct Stats {
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
  Stats stats() const;

 private:
  using Job = std::function<void()>;
  using Deadline = std::chrono::steady_clock::time_point;
  template <typename Message>
  Handler parsedOnWorker(const char* unreadable, std::function<void(const Message&, Reply)> handle);
  void post(Job job);
  bool stopping() const;
  // This SP can leave how far its history reaches where a survivor reads it (the midplane):
  // the condition for acknowledging a change alone.
  bool canPublishHistory() const;
  void workerLoop();

  // How a change can be made now on the active SP.
  enum class Mode { Replicate, Alone, Wait };
  Mode writeMode();
  // Outcome of sending a change to the passive.
  enum class Sent { Applied, Refused, NotSent, InDoubt };
  Sent replicate(const std::vector<ConfigRecord>& records, Version prev, Deadline deadline,
                 std::string& error);

  void handleWrite(const proto::Command& command, Reply reply);
  // On the worker: waits (bounded) for a writable state, stamps, replicates, journals and
  // answers one change.
  void writeAsActive(proto::ConfigWrite change, Deadline deadline, Reply reply);
  // The records of a change, stamped from `v` on; false with the answer already sent.
  bool stampChange(proto::ConfigWrite& change, Version v, std::vector<ConfigRecord>& records,
                   proto::ConfigWriteAnswer& answer, const Reply& reply);
  platform::Status commitLocal(std::vector<ConfigRecord>& records, bool alone);
  void acknowledged(bool alone);
  void startResync();
  bool resyncNow();  // blocking, on the worker
  bool finishResync(const PeerTransport::Answer& answer, bool everything);
  void flushEvents(Role role);
  void applyInstall(const proto::SyncInstall& install, Reply reply);
  void applyReplicate(const proto::ReplicateRequest& request, Reply reply);
  // One page of the offer: the records after `after` (or the sync point), up to a part's size.
  proto::SyncOffer makeOffer(bool everything, std::optional<Version> after = std::nullopt,
                             std::optional<Version> shared = std::nullopt);
  // Brings the peer to this SP's store: a full copy, or the records after `peer_last`, in
  // parts that fit a peer-link frame.
  bool sendCopy(bool full, Version peer_last, std::string& error);

  Version nextVersion(Version after) const;
  uint64_t lastStoredEventId() const;
  uint64_t nextEventId() const;
  Version visibleVersion() const;
  ConfigRecord eventRecord(proto::Event event, Version v, uint64_t id);
  void notifyListeners(const std::vector<ConfigRecord>& records);
  void notifyAll();
  platform::Status saveSyncPoint(Version v);
  void clearSyncPoint();
  Version syncPoint() const;
  History currentHistory() const;
  void publishHistory();
  void noteRole(Role role);
  void checkMissingHistory();
  proto::Command peerCommand(const std::string& name, const std::string& payload,
                             std::chrono::milliseconds deadline) const;
  proto::Command offerRequest(bool everything, std::optional<Version> after = std::nullopt) const;
  // Blocking: the peer's answer, or why there is none, within `deadline` (+500 ms).
  PeerTransport::Answer askPeer(const proto::Command& command, std::chrono::milliseconds deadline);
  bool callPeer(const std::string& name, const std::string& payload,
                std::chrono::milliseconds deadline, proto::CommandResult& result,
                std::string& error);
  void storageFault(const platform::Status& status);
  bool peerAlive() const { return !deps_.peer_alive || deps_.peer_alive(); }
  bool peerReachable() const { return !deps_.peer_reachable || deps_.peer_reachable(); }

  std::string dir_;
  ConfigServiceDependencies deps_;
  ConfigServiceOptions options_;
  ConfigStore store_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread worker_;

  // Worker-thread state (read under mu_ by stats()).
  std::string open_error_;
  std::vector<proto::Event> pending_events_;  // waiting for an SP to record them
  std::map<std::string, std::string> defaults_;
  bool peer_in_sync_ = false;
  // The passive may hold records this SP never committed (a change whose confirmation was
  // lost, or one this SP's disk refused after the passive took it): the next resync
  // installs a full copy, which drops them there.
  bool peer_needs_full_copy_ = false;
  bool has_marker_ = false;  // sync.point on disk: records after it may be the peer's news
  Version marker_;
  Version synced_;  // newest version both SPs are known to hold (in memory)
  std::chrono::steady_clock::time_point next_resync_{};
  std::chrono::milliseconds resync_backoff_;
  bool resync_in_flight_ = false;
  std::string last_resync_error_;
  std::string last_peer_session_;
  bool acting_active_ = false;
  std::atomic<uint64_t> active_since_{0};
  // Taking over without the dead peer's latest acknowledged history: event ids continue
  // after the peer's, so the ones it holds come back under their own ids.
  uint64_t event_floor_ = 0;
  std::optional<History> missing_;  // the peer's reach we lack, while the fault is raised
  // Took over from a dead peer without being able to read how far its history reached.
  bool history_unknown_ = false;
  void resolveUnknownHistory();
  bool storage_fault_ = false;
  // Records up to here are acknowledged: GetEvents shows no event beyond it, so no client
  // sees an event a failover could take back. The active's whole store is acknowledged; a
  // passive follows the active's acknowledged history.
  Version visible_;
  std::vector<std::pair<std::string, ChangeListener>> listeners_;
  // The parts of a full copy received so far (passive side).
  std::optional<proto::ConfigSnapshot> staged_;
  uint32_t staged_parts_ = 0;
  Stats stats_;
};

}  // namespace dualsp::sp
