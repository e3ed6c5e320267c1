#pragma once
// Fencing in the simulated chassis: the two-SP harness runs a power controller that cuts a
// simulated SP's power when asked over a UNIX socket.

#include <memory>
#include <string>

#include "platform/platform.hpp"
#include "platform/sp_types.hpp"

namespace dualsp::platform {

// Protocol, one line each way: this SP sends "power-off A\n" or "power-off B\n"; the
// controller answers "ok[ text]\n" once the peer is off, or "error <text>\n".
// `socket_path` is a filesystem path, so it reaches across network namespaces.
// fencePeer(timeout) never blocks past the timeout.
std::unique_ptr<Fencer> makePowerControllerFencer(std::string socket_path, SpId peer);

}  // namespace dualsp::platform
