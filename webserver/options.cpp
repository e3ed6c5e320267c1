#include "webserver/options.hpp"

#include <arpa/inet.h>
#include <getopt.h>

#include <charconv>
#include <optional>

#include "ipc/local_bus.hpp"
#include "ipc/status_board.hpp"
#include "webserver/web_server.hpp"

namespace dualsp::web {
namespace {

enum OptionKey : int {
  kMode = 1000,
  kSp,
  kArrayId,
  kListen,
  kPort,
  kLogFile,
  kStatusBoard,
  kBus,
  kRequestTimeout,
  kMaxClientRequests,
  kRefusedNetwork,
  kUser,
  kHttpsPort,
  kTlsCertificate,
  kPlainHttp,
  kSseKeepAlive,
  kVersion,
  kRoutes,
};

const option kLongOptions[] = {
    {"mode", required_argument, nullptr, kMode},
    {"sp", required_argument, nullptr, kSp},
    {"array-id", required_argument, nullptr, kArrayId},
    {"listen", required_argument, nullptr, kListen},
    {"port", required_argument, nullptr, kPort},
    {"log-file", required_argument, nullptr, kLogFile},
    {"status-board", required_argument, nullptr, kStatusBoard},
    {"bus", required_argument, nullptr, kBus},
    {"request-timeout-ms", required_argument, nullptr, kRequestTimeout},
    {"max-client-requests", required_argument, nullptr, kMaxClientRequests},
    {"sse-keep-alive-ms", required_argument, nullptr, kSseKeepAlive},
    {"refused-network", required_argument, nullptr, kRefusedNetwork},
    {"user", required_argument, nullptr, kUser},
    {"https-port", required_argument, nullptr, kHttpsPort},
    {"tls-certificate", required_argument, nullptr, kTlsCertificate},
    {"plain-http", required_argument, nullptr, kPlainHttp},
    {"help", no_argument, nullptr, 'h'},
    {"version", no_argument, nullptr, kVersion},
    {"routes", no_argument, nullptr, kRoutes},
    {nullptr, 0, nullptr, 0},
};

// The array id names shared-memory segments and fits StatusSnapshot::array_id.
bool validArrayId(std::string_view id) {
  if (id.empty() || id.size() >= sizeof(ipc::StatusSnapshot::array_id)) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// A whole decimal number in [low, high].
std::optional<int> numberIn(std::string_view arg, int low, int high) {
  int value = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), value);
  if (ec != std::errc() || end != arg.data() + arg.size() || value < low || value > high)
    return std::nullopt;
  return value;
}

CommandLine failure(std::string message) {
  CommandLine out;
  out.action = CliAction::Error;
  out.error = std::move(message);
  return out;
}

}  // namespace

