#pragma once
// The midplane heartbeat path: this SP's beat goes into its slot of the shared segment, the
// peer's slot is polled; a changed beat sequence is a heartbeat.

#include <optional>

#include "heartbeat/election.hpp"
#include "platform/midplane_segment.hpp"

namespace dualsp::heartbeat {

class MidplanePath {
 public:
  explicit MidplanePath(platform::MidplaneSegment& segment) : segment_(segment) {}
  void write(const Beat& beat);
  // The peer's beat when it changed since the last poll.
  std::optional<Beat> poll(SpId peer);

 private:
  platform::MidplaneSegment& segment_;
  uint64_t my_seq_ = 0;
  uint64_t last_peer_seq_ = 0;
  bool primed_ = false;
};

}  // namespace dualsp::heartbeat
