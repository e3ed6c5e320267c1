// spd's options derived from the SP's configuration: the pair key file, the peer-link routes,
// the heartbeat service, the configuration service and spweb's command line.
#include "sp/daemon_options.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <CppUTest/TestHarness.h>

#include <algorithm>

using namespace dualsp;
using namespace dualsp::sp;
using std::chrono::milliseconds;

namespace {

Settings twoRoutes() {
  Settings c;
  c.sp = SpId::B;
  c.array_id = "array-7";
  c.state_dir = "/var/lib/dualsp";
  c.management.address = "198.18.0.12";
  c.peer.management_address = "198.18.0.11";
  c.peer_link.address = "198.18.1.12";
  c.peer.link_address = "198.18.1.11";
  c.peer_link.port = 7600;
  return c;
}

}  // namespace

TEST_GROUP(PairKey) {
  std::string path = "/tmp/dualsp-pair-key-test-" + std::to_string(getpid());
  void write(const std::string& text) {
    std::ofstream(path) << text;
  }
  void teardown() override {
    std::remove(path.c_str());
  }
};

TEST(PairKey, HexDigitsBecomeTheKeyBytes) {
  write(std::string(62, '0') + "fF\n");
  std::string error;
  std::string key = readPairKey(path, error);
  CHECK_EQUAL(32u, key.size());
  CHECK_EQUAL('\xff', key.back());
  CHECK_EQUAL('\0', key.front());
  CHECK_TRUE(error.empty());
}

TEST(PairKey, TooShortOddOrNotHexIsRefusedWithTheFileNamed) {
  for (const std::string& bad :
       {std::string(62, 'a'), std::string(65, 'a'), std::string(63, 'a') + "g"}) {
    write(bad);
    std::string error;
    CHECK_TRUE(readPairKey(path, error).empty());
    STRCMP_CONTAINS("must hold at least 64 hex digits", error.c_str());
    STRCMP_CONTAINS(path.c_str(), error.c_str());
  }
}

TEST(PairKey, AMissingFileNamesTheSetting) {
  std::string error;
  CHECK_TRUE(readPairKey(path + ".absent", error).empty());
  STRCMP_CONTAINS("peer_link.key_file", error.c_str());
}

TEST_GROUP(PeerRoutes){};

TEST(PeerRoutes, TheDedicatedLinkFirstThenTheManagementNetwork) {
  auto routes = peerRoutes(twoRoutes(), "k");
  CHECK_EQUAL(2u, routes.size());
  CHECK_EQUAL(std::string("peer-link"), routes[0].name);
  CHECK_EQUAL(std::string("198.18.1.12"), routes[0].link.local_address);
  CHECK_EQUAL(std::string("198.18.1.11"), routes[0].link.peer_address);
  CHECK_EQUAL(std::string("management"), routes[1].name);
  CHECK_EQUAL(std::string("198.18.0.11"), routes[1].link.peer_address);
  for (const auto& r : routes) {
    CHECK_EQUAL(7600, r.link.port);
    CHECK_EQUAL(std::string("k"), r.link.key);
    CHECK_TRUE(r.link.self == SpId::B);
  }
}

TEST(PeerRoutes, ARouteWithoutBothEndsOrSwitchedOffIsLeftOut) {
  Settings c = twoRoutes();
  c.peer.link_address.clear();
  auto routes = peerRoutes(c, "k");
  CHECK_EQUAL(1u, routes.size());
  CHECK_EQUAL(std::string("management"), routes[0].name);
  c.peer_link.management_route = false;
  CHECK_EQUAL(0u, peerRoutes(c, "k").size());
}

TEST_GROUP(ServiceOptions){};

TEST(ServiceOptions, TheStallThresholdIsTheShortestDeadIntervalOfAnEnabledPath) {
  Settings c = twoRoutes();
  c.heartbeat.peer.dead = milliseconds{80};
  c.heartbeat.mgmt.dead = milliseconds{60};
  c.heartbeat.midplane.dead = milliseconds{30};
  c.heartbeat.midplane.enabled = false;
  auto o = serviceOptions(c, "boot-1", 42);
  CHECK_EQUAL(60, o.election.stall_threshold.count());
  CHECK_EQUAL(42u, o.persisted_epoch);
  CHECK_EQUAL(std::string("boot-1"), o.boot_id);
  CHECK_EQUAL(std::string("198.18.1.11"), o.peer.peer_address);
  CHECK_EQUAL(std::string("198.18.0.11"), o.mgmt.peer_address);
  CHECK_TRUE(o.peer.key.empty());                    // the caller signs them
  CHECK_EQUAL(200, o.election.fence_delay.count());  // SP-B's default
}

