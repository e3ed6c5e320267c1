#pragma once
// Gratuitous ARP, so switches and clients learn the MAC of the SP that now holds an address.

#include <string>

#include "platform/platform.hpp"

namespace dualsp::platform {

// Sends one ARP request with sender IP == target IP == ipv4, sender MAC == the interface's
// MAC, target MAC zero, to the Ethernet broadcast address, on `interface` (as keepalived's
// vrrp_arp.c does). Uses the calling thread's network namespace. Needs CAP_NET_RAW.
Status sendGratuitousArp(const std::string& interface, const std::string& ipv4);

}  // namespace dualsp::platform
