#pragma once
// The floating address when both SPs run on one host without root (127.0.0.0/8): a TCP
// listener that only the active SP binds, relaying each connection to this SP's web server.

#include <memory>
#include <string>

#include "platform/platform.hpp"

namespace dualsp::platform {

// add() listens on address:port (SO_REUSEADDR) and relays every accepted connection,
// byte for byte in both directions, to target_address:target_port, on one Asio thread.
// remove() closes the listener and every relayed connection. add() fails naming
// EADDRINUSE while the other SP still listens there. announce() has nothing to do.
std::unique_ptr<FloatingAddress> makeLoopbackFloatingAddress(std::string address, int port,
                                                             std::string target_address,
                                                             int target_port);

}  // namespace dualsp::platform
