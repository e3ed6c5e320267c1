// spweb: the DualSP web server. spd starts it (docs/DESIGN.md "Processes on one SP"):
//   spweb --mode full|degraded --sp A|B --array-id ID --listen ADDR --port N ...

#include <signal.h>
#include <sys/prctl.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "ipc/local_bus.hpp"
#include "platform/log.hpp"
#include "platform/privilege.hpp"
#include "webserver/dispatcher.hpp"
#include "webserver/options.hpp"
#include "webserver/read_cache.hpp"
#include "webserver/routes/routes.hpp"
#include "webserver/spweb_main.hpp"
#include "webserver/status_board_source.hpp"
#ifdef DUALSP_TLS
#include "platform/tls_certificate.hpp"
#endif
#include "webserver/web_server.hpp"

namespace dualsp::web {
namespace {

// Blocks SIGTERM and SIGINT in every thread (CivetWeb's threads inherit the mask) so that
// the main thread alone takes them, with sigwait.
sigset_t blockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client gone mid-response is not a reason to die
  return stop;
}

// After the port is bound and before CivetWeb starts a thread (ListenConfig::after_bind):
// gives up root for good (docs/SECURITY.md "What runs as whom"). Not started as root (a
// developer's run, a test): keeps its identity and says so. Empty, or why it failed.
std::string dropRoot(const Options& options) {
  if (!options.user) {
    if (::geteuid() == 0) LOG_WARNING << "no --user given: running as root";
    return {};
  }
  if (::geteuid() != 0) {
    LOG_INFO << "not started as root (uid " << ::getuid() << "): running as such, not as "
             << platform::identityText(*options.user);
    return {};
  }
  // Changing the ids clears the parent-death signal spd's supervisor set (prctl(2)): set again.
  int parent_death_signal = 0;
  ::prctl(PR_GET_PDEATHSIG, &parent_death_signal);
  const pid_t parent = ::getppid();
  if (std::string why = platform::dropPrivileges(*options.user); !why.empty())
    return "cannot give up root for " + platform::identityText(*options.user) + ": " + why;
  if (parent_death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, parent_death_signal);
    if (::getppid() != parent) ::raise(parent_death_signal);  // spd died meanwhile
  }
  LOG_INFO << "gave up root: running as uid " << ::getuid() << ", gid " << ::getgid();
  return {};
}

// The HTTPS certificate: made when the file does not exist (the first start), then its
// fingerprint logged for clients to pin. False when there is none to serve with.
bool prepareCertificate(const Options& options) {
#ifdef DUALSP_TLS
  const std::string& path = options.tls_certificate;
  if (::access(path.c_str(), F_OK) != 0) {
    platform::SelfSignedRequest request{.common_name = "dualsp-" + options.service.array_id,
                                        .ip_addresses = {}};
    if (options.listen_address != "0.0.0.0") request.ip_addresses.push_back(options.listen_address);
    if (std::string why = platform::writeSelfSignedCertificate(path, request); !why.empty()) {
      LOG_CRITICAL << "no HTTPS certificate at " << path << " and cannot make one: " << why;
      return false;
    }
    LOG_NOTICE << "made a self-signed HTTPS certificate for " << request.common_name << " at "
               << path;
  }
  std::string error;
  std::string fingerprint = platform::certificateFingerprint(path, error);
  if (fingerprint.empty()) {
    LOG_CRITICAL << "cannot serve HTTPS: " << error;
    return false;
  }
  LOG_INFO << "HTTPS certificate " << path << ", SHA-256 fingerprint " << fingerprint;
  return true;
#else
  (void)options;
  LOG_CRITICAL << "this spweb was built without TLS";
  return false;
#endif
}

int run(const Options& options) {
  const ServiceConfig& service = options.service;
  log::init("spweb", spName(service.sp), options.log_file);
  sigset_t stop_signals = blockStopSignals();

  // Opened after the drop as well (spd restarted): spd shares them with options.user's group.
  StatusBoardSource board(options.status_board, options.user);
  std::unique_ptr<ipc::LocalBusClient> bus;
  try {
    bus = std::make_unique<ipc::LocalBusClient>(options.bus, options.user);
  } catch (const std::exception& e) {
    LOG_CRITICAL << "cannot reach spd: " << e.what();
    return kExitCannotServe;
  }
  // Manager GETs read the same few answers many times a second: reused briefly (read_cache.hpp).
  ReadCache reads(*bus, [&board] {
    std::optional<ipc::StatusSnapshot> status = board.read();
    return status ? ReadCache::Board{status->updated_ms, status->role == Role::Active}
                  : ReadCache::Board{};
  });
  Dispatcher dispatcher(
      buildRouteTable(), service, [&board] { return board.read(); }, reads);
  WebServer server(dispatcher);
  // A stop answers the requests waiting for spd at once (503) instead of waiting for them.
  server.onStopping([&bus] { bus->close(); });
  std::string error;
  if (options.https_port >= 0 && !prepareCertificate(options)) return kExitCannotServe;
  const ListenConfig listen{.address = options.listen_address,
                            .port = options.port,
                            .tls_port = options.https_port,
                            .tls_certificate = options.tls_certificate,
                            .redirect_plain = options.redirect_plain,
                            .request_timeout_ms = options.request_timeout_ms,
                            .max_client_requests = options.max_client_requests,
                            .sse_keep_alive = std::chrono::milliseconds{options.sse_keep_alive_ms},
                            .after_bind = [&options] { return dropRoot(options); }};
  if (!server.start(listen, error)) {
    LOG_CRITICAL << "cannot serve on " << options.listen_address << ":" << options.port << ": "
                 << error;
    return kExitCannotServe;
  }
  LOG_INFO << "serving, mode " << modeName(service.mode) << ", listening on "
           << options.listen_address << ":" << server.port()
           << (server.tlsPort() < 0 ? std::string()
                                    : (options.redirect_plain ? " (redirects to HTTPS)" : "") +
                                          std::string(", HTTPS on ") + options.listen_address +
                                          ":" + std::to_string(server.tlsPort()))
           << ", array " << service.array_id << ", status board " << options.status_board
           << ", bus " << options.bus << ", firmware " << DUALSP_FIRMWARE_VERSION;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LOG_INFO << "stopping on " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  if (!server.stopWithin(kStopBound)) {
    // CivetWeb's threads still use the dispatcher and the bus: no destructor may run.
    LOG_WARNING << "a request still held a worker " << kStopBound.count()
                << " ms after the stop (a client sending or reading slowly); exiting without it";
    ipc::removeBusReplyQueue(options.bus, getpid());
    std::_Exit(0);
  }
  return 0;
}

}  // namespace
}  // namespace dualsp::web

int dualsp::spwebMain(int argc, char** argv) {
  using namespace dualsp::web;
  CommandLine cl = parseCommandLine(argc, argv);
  switch (cl.action) {
    case CliAction::Help:
      std::cout << usageText();
      return 0;
    case CliAction::Version:
      std::cout << "spweb " << DUALSP_FIRMWARE_VERSION << "\n";
      return 0;
    case CliAction::Routes:
      buildRouteTable().print(std::cout);
      return 0;
    case CliAction::Error:
      std::cerr << "spweb: " << cl.error << "\nTry 'spweb --help'.\n";
      return kExitBadArguments;
    case CliAction::Run:
      break;
  }
  return run(cl.options);
}
