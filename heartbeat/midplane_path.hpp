#pragma once
// The midplane heartbeat path: this SP's beat goes into its slot of the shared segment, the
// peer's slot is polled; a changed beat sequence is a heartbeat. Each slot carries an
// HMAC-SHA256 under the pair key, like the UDP frames: whoever can write the window without
// the key (another process, a stray device) cannot speak for an SP (docs/SECURITY.md).

#include <optional>
#include <string>

#include "heartbeat/election.hpp"
#include "platform/midplane_segment.hpp"

namespace dualsp::heartbeat {

class MidplanePath {
 public:
  // `key` empty: slots are neither signed nor checked (unit tests without a pair key only;
  // spd refuses to start without one).
  MidplanePath(platform::MidplaneSegment& segment, std::string key)
      : segment_(segment), key_(std::move(key)) {}
  void write(const Beat& beat);
  // The peer's beat when it changed since the last poll and its MAC is right.
  std::optional<Beat> poll(SpId peer);
  // The peer's slot as it is (left behind by a dead peer, maybe), when its MAC is right.
  std::optional<platform::MidplaneBeat> readPeer(SpId peer);
  uint64_t badMac() const { return bad_mac_; }

 private:
  bool authentic(SpId writer, const platform::MidplaneBeat& b);

  platform::MidplaneSegment& segment_;
  std::string key_;
  uint64_t my_seq_ = 0;
  uint64_t last_peer_seq_ = 0;
  bool primed_ = false;
  uint64_t bad_mac_ = 0;
};

// The MAC of a slot as `writer` wrote it (every field but the MAC itself).
std::array<uint8_t, 32> midplaneMac(const std::string& key, SpId writer,
                                    const platform::MidplaneBeat& b);

}  // namespace dualsp::heartbeat
