#pragma once
// The floating management address on a real board: added and removed through rtnetlink.

#include <memory>
#include <string>

#include "platform/platform.hpp"

namespace dualsp::platform {

// `address` is IPv4 or IPv6 text ("198.18.0.10"); `interface` the management port ("mgmt0").
// Every call works in the network namespace of the calling thread at the time of the call.
// announce() sends one gratuitous ARP (IPv4 only). garp_count_unused is kept for callers that
// pass a count: one call is one round, the caller repeats it.
std::unique_ptr<FloatingAddress> makeNetlinkFloatingAddress(std::string address, int prefix_length,
                                                            std::string interface,
                                                            int garp_count_unused = 0);

}  // namespace dualsp::platform
