#pragma once
// The writer and replicator (docs/CONFIG-STORE.md "Replication"): on the active SP a change
// is stamped, sent to the passive (ConfigReplicate) and journaled here only once the passive
// holds it, or alone when the election declared the passive dead; on the passive, the
// replicated change is checked and journaled. Runs on the service's worker.

#include <chrono>
#include <functional>
#include <vector>

#include "sp/config_core.hpp"
#include "sp/config_takeover.hpp"

namespace dualsp::sp {

class ConfigWriter {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  // `resync_now` brings a passive that is behind up to date (blocking); true when it did.
  ConfigWriter(ConfigCore& core, ConfigTakeover& takeover, std::function<bool()> resync_now);

  // How a change can be made now on the active SP.
  enum class Mode { Replicate, Alone, Wait };
  Mode writeMode();

  // Waits (bounded by `deadline`) for a writable state, stamps, replicates, journals and
  // answers one client change.
  void writeAsActive(proto::ConfigWrite change, Deadline deadline, Reply reply);

  // Records `events` as one change, each with the next event id.
  enum class EventsOutcome { Recorded, Wait, Refused };
  EventsOutcome recordEvents(const std::vector<proto::Event>& events, platform::Status& refusal);

  // The passive side: journals a change the active sent, when it follows this SP's last.
  void applyReplicate(const proto::ReplicateRequest& request, Reply reply);

  // Outcome of sending a change to the passive.
  enum class Sent { Applied, Refused, Superseded, NotSent, InDoubt };
  // `why`: the passive's refusal (its errno when its disk refused) or the link's error.
  Sent replicate(const std::vector<ConfigRecord>& records, Version prev, Deadline deadline,
                 platform::Status& why);

 private:
  // One attempt of writeAsActive; false: wait and try again.
  enum class Attempt { Answered, Again };
  Attempt attemptWrite(proto::ConfigWrite& change, Deadline deadline, const Reply& reply,
                       std::string& last_refusal);
  // Why a change that waited `change_wait` for a writable state is refused.
  std::string refusalAfterWait(const std::string& last_refusal) const;
  void refuse(const Reply& reply, const std::string& why);
  // The records of a change, stamped from `v` on; false with the answer already sent.
  bool stampChange(proto::ConfigWrite& change, Version v, std::vector<ConfigRecord>& records,
                   proto::ConfigWriteAnswer& answer, const Reply& reply);
  platform::Status commitLocal(std::vector<ConfigRecord>& records, bool alone);
  void acknowledged(bool alone);
  // Whether the passive's store holds exactly `request` already (its answer was lost).
  bool holdsAlready(const proto::ReplicateRequest& request) const;

  ConfigCore& core_;
  ConfigTakeover& takeover_;
  std::function<bool()> resync_now_;
};

}  // namespace dualsp::sp
