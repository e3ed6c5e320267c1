#pragma once
// The array events spd derives from what it sees each turn of its main loop: its role, the
// peer's heartbeats, the route of the peer link, a partition of the peer link (and its fault)
// and heartbeat paths gone silent. Pure: the caller passes in what it saw and the time, and
// records the events and sets the fault that come back. Table of events: docs/EVENTS.md.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "platform/sp_types.hpp"
#include "proto/config.pb.h"
#include "sp/health_monitor.hpp"

namespace dualsp::sp {

// One look at the array.
struct ArraySight {
  std::chrono::steady_clock::time_point now;
  Role role = Role::Starting;
  uint64_t epoch = 0;
  bool peer_alive = false;       // the heartbeats hear the peer (status board)
  uint8_t paths_configured = 0;  // bit per heartbeat path (status board)
  uint8_t paths_alive = 0;       // bit per path the peer is heard on
  bool link_up = false;          // some route of the peer link is up
  std::string route;             // the route requests take now; "" when none
  size_t route_count = 0;        // routes configured
  uint64_t auth_failures = 0;    // frames refused for a bad MAC, since start
};

class ArrayEvents {
 public:
  using Clock = std::chrono::steady_clock;
  // Settling times: a route or a set of silent paths must hold this long to be reported; the
  // link must be down this long while the peer is heard to be a partition.
  static constexpr std::chrono::milliseconds kRouteSettle{300};
  static constexpr std::chrono::milliseconds kPartitionAfter{500};
  static constexpr std::chrono::milliseconds kSilentSettle{200};
  // The id of the firmware fault a partition raises (HealthMonitor::setFirmwareFault).
  static constexpr const char* kPeerLinkFault = "peer-link";
  // The fault of a peer whose frames keep failing authentication while nothing of it verifies
  // (HealthMonitor::setFirmwareFault), and how many refused frames make it.
  static constexpr const char* kPairKeyFault = "pair-key";
  static constexpr uint64_t kKeyMismatchFrames = 3;

  // `link_configured`: a key and at least one route, so the peer link is meant to be up.
  ArrayEvents(SpId self, bool link_configured, Clock::time_point start);

  struct Changes {
    std::vector<proto::Event> events;  // to record, in order
    // Set: raise (a Fault) or clear (nullopt) the peer-link fault; unset: leave it.
    std::optional<std::optional<Fault>> peer_link_fault;
    // The same for the pair-key fault.
    std::optional<std::optional<Fault>> pair_key_fault;
  };
  Changes observe(const ArraySight& s);

 private:
  void route(const ArraySight& s, Changes& out);
  void role(const ArraySight& s, Changes& out);
  void peer(const ArraySight& s, Changes& out);
  void partition(const ArraySight& s, Changes& out);
  void silentPaths(const ArraySight& s, Changes& out);
  void keyMismatch(const ArraySight& s, Changes& out);

  SpId self_;
  SpId peer_;
  bool link_configured_;
  Role role_ = Role::Starting;
  bool peer_alive_ = false;
  bool partition_reported_ = false;
  bool mismatch_reported_ = false;
  std::string route_reported_, route_candidate_;  // the route the last event named, now
  Clock::time_point route_since_;
  Clock::time_point link_down_since_;
  uint64_t auth_failures_while_up_ = 0;  // the link's count the last time it was up
  std::string silent_candidate_, silent_reported_;
  Clock::time_point silent_since_;
};

}  // namespace dualsp::sp
