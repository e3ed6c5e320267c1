// The in-tree netlink helper: messages built and parsed back, malformed input refused without
// reading past the buffer, the reply rules (ack, error, done, sequence and port), and one real
// exchange with the kernel on the loopback interface, which needs no privilege.

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "platform/linux/netlink_address.hpp"
#include "platform/linux/netlink_message.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

namespace dualsp::platform::netlink {
namespace {

constexpr uint32_t kSeq = 4242;
constexpr uint32_t kPort = 777;
constexpr std::chrono::seconds kTimeout{2};

std::vector<std::byte> toBytes(std::span<const std::byte> bytes) {
  return {bytes.begin(), bytes.end()};
}

template <typename T>
std::span<const std::byte> asBytes(const T& value) {
  return std::as_bytes(std::span(&value, 1));
}

// A reply as the kernel would address it to our request.
MessageBuilder reply(uint16_t type, uint16_t flags = 0, uint32_t seq = kSeq,
                     uint32_t portid = kPort) {
  MessageBuilder m(type, flags);
  m.setSequence(seq);
  m.setPortId(portid);
  return m;
}

MessageBuilder errorReply(int error, uint16_t flags = 0) {
  MessageBuilder m = reply(NLMSG_ERROR, flags);
  nlmsgerr body{};
  body.error = error;
  body.msg.nlmsg_len = sizeof(nlmsghdr);
  body.msg.nlmsg_type = RTM_NEWADDR;
  body.msg.nlmsg_seq = kSeq;
  m.putFamilyHeader(body);
  return m;
}

MessageBuilder addressReply(uint16_t flags = NLM_F_MULTI) {
  MessageBuilder m = reply(RTM_NEWADDR, flags);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_index = 1;
  m.putFamilyHeader(ifa);
  in_addr local{htonl(INADDR_LOOPBACK)};
  m.putAttribute(IFA_LOCAL, asBytes(local));
  return m;
}

// Messages back to back in one datagram, as recvmsg would hand them over.
std::vector<std::byte> datagram(std::initializer_list<const MessageBuilder*> messages) {
  std::vector<std::byte> out;
  for (const MessageBuilder* m : messages) {
    out.insert(out.end(), m->bytes().begin(), m->bytes().end());
  }
  return out;
}

void writeU32(std::vector<std::byte>& buf, size_t at, uint32_t value) {
  std::memcpy(buf.data() + at, &value, sizeof value);
}

void writeU16(std::vector<std::byte>& buf, size_t at, uint16_t value) {
  std::memcpy(buf.data() + at, &value, sizeof value);
}

// Feeds a datagram to readReplies and counts the data messages it hands on.
struct ReplyReader {
  int data_messages = 0;
  ReplyStep feed(std::span<const std::byte> bytes, uint32_t seq = kSeq, uint32_t portid = kPort) {
    return readReplies(bytes, seq, portid, [this](const Message&) { ++data_messages; });
  }
};

}  // namespace
}  // namespace dualsp::platform::netlink

using namespace dualsp::platform::netlink;
using State = ReplyStep::State;

TEST_GROUP(NetlinkMessageBuilder){};

TEST(NetlinkMessageBuilder, BuildsAMessageThatParsesBack) {
  MessageBuilder m(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK);
  m.setSequence(kSeq);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 24;
  ifa.ifa_index = 7;
  m.putFamilyHeader(ifa);
  const unsigned char address[4] = {198, 18, 0, 10};
  m.putAttribute(IFA_LOCAL, std::as_bytes(std::span(address)));
  m.putString(IFA_LABEL, "mgmt0");
  // 16 header + 8 ifaddrmsg + (4 + 4) + (4 + 6, padded to 12)
  LONGS_EQUAL(16 + 8 + 8 + 12, m.bytes().size());
  UNSIGNED_LONGS_EQUAL(kSeq, m.sequence());

  auto messages = parseMessages(m.bytes());
  CHECK_TRUE(messages.has_value());
  LONGS_EQUAL(1, messages->size());
  const Message& parsed = messages->front();
  UNSIGNED_LONGS_EQUAL(m.bytes().size(), parsed.header.nlmsg_len);
  LONGS_EQUAL(RTM_NEWADDR, parsed.header.nlmsg_type);
  LONGS_EQUAL(NLM_F_REQUEST | NLM_F_ACK, parsed.header.nlmsg_flags);
  UNSIGNED_LONGS_EQUAL(kSeq, parsed.header.nlmsg_seq);
  auto header = parsed.familyHeader<ifaddrmsg>();
  CHECK_TRUE(header.has_value());
  LONGS_EQUAL(24, header->ifa_prefixlen);
  LONGS_EQUAL(7, header->ifa_index);

  auto attributes = parsed.attributes(sizeof(ifaddrmsg));
  CHECK_TRUE(attributes.has_value());
  LONGS_EQUAL(2, attributes->size());
  LONGS_EQUAL(IFA_LOCAL, (*attributes)[0].type);
  LONGS_EQUAL(4, (*attributes)[0].payload.size());
  MEMCMP_EQUAL(address, (*attributes)[0].payload.data(), 4);
  LONGS_EQUAL(IFA_LABEL, (*attributes)[1].type);
  auto label = (*attributes)[1].string();
  CHECK_TRUE(label.has_value());
  STRCMP_EQUAL("mgmt0", std::string(*label).c_str());
}

