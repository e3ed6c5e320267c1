#include "platform/linux/netlink_address.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "platform/linux/garp.hpp"
#include "platform/log.hpp"

namespace dualsp::platform {
namespace {

// A kernel that does not answer rtnetlink within this is wedged; never hang the caller on it.
constexpr time_t kReplyTimeoutSeconds = 2;
// The kernel fills dump datagrams up to 32 KiB (libmnl's newer MNL_SOCKET_DUMP_SIZE).
constexpr size_t kDumpBufferSize = 32768;

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

using MessageHandler = std::function<void(const nlmsghdr*)>;

struct RunContext {
  MessageHandler* on_message = nullptr;
  int err = 0;
  std::string extack;
};

int onDataMessage(const nlmsghdr* nlh, void* data) {
  auto* ctx = static_cast<RunContext*>(data);
  if (ctx->on_message && *ctx->on_message) (*ctx->on_message)(nlh);
  return MNL_CB_OK;
}

int onExtackAttr(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
      mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
    *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
  }
  return MNL_CB_OK;
}

// NLMSG_ERROR carries both acks (error 0) and failures, with the kernel's text as TLVs.
int onErrorMessage(const nlmsghdr* nlh, void* data) {
  auto* ctx = static_cast<RunContext*>(data);
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
    ctx->err = EBADMSG;
    errno = EBADMSG;
    return MNL_CB_ERROR;
  }
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  if (err->error == 0) return MNL_CB_STOP;
  ctx->err = -err->error;
  if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
    // The TLVs follow the echoed request, or only its header when the kernel capped it.
    size_t offset = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
    if (mnl_nlmsg_size(offset) <= nlh->nlmsg_len) {
      mnl_attr_parse(nlh, static_cast<unsigned>(offset), onExtackAttr, &ctx->extack);
    }
  }
  errno = ctx->err;
  return MNL_CB_ERROR;
}

uint32_t nextSequence() {
  static std::atomic<uint32_t> seq{static_cast<uint32_t>(time(nullptr))};
  return ++seq;
}

// One rtnetlink socket per operation: a socket lives in the namespace of the thread that
// opened it, so opening it per call follows the caller into whatever namespace it is in.
class Rtnl {
 public:
  Rtnl() = default;
  Rtnl(const Rtnl&) = delete;
  Rtnl& operator=(const Rtnl&) = delete;
  ~Rtnl() {
    if (nl_) mnl_socket_close(nl_);
  }

  NlResult open() {
    nl_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl_) return nlFailure(errno);
    if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) return nlFailure(errno);
    int one = 1;
    // Ask for the kernel's own words on failures; older kernels simply ignore it.
    mnl_socket_setsockopt(nl_, NETLINK_EXT_ACK, &one, sizeof one);
    timeval tv{kReplyTimeoutSeconds, 0};
    setsockopt(mnl_socket_get_fd(nl_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return {};
  }

  // Sends the request and feeds each reply to on_message until the ack, the end of the
  // dump, or an error.
  NlResult transact(nlmsghdr* nlh, MessageHandler on_message = {}) {
    uint32_t seq = nlh->nlmsg_seq = nextSequence();
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return nlFailure(errno);
    RunContext ctx;
    ctx.on_message = &on_message;
    std::array<mnl_cb_t, NLMSG_MIN_TYPE> control{};
    // Given a control table, libmnl ignores its empty slots instead of using its defaults.
    control[NLMSG_NOOP] = [](const nlmsghdr*, void*) { return MNL_CB_OK; };
    control[NLMSG_ERROR] = onErrorMessage;
    control[NLMSG_DONE] = [](const nlmsghdr*, void*) { return MNL_CB_STOP; };
    control[NLMSG_OVERRUN] = [](const nlmsghdr*, void* data) {
      static_cast<RunContext*>(data)->err = ENOBUFS;
      errno = ENOBUFS;
      return MNL_CB_ERROR;
    };
    uint32_t portid = mnl_socket_get_portid(nl_);
    std::vector<char> buf(kDumpBufferSize);
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          return {ETIMEDOUT, "no answer from the kernel's rtnetlink"};
        }
        return nlFailure(errno);
      }
      int ret = mnl_cb_run2(buf.data(), static_cast<size_t>(n), seq, portid, onDataMessage, &ctx,
                            control.data(), control.size());
      if (ret == MNL_CB_STOP) return {};
      if (ret == MNL_CB_ERROR) return nlFailure(ctx.err ? ctx.err : errno, ctx.extack);
    }
  }

 private:
  mnl_socket* nl_ = nullptr;
};

