#pragma once
// The configuration store: every managed object (array identity, subscriptions, later
// users, pools, volumes...) is one record with an (epoch, seq) version, kept in memory and
// on disk as snapshot.pb plus journal.log under the SP's state directory. Nothing is changed
// in memory before it is in the journal and fsynced; recovery never starts silently with
// wrong data. On-disk format and recovery rules: docs/CONFIG-STORE.md.

#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "platform/platform.hpp"
#include "proto/config.pb.h"
#include "sp/config_store/journal.hpp"

namespace dualsp::sp {

using ConfigRecord = proto::ConfigRecord;

// Ordered by election epoch, then by sequence within the epoch.
struct Version {
  uint64_t epoch = 0;
  uint64_t seq = 0;
  auto operator<=>(const Version&) const = default;
};
std::string toString(Version v);  // "3.17"
Version versionOf(const ConfigRecord& record);

enum class SnapshotUsed { None, Current, Previous };
const char* snapshotUsedName(SnapshotUsed used);

// What open() found and did; the caller turns the problems into events and faults.
struct RecoveryReport {
  SnapshotUsed snapshot = SnapshotUsed::None;
  size_t snapshot_records = 0;
  size_t records_replayed = 0;  // journal records applied over the snapshot
  size_t records_skipped = 0;   // journal records the snapshot already held
  uint64_t bytes_cut = 0;       // journal tail removed as torn or corrupt
  // Acknowledged data may be missing here: fetch the peer's copy (replication layer).
  bool needs_peer_copy = false;
  std::vector<std::string> problems;
  bool clean() const { return problems.empty(); }
  std::string describe() const;
};

class ConfigStore {
 public:
  static constexpr size_t kDefaultSnapshotEvery = 1000;

  // `dir` is the store's own directory under the SP's state directory; created by open().
  explicit ConfigStore(std::string dir, size_t snapshot_every = kDefaultSnapshotEvery);

  // Loads the newest good snapshot and replays the journal. Fails (and the store stays
  // closed) when no trustworthy state can be built: see docs/CONFIG-STORE.md.
  platform::Status open();
  RecoveryReport recoveryReport() const;
  // The peer's copy has filled what recovery lost (the replication layer merged it).
  void clearNeedsPeerCopy();

  // Journaled and fsynced before memory changes; `v` must be newer than last(). On failure
  // nothing changed, in memory or on disk, and the error carries the system's reason.
  platform::Status put(const std::string& key, const std::string& value, Version v);
  platform::Status remove(const std::string& key, Version v);
  // Several records (puts and removals, versions already stamped, each newer than the one
  // before) in one journal write: all of them are applied, or none.
  platform::Status commit(const std::vector<ConfigRecord>& records);
  // Replaces the whole store with the peer's copy (a full resync): written as the new
  // snapshot, journal emptied. On failure the store is unchanged.
  platform::Status install(const proto::ConfigSnapshot& snapshot);
  // The whole store, tombstones included, as install() takes it.
  proto::ConfigSnapshot copy() const;
  bool isOpen() const;

  std::optional<ConfigRecord> get(const std::string& key) const;
  std::vector<ConfigRecord> list(const std::string& prefix) const;  // live records, by key
  // Live records under `prefix` with keys after `after_key`, at most `max`, by key.
  std::vector<ConfigRecord> listAfter(const std::string& prefix, const std::string& after_key,
                                      size_t max) const;
  // The live record with the greatest key under `prefix`, or nullopt.
  std::optional<ConfigRecord> lastUnder(const std::string& prefix) const;
  // The record of `key` even when it is a removal (tombstone), or nullopt.
  std::optional<ConfigRecord> find(const std::string& key) const;
  Version last() const;
  // Every record newer than `v`, removals included, oldest first: an incremental resync.
  std::vector<ConfigRecord> since(Version v) const;

  // Writes the whole store to snapshot.pb (keeping the old one as snapshot.prev.pb) and
  // empties the journal. Also done by put/remove every `snapshot_every` journal records.
  platform::Status snapshot();

  const std::string& dir() const { return dir_; }

 private:
  platform::Status commitLocked(ConfigRecord record);
  platform::Status commitBatchLocked(const std::vector<ConfigRecord>& records);
  platform::Status snapshotLocked();
  platform::Status recoverLocked();
  void applyLocked(const ConfigRecord& record);

  std::string dir_;
  size_t snapshot_every_;
  mutable std::mutex mutex_;
  bool open_ = false;
  // Removed keys stay as tombstones so since() can hand removals to the peer.
  std::map<std::string, ConfigRecord> records_;
  Version last_;
  Journal journal_;
  RecoveryReport report_;
};

}  // namespace dualsp::sp
