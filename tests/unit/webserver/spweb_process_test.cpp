// The spweb executable as spd runs it: exit codes, --version/--routes output, the start-up
// log line, SIGTERM, and a port already taken.

#include <CppUTest/TestHarness.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/interprocess/ipc/message_queue.hpp>

#include "http_test_client.hpp"
#include "ipc/local_bus.hpp"
#include "test_status_board.hpp"
#include "webserver/json.hpp"
#ifdef DUALSP_TLS
#include "platform/tls_certificate.hpp"
#endif

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::platform;

namespace {

std::string tempPath(const std::string& what) {
  return "/tmp/ut-spweb-" + std::to_string(getpid()) + "-" + what;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts spweb with stdout and stderr in files.
pid_t spawnSpweb(const std::vector<std::string>& args, const std::string& out,
                 const std::string& err) {
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv{const_cast<char*>(SPWEB_BINARY)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(SPWEB_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// The exit code, or -1 if it did not exit within 5 s (then it is killed).
int waitExit(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Finished {
  int code;
  std::string out;
  std::string err;
};

Finished runSpweb(const std::vector<std::string>& args) {
  const std::string out = tempPath("out"), err = tempPath("err");
  int code = waitExit(spawnSpweb(args, out, err));
  Finished f{code, readFile(out), readFile(err)};
  unlink(out.c_str());
  unlink(err.c_str());
  return f;
}

// Until spweb's log says where it listens (5 s at most): that port; `text` is the log then.
int waitForStartLine(const std::string& log, std::string& text) {
  const std::regex started("listening on 127\\.0\\.0\\.1:([0-9]+)");
  std::smatch m;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!std::regex_search(text = readFile(log), m, started) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK_TEXT(!m.empty(), ("no start-up line in: " + text).c_str());
  return std::stoi(m[1].str());
}

}  // namespace

TEST_GROUP(SpwebProcess){};

TEST(SpwebProcess, InformationalOptionsExitZero) {
  Finished version = runSpweb({"--version"});
  LONGS_EQUAL(0, version.code);
  STRCMP_EQUAL("spweb " DUALSP_FIRMWARE_VERSION "\n", version.out.c_str());
  Finished routes = runSpweb({"--routes"});
  LONGS_EQUAL(0, routes.code);
  STRCMP_CONTAINS("/redfish/v1/Managers/{ManagerId}", routes.out.c_str());
  STRCMP_CONTAINS("DEGRADED", routes.out.c_str());
  Finished help = runSpweb({"--help"});
  LONGS_EQUAL(0, help.code);
  STRCMP_CONTAINS("--array-id", help.out.c_str());
}

TEST(SpwebProcess, BadArgumentsExitTwoWithAMessage) {
  Finished bad = runSpweb({"--mode", "sideways"});
  LONGS_EQUAL(2, bad.code);
  STRCMP_CONTAINS("--mode must be full or degraded", bad.err.c_str());
  STRCMP_EQUAL("", bad.out.c_str());
  LONGS_EQUAL(2, runSpweb({"--mode", "full"}).code);
}

TEST(SpwebProcess, ServesLogsAndStopsOnSigterm) {
  const std::string array_id = test::uniqueArrayId();
  test::TestStatusBoard board(array_id, SpId::B);  // the default board name for SP-B
  board.publish(test::snapshot(array_id, SpId::B, Role::Passive));
  // spd's local bus under a name of our own (--bus), answering GetSpStatus, and Authenticate
  // for one account (ops:secret-password, ReadOnly).
  const std::string bus = "dualsp-ut-spweb-bus-" + std::to_string(getpid());
  ipc::LocalBusServer spd(bus, [](const proto::Command& c, ipc::LocalBusServer::Reply reply) {
    proto::CommandResult r;
    if (c.name() == "Authenticate") {
      auto it = c.args().find("authorization");
      bool good = it != c.args().end() && it->second == "Basic b3BzOnNlY3JldC1wYXNzd29yZA==";
      r.set_status(good ? proto::CommandResult::OK : proto::CommandResult::UNAUTHORIZED);
      if (good) r.set_payload(R"({"user":"ops","role":"ReadOnly","session":""})");
      return reply(r);
    }
    r.set_answered_by(c.target());
    r.set_served_by(proto::SP_B);
    r.mutable_sp_status()->set_role(proto::ROLE_PASSIVE);
    r.mutable_sp_status()->set_boot_id(c.caller().origin());
    reply(r);
  });
  spd.start();
  const std::string log = tempPath("log"), out = tempPath("run-out"), err = tempPath("run-err");
  pid_t pid = spawnSpweb({"--mode", "degraded", "--sp", "B", "--array-id", array_id, "--listen",
                          "127.0.0.1", "--port", "0", "--log-file", log, "--bus", bus},
                         out, err);

  std::string text;
  const int port = waitForStartLine(log, text);
  STRCMP_CONTAINS("SP-B spweb[", text.c_str());
  STRCMP_CONTAINS("mode degraded", text.c_str());
  STRCMP_CONTAINS(("bus " + bus).c_str(), text.c_str());

  {
    test::HttpTestClient client(port);
    test::HttpReply reply = client.request("GET", "/redfish/v1");
    LONGS_EQUAL(200, reply.status);
    STRCMP_EQUAL("B", reply.header("x-dualsp-sp").value_or("").c_str());
    // Without credentials, or with wrong ones: 401 with a challenge.
    test::HttpReply anonymous = client.request("GET", "/redfish/v1/Managers/SPB");
    LONGS_EQUAL(401, anonymous.status);
    STRCMP_EQUAL("Basic realm=\"DualSP\"",
                 anonymous.header("www-authenticate").value_or("").c_str());
    auto asOps = [&](const std::string& path, const std::string& credentials) {
      client.sendRaw("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic " +
                     credentials + "\r\n\r\n");
      return client.readReply();
    };
    LONGS_EQUAL(401, asOps("/redfish/v1/Managers/SPB", "b3BzOndyb25n").status);  // ops:wrong
    LONGS_EQUAL(503, asOps("/redfish/v1/Managers/SPA", "b3BzOnNlY3JldC1wYXNzd29yZA==").status);
    test::HttpReply own = asOps("/redfish/v1/Managers/SPB", "b3BzOnNlY3JldC1wYXNzd29yZA==");
    LONGS_EQUAL(200, own.status);
    Json body = Json::parse(own.body);
    STRCMP_EQUAL("StandbySpare", body["Status"]["State"].get<std::string>().c_str());
    STRCMP_EQUAL("web 127.0.0.1", body["Oem"]["DualSP"]["BootId"].get<std::string>().c_str());
  }
  kill(pid, SIGTERM);
  LONGS_EQUAL(0, waitExit(pid));
  // spweb removed its reply queue on the way out.
  const std::string reply_queue = bus + "-reply-" + std::to_string(pid);
  CHECK_THROWS(
      boost::interprocess::interprocess_exception,
      boost::interprocess::message_queue(boost::interprocess::open_only, reply_queue.c_str()));
  STRCMP_CONTAINS("stopping on SIGTERM", readFile(log).c_str());
  unlink(log.c_str());
  unlink(out.c_str());
  unlink(err.c_str());
}

// As spd runs it, as root with --user: spweb binds, gives root up (every thread), and still
// reads the status board and talks to spd through what spd shared with the web group
// (docs/SECURITY.md "What runs as whom").
TEST(SpwebProcess, StartedAsRootItServesAsTheWebUser) {
  if (::geteuid() != 0) return;  // only root drops
  const platform::UnixIdentity web{64901, 64901};
  const std::string array_id = test::uniqueArrayId();
  const std::string board_name = ipc::statusBoardName(array_id, SpId::B);
  ipc::StatusBoardWriter board(board_name, web);
  board.publish(test::snapshot(array_id, SpId::B, Role::Passive));
  const std::string bus = "dualsp-ut-spweb-bus-" + std::to_string(getpid());
  ipc::LocalBusServer spd(
      bus,
      [](const proto::Command& c, ipc::LocalBusServer::Reply reply) {
        proto::CommandResult r;
        if (c.name() == "Authenticate") {
          r.set_status(proto::CommandResult::OK);
          r.set_payload(R"({"user":"ops","role":"ReadOnly","session":""})");
          return reply(r);
        }
        r.set_answered_by(c.target());
        r.set_served_by(proto::SP_B);
        r.mutable_sp_status()->set_role(proto::ROLE_PASSIVE);
        reply(r);
      },
      web);
  spd.start();
  const std::string log = tempPath("log"), out = tempPath("run-out"), err = tempPath("run-err");
  pid_t pid = spawnSpweb(
      {"--mode", "degraded", "--sp", "B", "--array-id", array_id, "--listen", "127.0.0.1", "--port",
       "0", "--log-file", log, "--bus", bus, "--user", "64901:64901"},
      out, err);
  // A failed check returns at once: the process and its files go anyway, or the next test
  // would read this one's log.
  struct Cleanup {
    pid_t pid;
    std::vector<std::string> files;
    ~Cleanup() {
      if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
      for (const std::string& f : files) ::unlink(f.c_str());
    }
  } cleanup{pid, {log, out, err}};
  std::string text;
  const int port = waitForStartLine(log, text);
  const size_t gave_up = text.find("gave up root: running as uid 64901, gid 64901");
  CHECK_TEXT(gave_up != std::string::npos && gave_up < text.find("serving, mode"), text.c_str());

  // Every thread (CivetWeb's, the bus receiver) has the web identity, with no way back.
  int threads = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    const std::string status = readFile(task.path().string() + "/status");
    STRCMP_CONTAINS("Uid:\t64901\t64901\t64901\t64901\n", status.c_str());
    STRCMP_CONTAINS("Gid:\t64901\t64901\t64901\t64901\n", status.c_str());
    const size_t groups = status.find("Groups:");
    CHECK_TEXT(groups != std::string::npos &&
                   status.substr(groups + 7, status.find('\n', groups) - groups - 7)
                           .find_first_not_of(" \t") == std::string::npos,
               "supplementary groups left");
    STRCMP_CONTAINS("CapEff:\t0000000000000000\n", status.c_str());
    ++threads;
  }
  CHECK(threads > 10);  // CivetWeb's workers among them
  {
    test::HttpTestClient client(port);
    client.sendRaw(
        "GET /redfish/v1/Managers/SPB HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic "
        "b3BzOnNlY3JldC1wYXNzd29yZA==\r\n\r\n");
    test::HttpReply own = client.readReply();
    LONGS_EQUAL(200, own.status);  // authenticated by spd over the bus, state from the board
    Json body = Json::parse(own.body);
    STRCMP_EQUAL("StandbySpare", body["Status"]["State"].get<std::string>().c_str());
  }
  // Its reply queue is the web user's, 0600.
  const std::string reply_queue = bus + "-reply-" + std::to_string(pid);
  struct stat st {};
  CHECK_EQUAL(0, ::stat(("/dev/shm/" + reply_queue).c_str(), &st));
  CHECK_EQUAL(web.uid, st.st_uid);
  CHECK_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 07777));
  kill(pid, SIGTERM);
  LONGS_EQUAL(0, waitExit(pid));
  cleanup.pid = 0;  // reaped
  // Removed on the way out: the web user could.
  CHECK_THROWS(
      boost::interprocess::interprocess_exception,
      boost::interprocess::message_queue(boost::interprocess::open_only, reply_queue.c_str()));
}

TEST(SpwebProcess, APortInUseExitsOneWithTheReason) {
  int taken = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  CHECK(bind(taken, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  CHECK(listen(taken, 1) == 0);
  getsockname(taken, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string port = std::to_string(ntohs(addr.sin_port));

  Finished f = runSpweb({"--mode", "full", "--sp", "A", "--array-id", test::uniqueArrayId(),
                         "--listen", "127.0.0.1", "--port", port});
  close(taken);
  LONGS_EQUAL(1, f.code);
  STRCMP_CONTAINS(("cannot serve on 127.0.0.1:" + port).c_str(), f.err.c_str());
  STRCMP_CONTAINS("Address already in use", f.err.c_str());
}

#ifdef DUALSP_TLS
// spweb with --https-port and no certificate yet: it makes one (0600), logs its fingerprint,
// serves HTTPS, redirects plain HTTP; started again, it keeps that certificate.
TEST(SpwebProcess, MakesItsCertificateOnceAndRedirectsPlainHttp) {
  const std::string array_id = test::uniqueArrayId();
  test::TestStatusBoard board(array_id, SpId::A);
  board.publish(test::snapshot(array_id, SpId::A, Role::Active));
  const std::string bus = "dualsp-ut-spweb-tls-bus-" + std::to_string(getpid());
  ipc::LocalBusServer spd(bus, [](const proto::Command&, ipc::LocalBusServer::Reply reply) {
    proto::CommandResult r;
    r.set_status(proto::CommandResult::UNAUTHORIZED);
    reply(r);
  });
  spd.start();
  const std::string certificate = tempPath("https.pem");
  unlink(certificate.c_str());
  const std::string log = tempPath("tls-log"), out = tempPath("tls-out"), err = tempPath("tls-err");
  auto start = [&] {
    return spawnSpweb(
        {"--mode",       "full",      "--sp",         "A", "--array-id",        array_id,
         "--listen",     "127.0.0.1", "--port",       "0", "--log-file",        log,
         "--bus",        bus,         "--https-port", "0", "--tls-certificate", certificate,
         "--plain-http", "redirect"},
        out, err);
  };
  const std::regex fingerprint_line("SHA-256 fingerprint ([0-9A-F:]{95})");
  const std::regex https_line("HTTPS on 127\\.0\\.0\\.1:([0-9]+)");
  std::string first_fingerprint;
  for (int round = 0; round < 2; ++round) {
    unlink(log.c_str());
    pid_t pid = start();
    std::string text;
    const int port = waitForStartLine(log, text);
    std::smatch fp, https;
    CHECK_TEXT(std::regex_search(text, fp, fingerprint_line), text.c_str());
    CHECK_TEXT(std::regex_search(text, https, https_line), text.c_str());
    std::string error;
    STRCMP_EQUAL(certificateFingerprint(certificate, error).c_str(), fp[1].str().c_str());
    struct stat st {};
    CHECK_EQUAL(0, stat(certificate.c_str(), &st));
    LONGS_EQUAL(0600, st.st_mode & 0777);
    if (round == 0) {
      STRCMP_CONTAINS("made a self-signed HTTPS certificate", text.c_str());
      first_fingerprint = fp[1].str();
    } else {
      CHECK(text.find("made a self-signed") == std::string::npos);
      STRCMP_EQUAL(first_fingerprint.c_str(), fp[1].str().c_str());
    }
    test::HttpTestClient plain(port);
    test::HttpReply reply = plain.request("GET", "/redfish/v1/");
    LONGS_EQUAL(308, reply.status);
    STRCMP_CONTAINS((":" + https[1].str() + "/redfish/v1/").c_str(),
                    reply.header("location").value_or("").c_str());
    kill(pid, SIGTERM);
    LONGS_EQUAL(0, waitExit(pid));
  }
  unlink(certificate.c_str());
  unlink(log.c_str());
  unlink(out.c_str());
  unlink(err.c_str());
}
#endif
