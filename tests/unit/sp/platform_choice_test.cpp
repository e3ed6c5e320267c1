// Which platform parts the configuration selects (the ones that can be built without
// touching the machine: no netlink, GPIO or power controller here).
#include "sp/platform_choice.hpp"

#include <string>

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;

TEST_GROUP(PlatformChoice){};

TEST(PlatformChoice, LoopbackModeRelaysTheFloatingPortToTheWebServer) {
  Settings c;
  c.floating.mode = "loopback";
  c.floating.address = "127.0.0.10";
  c.floating.port = 8080;
  c.management.address = "127.0.0.11";
  c.web.port = 8081;
  auto floating = makeFloating(c);
  CHECK_EQUAL(std::string("127.0.0.10:8080 relaying to 127.0.0.11:8081"), floating->describe());
  CHECK_FALSE(floating->held());  // nothing is taken until the election says so
}

TEST(PlatformChoice, ASimulatedSpWithoutAHardwareDescriptionHasNone) {
  Settings c;
  c.platform.backend = "sim";
  CHECK_TRUE(makeHardware(c) == nullptr);
}

TEST(PlatformChoice, EveryStartHasItsOwnBootId) {
  const std::string a = newBootId();
  CHECK_EQUAL(36u, a.size());  // a UUID's text
  CHECK_TRUE(a != newBootId());
}

TEST(PlatformChoice, TheWallClockIsInMillisecondsSince1970) {
  const int64_t now = wallMillis();
  CHECK_TRUE(now > 1600000000000);  // after September 2020
  CHECK_TRUE(now < 4102444800000);  // before 2100
}