std::string usageText() {
  return "Usage: spweb --mode full|degraded --sp A|B --array-id ID --listen ADDR --port N\n"
         "             [--log-file PATH] [--status-board NAME] [--bus NAME]\n"
         "             [--request-timeout-ms N] [--max-client-requests N]\n"
         "             [--sse-keep-alive-ms N]\n"
         "             [--refused-network CIDR]... [--user NAME|UID:GID]\n"
         "             [--https-port N --tls-certificate PATH [--plain-http serve|redirect]]\n"
         "       spweb --help | --version | --routes\n"
         "\n"
         "The DualSP web server (Redfish). spd starts it and restarts it; it reads this SP's\n"
         "state from spd's status board and sends every other command to spd over the local\n"
         "bus.\n"
         "\n"
         "  --mode full|degraded   full: every route; degraded: the rescue subset only, the\n"
         "                         others answer 503 (see --routes)\n"
         "  --sp A|B               the SP this server runs on\n"
         "  --array-id ID          the array's id ([A-Za-z0-9._-], at most 31 characters)\n"
         "  --listen ADDR          IPv4 address to listen on (0.0.0.0: every address)\n"
         "  --port N               TCP port, 0..65535 (0: any free port, logged at start)\n"
         "  --log-file PATH        also log to PATH (default: stderr only)\n"
         "  --status-board NAME    shared-memory segment to read\n"
         "                         (default: dualsp-<ID>-sp<a|b>-status)\n"
         "  --bus NAME             spd's local bus request queue\n"
         "                         (default: dualsp-<ID>-sp<a|b>-bus)\n"
         "  --request-timeout-ms N a request's headers, then its body, must each arrive\n"
         "                         within N ms (else 408 and closed); 100..600000,\n"
         "                         default 10000\n"
         "  --max-client-requests N  requests served at once per client address, event\n"
         "                         streams included (more: 503); 1..64, default 12\n"
         "  --sse-keep-alive-ms N  an event stream with nothing to send gets a\n"
         "                         \": keep-alive\" comment every N ms; 500..60000,\n"
         "                         default 5000\n"
         "  --refused-network CIDR no event subscription may point into this network\n"
         "                         (repeatable; loopback, link-local, multicast and the\n"
         "                         like always are refused)\n"
         "  --user NAME|UID:GID    started as root: run as this user and group once the port\n"
         "                         is bound (a name from /etc/passwd, its primary group;\n"
         "                         dualsp-web, when absent there, is 64900:64900); not\n"
         "                         root: keep the identity started with. spd passes it\n"
         "  --https-port N         also serve HTTPS (TLS 1.2 and newer) on this port,\n"
         "                         0..65535 (0: any free port); needs --tls-certificate\n"
         "  --tls-certificate PATH PEM file with the certificate and its private key; made\n"
         "                         (self-signed ECDSA P-256, mode 0600) when it does not\n"
         "                         exist. Its SHA-256 fingerprint is logged at start\n"
         "  --plain-http serve|redirect  with --https-port: serve plain HTTP on --port too\n"
         "                         (default), or answer it with 308 to the HTTPS port\n"
         "  --routes               print the route table and exit\n"
         "  --version              print the firmware version and exit\n"
         "  --help                 print this text and exit\n"
         "\n"
         "Exit status: 0 after SIGTERM or SIGINT, 1 when it cannot serve (address in use,\n"
         "root not given up),\n"
         "2 on bad arguments.\n";
}