TEST(ServiceOptions, CarrierIsWatchedOnlyWhereANetlinkFloatingAddressLives) {
  Settings c = twoRoutes();
  c.floating.interface = "mgmt0";
  CHECK_EQUAL(std::string("mgmt0"), serviceOptions(c, "b", 1).carrier_interface);
  c.floating.mode = "loopback";
  CHECK_TRUE(serviceOptions(c, "b", 1).carrier_interface.empty());
}

TEST_GROUP(OtherOptions){};

TEST(OtherOptions, APassiveWaitsLongerForAForwardedWriteThanTheActiveCanTake) {
  Settings c = twoRoutes();
  c.peer_link.request_timeout = milliseconds{500};
  c.peer_link.change_wait = milliseconds{2000};
  auto o = configServiceOptions(c);
  CHECK_EQUAL(500, o.replicate_timeout.count());
  CHECK_EQUAL(2000, o.change_wait.count());
  CHECK_EQUAL(2000 + 4 * 500 + 500, o.forward_timeout.count());
}

TEST(OtherOptions, SpwebGetsItsModeIdentityAndLogFile) {
  Settings c = twoRoutes();
  c.web.port = 8080;
  c.web.https_port = 0;  // HTTPS's options: SpwebGetsHttpsOnlyWhenAskedFor
  auto args = spwebArguments(c, "degraded");
  CHECK_TRUE((args == std::vector<std::string>{"--mode",
                                               "degraded",
                                               "--sp",
                                               "B",
                                               "--array-id",
                                               "array-7",
                                               "--listen",
                                               "0.0.0.0",
                                               "--port",
                                               "8080",
                                               "--log-file",
                                               "/var/lib/dualsp/log/spweb.log",
                                               "--request-timeout-ms",
                                               "10000",
                                               "--max-client-requests",
                                               "12",
                                               "--sse-keep-alive-ms",
                                               "5000",
                                               "--user",
                                               "64900:64900",
                                               "--refused-network",
                                               "198.18.1.0/24",
                                               "--refused-network",
                                               "198.18.0.12/32",
                                               "--refused-network",
                                               "198.18.0.11/32"}));
}

TEST(OtherOptions, SpwebGetsHttpsOnlyWhenAskedFor) {
  Settings c = twoRoutes();
  c.web.tls_certificate = "/var/lib/dualsp/spweb-https.pem";
  c.web.https_port = 0;
  auto plain = spwebArguments(c, "full");
  CHECK_TRUE(std::find(plain.begin(), plain.end(), "--https-port") == plain.end());
  c.web.https_port = 443;
  c.web.plain_http = "redirect";
  auto args = spwebArguments(c, "full");
  auto at = std::find(args.begin(), args.end(), "--https-port");
  CHECK_TRUE(at != args.end());
  CHECK_TRUE(
      (std::vector<std::string>(at, at + 6) ==
       std::vector<std::string>{"--https-port", "443", "--tls-certificate",
                                "/var/lib/dualsp/spweb-https.pem", "--plain-http", "redirect"}));
}

// Subscriptions must not point at the SPs themselves: the whole peer link, the management
// addresses of both, the floating address and its network's broadcast.
TEST(OtherOptions, TheSpsOwnNetworksAreTheirLinkAndTheirAddresses) {
  Settings c = twoRoutes();
  c.floating.address = "198.18.0.10";
  c.floating.prefix_length = 24;
  c.peer_link.prefix_length = 30;
  std::vector<std::string> names;
  for (const auto& n : ownNetworks(c)) names.push_back(n.toString());
  CHECK_TRUE(
      (names == std::vector<std::string>{"198.18.1.12/30", "198.18.1.8/30", "198.18.0.12/32",
                                         "198.18.0.11/32", "198.18.0.10/32", "198.18.0.255/32"}));
}

TEST(OtherOptions, AConfiguredSpwebPathWinsElseThePath) {
  Settings c = twoRoutes();
  CHECK_EQUAL(std::string("spweb"), findSpweb(c, "/nonexistent/bin/spd"));
  c.web.spweb = "/opt/spweb";
  CHECK_EQUAL(std::string("/opt/spweb"), findSpweb(c, "/nonexistent/bin/spd"));
}

TEST(OtherOptions, TheBoardTemplateNamesThisSpdAndItsAddresses) {
  Settings c = twoRoutes();
  c.floating.address = "198.18.0.10";
  auto t = boardTemplate(c, "5f0c-boot", 4242, 1700000000000);
  CHECK_EQUAL(4242u, t.spd_pid);
  CHECK_TRUE(t.sp == SpId::B);
  CHECK_EQUAL(1700000000000, t.boot_time_ms);
  STRCMP_EQUAL("array-7", t.array_id);
  STRCMP_EQUAL("5f0c-boot", t.boot_id);
  STRCMP_EQUAL(DUALSP_FIRMWARE_VERSION, t.firmware_version);
  STRCMP_EQUAL("198.18.0.12", t.management_address);
  STRCMP_EQUAL("198.18.0.10", t.floating_address);
}
