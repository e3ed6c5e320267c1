#include "sp/peer_commands.hpp"

namespace dualsp::sp {

void dispatchFromPeer(const PeerCommandRegistry& peer_commands, CommandRouter& router,
                      proto::Command command, Reply reply) {
  if (const Handler* handler = peer_commands.find(command.name()))
    return (*handler)(command, std::move(reply));
  router.dispatch(std::move(command), std::move(reply));
}

}  // namespace dualsp::sp
