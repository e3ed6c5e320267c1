#pragma once
// What arrives on the peer link: a peer-only command (PeerCommandRegistry) runs here; any
// other is a client command the peer forwarded, and goes through the router like one from
// the local bus. Nothing else reaches a peer-only handler.

#include "proto/command.pb.h"
#include "sp/command_registry.hpp"
#include "sp/command_router.hpp"

namespace dualsp::sp {

void dispatchFromPeer(const PeerCommandRegistry& peer_commands, CommandRouter& router,
                      proto::Command command, Reply reply);

}  // namespace dualsp::sp
