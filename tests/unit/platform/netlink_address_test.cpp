// The netlink floating address against a real kernel, inside a throwaway network namespace.
// Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for setns).

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <memory>
#include <string>

#include "platform/linux/netlink_address.hpp"
#include "tests/unit/platform/test_namespace.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

namespace dualsp::platform {
namespace {

constexpr const char* kAddress = "198.18.0.10";  // docs/DESIGN.md "Addresses and ports in tests"

// Whether the calling thread's namespace shows `address`/`prefix` on `interface`, as
// getifaddrs (not the code under test) sees it.
bool visible(const std::string& interface, const std::string& address, int prefix) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || interface != i->ifa_name) continue;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    uint32_t mask = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
    if (address == text && __builtin_popcount(mask) == prefix) found = true;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace
}  // namespace dualsp::platform

using namespace dualsp::platform;

TEST_GROUP(NetlinkFloatingAddress) {
  std::unique_ptr<test::TestNamespace> ns;
  std::unique_ptr<FloatingAddress> floating;

  void setup() override {
    ns = std::make_unique<test::TestNamespace>("nl", "dsp0", "dsp1");
    CHECK_TRUE_TEXT(ns->ok(), "cannot build the test namespace (are we root?)");
    floating = makeNetlinkFloatingAddress(kAddress, 24, "dsp0");
  }
  void teardown() override {
    floating.reset();
    ns.reset();
  }

  Status inNs(Status(FloatingAddress::*op)()) {
    auto result = ns->run([&] { return (floating.get()->*op)(); });
    CHECK_TRUE_TEXT(result.has_value(), "cannot enter the test namespace");
    return *result;
  }
  bool heldInNs() {
    auto result = ns->run([&] { return floating->held(); });
    CHECK_TRUE_TEXT(result.has_value(), "cannot enter the test namespace");
    return *result;
  }
  bool visibleInNs() {
    auto result = ns->run([] { return visible("dsp0", kAddress, 24); });
    CHECK_TRUE(result.has_value());
    return *result;
  }
  void setUpInNs(bool up) {
    auto result = ns->run([up] { return test::setLinkUp("dsp0", up); });
    CHECK_TRUE(result.has_value() && *result);
  }
};

TEST(NetlinkFloatingAddress, DescribesAddressAndInterface) {
  STRCMP_EQUAL("198.18.0.10/24 on dsp0", floating->describe().c_str());
}

TEST(NetlinkFloatingAddress, NotHeldBeforeAdd) {
  CHECK_FALSE(heldInNs());
  CHECK_FALSE(visibleInNs());
}

TEST(NetlinkFloatingAddress, AddMakesItHeldAndVisible) {
  Status s = inNs(&FloatingAddress::add);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  CHECK_TRUE(heldInNs());
  CHECK_TRUE(visibleInNs());
}

TEST(NetlinkFloatingAddress, AddTwiceSucceeds) {
  Status first = inNs(&FloatingAddress::add);
  Status second = inNs(&FloatingAddress::add);
  CHECK_TRUE_TEXT(first.ok, first.error.c_str());
  CHECK_TRUE_TEXT(second.ok, second.error.c_str());
  CHECK_TRUE(heldInNs());
}

TEST(NetlinkFloatingAddress, RemoveMakesItNotHeld) {
  CHECK_TRUE(inNs(&FloatingAddress::add).ok);
  Status s = inNs(&FloatingAddress::remove);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  CHECK_FALSE(heldInNs());
  CHECK_FALSE(visibleInNs());
}

TEST(NetlinkFloatingAddress, RemoveWhenAbsentSucceeds) {
  Status s = inNs(&FloatingAddress::remove);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  CHECK_FALSE(heldInNs());
}

TEST(NetlinkFloatingAddress, NotHeldWhileInterfaceDown) {
  CHECK_TRUE(inNs(&FloatingAddress::add).ok);
  setUpInNs(false);
  CHECK_FALSE(heldInNs());
  setUpInNs(true);
  CHECK_TRUE(heldInNs());
}

TEST(NetlinkFloatingAddress, AddOnMissingInterfaceFailsClearly) {
  floating = makeNetlinkFloatingAddress(kAddress, 24, "nope0");
  Status s = inNs(&FloatingAddress::add);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("nope0", s.error.c_str());
  STRCMP_CONTAINS("No such device", s.error.c_str());
  CHECK_FALSE(heldInNs());
}

TEST(NetlinkFloatingAddress, InvalidAddressFails) {
  floating = makeNetlinkFloatingAddress("198.18.0.999", 24, "dsp0");
  Status s = inNs(&FloatingAddress::add);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("198.18.0.999", s.error.c_str());
}

TEST(NetlinkFloatingAddress, WorksInTheCallersNamespaceOnly) {
  CHECK_TRUE(inNs(&FloatingAddress::add).ok);
  // This thread is still in the host namespace, which has no dsp0.
  CHECK_FALSE(floating->held());
  CHECK_TRUE(heldInNs());
}

TEST(NetlinkFloatingAddress, RemoveTakesTheAddressWhateverItsPrefix) {
  auto wide = makeNetlinkFloatingAddress(kAddress, 16, "dsp0");
  auto added = ns->run([&] { return wide->add(); });
  CHECK_TRUE(added.has_value() && added->ok);
  CHECK_TRUE(heldInNs());  // held() matches the address, whatever its prefix
  Status s = inNs(&FloatingAddress::remove);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  CHECK_FALSE(heldInNs());
}
