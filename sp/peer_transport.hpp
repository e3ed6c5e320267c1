#pragma once
// The peer link as the router and the configuration service need it: a command out, its
// result back, or the typed reason there is none. spd's implementation over the peer channel
// is sp/channel_transport.hpp; tests use fakes.

#include <chrono>
#include <functional>
#include <optional>

#include "ipc/peer_error.hpp"
#include "proto/command.pb.h"

namespace dualsp::sp {

class PeerTransport {
 public:
  struct Answer {
    std::optional<proto::CommandResult> result;  // nullopt: no answer, see `error`
    ipc::PeerError error = ipc::PeerError::None;
  };
  virtual ~PeerTransport() = default;
  // `done` is called exactly once, from any thread, at the latest after `deadline`.
  virtual void send(const proto::Command& command, std::chrono::milliseconds deadline,
                    std::function<void(Answer)> done) = 0;
  // Whether a request can get an answer now (the peer is heard and some route of the link
  // answers); false: asking would only wait out the deadline. Any thread.
  virtual bool usable() const { return true; }
};

}  // namespace dualsp::sp
