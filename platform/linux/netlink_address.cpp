#include "platform/linux/netlink_address.hpp"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "platform/linux/garp.hpp"
#include "platform/linux/netlink_message.hpp"
#include "platform/log.hpp"

namespace dualsp::platform {
namespace {

// A kernel that does not answer rtnetlink within this is wedged; never hang the caller on it.
constexpr std::chrono::seconds kReplyTimeout{2};

// The outcome of one rtnetlink request: 0 or the kernel's errno, with its text.
struct NlResult {
  int err = 0;
  std::string text;  // strerror(err), then the kernel's extended ack message when it sent one
  bool ok() const { return err == 0; }
};

NlResult nlFailure(int err, const std::string& extack = {}) {
  std::string text = std::strerror(err);
  if (!extack.empty()) text += " (" + extack + ")";
  return {err, text};
}

NlResult nlResult(const netlink::Result& r) {
  if (r.no_answer) return {ETIMEDOUT, "no answer from the kernel's rtnetlink"};
  if (r.ok()) return {};
  return nlFailure(r.error, r.extack);
}

// One rtnetlink socket per operation: a socket lives in the namespace of the thread that
// opened it, so opening it per call follows the caller into whatever namespace it is in.
class Rtnl {
 public:
  Rtnl() : socket_(NETLINK_ROUTE, kReplyTimeout) {}

  // Whether the socket opened and bound; every request on a socket that did not fails anyway.
  NlResult status() const {
    if (socket_.openError()) return nlFailure(socket_.openError());
    return {};
  }

  // Sends the request and feeds each reply to on_message until the ack, the end of the
  // dump, or an error.
  NlResult transact(netlink::MessageBuilder& request,
                    const netlink::MessageHandler& on_message = {}) {
    return nlResult(socket_.transact(request, on_message));
  }

 private:
  netlink::Socket socket_;
};

struct LinkInfo {
  int index = 0;
  unsigned flags = 0;
};

// Resolves the interface by name in the caller's namespace (the index differs per namespace).
NlResult getLink(Rtnl& rtnl, const std::string& name, LinkInfo& out) {
  if (name.empty() || name.size() >= IFNAMSIZ) return nlFailure(EINVAL, "bad interface name");
  netlink::MessageBuilder request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  request.putFamilyHeader(ifi);
  request.putString(IFLA_IFNAME, name);
  bool found = false;
  NlResult r = rtnl.transact(request, [&](const netlink::Message& reply) {
    if (reply.header.nlmsg_type != RTM_NEWLINK) return;
    auto info = reply.familyHeader<ifinfomsg>();
    if (!info) return;
    out.index = info->ifi_index;
    out.flags = info->ifi_flags;
    found = true;
  });
  if (r.ok() && !found) return nlFailure(ENODEV);
  return r;
}

class NetlinkFloatingAddress final : public FloatingAddress {
 public:
  NetlinkFloatingAddress(std::string address, int prefix_length, std::string interface)
      : address_(std::move(address)),
        prefix_length_(prefix_length),
        interface_(std::move(interface)) {
    if (inet_pton(AF_INET, address_.c_str(), bytes_.data()) == 1) {
      family_ = AF_INET;
      length_ = 4;
    } else if (inet_pton(AF_INET6, address_.c_str(), bytes_.data()) == 1) {
      family_ = AF_INET6;
      length_ = 16;
    }
  }

  Status add() override {
    if (Status s = validate(); !s.ok) return s;
    NlResult r = changeAddress(RTM_NEWADDR);
    if (r.err == EEXIST) return Status::success();  // already ours: adding is idempotent
    if (!r.ok()) return Status::failure("cannot add " + describe() + ": " + r.text);
    return Status::success();
  }

  Status remove() override {
    if (Status s = validate(); !s.ok) return s;
    NlResult r = changeAddress(RTM_DELADDR);
    if (r.err == EADDRNOTAVAIL) return Status::success();  // already gone
    if (r.err == ENODEV) {
      // No interface, so certainly no address on it: the goal of remove() is reached.
      LOG_WARNING << "removing " << describe() << ": interface " << interface_ << " not found";
      return Status::success();
    }
    if (!r.ok()) return Status::failure("cannot remove " + describe() + ": " + r.text);
    return Status::success();
  }

  bool held() override {
    if (!validate().ok) return false;
    Rtnl rtnl;
    LinkInfo link;
    NlResult r = rtnl.status();
    if (r.ok()) r = getLink(rtnl, interface_, link);
    if (!r.ok()) {
      LOG_DEBUG << "held(" << describe() << "): " << r.text;
      return false;
    }
    if (!(link.flags & IFF_UP)) return false;  // an address on a down port answers nobody
    return addressOnLink(rtnl, link.index);
  }

