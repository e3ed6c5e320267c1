// The SP configuration file: every bad key is named, nothing starts half-configured.
#include <CppUTest/TestHarness.h>

#include <nlohmann/json.hpp>
#include <string>

#include "sp/settings.hpp"

using dualsp::SpId;
using dualsp::sp::parseSettings;
using dualsp::sp::SettingsError;
using json = nlohmann::json;

namespace {

json validConfig() {
  return json::parse(R"({
    "sp": "B", "array_id": "sp-pair", "state_dir": "/tmp/spb",
    "platform": {"backend": "sim", "power_controller": "/tmp/power.sock"},
    "management": {"interface": "mgmt0", "address": "198.18.0.12"},
    "peer": {"management_address": "198.18.0.11", "link_address": "198.18.1.11"},
    "peer_link": {"interface": "peer0", "address": "198.18.1.12"},
    "floating": {"address": "198.18.0.10", "prefix_length": 24, "interface": "mgmt0"},
    "heartbeat": {"midplane": {"interval_ms": 2, "dead_ms": 30}},
    "web": {"port": 80}
  })");
}

// The error text for a config, or "" when it parses.
std::string errorOf(const json& j) {
  try {
    parseSettings(j.dump(), "sp.json");
  } catch (const SettingsError& e) {
    return e.what();
  }
  return "";
}

void checkNames(const json& j, const char* expected) {
  std::string err = errorOf(j);
  std::string msg = "error was: '" + err + "'";
  CHECK_TEXT(err.find(expected) != std::string::npos, msg.c_str());
}

}  // namespace

TEST_GROUP(Settings){};

TEST(Settings, ValidFileParsesWithDefaults) {
  auto c = parseSettings(validConfig().dump());
  CHECK(c.sp == SpId::B);
  STRCMP_EQUAL("198.18.0.10", c.floating.address.c_str());
  LONGS_EQUAL(2, c.heartbeat.midplane.interval.count());
  LONGS_EQUAL(30, c.heartbeat.midplane.dead.count());
  LONGS_EQUAL(50, c.heartbeat.peer.dead.count());
  STRCMP_EQUAL("dualsp-sp-pair-midplane", c.heartbeat.midplane_segment.c_str());
  LONGS_EQUAL(200, c.fenceDelay().count());  // SP-B waits before fencing by default
  LONGS_EQUAL(5000, c.web.sse_keep_alive_ms);
}

TEST(Settings, TheKeepAliveOfEventStreamsIsBounded) {
  json j = validConfig();
  j["web"]["sse_keep_alive_ms"] = 2000;
  LONGS_EQUAL(2000, parseSettings(j.dump()).web.sse_keep_alive_ms);
  j["web"]["sse_keep_alive_ms"] = 100;
  checkNames(j, "web.sse_keep_alive_ms: must be between 500 and 60000");
}

// spweb's identity after it drops root (docs/SECURITY.md "What runs as whom").
TEST(Settings, TheWebUserIsResolvedOrRefused) {
  auto c = parseSettings(validConfig().dump());
  STRCMP_EQUAL("dualsp-web", c.web.user.c_str());
  json j = validConfig();
  j["web"]["user"] = "1234:5678";
  c = parseSettings(j.dump());
  CHECK_EQUAL(1234u, c.web.identity.uid);
  CHECK_EQUAL(5678u, c.web.identity.gid);
  j["web"]["user"] = "0:0";
  checkNames(j, "web.user: '0:0' is root");
  j["web"]["user"] = "no-such-user-here";
  checkNames(j, "web.user: no user 'no-such-user-here'");
}

// The front-end iSCSI portals and the shelf's source (docs/SETTINGS.md "platform").
TEST(Settings, FrontEndIscsiPortalsAndTheShelf) {
  auto c = parseSettings(validConfig().dump());
  STRCMP_EQUAL("description", c.platform.shelf.c_str());
  CHECK_TRUE(c.platform.shelf_exclude.empty());
  CHECK_TRUE(c.platform.frontend_iscsi.empty());

  json j = validConfig();
  j["platform"]["shelf"] = "linux";
  j["platform"]["shelf_exclude"] = {"vda"};
  j["platform"]["frontend_iscsi"] =
      json::array({{{"interface", "eth2"}, {"address", "198.18.2.11"}, {"prefix_length", 24}},
                   {{"interface", "eth3"}, {"address", "198.18.3.11"}}});
  c = parseSettings(j.dump());
  STRCMP_EQUAL("linux", c.platform.shelf.c_str());
  LONGS_EQUAL(1, c.platform.shelf_exclude.size());
  STRCMP_EQUAL("vda", c.platform.shelf_exclude[0].c_str());
  LONGS_EQUAL(2, c.platform.frontend_iscsi.size());
  STRCMP_EQUAL("eth2", c.platform.frontend_iscsi[0].interface.c_str());
  STRCMP_EQUAL("198.18.2.11", c.platform.frontend_iscsi[0].address.c_str());
  LONGS_EQUAL(24, c.platform.frontend_iscsi[0].prefix_length);
  STRCMP_EQUAL("198.18.3.11", c.platform.frontend_iscsi[1].address.c_str());
  LONGS_EQUAL(24, c.platform.frontend_iscsi[1].prefix_length);  // the default

  json bad = j;
  bad["platform"]["shelf"] = "disks";
  checkNames(bad, "platform.shelf: must be \"description\" or \"linux\"");
  bad = j;
  bad["platform"]["shelf_exclude"] = "vda";
  checkNames(bad, "platform.shelf_exclude: must be a list of strings");
  bad = j;
  bad["platform"]["frontend_iscsi"][1]["address"] = "198.18.3.11/24";
  checkNames(bad, "platform.frontend_iscsi[1].address: '198.18.3.11/24' is not an IPv4 address");
  bad = j;
  bad["platform"]["frontend_iscsi"][0].erase("interface");
  checkNames(bad, "platform.frontend_iscsi[0].interface: is required");
  bad = j;
  bad["platform"]["frontend_iscsi"][0]["portal"] = 3260;
  checkNames(bad, "platform.frontend_iscsi[0].portal: unknown key");
  bad = j;
  bad["platform"]["frontend_iscsi"][0]["prefix_length"] = 33;
  checkNames(bad, "platform.frontend_iscsi[0].prefix_length: must be between 1 and 32");
  bad = j;
  bad["platform"]["frontend_iscsi"] = {{"interface", "eth2"}};
  checkNames(bad, "platform.frontend_iscsi: must be a list of objects");
}

