#pragma once
// The merge of a resync (docs/CONFIG-STORE.md "Resync"): the passive's records after the
// common point are taken into the active's history as new changes of the active, unless the
// active changed the same key since: then the newer version wins (equal versions: SP-A's) and
// the conflict is an event. The peer's events keep their ids where this SP left them free.
// Pure with respect to the store: it reads it and returns the records to commit.

#include <vector>

#include "sp/config_core.hpp"

namespace dualsp::sp {

struct MergeOutcome {
  std::vector<ConfigRecord> divergent;  // the peer's records this SP lacks, oldest first
  size_t dropped = 0;  // records this SP stamped but never committed (confirmation lost)
  std::vector<ConfigRecord> merged;  // to commit: stamped as new changes of this SP
  size_t taken = 0, conflicts = 0, events = 0, restored = 0;
  Version next;                // the version of the next merged record
  uint64_t next_event_id = 0;  // the id of the next new event
};

class ConfigMerge {
 public:
  explicit ConfigMerge(const ConfigCore& core) : core_(core) {}
  // `everything`: recovering lost data, every record of the peer's that is missing or older
  // here is taken, no conflict is reported.
  MergeOutcome merge(const proto::SyncOffer& offer, Version common, bool everything) const;
  // A new event of this SP, appended to the merged records.
  void appendEvent(MergeOutcome& out, proto::Event event) const;

 private:
  void selectDivergent(const proto::SyncOffer& offer, Version common, bool everything,
                       MergeOutcome& out) const;
  void mergeEvent(const ConfigRecord& r, MergeOutcome& out) const;
  void mergeRecord(const ConfigRecord& r, Version common, bool everything, MergeOutcome& out) const;
  void take(ConfigRecord r, MergeOutcome& out) const;

  const ConfigCore& core_;
};

}  // namespace dualsp::sp