  Status announce() override {
    if (family_ != AF_INET) {
      return Status::failure("cannot announce " + describe() + ": gratuitous ARP is IPv4 only");
    }
    return sendGratuitousArp(interface_, address_);
  }

  std::string describe() const override {
    return address_ + "/" + std::to_string(prefix_length_) + " on " + interface_;
  }

 private:
  Status validate() const {
    if (family_ == AF_UNSPEC) return Status::failure("invalid IP address '" + address_ + "'");
    if (prefix_length_ < 0 || prefix_length_ > static_cast<int>(length_) * 8) {
      return Status::failure("invalid prefix length in " + describe());
    }
    return Status::success();
  }

  NlResult changeAddress(uint16_t type) {
    Rtnl rtnl;
    LinkInfo link;
    NlResult r = rtnl.status();
    if (r.ok()) r = getLink(rtnl, interface_, link);
    if (!r.ok()) {
      r.text = "interface " + interface_ + ": " + r.text;
      return r;
    }
    uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
    if (type == RTM_NEWADDR) flags |= NLM_F_CREATE | NLM_F_EXCL;
    netlink::MessageBuilder request(type, flags);
    ifaddrmsg ifa{};
    ifa.ifa_family = static_cast<uint8_t>(family_);
    ifa.ifa_prefixlen = static_cast<uint8_t>(prefix_length_);
    // Fencing already made sure nobody else has it: skip IPv6 DAD's second of silence.
    ifa.ifa_flags = family_ == AF_INET6 ? IFA_F_NODAD : 0;
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<unsigned>(link.index);
    request.putFamilyHeader(ifa);
    auto address = std::as_bytes(std::span(bytes_).first(length_));
    request.putAttribute(IFA_LOCAL, address);
    // Deleting without IFA_ADDRESS matches the IPv4 address whatever its prefix, as held() does.
    if (type == RTM_NEWADDR || family_ == AF_INET6) request.putAttribute(IFA_ADDRESS, address);
    return rtnl.transact(request);
  }

  bool addressOnLink(Rtnl& rtnl, int index) {
    netlink::MessageBuilder request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
    ifaddrmsg req{};
    req.ifa_family = static_cast<uint8_t>(family_);
    request.putFamilyHeader(req);
    bool found = false;
    NlResult r = rtnl.transact(request, [&](const netlink::Message& reply) {
      if (reply.header.nlmsg_type != RTM_NEWADDR) return;
      auto ifa = reply.familyHeader<ifaddrmsg>();
      if (!ifa || ifa->ifa_family != family_ || static_cast<int>(ifa->ifa_index) != index) return;
      if (ifa->ifa_flags & IFA_F_DADFAILED) return;  // someone else answers for it
      if (auto attributes = reply.attributes(sizeof(ifaddrmsg)); attributes && holds(*attributes)) {
        found = true;
      }
    });
    if (!r.ok()) {
      LOG_DEBUG << "held(" << describe() << "): address dump failed: " << r.text;
      return false;
    }
    return found;
  }

  // Whether an address record names our address. IFA_LOCAL is the address itself; IFA_ADDRESS
  // is the peer on point-to-point links and stands in for it only where IFA_LOCAL is missing.
  bool holds(const std::vector<netlink::Attribute>& attributes) const {
    const netlink::Attribute* local = nullptr;
    const netlink::Attribute* address = nullptr;
    for (const netlink::Attribute& attribute : attributes) {
      if (attribute.type == IFA_LOCAL) local = &attribute;
      if (attribute.type == IFA_ADDRESS) address = &attribute;
    }
    const netlink::Attribute* mine = local ? local : address;
    return mine && mine->payload.size() == length_ &&
           std::memcmp(mine->payload.data(), bytes_.data(), length_) == 0;
  }

  std::string address_;
  int prefix_length_;
  std::string interface_;
  int family_ = AF_UNSPEC;
  size_t length_ = 0;
  std::array<unsigned char, 16> bytes_{};
};

}  // namespace

std::unique_ptr<FloatingAddress> makeNetlinkFloatingAddress(std::string address, int prefix_length,
                                                            std::string interface,
                                                            int /*garp_count_unused*/) {
  return std::make_unique<NetlinkFloatingAddress>(std::move(address), prefix_length,
                                                  std::move(interface));
}

}  // namespace dualsp::platform
