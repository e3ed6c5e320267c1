#include "sp/channel_transport.hpp"

namespace dualsp::sp {

ChannelTransport::ChannelTransport(asio::io_context& io, ipc::PeerChannel& channel,
                                   std::function<bool()> peer_alive, bool skip_dead)
    : io_(io), channel_(channel), peer_alive_(std::move(peer_alive)), skip_dead_(skip_dead) {}

bool ChannelTransport::usable() const {
  return peer_alive_() && channel_.healthyNow();
}

void ChannelTransport::send(const proto::Command& command, std::chrono::milliseconds deadline,
                            std::function<void(Answer)> done) {
  if (skip_dead_ && !peer_alive_()) return done(Answer{std::nullopt, ipc::PeerError::PeerDead});
  asio::post(io_, [this, payload = command.SerializeAsString(), deadline,
                   done = std::move(done)]() mutable {
    channel_.request(std::move(payload), deadline,
                     [done = std::move(done)](ipc::PeerLink::Result r) {
                       if (!r.ok) return done(Answer{std::nullopt, r.error});
                       proto::CommandResult result;
                       if (!result.ParseFromString(r.payload))
                         return done(Answer{std::nullopt, ipc::PeerError::Unreadable});
                       done(Answer{std::move(result)});
                     });
  });
}

ipc::PeerLink::RequestHandler commandHandler(asio::io_context& io,
                                             std::function<void(proto::Command, Reply)> dispatch) {
  return [&io, dispatch = std::move(dispatch)](const proto::Envelope& request,
                                               ipc::PeerLink::Respond respond) {
    proto::Command command;
    if (!command.ParseFromString(request.payload())) {
      respond(
          errorResult(proto::CommandResult::BAD_REQUEST, "unreadable command").SerializeAsString());
      return;
    }
    dispatch(std::move(command), [&io, respond](proto::CommandResult r) {
      asio::post(io, [respond, payload = r.SerializeAsString()] { respond(payload); });
    });
  };
}

}  // namespace dualsp::sp