TEST(NetlinkMessageBuilder, PadsOddPayloadsWithZeros) {
  MessageBuilder m(RTM_GETLINK, NLM_F_REQUEST);
  const std::byte one[1] = {std::byte{0xab}};
  m.putAttribute(1, one);
  m.putAttribute(2, one);
  auto bytes = m.bytes();
  LONGS_EQUAL(16 + 8 + 8, bytes.size());
  uint16_t nla_len = 0;
  std::memcpy(&nla_len, bytes.data() + 16, sizeof nla_len);
  LONGS_EQUAL(5, nla_len);  // the length excludes the padding
  for (size_t i = 21; i < 24; ++i) LONGS_EQUAL(0, std::to_integer<int>(bytes[i]));
  auto attributes = parseAttributes(bytes.subspan(16));
  CHECK_TRUE(attributes.has_value());
  LONGS_EQUAL(2, attributes->size());
  LONGS_EQUAL(1, (*attributes)[1].payload.size());
}

TEST(NetlinkMessageBuilder, RefusesAnAttributeLongerThanItsLengthFieldCanSay) {
  MessageBuilder m(RTM_NEWADDR, NLM_F_REQUEST);
  std::vector<std::byte> huge(70000);
  CHECK_THROWS(std::length_error, m.putAttribute(IFA_LOCAL, huge));
}

TEST(NetlinkMessageBuilder, MasksTheNestedFlagOffTheType) {
  MessageBuilder m(RTM_NEWLINK, 0);
  m.putAttribute(IFLA_LINKINFO | NLA_F_NESTED, {});
  auto attributes = parseAttributes(m.bytes().subspan(16));
  CHECK_TRUE(attributes.has_value());
  LONGS_EQUAL(IFLA_LINKINFO, (*attributes)[0].type);
  LONGS_EQUAL(0, (*attributes)[0].payload.size());
}

TEST_GROUP(NetlinkParsing){};

TEST(NetlinkParsing, AttributeRunningPastTheEndIsAnError) {
  std::vector<std::byte> bytes(8);
  writeU16(bytes, 0, 12);  // claims 12 bytes, 8 are there
  CHECK_FALSE(parseAttributes(bytes).has_value());
}

TEST(NetlinkParsing, AttributeShorterThanItsHeaderIsAnError) {
  std::vector<std::byte> bytes(8);
  writeU16(bytes, 0, 2);
  CHECK_FALSE(parseAttributes(bytes).has_value());
  writeU16(bytes, 0, 0);  // would loop forever if taken at its word
  CHECK_FALSE(parseAttributes(bytes).has_value());
}

TEST(NetlinkParsing, BytesThatCannotBePaddingAreAnError) {
  std::vector<std::byte> bytes(10);
  writeU16(bytes, 0, 8);  // one whole attribute, then 2 stray bytes
  CHECK_FALSE(parseAttributes(bytes).has_value());
}

TEST(NetlinkParsing, LastAttributeMayComeWithoutItsPadding) {
  std::vector<std::byte> bytes(5);
  writeU16(bytes, 0, 5);
  auto attributes = parseAttributes(bytes);
  CHECK_TRUE(attributes.has_value());
  LONGS_EQUAL(1, (*attributes)[0].payload.size());
}

