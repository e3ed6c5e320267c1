#pragma once
// The array's event log (docs/CONFIG-STORE.md "Event ids", "What a passive shows"): events
// spd sees wait in a queue until they can be recorded like any change (by the active SP, or
// forwarded to it by a passive); readers see only what the active has acknowledged.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sp/config_core.hpp"
#include "sp/config_forwarder.hpp"
#include "sp/config_takeover.hpp"
#include "sp/config_writer.hpp"

namespace dualsp::sp {

class ConfigEventLog {
 public:
  ConfigEventLog(ConfigCore& core, ConfigTakeover& takeover, ConfigWriter& writer,
                 ConfigForwarder& forwarder)
      : core_(core), takeover_(takeover), writer_(writer), forwarder_(forwarder) {}

  // Any thread: queues `event`; it is recorded on the worker as soon as an SP can.
  void recordEvent(proto::Event event);
  // On the worker: records (active) or forwards (passive) what waits; never blocks a change.
  void flush(Role role);

  // Acknowledged events with an id above `after`, oldest first, at most `max`.
  std::vector<proto::Event> eventsAfter(uint64_t after, size_t max) const;
  uint64_t lastEventId() const { return core_.lastVisibleEventId(); }
  // GetEvents: args after, skip, top; a page with the count and the newest id.
  void handleGetEvents(const proto::Command& command, Reply reply) const;

 private:
  void forwardPending();
  ConfigCore& core_;
  ConfigTakeover& takeover_;
  ConfigWriter& writer_;
  ConfigForwarder& forwarder_;
};

}  // namespace dualsp::sp
