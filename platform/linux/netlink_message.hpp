#pragma once
// Just enough netlink for rtnetlink requests: build one request, send it, and walk the replies
// with every length checked against the bytes received. Replaces libmnl so spd links statically.

#include <linux/netlink.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "platform/unique_fd.hpp"

namespace dualsp::platform::netlink {

// The outcome of one request: 0 or an errno, and the kernel's own words when it sent them.
struct Result {
  int error = 0;
  std::string extack;      // NLMSGERR_ATTR_MSG of the kernel's extended ack, if any
  bool no_answer = false;  // nothing came back within the reply timeout (error is ETIMEDOUT)
  bool ok() const { return error == 0; }
};

// One request, written front to back: header, the family's fixed header, then attributes.
// Everything is copied in, so no struct is ever overlaid on the byte buffer.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t type, uint16_t flags);

  // The fixed header of the message family (ifaddrmsg, ifinfomsg...), padded to 4 bytes.
  template <typename T>
  void putFamilyHeader(const T& header) {
    static_assert(std::is_trivially_copyable_v<T>);
    append(std::as_bytes(std::span(&header, 1)));
  }
  // Throws std::length_error past the 64 KiB an attribute can describe: a bug, not input.
  void putAttribute(uint16_t type, std::span<const std::byte> payload);
  void putString(uint16_t type, std::string_view value);  // NUL-terminated, as the kernel wants

  void setSequence(uint32_t seq);
  void setPortId(uint32_t portid);
  uint32_t sequence() const;

  std::span<const std::byte> bytes() const { return buffer_; }

 private:
  void append(std::span<const std::byte> data);
  void updateLength();

  std::vector<std::byte> buffer_;
};

// One attribute of a received message; `type` has the nested and byte-order flags masked off.
struct Attribute {
  uint16_t type = 0;
  std::span<const std::byte> payload;

  // The payload as a NUL-terminated string, or nullopt when it does not end in NUL.
  std::optional<std::string_view> string() const;
};

// Splits attributes packed back to back. nullopt when one is shorter than its own header, runs
// past the end, or leaves bytes that cannot be padding.
std::optional<std::vector<Attribute>> parseAttributes(std::span<const std::byte> bytes);

// One received message: its header copied out, and its payload bounded by nlmsg_len.
struct Message {
  nlmsghdr header{};
  std::span<const std::byte> payload;

  // The family's fixed header copied out, or nullopt when the payload is shorter than it.
  template <typename T>
  std::optional<T> familyHeader() const {
    static_assert(std::is_trivially_copyable_v<T>);
    if (payload.size() < sizeof(T)) return std::nullopt;
    T out;
    std::memcpy(&out, payload.data(), sizeof(T));
    return out;
  }
  // The attributes after a fixed header of `header_size` bytes (padded to 4).
  std::optional<std::vector<Attribute>> attributes(size_t header_size) const;
};

// Splits one datagram into its messages. nullopt when a message's nlmsg_len is shorter than its
// header or runs past the datagram, or when bytes are left over that cannot be padding.
std::optional<std::vector<Message>> parseMessages(std::span<const std::byte> datagram);

using MessageHandler = std::function<void(const Message&)>;

// Where a request stands once one datagram of replies has been read.
struct ReplyStep {
  enum class State { kMore, kDone, kFailed };
  State state = State::kMore;
  Result result;  // the failure when kFailed
};

// Hands the data messages of one datagram to on_data and reads the control ones: an ack or
// NLMSG_DONE ends the request, NLMSG_ERROR fails it with the kernel's errno and extended ack.
// Refuses a message for another port (ESRCH) or sequence (EPROTO); 0 in the message is accepted
// for either, as libmnl does. An interrupted dump is EINTR, a malformed datagram EBADMSG.
ReplyStep readReplies(std::span<const std::byte> datagram, uint32_t seq, uint32_t portid,
                      const MessageHandler& on_data);

// A netlink socket bound to a port the kernel picks, asking for extended acks. It lives in the
// network namespace of the thread that opened it.
class Socket {
 public:
  Socket(int protocol, std::chrono::milliseconds reply_timeout);
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // 0 when the socket is open and bound, else the errno of the step that failed.
  int openError() const { return open_error_; }
  uint32_t portId() const { return portid_; }

  // Gives the request a fresh sequence number, sends it, and feeds each data message of the
  // answer to on_data until the ack, the end of the dump, or an error.
  Result transact(MessageBuilder& request, const MessageHandler& on_data = {});

 private:
  UniqueFd fd_;
  uint32_t portid_ = 0;
  int open_error_ = 0;
};

}  // namespace dualsp::platform::netlink