TEST(NetlinkParsing, StringWithoutItsNulIsNotAString) {
  std::vector<std::byte> bytes(8);
  writeU16(bytes, 0, 8);
  std::memcpy(bytes.data() + 4, "lo0x", 4);
  auto attributes = parseAttributes(bytes);
  CHECK_TRUE(attributes.has_value());
  CHECK_FALSE((*attributes)[0].string().has_value());
  CHECK_FALSE(Attribute{}.string().has_value());  // empty payload
}

TEST(NetlinkParsing, MessageLengthShorterThanItsHeaderIsAnError) {
  std::vector<std::byte> bytes = toBytes(addressReply().bytes());
  writeU32(bytes, 0, 8);
  CHECK_FALSE(parseMessages(bytes).has_value());
  writeU32(bytes, 0, 0);
  CHECK_FALSE(parseMessages(bytes).has_value());
}

TEST(NetlinkParsing, MessageLengthPastTheDatagramIsAnError) {
  std::vector<std::byte> bytes = toBytes(addressReply().bytes());
  writeU32(bytes, 0, static_cast<uint32_t>(bytes.size() + 4));
  CHECK_FALSE(parseMessages(bytes).has_value());
  writeU32(bytes, 0, UINT32_MAX);
  CHECK_FALSE(parseMessages(bytes).has_value());
}

TEST(NetlinkParsing, DatagramShorterThanAHeaderIsAnError) {
  std::vector<std::byte> bytes(10);
  CHECK_FALSE(parseMessages(bytes).has_value());
}

TEST(NetlinkParsing, FamilyHeaderOrAttributesPastThePayloadAreRefused) {
  MessageBuilder m = reply(RTM_NEWADDR);  // no ifaddrmsg at all
  auto messages = parseMessages(m.bytes());
  CHECK_TRUE(messages.has_value());
  CHECK_FALSE(messages->front().familyHeader<ifaddrmsg>().has_value());
  CHECK_FALSE(messages->front().attributes(sizeof(ifaddrmsg)).has_value());
  CHECK_FALSE(messages->front().attributes(SIZE_MAX).has_value());
}

TEST(NetlinkParsing, MessageAtAnOddAddressParses) {
  MessageBuilder m = addressReply();
  std::vector<std::byte> shifted(m.bytes().size() + 1);
  std::memcpy(shifted.data() + 1, m.bytes().data(), m.bytes().size());
  auto messages = parseMessages(std::span(shifted).subspan(1));
  CHECK_TRUE(messages.has_value());
  auto ifa = messages->front().familyHeader<ifaddrmsg>();
  CHECK_TRUE(ifa.has_value());
  LONGS_EQUAL(1, ifa->ifa_index);
  auto attributes = messages->front().attributes(sizeof(ifaddrmsg));
  CHECK_TRUE(attributes.has_value());
  LONGS_EQUAL(IFA_LOCAL, (*attributes)[0].type);
}

TEST(NetlinkParsing, OddMessageLengthIsBoundedByItsPadding) {
  MessageBuilder first = addressReply();
  MessageBuilder done = reply(NLMSG_DONE);
  std::vector<std::byte> bytes = datagram({&first, &done});
  // One byte short: the next message would start inside this one's padding.
  writeU32(bytes, 0, static_cast<uint32_t>(first.bytes().size() - 1));
  // The next message starts where the padding ends, as it would for a last message.
  ReplyReader reader;
  ReplyStep step = reader.feed(bytes);
  CHECK_TRUE(step.state == State::kDone);
  LONGS_EQUAL(1, reader.data_messages);
  // Its attribute now ends past the message: refused when read.
  auto messages = parseMessages(bytes);
  CHECK_TRUE(messages.has_value());
  CHECK_FALSE(messages->front().attributes(sizeof(ifaddrmsg)).has_value());
}