TEST(Settings, UnknownKeyIsNamed) {
  json j = validConfig();
  j["heartbeat"]["peer"] = {{"intreval_ms", 5}};
  checkNames(j, "heartbeat.peer.intreval_ms: unknown key");
}

TEST(Settings, WrongTypeIsNamed) {
  json j = validConfig();
  j["heartbeat"]["port"] = "7400";
  checkNames(j, "heartbeat.port: must be an integer");
}

TEST(Settings, MissingSpIsNamed) {
  json j = validConfig();
  j.erase("sp");
  checkNames(j, "sp: is required");
}

TEST(Settings, BadSpValueIsNamed) {
  json j = validConfig();
  j["sp"] = "C";
  checkNames(j, "sp: must be \"A\" or \"B\"");
}

TEST(Settings, BadAddressIsNamed) {
  json j = validConfig();
  j["floating"]["address"] = "198.18.0.300";
  checkNames(j, "floating.address: '198.18.0.300' is not an IPv4 address");
}

TEST(Settings, DeadIntervalMustExceedInterval) {
  json j = validConfig();
  j["heartbeat"]["mgmt"] = {{"interval_ms", 50}, {"dead_ms", 50}};
  checkNames(j, "heartbeat.mgmt.dead_ms: must be longer than interval_ms");
}

TEST(Settings, OutOfRangeIsNamed) {
  json j = validConfig();
  j["floating"]["prefix_length"] = 33;
  checkNames(j, "floating.prefix_length: must be between 1 and 32");
}

TEST(Settings, SimBackendNeedsThePowerController) {
  json j = validConfig();
  j["platform"].erase("power_controller");
  checkNames(j, "platform.power_controller: is required");
}

TEST(Settings, NotJsonIsReported) {
  try {
    parseSettings("{\"sp\": \"A\",", "broken.json");
    FAIL("parsed broken JSON");
  } catch (const SettingsError& e) {
    CHECK(std::string(e.what()).find("broken.json: not valid JSON") != std::string::npos);
  }
}

TEST(Settings, MissingFileIsReported) {
  try {
    dualsp::sp::loadSettings("/nonexistent/dualsp.json");
    FAIL("loaded a missing file");
  } catch (const SettingsError& e) {
    CHECK(std::string(e.what()).find("cannot read") != std::string::npos);
  }
}

// HTTPS on 443 with plain HTTP redirected, where spweb has TLS (off in a firmware without it);
// the certificate defaults into the state directory.
TEST(Settings, HttpsIsOnByDefaultWithItsCertificateInTheStateDirectory) {
  auto c = parseSettings(validConfig().dump());
  STRCMP_EQUAL("/tmp/spb/spweb-https.pem", c.web.tls_certificate.c_str());
  STRCMP_EQUAL("redirect", c.web.plain_http.c_str());
  json j = validConfig();
  j["web"]["https_port"] = 8443;
  j["web"]["plain_http"] = "serve";
#ifdef DUALSP_SPWEB_TLS
  LONGS_EQUAL(443, c.web.https_port);
  c = parseSettings(j.dump());
  LONGS_EQUAL(8443, c.web.https_port);
  STRCMP_EQUAL("serve", c.web.plain_http.c_str());
  j["web"]["https_port"] = 0;  // switched off: plain HTTP only
  LONGS_EQUAL(0, parseSettings(j.dump()).web.https_port);
  j["web"]["https_port"] = 80;
  checkNames(j, "web.https_port: must differ from web.port");
  j["web"]["https_port"] = 443;
  j["web"]["plain_http"] = "drop";
  checkNames(j, "web.plain_http: must be \"serve\" or \"redirect\"");
  j["web"]["plain_http"] = "serve";
  j["web"]["tls_certificate"] = "relative.pem";
  checkNames(j, "web.tls_certificate: must be an absolute path");
#else
  LONGS_EQUAL(0, c.web.https_port);
  checkNames(j, "web.https_port: this firmware's spweb is built without TLS");
#endif
}
