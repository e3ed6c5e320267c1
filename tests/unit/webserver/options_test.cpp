#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

#include "webserver/options.hpp"
#include "webserver/web_server.hpp"

using namespace dualsp;
using namespace dualsp::web;

namespace {

CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "spweb");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parseCommandLine(static_cast<int>(args.size()), argv.data());
}

std::vector<std::string> fullLine() {
  return {"--mode",  "degraded", "--sp",        "B",      "--array-id",
          "sp-pair", "--listen", "198.18.0.12", "--port", "8080"};
}

void checkError(std::vector<std::string> args, const char* expected) {
  CommandLine cl = parse(std::move(args));
  CHECK(cl.action == CliAction::Error);
  STRCMP_CONTAINS(expected, cl.error.c_str());
}

}  // namespace

TEST_GROUP(Options){};

TEST(Options, ParsesSpdsCommandLine) {
  CommandLine cl = parse(fullLine());
  CHECK(cl.action == CliAction::Run);
  CHECK(cl.options.service.mode == ServeMode::Degraded);
  CHECK(cl.options.service.sp == SpId::B);
  STRCMP_EQUAL("sp-pair", cl.options.service.array_id.c_str());
  STRCMP_EQUAL("198.18.0.12", cl.options.listen_address.c_str());
  LONGS_EQUAL(8080, cl.options.port);
  STRCMP_EQUAL("", cl.options.log_file.c_str());
  STRCMP_EQUAL("dualsp-sp-pair-spb-status", cl.options.status_board.c_str());
  STRCMP_EQUAL("dualsp-sp-pair-spb-bus", cl.options.bus.c_str());
}

TEST(Options, OptionalArguments) {
  auto args = fullLine();
  args.insert(args.end(), {"--log-file", "/run/x/spweb.log", "--status-board", "board-x",
                           "--port=0", "--bus", "bus-x", "--sse-keep-alive-ms", "2000"});
  CommandLine cl = parse(args);
  CHECK(cl.action == CliAction::Run);
  LONGS_EQUAL(2000, cl.options.sse_keep_alive_ms);
  STRCMP_EQUAL("/run/x/spweb.log", cl.options.log_file.c_str());
  STRCMP_EQUAL("board-x", cl.options.status_board.c_str());
  STRCMP_EQUAL("bus-x", cl.options.bus.c_str());
  LONGS_EQUAL(0, cl.options.port);
}

// Who to run as once bound (docs/WEB.md "Who spweb runs as"): none unless given.
TEST(Options, TheUserToRunAsIsUidGidOrAName) {
  CHECK_FALSE(parse(fullLine()).options.user.has_value());
  auto args = fullLine();
  args.insert(args.end(), {"--user", "64900:64901"});
  CommandLine cl = parse(args);
  CHECK(cl.action == CliAction::Run);
  CHECK_TRUE(cl.options.user.has_value());
  CHECK_EQUAL(64900u, cl.options.user->uid);
  CHECK_EQUAL(64901u, cl.options.user->gid);
  args = fullLine();
  args.insert(args.end(), {"--user", "0:0"});
  checkError(args, "--user: '0:0' is root");
  args = fullLine();
  args.insert(args.end(), {"--user", "no-such-user-here"});
  checkError(args, "--user: no user 'no-such-user-here'");
  STRCMP_CONTAINS("--user", usageText().c_str());
}

TEST(Options, InformationalActionsNeedNothingElse) {
  CHECK(parse({"--help"}).action == CliAction::Help);
  CHECK(parse({"-h"}).action == CliAction::Help);
  CHECK(parse({"--version"}).action == CliAction::Version);
  CHECK(parse({"--routes"}).action == CliAction::Routes);
  CHECK(parse({"--routes", "--help"}).action == CliAction::Help);
  STRCMP_CONTAINS("--status-board", usageText().c_str());
  STRCMP_CONTAINS("--bus", usageText().c_str());
}

TEST(Options, RefusesBadArgumentsWithAClearMessage) {
  checkError({}, "missing --mode --sp --array-id --listen --port");
  checkError({"--mode", "full", "--sp", "A"}, "missing --array-id --listen --port");
  auto with = [](std::string option, std::string value) {
    auto args = fullLine();
    args.insert(args.end(), {std::move(option), std::move(value)});
    return args;
  };
  checkError(with("--mode", "rescue"), "--mode must be full or degraded");
  checkError(with("--sp", "C"), "--sp must be A or B");
  checkError(with("--port", "65536"), "--port must be a number from 0 to 65535");
  checkError(with("--port", "80x"), "--port must be a number");
  checkError(with("--port", "-1"), "--port must be a number");
  checkError(with("--listen", "::1"), "--listen must be an IPv4 address");
  checkError(with("--listen", "localhost"), "--listen must be an IPv4 address");
  checkError(with("--array-id", "a/b"), "--array-id must be");
  checkError(with("--array-id", std::string(32, 'x')), "--array-id must be");
  checkError(with("--log-file", ""), "--log-file must not be empty");
  checkError(with("--bus", ""), "--bus must not be empty");
  checkError(with("--sse-keep-alive-ms", "499"),
             "--sse-keep-alive-ms must be a number from 500 to 60000");
  checkError({"--bogus"}, "unknown option '--bogus'");
  checkError({"-x"}, "unknown option '-x'");
  checkError({"--port"}, "--port needs a value");
  auto extra = fullLine();
  extra.push_back("stray");
  checkError(extra, "unexpected argument 'stray'");
}

TEST(Options, ParsesAgainAfterAnError) {
  checkError({"--bogus"}, "unknown option");
  CHECK(parse(fullLine()).action == CliAction::Run);
}

std::vector<std::string> withArgs(std::vector<std::string> extra) {
  std::vector<std::string> args = fullLine();
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(Options, HttpsNeedsACertificateAndRedirectNeedsHttps) {
  CommandLine plain = parse(fullLine());
  LONGS_EQUAL(-1, plain.options.https_port);
  CHECK_FALSE(plain.options.redirect_plain);
  if (tlsAvailable()) {
    CommandLine cl = parse(withArgs(
        {"--https-port", "443", "--tls-certificate", "/cfg/tls.pem", "--plain-http", "redirect"}));
    CHECK(cl.action == CliAction::Run);
    LONGS_EQUAL(443, cl.options.https_port);
    STRCMP_EQUAL("/cfg/tls.pem", cl.options.tls_certificate.c_str());
    CHECK_TRUE(cl.options.redirect_plain);
    CHECK_FALSE(
        parse(withArgs({"--https-port", "0", "--tls-certificate", "x", "--plain-http", "serve"}))
            .options.redirect_plain);
    checkError(withArgs({"--https-port", "443"}), "--https-port needs --tls-certificate");
  } else {
    checkError(withArgs({"--https-port", "443", "--tls-certificate", "x"}), "built without TLS");
  }
  checkError(withArgs({"--tls-certificate", "x"}), "go with --https-port");
  checkError(withArgs({"--plain-http", "redirect"}), "go with --https-port");
  checkError(withArgs({"--https-port", "65536", "--tls-certificate", "x"}),
             "--https-port must be a number from 0 to 65535, not '65536'");
  checkError(withArgs({"--https-port", "443", "--tls-certificate", "x", "--plain-http", "drop"}),
             "--plain-http must be serve or redirect, not 'drop'");
  checkError(withArgs({"--https-port", "443", "--tls-certificate", ""}),
             "--tls-certificate must not be empty");
}
