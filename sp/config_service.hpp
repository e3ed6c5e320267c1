#pragma once
// The replicated configuration store and event log (DESIGN.md "Configuration and events",
// docs/CONFIG-STORE.md "Replication").
//
// The active SP is the only writer: it stamps each change with (epoch, seq), journals it,
// sends it to the passive SP and acknowledges the client once the passive has written it
// too. A passive SP forwards the writes it receives to the active one; when the peer link
// is down it writes them locally, and the two histories are merged when the link returns.
// Events are records too ("events/<id>", id = seq), so they replicate and merge the same
// way; a client only ever sees events that are as durable as an acknowledged change.
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
  // How long the active SP waits for the passive to write a change before it acknowledges
  // the change as queued (the passive then catches up by resync).
  std::chrono::milliseconds replicate_timeout{1000};
  // A passive SP waits this long for the active's answer to a forwarded write.
  std::chrono::milliseconds forward_timeout{1200};
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
  std::function<bool()> peer_alive;  // the heartbeats hear the peer
  // ... and on the peer-link path too: a change is sent to the passive only then (a silent
  // link would hold every acknowledgement for the whole replicate timeout).
  std::function<bool()> peer_link_heard;
  // Changes whenever the peer restarts or the peer link reconnects: the passive may then
  // hold changes of its own, so the active resynchronises it.
  std::function<std::string()> peer_session;
  PeerTransport* peer = nullptr;  // the peer link
  std::function<int64_t()> wall_ms;
  // Raised (true) and cleared (false) store faults: "config-store" (cannot open or
  // recovered without the peer's copy), "config-storage" (a write refused by the disk).
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

  // Called from spd's main loop (every 100 ms): starts a resync when the passive is behind.
  void tick();

  // Calls `listener` for every applied record (put or removal), on the worker thread, and
  // once at start for every live record under `prefix`.
  void onChange(const std::string& prefix, ChangeListener listener);

  std::optional<ConfigRecord> get(const std::string& key) const;
  std::vector<ConfigRecord> list(const std::string& prefix) const;
  // Acknowledged events with an id above `after`, oldest first, at most `max`.
  std::vector<proto::Event> eventsAfter(uint64_t after, size_t max) const;
  uint64_t lastEventId() const;
  // The newest event id when this SP last started acting as the active one: a new active
  // SP delivers to subscribers what came after it (its predecessor delivered the rest).
  uint64_t activeSince() const { return active_since_.load(); }
  // What GetConfig answers for `key` while no record exists (the running value of a setting
  // from spd's configuration file, e.g. network/management).
  void setDefault(const std::string& key, const std::string& value);

  struct Stats {
    uint64_t writes = 0;
    uint64_t replicated = 0;
    uint64_t queued = 0;  // acknowledged while the passive was away
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
  template <typename Message>
  Handler parsedOnWorker(const char* unreadable, std::function<void(const Message&, Reply)> handle);
  void post(Job job);
  void workerLoop();

  void handleWrite(const proto::Command& command, Reply reply);
  // On the worker: stamps, journals, replicates and answers one change.
  void writeLocal(proto::ConfigWrite change, bool authority, Reply reply);
  platform::Status commitStamped(std::vector<ConfigRecord>& records);
  bool replicate(const std::vector<ConfigRecord>& records, Version prev);
  void startResync();
  void resyncNow();  // blocking, on the worker
  bool finishResync(const PeerTransport::Answer& answer, bool everything);
  void flushEvents(Role role);
  void applyInstall(const proto::SyncInstall& install, Reply reply);
  void applyReplicate(const proto::ReplicateRequest& request, Reply reply);
  proto::SyncOffer makeOffer(bool everything);

  Version nextVersion(Version after) const;
  Version visibleVersion() const;
  ConfigRecord eventRecord(proto::Event event, Version v);
  void notifyListeners(const std::vector<ConfigRecord>& records);
  void notifyAll();
  platform::Status saveSyncPoint(Version v);
  void clearSyncPoint();
  Version syncPoint() const;
  proto::Command peerCommand(const std::string& name, const std::string& payload,
                             std::chrono::milliseconds deadline) const;
  proto::Command offerRequest(bool everything) const;
  // Blocking: the peer's answer, or why there is none, within `deadline` (+500 ms).
  PeerTransport::Answer askPeer(const proto::Command& command, std::chrono::milliseconds deadline);
  void postLocalWrite(proto::ConfigWrite change, bool authority, Reply reply);
  bool callPeer(const std::string& name, const std::string& payload,
                std::chrono::milliseconds deadline, proto::CommandResult& result,
                std::string& error);
  void storageFault(const platform::Status& status);

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
  void noteRole(Role role);
  bool storage_fault_ = false;
  // Records up to here are acknowledged (on both SPs, or queued while the peer was away):
  // GetEvents shows no event beyond it, so no client sees an event a failover could lose.
  Version visible_;
  std::vector<std::pair<std::string, ChangeListener>> listeners_;
  Stats stats_;
};

}  // namespace dualsp::sp
