#pragma once
// Why a request over the peer link got no answer: one typed reason from the link through the
// channel and the router (which maps it to a CommandResult status, and the web server that
// status to HTTP in one place). describe() gives the text for logs and error messages only;
// code never compares those texts.

#include <cstdint>
#include <string>
#include <string_view>

namespace dualsp::ipc {

enum class PeerError : uint8_t {
  None,          // answered
  Timeout,       // sent, no answer within the deadline: the peer may have run it
  NotConnected,  // no connection (no route up): never sent
  Disconnected,  // the connection dropped while the request was out: it may have arrived
  Stopped,       // the link was stopped: never sent, or its answer will never come
  TooLarge,      // bigger than a frame may be: never sent
  Unreadable,    // an answer came but is not a CommandResult
  PeerDead,      // the heartbeats declared the peer dead: not asked
  NoLink,        // no peer link configured at all
  NoAnswer,      // the transport never called back within the caller's own wait
};

// "timeout", "not connected", ...: the texts the link used before it had this type.
std::string_view describe(PeerError e);
inline std::string toString(PeerError e) {
  return std::string(describe(e));
}

// Certainly never left this SP: asking again cannot run the command twice.
bool neverSent(PeerError e);

}  // namespace dualsp::ipc
