#include "platform/linux/netlink_message.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <ctime>
#include <stdexcept>

namespace dualsp::platform::netlink {
namespace {

// The kernel fills dump datagrams up to 32 KiB (libmnl's newer MNL_SOCKET_DUMP_SIZE).
constexpr size_t kReceiveBufferSize = 32768;
constexpr size_t kMessageHeaderSize = NLMSG_HDRLEN;
constexpr size_t kAttributeHeaderSize = NLA_HDRLEN;

// Headers are copied straight in and out, so they must be exactly what the wire carries.
static_assert(sizeof(nlmsghdr) == kMessageHeaderSize && sizeof(nlattr) == kAttributeHeaderSize);

constexpr size_t align4(size_t n) {
  return (n + 3) & ~size_t{3};
}
static_assert(align4(1) == NLMSG_ALIGN(1) && align4(5) == NLA_ALIGN(5));

template <typename T>
T readAt(std::span<const std::byte> bytes) {
  T out;
  std::memcpy(&out, bytes.data(), sizeof(T));
  return out;
}

// Steps over one padded record of `length` bytes; the last one may come without its padding.
std::span<const std::byte> skipRecord(std::span<const std::byte> rest, size_t length) {
  return rest.subspan(std::min(align4(length), rest.size()));
}

uint32_t nextSequence() {
  static std::atomic<uint32_t> seq{static_cast<uint32_t>(time(nullptr))};
  return ++seq;
}

// The text the kernel attached to an NLMSG_ERROR, when it did and it is well formed.
std::string extendedAck(const Message& message, const nlmsgerr& error) {
  if (!(message.header.nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  // The TLVs follow the echoed request, or only its header when the kernel capped it.
  size_t offset = sizeof(nlmsgerr);
  if (!(message.header.nlmsg_flags & NLM_F_CAPPED)) {
    if (error.msg.nlmsg_len < kMessageHeaderSize) return {};
    offset += error.msg.nlmsg_len - kMessageHeaderSize;
  }
  auto attributes = message.attributes(offset);
  if (!attributes) return {};
  for (const Attribute& attribute : *attributes) {
    if (attribute.type != NLMSGERR_ATTR_MSG) continue;
    if (auto text = attribute.string()) return std::string(*text);
  }
  return {};
}

Result failure(int error, std::string extack = {}) {
  Result result;
  result.error = error;
  result.extack = std::move(extack);
  return result;
}

ReplyStep failed(int error, std::string extack = {}) {
  return {ReplyStep::State::kFailed, failure(error, std::move(extack))};
}

ReplyStep readError(const Message& message) {
  auto error = message.familyHeader<nlmsgerr>();
  if (!error) return failed(EBADMSG);
  if (error->error == 0) return {ReplyStep::State::kDone, {}};  // the ack
  // The kernel sends a negative errno; anything else cannot be turned into one.
  if (error->error > 0 || error->error == INT_MIN) return failed(EBADMSG);
  return failed(-error->error, extendedAck(message, *error));
}

}  // namespace

MessageBuilder::MessageBuilder(uint16_t type, uint16_t flags) {
  nlmsghdr header{};
  header.nlmsg_type = type;
  header.nlmsg_flags = flags;
  append(std::as_bytes(std::span(&header, 1)));
}

void MessageBuilder::putAttribute(uint16_t type, std::span<const std::byte> payload) {
  if (payload.size() > UINT16_MAX - kAttributeHeaderSize) {
    throw std::length_error("netlink attribute too long");
  }
  nlattr attribute{};
  attribute.nla_len = static_cast<uint16_t>(kAttributeHeaderSize + payload.size());
  attribute.nla_type = type;
  append(std::as_bytes(std::span(&attribute, 1)));
  append(payload);
}

void MessageBuilder::putString(uint16_t type, std::string_view value) {
  std::vector<std::byte> payload(value.size() + 1);  // the last byte stays NUL
  std::memcpy(payload.data(), value.data(), value.size());
  putAttribute(type, payload);
}

void MessageBuilder::setSequence(uint32_t seq) {
  std::memcpy(buffer_.data() + offsetof(nlmsghdr, nlmsg_seq), &seq, sizeof seq);
}

void MessageBuilder::setPortId(uint32_t portid) {
  std::memcpy(buffer_.data() + offsetof(nlmsghdr, nlmsg_pid), &portid, sizeof portid);
}

uint32_t MessageBuilder::sequence() const {
  return readAt<nlmsghdr>(buffer_).nlmsg_seq;
}

void MessageBuilder::append(std::span<const std::byte> data) {
  buffer_.insert(buffer_.end(), data.begin(), data.end());
  buffer_.resize(align4(buffer_.size()));  // zero padding
  updateLength();
}

void MessageBuilder::updateLength() {
  auto length = static_cast<uint32_t>(buffer_.size());
  std::memcpy(buffer_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof length);
}

std::optional<std::string_view> Attribute::string() const {
  if (payload.empty() || payload.back() != std::byte{0}) return std::nullopt;
  // Stops at the first NUL, as a C string would.
  return std::string_view(reinterpret_cast<const char*>(payload.data()));
}

std::optional<std::vector<Attribute>> parseAttributes(std::span<const std::byte> bytes) {
  std::vector<Attribute> attributes;
  while (!bytes.empty()) {
    if (bytes.size() < kAttributeHeaderSize) return std::nullopt;
    auto header = readAt<nlattr>(bytes);
    if (header.nla_len < kAttributeHeaderSize || header.nla_len > bytes.size()) {
      return std::nullopt;
    }
    attributes.push_back(
        {static_cast<uint16_t>(header.nla_type & NLA_TYPE_MASK),
         bytes.subspan(kAttributeHeaderSize, header.nla_len - kAttributeHeaderSize)});
    bytes = skipRecord(bytes, header.nla_len);
  }
  return attributes;
}

std::optional<std::vector<Attribute>> Message::attributes(size_t header_size) const {
  if (header_size > payload.size()) return std::nullopt;
  // A fixed header that ends the message may come without its padding.
  return parseAttributes(skipRecord(payload, header_size));
}

std::optional<std::vector<Message>> parseMessages(std::span<const std::byte> datagram) {
  std::vector<Message> messages;
  while (!datagram.empty()) {
    if (datagram.size() < kMessageHeaderSize) return std::nullopt;
    auto header = readAt<nlmsghdr>(datagram);
    if (header.nlmsg_len < kMessageHeaderSize || header.nlmsg_len > datagram.size()) {
      return std::nullopt;
    }
    messages.push_back(
        {header, datagram.subspan(kMessageHeaderSize, header.nlmsg_len - kMessageHeaderSize)});
    datagram = skipRecord(datagram, header.nlmsg_len);
  }
  return messages;
}

ReplyStep readReplies(std::span<const std::byte> datagram, uint32_t seq, uint32_t portid,
                      const MessageHandler& on_data) {
  auto messages = parseMessages(datagram);
  if (!messages) return failed(EBADMSG);
  for (const Message& message : *messages) {
    const nlmsghdr& header = message.header;
    if (header.nlmsg_pid && portid && header.nlmsg_pid != portid) return failed(ESRCH);
    if (header.nlmsg_seq && seq && header.nlmsg_seq != seq) return failed(EPROTO);
    if (header.nlmsg_flags & NLM_F_DUMP_INTR) return failed(EINTR);
    if (header.nlmsg_type >= NLMSG_MIN_TYPE) {
      if (on_data) on_data(message);
      continue;
    }
    switch (header.nlmsg_type) {
      case NLMSG_ERROR:  // an ack or a failure: either way the last word on the request
        return readError(message);
      case NLMSG_DONE:
        return {ReplyStep::State::kDone, {}};
      case NLMSG_OVERRUN:
        return failed(ENOBUFS);
      default:  // NLMSG_NOOP and the reserved types carry nothing for us
        break;
    }
  }
  return {};
}

Socket::Socket(int protocol, std::chrono::milliseconds reply_timeout)
    : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol)) {
  if (fd_.get() < 0) {
    open_error_ = errno;
    return;
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel picks the port
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) < 0) {
    open_error_ = errno;
    return;
  }
  socklen_t length = sizeof local;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&local), &length) < 0) {
    open_error_ = errno;
    return;
  }
  if (length != sizeof local || local.nl_family != AF_NETLINK) {
    open_error_ = EINVAL;
    return;
  }
  portid_ = local.nl_pid;
  int one = 1;
  // Ask for the kernel's own words on failures; older kernels simply ignore it.
  ::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(reply_timeout).count();
  timeval tv{static_cast<time_t>(micros / 1000000), static_cast<suseconds_t>(micros % 1000000)};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

Result Socket::transact(MessageBuilder& request, const MessageHandler& on_data) {
  if (open_error_) return failure(open_error_);
  uint32_t seq = nextSequence();
  request.setSequence(seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  std::span<const std::byte> out = request.bytes();
  if (::sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    return failure(errno);
  }
  std::vector<std::byte> buffer(kReceiveBufferSize);
  for (;;) {
    sockaddr_nl from{};
    iovec iov{buffer.data(), buffer.size()};
    msghdr header{};
    header.msg_name = &from;
    header.msg_namelen = sizeof from;
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd_.get(), &header, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) return failure(errno);
      Result silence = failure(ETIMEDOUT);
      silence.no_answer = true;
      return silence;
    }
    if (header.msg_flags & MSG_TRUNC) return failure(ENOSPC);  // as libmnl: never half a reply
    if (header.msg_namelen != sizeof from) return failure(EINVAL);
    ReplyStep step =
        readReplies(std::span(buffer).first(static_cast<size_t>(n)), seq, portid_, on_data);
    if (step.state != ReplyStep::State::kMore) return step.result;
  }
}

}  // namespace dualsp::platform::netlink
