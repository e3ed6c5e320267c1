#include "sp/array_events.hpp"

#include "heartbeat/election.hpp"
#include "sp/events.hpp"

namespace dualsp::sp {

ArrayEvents::ArrayEvents(SpId self, bool link_configured, Clock::time_point start)
    : self_(self),
      peer_(peerOf(self)),
      link_configured_(link_configured),
      route_since_(start),
      link_down_since_(start),
      silent_since_(start) {}

ArrayEvents::Changes ArrayEvents::observe(const ArraySight& s) {
  Changes out;
  route(s, out);
  role(s, out);
  peer(s, out);
  partition(s, out);
  silentPaths(s, out);
  keyMismatch(s, out);
  return out;
}

// Which route carries the peer link: an event when it moves between the dedicated link and
// the management network and stays there a moment (no route at all is the partition below;
// a dead peer is the peer's event).
void ArrayEvents::route(const ArraySight& s, Changes& out) {
  if (s.route != route_candidate_) {
    route_candidate_ = s.route;
    route_since_ = s.now;
  }
  if (!s.peer_alive || s.route.empty() || s.route_count <= 1 ||
      s.now - route_since_ < kRouteSettle || s.route == route_reported_)
    return;
  // The dedicated link coming up first is how it should be, not news.
  if (!(route_reported_.empty() && s.route == "peer-link")) {
    const std::string who = std::string("SP-") + spLetter(peer_);
    const bool dedicated = s.route == "peer-link";
    out.events.push_back(
        makeEvent(message::kStateChanged, {"PeerLink", s.route}, managerUri(self_),
                  dedicated ? "OK" : "Warning", self_,
                  dedicated ? "The peer link to " + who + " runs over the dedicated link again."
                            : "The peer link to " + who + " runs over the " + s.route +
                                  " network: the dedicated link does not answer."));
  }
  route_reported_ = s.route;
}

void ArrayEvents::role(const ArraySight& s, Changes& out) {
  if (s.role == role_ || (s.role != Role::Active && s.role != Role::Passive)) return;
  std::string detail = std::string("SP-") + spLetter(self_) + " is now " +
                       std::string(roleName(s.role)) + " (epoch " + std::to_string(s.epoch) + ")";
  if (s.role == Role::Active && role_ == Role::Passive)
    detail += s.peer_alive ? "; the peer handed the role over" : "; took over from its peer";
  out.events.push_back(makeEvent(message::kStateChanged,
                                 {managerUri(self_), std::string(roleName(s.role))},
                                 managerUri(self_), "OK", self_, detail + "."));
  role_ = s.role;
}

void ArrayEvents::peer(const ArraySight& s, Changes& out) {
  if (s.peer_alive == peer_alive_) return;
  const bool alive = s.peer_alive;
  out.events.push_back(makeEvent(
      message::kStateChanged, {managerUri(peer_), alive ? "Enabled" : "UnavailableOffline"},
      managerUri(peer_), alive ? "OK" : "Warning", self_,
      alive ? std::string("Heartbeats from SP-") + spLetter(peer_) + " arrive again."
            : std::string("Lost the heartbeats of SP-") + spLetter(peer_) + " on every path."));
  peer_alive_ = alive;
}

// The peer link down on every route while the peer's heartbeats arrive: an event, and a
// fault of this SP while it lasts.
void ArrayEvents::partition(const ArraySight& s, Changes& out) {
  if (!s.peer_alive || s.link_up) link_down_since_ = s.now;
  if (s.link_up) auth_failures_while_up_ = s.auth_failures;
  const bool partitioned = link_configured_ && s.now - link_down_since_ > kPartitionAfter;
  if (partitioned == partition_reported_) return;
  const uint64_t refused = s.auth_failures - auth_failures_while_up_;
  std::string detail = std::string("The peer link to SP-") + spLetter(peer_);
  if (partitioned) {
    detail +=
        " is down on every route while its heartbeats still arrive: configuration changes "
        "are refused (nothing is applied) until it returns, since they could not be "
        "written on both SPs.";
    // The likeliest cause an administrator can fix: the boards hold different keys.
    if (refused > 0) {
      detail += " " + std::to_string(refused) + " of its frames were refused for a bad " +
                "MAC: the two SPs do not hold the same pair key.";
    }
  } else {
    detail += " is back.";
  }
  out.events.push_back(makeEvent(partitioned ? message::kErrorsDetected : message::kErrorsCorrected,
                                 {"PeerLink", "LinkDown"}, managerUri(self_),
                                 partitioned ? "Warning" : "OK", self_, detail));
  // The event is recorded once the two SPs can write it together again: meanwhile the
  // alarm is a fault of this SP, shown at once in its Manager resource.
  // (The status board keeps 160 characters of a fault's text: the short form.)
  std::string fault_text =
      std::string("Peer link to SP-") + spLetter(peer_) + " down on every route; changes refused.";
  if (refused > 0)
    fault_text += " Frames refused for a bad MAC: the SPs do not hold the same pair key.";
  out.peer_link_fault =
      partitioned
          ? std::optional<Fault>(Fault{"firmware:peer-link", std::string(message::kErrorsDetected),
                                       fault_text, Health::Warning})
          : std::nullopt;
  partition_reported_ = partitioned;
}

// Every heartbeat path (the midplane's too) and the peer link are authenticated with the pair
// key, so boards holding different keys never hear each other: no election, both passive
// (docs/SECURITY.md). What an administrator sees on each SP's own address is this fault,
// raised once the peer's peer-link frames keep failing their MAC while nothing of it
// verifies, and cleared when it is heard or the link comes up.
void ArrayEvents::keyMismatch(const ArraySight& s, Changes& out) {
  const uint64_t refused = s.auth_failures - auth_failures_while_up_;
  const bool mismatch =
      link_configured_ && !s.peer_alive && !s.link_up && refused >= kKeyMismatchFrames;
  if (mismatch == mismatch_reported_) return;
  mismatch_reported_ = mismatch;
  if (!mismatch) {
    out.pair_key_fault = std::optional<Fault>{};
    return;
  }
  out.pair_key_fault = std::optional<Fault>(
      Fault{"firmware:pair-key", std::string(message::kErrorsDetected),
            std::string("SP-") + spLetter(peer_) + "'s frames fail authentication (" +
                std::to_string(refused) +
                " refused): the SPs do not hold the same pair key; no election with it.",
            Health::Warning});
}

// The heartbeat paths the peer is silent on while it is heard on others, named again
// whenever the set changes and stays changed (paths heal one by one in a moment).
void ArrayEvents::silentPaths(const ArraySight& s, Changes& out) {
  std::string silent = silent_reported_;  // a dead peer changes nothing here
  if (s.peer_alive) {
    silent.clear();
    for (size_t i = 0; i < heartbeat::kPathCount; ++i) {
      const uint8_t bit = static_cast<uint8_t>(1u << i);
      if ((s.paths_configured & bit) && !(s.paths_alive & bit))
        silent += (silent.empty() ? "" : ", ") +
                  std::string(heartbeat::pathName(static_cast<heartbeat::Path>(i)));
    }
  }
  if (silent != silent_candidate_) {
    silent_candidate_ = silent;
    silent_since_ = s.now;
  }
  if (silent == silent_reported_ || s.now - silent_since_ < kSilentSettle) return;
  const std::string who = std::string("SP-") + spLetter(peer_);
  out.events.push_back(
      silent.empty()
          ? makeEvent(message::kErrorsCorrected, {"HeartbeatPaths", "Partition"}, managerUri(self_),
                      "OK", self_, "Every heartbeat path carries " + who + "'s heartbeats again.")
          : makeEvent(message::kErrorsDetected, {"HeartbeatPaths", "Partition"}, managerUri(self_),
                      "Warning", self_,
                      who + " is alive but its heartbeats are silent on: " + silent +
                          "; roles unchanged."));
  silent_reported_ = silent;
}

}  // namespace dualsp::sp