struct LinkInfo {
  int index = 0;
  unsigned flags = 0;
};

// Resolves the interface by name in the caller's namespace (the index differs per namespace).
NlResult getLink(Rtnl& rtnl, const std::string& name, LinkInfo& out) {
  if (name.empty() || name.size() >= IFNAMSIZ) return nlFailure(EINVAL, "bad interface name");
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  bool found = false;
  NlResult r = rtnl.transact(nlh, [&](const nlmsghdr* reply) {
    if (reply->nlmsg_type != RTM_NEWLINK) return;
    const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(reply));
    out.index = info->ifi_index;
    out.flags = info->ifi_flags;
    found = true;
  });
  if (r.ok() && !found) return nlFailure(ENODEV);
  return r;
}

struct AddressAttrs {
  const nlattr* local = nullptr;
  const nlattr* address = nullptr;
};

int onAddressAttr(const nlattr* attr, void* data) {
  auto* attrs = static_cast<AddressAttrs*>(data);
  if (mnl_attr_get_type(attr) == IFA_LOCAL) attrs->local = attr;
  if (mnl_attr_get_type(attr) == IFA_ADDRESS) attrs->address = attr;
  return MNL_CB_OK;
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
    NlResult r = rtnl.open();
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
    NlResult r = rtnl.open();
    if (r.ok()) r = getLink(rtnl, interface_, link);
    if (!r.ok()) {
      r.text = "interface " + interface_ + ": " + r.text;
      return r;
    }
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    if (type == RTM_NEWADDR) nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = static_cast<uint8_t>(family_);
    ifa->ifa_prefixlen = static_cast<uint8_t>(prefix_length_);
    // Fencing already made sure nobody else has it: skip IPv6 DAD's second of silence.
    ifa->ifa_flags = family_ == AF_INET6 ? IFA_F_NODAD : 0;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = static_cast<unsigned>(link.index);
    mnl_attr_put(nlh, IFA_LOCAL, length_, bytes_.data());
    // Deleting without IFA_ADDRESS matches the IPv4 address whatever its prefix, as held() does.
    if (type == RTM_NEWADDR || family_ == AF_INET6) {
      mnl_attr_put(nlh, IFA_ADDRESS, length_, bytes_.data());
    }
    return rtnl.transact(nlh);
  }

  bool addressOnLink(Rtnl& rtnl, int index) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_GETADDR;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    auto* req = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    req->ifa_family = static_cast<uint8_t>(family_);
    bool found = false;
    NlResult r = rtnl.transact(nlh, [&](const nlmsghdr* reply) {
      if (reply->nlmsg_type != RTM_NEWADDR) return;
      const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(reply));
      if (ifa->ifa_family != family_ || static_cast<int>(ifa->ifa_index) != index) return;
      if (ifa->ifa_flags & IFA_F_DADFAILED) return;  // someone else answers for it
      // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links.
      AddressAttrs attrs;
      mnl_attr_parse(reply, sizeof(ifaddrmsg), onAddressAttr, &attrs);
      const nlattr* mine = attrs.local ? attrs.local : attrs.address;
      if (mine && mnl_attr_get_payload_len(mine) == length_ &&
          std::memcmp(mnl_attr_get_payload(mine), bytes_.data(), length_) == 0) {
        found = true;
      }
    });
    if (!r.ok()) {
      LOG_DEBUG << "held(" << describe() << "): address dump failed: " << r.text;
      return false;
    }
    return found;
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