CommandLine parseCommandLine(int argc, char* argv[]) {
  CommandLine out;
  out.action = CliAction::Run;
  Options& o = out.options;
  bool have_mode = false, have_sp = false;
  optind = 0;  // GNU: full reinitialisation, so the parser can run more than once
  opterr = 0;  // our messages, not getopt's
  for (;;) {
    int index = 0;
    int c = getopt_long(argc, argv, ":h", kLongOptions, &index);
    if (c == -1) break;
    const std::string_view arg = optarg ? optarg : "";
    switch (c) {
      case 'h':
        out.action = CliAction::Help;
        break;
      case kVersion:
        if (out.action == CliAction::Run) out.action = CliAction::Version;
        break;
      case kRoutes:
        if (out.action == CliAction::Run) out.action = CliAction::Routes;
        break;
      case kMode: {
        auto mode = parseMode(arg);
        if (!mode)
          return failure("--mode must be full or degraded, not '" + std::string(arg) + "'");
        o.service.mode = *mode;
        have_mode = true;
        break;
      }
      case kSp:
        if (arg != "A" && arg != "B")
          return failure("--sp must be A or B, not '" + std::string(arg) + "'");
        o.service.sp = arg == "A" ? SpId::A : SpId::B;
        have_sp = true;
        break;
      case kArrayId:
        if (!validArrayId(arg))
          return failure("--array-id must be 1 to 31 characters of [A-Za-z0-9._-], not '" +
                         std::string(arg) + "'");
        o.service.array_id = arg;
        break;
      case kListen: {
        in_addr addr{};
        if (inet_pton(AF_INET, std::string(arg).c_str(), &addr) != 1)
          return failure("--listen must be an IPv4 address, not '" + std::string(arg) + "'");
        o.listen_address = arg;
        break;
      }
      case kPort: {
        int port = -1;
        auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), port);
        if (ec != std::errc() || end != arg.data() + arg.size() || port < 0 || port > 65535)
          return failure("--port must be a number from 0 to 65535, not '" + std::string(arg) + "'");
        o.port = port;
        break;
      }
      case kLogFile:
        if (arg.empty()) return failure("--log-file must not be empty");
        o.log_file = arg;
        break;
      case kStatusBoard:
        if (arg.empty()) return failure("--status-board must not be empty");
        o.status_board = arg;
        break;
      case kBus:
        if (arg.empty()) return failure("--bus must not be empty");
        o.bus = arg;
        break;
      case kRequestTimeout: {
        std::optional<int> ms = numberIn(arg, 100, 600000);
        if (!ms)
          return failure("--request-timeout-ms must be a number from 100 to 600000, not '" +
                         std::string(arg) + "'");
        o.request_timeout_ms = *ms;
        break;
      }
      case kMaxClientRequests: {
        std::optional<int> n = numberIn(arg, 1, 64);
        if (!n)
          return failure("--max-client-requests must be a number from 1 to 64, not '" +
                         std::string(arg) + "'");
        o.max_client_requests = *n;
        break;
      }
      case kSseKeepAlive: {
        std::optional<int> ms = numberIn(arg, 500, 60000);
        if (!ms)
          return failure("--sse-keep-alive-ms must be a number from 500 to 60000, not '" +
                         std::string(arg) + "'");
        o.sse_keep_alive_ms = *ms;
        break;
      }
      case kRefusedNetwork: {
        std::optional<ipc::Ipv4Network> network = ipc::parseIpv4Network(arg);
        if (!network)
          return failure("--refused-network must be an IPv4 address or network (a.b.c.d/n), not '" +
                         std::string(arg) + "'");
        o.service.destinations.refused.push_back(*network);  // the SPs' own
        break;
      }
      case kUser: {
        std::string error;
        o.user = platform::resolveIdentity(std::string(arg), error);
        if (!o.user) return failure("--user: " + error);
        break;
      }
      case kHttpsPort: {
        std::optional<int> port = numberIn(arg, 0, 65535);
        if (!port)
          return failure("--https-port must be a number from 0 to 65535, not '" + std::string(arg) +
                         "'");
        o.https_port = *port;
        break;
      }
      case kTlsCertificate:
        if (arg.empty()) return failure("--tls-certificate must not be empty");
        o.tls_certificate = arg;
        break;
      case kPlainHttp:
        if (arg != "serve" && arg != "redirect")
          return failure("--plain-http must be serve or redirect, not '" + std::string(arg) + "'");
        o.redirect_plain = arg == "redirect";
        break;
      case ':':
        return failure(std::string(argv[optind - 1]) + " needs a value");
      default:
        if (optopt != 0) return failure("unknown option '-" + std::string(1, char(optopt)) + "'");
        return failure("unknown option '" + std::string(argv[optind - 1]) + "'");
    }
  }
  if (optind < argc) return failure("unexpected argument '" + std::string(argv[optind]) + "'");
  if (out.action != CliAction::Run) return out;

  std::string missing;
  if (!have_mode) missing += " --mode";
  if (!have_sp) missing += " --sp";
  if (o.service.array_id.empty()) missing += " --array-id";
  if (o.listen_address.empty()) missing += " --listen";
  if (o.port < 0) missing += " --port";
  if (!missing.empty()) return failure("missing" + missing);
  if (o.https_port >= 0 && o.tls_certificate.empty())
    return failure("--https-port needs --tls-certificate");
  if (o.https_port < 0 && (!o.tls_certificate.empty() || o.redirect_plain))
    return failure("--tls-certificate and --plain-http go with --https-port");
  if (o.https_port >= 0 && !tlsAvailable())
    return failure("--https-port: this spweb was built without TLS");
  o.service.http_port = o.port;
  o.service.https_port = o.https_port;
  o.service.redirect_plain = o.redirect_plain;
  if (o.status_board.empty())
    o.status_board = ipc::statusBoardName(o.service.array_id, o.service.sp);
  if (o.bus.empty()) o.bus = ipc::busRequestQueueName(o.service.array_id, o.service.sp);
  return out;
}

}  // namespace dualsp::web
