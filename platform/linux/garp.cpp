#include "platform/linux/garp.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "platform/unique_fd.hpp"

namespace dualsp::platform {
namespace {

using Fd = UniqueFd;

// Ethernet header + ARP payload, padded to the 60-byte Ethernet minimum (ETH_ZLEN).
struct __attribute__((packed)) ArpFrame {
  ether_header eth;
  ether_arp arp;
  std::array<uint8_t, ETH_ZLEN - sizeof(ether_header) - sizeof(ether_arp)> padding;
};
static_assert(sizeof(ArpFrame) == ETH_ZLEN);

Status fail(const std::string& interface, const std::string& ipv4, const std::string& why) {
  return Status::failure("gratuitous ARP for " + ipv4 + " on " + interface + ": " + why);
}

}  // namespace

Status sendGratuitousArp(const std::string& interface, const std::string& ipv4) {
  in_addr ip{};
  if (inet_pton(AF_INET, ipv4.c_str(), &ip) != 1)
    return fail(interface, ipv4, "not an IPv4 address");
  if (interface.empty() || interface.size() >= IFNAMSIZ) {
    return fail(interface, ipv4, "bad interface name");
  }

  // Protocol 0: this socket only sends, so the kernel queues nothing to it.
  Fd sock(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return fail(interface, ipv4, std::string("socket: ") + std::strerror(errno));

  ifreq ifr{};
  std::memcpy(ifr.ifr_name, interface.c_str(), interface.size());
  if (ioctl(sock.get(), SIOCGIFINDEX, &ifr) < 0) {
    return fail(interface, ipv4, std::string("interface: ") + std::strerror(errno));
  }
  int index = ifr.ifr_ifindex;
  if (ioctl(sock.get(), SIOCGIFHWADDR, &ifr) < 0) {
    return fail(interface, ipv4, std::string("hardware address: ") + std::strerror(errno));
  }
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    return fail(interface, ipv4, "not an Ethernet interface");
  }
  const auto* mac = reinterpret_cast<const uint8_t*>(ifr.ifr_hwaddr.sa_data);

  sockaddr_ll link{};
  link.sll_family = AF_PACKET;
  link.sll_ifindex = index;
  if (bind(sock.get(), reinterpret_cast<sockaddr*>(&link), sizeof link) < 0) {
    return fail(interface, ipv4, std::string("bind: ") + std::strerror(errno));
  }

  ArpFrame frame{};
  std::memset(frame.eth.ether_dhost, 0xff, ETH_ALEN);
  std::memcpy(frame.eth.ether_shost, mac, ETH_ALEN);
  frame.eth.ether_type = htons(ETHERTYPE_ARP);
  frame.arp.arp_hrd = htons(ARPHRD_ETHER);
  frame.arp.arp_pro = htons(ETHERTYPE_IP);
  frame.arp.arp_hln = ETH_ALEN;
  frame.arp.arp_pln = sizeof(in_addr);
  // A request, not a reply: RFC 5227 section 3 prefers it, and every stack updates its cache.
  frame.arp.arp_op = htons(ARPOP_REQUEST);
  std::memcpy(frame.arp.arp_sha, mac, ETH_ALEN);
  std::memcpy(frame.arp.arp_spa, &ip, sizeof ip);
  std::memcpy(frame.arp.arp_tpa, &ip, sizeof ip);  // target MAC stays zero

  link.sll_protocol = htons(ETH_P_ARP);
  link.sll_halen = ETH_ALEN;
  std::memset(link.sll_addr, 0xff, ETH_ALEN);
  ssize_t sent =
      sendto(sock.get(), &frame, sizeof frame, 0, reinterpret_cast<sockaddr*>(&link), sizeof link);
  if (sent < 0) return fail(interface, ipv4, std::string("send: ") + std::strerror(errno));
  if (sent != static_cast<ssize_t>(sizeof frame)) return fail(interface, ipv4, "short send");
  return Status::success();
}

}  // namespace dualsp::platform
