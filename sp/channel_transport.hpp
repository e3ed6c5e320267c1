#pragma once
// spd's PeerTransport over the peer channel (both routes of the peer link): commands out,
// results back, on the channel's io thread. And the other direction: a request from the peer
// is parsed and given to the router, its result sent back on the io thread.

#include <asio.hpp>
#include <functional>

#include "ipc/peer_channel.hpp"
#include "sp/command_registry.hpp"
#include "sp/peer_transport.hpp"

namespace dualsp::sp {

class ChannelTransport : public PeerTransport {
 public:
  // usable(): `peer_alive` (the heartbeats hear the peer) and some route answers. With
  // `skip_dead` (the router's queries), a peer the heartbeats have declared dead is not asked:
  // a powered-off board never closes its TCP connection. The configuration service has its
  // own liveness rules and sends regardless.
  ChannelTransport(asio::io_context& io, ipc::PeerChannel& channel,
                   std::function<bool()> peer_alive, bool skip_dead);
  bool usable() const override;
  // Any thread; `done` runs on the io thread, or at once (PeerDead) on the caller's.
  void send(const proto::Command& command, std::chrono::milliseconds deadline,
            std::function<void(Answer)> done) override;

 private:
  asio::io_context& io_;
  ipc::PeerChannel& channel_;
  std::function<bool()> peer_alive_;
  bool skip_dead_;
};

// The channel's request handler: a Command from the peer goes to `dispatch` (the router); its
// result is posted back to `io` and sent. An unreadable command is answered BAD_REQUEST.
ipc::PeerLink::RequestHandler commandHandler(asio::io_context& io,
                                             std::function<void(proto::Command, Reply)> dispatch);

}  // namespace dualsp::sp
