#pragma once
// The replicated configuration store and event log (docs/DESIGN.md "Replication",
// docs/CONFIG-STORE.md "Replication" and "Units").
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
// This class owns the shared state (ConfigCore) and wires the units that work on it: the
// writer (config_writer), resync (config_resync, config_merge), the takeover checks
// (config_takeover), the event log (config_event_log) and the forwarder (config_forwarder).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sp/command_registry.hpp"
#include "sp/config_core.hpp"
#include "sp/config_event_log.hpp"
#include "sp/config_forwarder.hpp"
#include "sp/config_resync.hpp"
#include "sp/config_takeover.hpp"
#include "sp/config_writer.hpp"

namespace dualsp::sp {

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

  // The client commands ConfigWrite, GetConfig, GetEvents; and the peer-only ConfigReplicate,
  // ConfigSyncOffer, ConfigSyncInstall in the registry of the peer link.
  void registerCommands(CommandRegistry& clients, PeerCommandRegistry& peers);

  // An event spd saw (role change, fault, peer lost...): recorded by the active SP.
  void recordEvent(proto::Event event) { events_.recordEvent(std::move(event)); }

  // Called from spd's main loop (every 100 ms): records waiting events, starts a resync when
  // the passive is behind, follows the active's acknowledged history on the passive.
  void tick();

  // Calls `listener` for every applied record (put or removal), on the worker thread, and
  // once at start for every live record under `prefix`.
  void onChange(const std::string& prefix, ChangeListener listener);

  std::optional<ConfigRecord> get(const std::string& key) const { return core_.store.get(key); }
  // The newest change this SP's store holds: a cheap "has anything changed" for readers.
  Version lastVersion() const { return core_.store.last(); }
  std::vector<ConfigRecord> list(const std::string& prefix) const {
    return core_.store.list(prefix);
  }
  // Acknowledged events with an id above `after`, oldest first, at most `max`.
  std::vector<proto::Event> eventsAfter(uint64_t after, size_t max) const {
    return events_.eventsAfter(after, max);
  }
  uint64_t lastEventId() const { return events_.lastEventId(); }
  // The newest event stored at or before version `v` (0: none): what a record written at `v`
  // comes after. Event ids and versions advance apart (a change has several records and one
  // event), so a version is never an event id.
  uint64_t lastEventIdAtOrBefore(Version v) const;
  // How far this SP's history reaches (the store's last version and event id). After start().
  History history() const { return core_.currentHistory(); }
  // The newest event id when this SP last started acting as the active one: a new active
  // SP delivers to subscribers what came after it (its predecessor delivered the rest).
  uint64_t activeSince() const { return core_.active_since.load(); }
  // Whether this SP's store holds everything the array has acknowledged, as far as it can
  // know: the active SP's always; a passive's once it reaches the active's history (heard in
  // its beats), i.e. not a restarted SP's stale store before the active resynchronises it.
  bool holdsAcknowledgedHistory() const;
  // What GetConfig answers for `key` while no record exists (the running value of a setting
  // from spd's configuration file, e.g. network/management).
  void setDefault(const std::string& key, const std::string& value);
  // A change a service decides on the active SP only (StorageWrite): sent to the active peer
  // as ConfigWrite is from a passive one, with the same answers when there is none.
  void forwardToActive(const proto::Command& command, Reply reply);

  using Stats = ConfigStats;
  Stats stats() const;

 private:
  void handleWrite(const proto::Command& command, Reply reply);
  void handleGetConfig(const proto::Command& command, Reply reply) const;
  void handleSyncOffer(const proto::Command& command, Reply reply);
  // A peer command whose payload is a `Message`: parsed on the caller's thread, handled on the
  // worker.
  template <typename Message>
  Handler parsedOnWorker(const char* unreadable, std::function<void(const Message&, Reply)> handle);
  void queueStartUpReport();

  ConfigCore core_;
  ConfigTakeover takeover_;
  ConfigResync resync_;
  ConfigWriter writer_;
  ConfigForwarder forwarder_;
  ConfigEventLog events_;
  std::string last_peer_session_;  // worker
};

}  // namespace dualsp::sp