// Every prefix of a valid datagram, each in a buffer of exactly its size so that a read past
// it is caught by the sanitizers: either parsed or refused, never more.
TEST(NetlinkParsing, EveryTruncationIsParsedOrRefused) {
  MessageBuilder first = addressReply();
  MessageBuilder error = errorReply(-EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  error.putString(NLMSGERR_ATTR_MSG, "prefix too long");
  std::vector<std::byte> whole = datagram({&first, &error});
  for (size_t n = 0; n < whole.size(); ++n) {
    std::vector<std::byte> cut(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(n));
    ReplyReader reader;
    ReplyStep step = reader.feed(cut);
    if (n == 0) {
      CHECK_TRUE(step.state == State::kMore);
    } else if (n == first.bytes().size()) {
      CHECK_TRUE(step.state == State::kMore);
      LONGS_EQUAL(1, reader.data_messages);
    } else {
      CHECK_TRUE(step.state == State::kFailed);
      LONGS_EQUAL(EBADMSG, step.result.error);
    }
  }
}

// Every byte of a valid datagram set to each of a few values: parsed or refused, never more.
TEST(NetlinkParsing, CorruptedBytesAreParsedOrRefused) {
  MessageBuilder first = addressReply();
  MessageBuilder error = errorReply(-EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  error.putString(NLMSGERR_ATTR_MSG, "prefix too long");
  const std::vector<std::byte> whole = datagram({&first, &error});
  for (size_t i = 0; i < whole.size(); ++i) {
    for (int value : {0x00, 0x01, 0x03, 0x7f, 0x80, 0xff}) {
      std::vector<std::byte> bytes = whole;
      bytes[i] = std::byte(value);
      ReplyReader reader;
      reader.feed(bytes);
      if (auto messages = parseMessages(bytes)) {
        for (const Message& m : *messages) {
          (void)m.attributes(sizeof(ifaddrmsg));
          (void)m.attributes(sizeof(nlmsgerr));
        }
      }
    }
  }
}

TEST_GROUP(NetlinkReplies){};

TEST(NetlinkReplies, AckSucceeds) {
  MessageBuilder ack = errorReply(0);
  ReplyReader reader;
  ReplyStep step = reader.feed(ack.bytes());
  CHECK_TRUE(step.state == State::kDone);
  CHECK_TRUE(step.result.ok());
}

TEST(NetlinkReplies, ErrorCarriesTheKernelsErrno) {
  MessageBuilder error = errorReply(-EEXIST);
  ReplyStep step = ReplyReader{}.feed(error.bytes());
  CHECK_TRUE(step.state == State::kFailed);
  LONGS_EQUAL(EEXIST, step.result.error);
  STRCMP_EQUAL("", step.result.extack.c_str());
}

TEST(NetlinkReplies, ErrorCarriesTheKernelsTextAfterACappedRequest) {
  MessageBuilder error = errorReply(-EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  error.putString(NLMSGERR_ATTR_MSG, "prefix too long");
  ReplyStep step = ReplyReader{}.feed(error.bytes());
  LONGS_EQUAL(EINVAL, step.result.error);
  STRCMP_EQUAL("prefix too long", step.result.extack.c_str());
}

TEST(NetlinkReplies, ErrorCarriesTheKernelsTextAfterTheWholeEchoedRequest) {
  struct ErrorWithRequest {  // the errno, then the whole request echoed back
    int error;
    nlmsghdr request;
    ifaddrmsg request_body;
  } body{};
  body.error = -EADDRNOTAVAIL;
  body.request.nlmsg_len = sizeof(nlmsghdr) + sizeof(ifaddrmsg);
  MessageBuilder error = reply(NLMSG_ERROR, NLM_F_ACK_TLVS);
  error.putFamilyHeader(body);
  error.putString(NLMSGERR_ATTR_MSG, "no such address");
  ReplyStep step = ReplyReader{}.feed(error.bytes());
  LONGS_EQUAL(EADDRNOTAVAIL, step.result.error);
  STRCMP_EQUAL("no such address", step.result.extack.c_str());
}

TEST(NetlinkReplies, MalformedExtendedAckKeepsTheErrno) {
  MessageBuilder error = errorReply(-EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  std::vector<std::byte> bytes = toBytes(error.bytes());
  bytes.resize(bytes.size() + 4);
  writeU16(bytes, bytes.size() - 4, 40);  // an attribute claiming far more than is there
  writeU32(bytes, 0, static_cast<uint32_t>(bytes.size()));
  ReplyStep step = ReplyReader{}.feed(bytes);
  LONGS_EQUAL(EPERM, step.result.error);
  STRCMP_EQUAL("", step.result.extack.c_str());
}

TEST(NetlinkReplies, ErrorTooShortForItsErrnoIsMalformed) {
  MessageBuilder error = reply(NLMSG_ERROR);
  error.putFamilyHeader(int{-EPERM});  // an errno without the echoed header after it
  ReplyStep step = ReplyReader{}.feed(error.bytes());
  LONGS_EQUAL(EBADMSG, step.result.error);
}

TEST(NetlinkReplies, ErrnoThatIsNoErrnoIsMalformed) {
  for (int error : {INT_MIN, 5}) {
    MessageBuilder m = errorReply(error);
    ReplyStep step = ReplyReader{}.feed(m.bytes());
    LONGS_EQUAL(EBADMSG, step.result.error);
  }
}

TEST(NetlinkReplies, WrongSequenceIsRefused) {
  MessageBuilder stale = addressReply();
  stale.setSequence(kSeq - 1);
  ReplyReader reader;
  ReplyStep step = reader.feed(stale.bytes());
  CHECK_TRUE(step.state == State::kFailed);
  LONGS_EQUAL(EPROTO, step.result.error);
  LONGS_EQUAL(0, reader.data_messages);
}

TEST(NetlinkReplies, WrongPortIsRefused) {
  MessageBuilder other = addressReply();
  other.setPortId(kPort + 1);
  ReplyReader reader;
  ReplyStep step = reader.feed(other.bytes());
  LONGS_EQUAL(ESRCH, step.result.error);
  LONGS_EQUAL(0, reader.data_messages);
}

TEST(NetlinkReplies, DoneEndsAMultipartDump) {
  MessageBuilder a = addressReply();
  MessageBuilder b = addressReply();
  MessageBuilder c = addressReply();
  MessageBuilder done = reply(NLMSG_DONE, NLM_F_MULTI);
  done.putFamilyHeader(int{0});
  ReplyReader reader;
  ReplyStep first = reader.feed(datagram({&a, &b}));
  CHECK_TRUE(first.state == State::kMore);
  LONGS_EQUAL(2, reader.data_messages);
  ReplyStep last = reader.feed(datagram({&c, &done}));
  CHECK_TRUE(last.state == State::kDone);
  CHECK_TRUE(last.result.ok());
  LONGS_EQUAL(3, reader.data_messages);
}

TEST(NetlinkReplies, InterruptedDumpFails) {
  MessageBuilder a = addressReply(NLM_F_MULTI | NLM_F_DUMP_INTR);
  ReplyStep step = ReplyReader{}.feed(a.bytes());
  LONGS_EQUAL(EINTR, step.result.error);
}

TEST(NetlinkReplies, OverrunFails) {
  MessageBuilder overrun = reply(NLMSG_OVERRUN);
  ReplyStep step = ReplyReader{}.feed(overrun.bytes());
  LONGS_EQUAL(ENOBUFS, step.result.error);
}

TEST(NetlinkReplies, NoopAndUnsolicitedZeroesAreAccepted) {
  MessageBuilder noop = reply(NLMSG_NOOP);
  MessageBuilder unsolicited = addressReply();
  unsolicited.setSequence(0);
  unsolicited.setPortId(0);
  ReplyReader reader;
  ReplyStep step = reader.feed(datagram({&noop, &unsolicited}));
  CHECK_TRUE(step.state == State::kMore);
  LONGS_EQUAL(1, reader.data_messages);
}

TEST(NetlinkReplies, MalformedDatagramFailsBeforeAnyMessageIsHandedOn) {
  MessageBuilder a = addressReply();
  std::vector<std::byte> bytes = datagram({&a});
  bytes.resize(bytes.size() + 6);  // a torn second message
  ReplyReader reader;
  ReplyStep step = reader.feed(bytes);
  LONGS_EQUAL(EBADMSG, step.result.error);
  LONGS_EQUAL(0, reader.data_messages);
}

// The real kernel, in this process's own network namespace: reading needs no privilege.
TEST_GROUP(NetlinkKernel) {
  Socket rtnl{NETLINK_ROUTE, kTimeout};
  void setup() override {
    LONGS_EQUAL(0, rtnl.openError());
  }
};

TEST(NetlinkKernel, SocketGetsAPort) {
  CHECK_TRUE(rtnl.portId() != 0);
}

TEST(NetlinkKernel, LoopbackLinkAnswersByName) {
  MessageBuilder request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
  request.putFamilyHeader(ifinfomsg{});
  request.putString(IFLA_IFNAME, "lo");
  int index = 0;
  unsigned flags = 0;
  std::string name;
  Result r = rtnl.transact(request, [&](const Message& m) {
    auto info = m.familyHeader<ifinfomsg>();
    auto attributes = m.attributes(sizeof(ifinfomsg));
    if (m.header.nlmsg_type != RTM_NEWLINK || !info || !attributes) return;
    index = info->ifi_index;
    flags = info->ifi_flags;
    for (const Attribute& a : *attributes) {
      if (a.type == IFLA_IFNAME && a.string()) name = *a.string();
    }
  });
  CHECK_TRUE_TEXT(r.ok(), std::strerror(r.error));
  LONGS_EQUAL(if_nametoindex("lo"), index);
  STRCMP_EQUAL("lo", name.c_str());
  CHECK_TRUE(flags & IFF_LOOPBACK);
}

TEST(NetlinkKernel, AddressDumpListsLoopbackAddress) {
  MessageBuilder request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  request.putFamilyHeader(ifa);
  const int lo = static_cast<int>(if_nametoindex("lo"));
  int messages = 0;
  bool found = false;
  Result r = rtnl.transact(request, [&](const Message& m) {
    ++messages;
    auto header = m.familyHeader<ifaddrmsg>();
    auto attributes = m.attributes(sizeof(ifaddrmsg));
    if (!header || !attributes || static_cast<int>(header->ifa_index) != lo) return;
    for (const Attribute& a : *attributes) {
      in_addr local{htonl(INADDR_LOOPBACK)};
      if (a.type == IFA_LOCAL && a.payload.size() == sizeof local &&
          std::memcmp(a.payload.data(), &local, sizeof local) == 0) {
        found = true;
      }
    }
  });
  CHECK_TRUE_TEXT(r.ok(), std::strerror(r.error));
  CHECK_TRUE(messages >= 1);
  CHECK_TRUE(found);
}

TEST(NetlinkKernel, UnknownLinkIsTheKernelsNoSuchDevice) {
  MessageBuilder request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
  request.putFamilyHeader(ifinfomsg{});
  request.putString(IFLA_IFNAME, "nope0");
  int replies = 0;
  Result r = rtnl.transact(request, [&](const Message&) { ++replies; });
  LONGS_EQUAL(ENODEV, r.error);
  LONGS_EQUAL(0, replies);
}

TEST(NetlinkKernel, RequestsOnOneSocketGetFreshSequenceNumbers) {
  MessageBuilder first(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
  first.putFamilyHeader(ifinfomsg{});
  first.putString(IFLA_IFNAME, "lo");
  MessageBuilder second = first;
  CHECK_TRUE(rtnl.transact(first).ok());
  CHECK_TRUE(rtnl.transact(second).ok());
  CHECK_TRUE(first.sequence() != second.sequence());
}

// The floating address code on top of it, read-only on the loopback interface.
TEST_GROUP(NetlinkFloatingAddressOnLoopback){};

TEST(NetlinkFloatingAddressOnLoopback, LoopbackAddressIsHeld) {
  CHECK_TRUE(dualsp::platform::makeNetlinkFloatingAddress("127.0.0.1", 8, "lo")->held());
}

TEST(NetlinkFloatingAddressOnLoopback, OtherAddressIsNotHeld) {
  CHECK_FALSE(dualsp::platform::makeNetlinkFloatingAddress("127.0.0.2", 8, "lo")->held());
}

TEST(NetlinkFloatingAddressOnLoopback, MissingInterfaceFailsWithTheKernelsText) {
  // The link lookup fails first, so nothing is ever changed.
  auto floating = dualsp::platform::makeNetlinkFloatingAddress("198.18.0.10", 24, "nope0");
  dualsp::platform::Status s = floating->add();
  CHECK_FALSE(s.ok);
  STRCMP_EQUAL("cannot add 198.18.0.10/24 on nope0: interface nope0: No such device",
               s.error.c_str());
  CHECK_TRUE(floating->remove().ok);  // no interface, so certainly no address on it
}
