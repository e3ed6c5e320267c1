// Gratuitous ARP on a real veth pair inside a throwaway network namespace: sent on one end,
// captured on the other. Needs root (CAP_NET_RAW, CAP_NET_ADMIN, setns).

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "platform/linux/garp.hpp"
#include "platform/linux/netlink_address.hpp"
#include "tests/unit/platform/test_namespace.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

namespace dualsp::platform {
namespace {

using Mac = std::array<uint8_t, ETH_ALEN>;

// What the receiving end saw, decoded.
struct Capture {
  Status sent;
  bool received = false;
  Mac eth_destination{};
  uint16_t op = 0;
  Mac sender_mac{};
  Mac target_mac{};
  std::string sender_ip;
  std::string target_ip;
  Mac sending_interface_mac{};
};

Mac macOf(const std::string& interface) {
  Mac mac{};
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  if (fd >= 0 && ::ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
    std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, ETH_ALEN);
  }
  if (fd >= 0) ::close(fd);
  return mac;
}

std::string ipText(const uint8_t* bytes) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, bytes, text, sizeof text);
  return text;
}

// Listens for ARP on `on`, runs send, and decodes the first ARP frame within two seconds.
Capture captureArp(const std::string& on, const std::string& from,
                   const std::function<Status()>& send) {
  Capture capture;
  capture.sending_interface_mac = macOf(from);
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (fd < 0) {
    capture.sent = Status::failure("capture socket failed");
    return capture;
  }
  sockaddr_ll link{};
  link.sll_family = AF_PACKET;
  link.sll_protocol = htons(ETH_P_ARP);
  link.sll_ifindex = static_cast<int>(if_nametoindex(on.c_str()));
  timeval tv{0, 200 * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&link), sizeof link) != 0) {
    ::close(fd);
    capture.sent = Status::failure("capture bind failed");
    return capture;
  }
  capture.sent = send();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (capture.sent.ok && !capture.received && std::chrono::steady_clock::now() < deadline) {
    uint8_t frame[1600];
    ssize_t n = ::recv(fd, frame, sizeof frame, 0);
    if (n < static_cast<ssize_t>(sizeof(ether_header) + sizeof(ether_arp))) continue;
    const auto* eth = reinterpret_cast<const ether_header*>(frame);
    const auto* arp = reinterpret_cast<const ether_arp*>(frame + sizeof(ether_header));
    if (ntohs(eth->ether_type) != ETHERTYPE_ARP) continue;
    capture.received = true;
    std::memcpy(capture.eth_destination.data(), eth->ether_dhost, ETH_ALEN);
    capture.op = ntohs(arp->arp_op);
    std::memcpy(capture.sender_mac.data(), arp->arp_sha, ETH_ALEN);
    std::memcpy(capture.target_mac.data(), arp->arp_tha, ETH_ALEN);
    capture.sender_ip = ipText(arp->arp_spa);
    capture.target_ip = ipText(arp->arp_tpa);
  }
  ::close(fd);
  return capture;
}

void checkGratuitous(const Capture& c, const std::string& ip) {
  CHECK_TRUE_TEXT(c.sent.ok, c.sent.error.c_str());
  CHECK_TRUE_TEXT(c.received, "no ARP frame arrived on the other end within 2 s");
  CHECK_TRUE(c.eth_destination == (Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  LONGS_EQUAL(ARPOP_REQUEST, c.op);
  STRCMP_EQUAL(ip.c_str(), c.sender_ip.c_str());
  STRCMP_EQUAL(ip.c_str(), c.target_ip.c_str());
  CHECK_TRUE(c.sending_interface_mac != Mac{});
  CHECK_TRUE(c.sender_mac == c.sending_interface_mac);
  CHECK_TRUE(c.target_mac == Mac{});
}

}  // namespace
}  // namespace dualsp::platform

using namespace dualsp::platform;

TEST_GROUP(GratuitousArp) {
  std::unique_ptr<test::TestNamespace> ns;

  void setup() override {
    ns = std::make_unique<test::TestNamespace>("garp", "dsp0", "dsp1");
    CHECK_TRUE_TEXT(ns->ok(), "cannot build the test namespace (are we root?)");
  }
  void teardown() override {
    ns.reset();
  }

  Capture capture(const std::function<Status()>& send) {
    auto c = ns->run([&] { return captureArp("dsp1", "dsp0", send); });
    CHECK_TRUE_TEXT(c.has_value(), "cannot enter the test namespace");
    return *c;
  }
  Status inNs(const std::function<Status()>& fn) {
    auto s = ns->run(fn);
    CHECK_TRUE_TEXT(s.has_value(), "cannot enter the test namespace");
    return *s;
  }
};

TEST(GratuitousArp, RequestArrivesOnThePeerEnd) {
  Capture c = capture([] { return sendGratuitousArp("dsp0", "198.18.0.10"); });
  checkGratuitous(c, "198.18.0.10");
}

TEST(GratuitousArp, FloatingAddressAnnounceSendsOne) {
  auto floating = makeNetlinkFloatingAddress("198.18.0.10", 24, "dsp0");
  Capture c = capture([&] { return floating->announce(); });
  checkGratuitous(c, "198.18.0.10");
}

TEST(GratuitousArp, MissingInterfaceFails) {
  Status s = inNs([] { return sendGratuitousArp("nope0", "198.18.0.10"); });
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("nope0", s.error.c_str());
  STRCMP_CONTAINS("No such device", s.error.c_str());
}

TEST(GratuitousArp, DownInterfaceFails) {
  Status s = inNs([] {
    if (!test::setLinkUp("dsp0", false)) return Status::failure("setup: cannot set dsp0 down");
    return sendGratuitousArp("dsp0", "198.18.0.10");
  });
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("Network is down", s.error.c_str());
}

TEST(GratuitousArp, NonIpv4AddressFails) {
  Status s = inNs([] { return sendGratuitousArp("dsp0", "198.18.0"); });
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("not an IPv4 address", s.error.c_str());
}
