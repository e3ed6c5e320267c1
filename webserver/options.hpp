#pragma once
// spweb's command line, as spd's supervisor writes it:
//   spweb --mode full|degraded --sp A|B --array-id ID --listen ADDR --port N
//         [--log-file PATH] [--status-board NAME] [--bus NAME] [--request-timeout-ms N]
//         [--max-client-requests N] [--sse-keep-alive-ms N] [--refused-network CIDR]...
//         [--user NAME|UID:GID]
//         [--https-port N --tls-certificate PATH [--plain-http serve|redirect]]
//   spweb --help | --version | --routes

#include <optional>
#include <string>
#include <string_view>

#include "platform/privilege.hpp"
#include "webserver/service_context.hpp"

namespace dualsp::web {

inline constexpr int kExitBadArguments = 2;
inline constexpr int kExitCannotServe = 1;  // cannot bind, cannot start CivetWeb, cannot drop root

enum class CliAction { Run, Help, Version, Routes, Error };

struct Options {
  ServiceConfig service;
  std::string listen_address;  // IPv4 only
  int port = -1;
  // HTTPS (docs/SECURITY.md "TLS"): --https-port, -1 none; --tls-certificate, a PEM file with
  // the certificate and its key, made (self-signed) when it does not exist; --plain-http.
  int https_port = -1;
  std::string tls_certificate;
  bool redirect_plain = false;     // --plain-http redirect (default serve)
  std::string log_file;            // empty: stderr only
  std::string status_board;        // default statusBoardName(array_id, sp)
  std::string bus;                 // spd's request queue, default busRequestQueueName(array_id, sp)
  int request_timeout_ms = 10000;  // headers, then the body, each complete within this
  int max_client_requests = 12;    // requests served at once per source address
  int sse_keep_alive_ms = 5000;    // an idle event stream's ": keep-alive" interval
  // Who to run as once the port is bound, when started as root (docs/SECURITY.md "What runs
  // as whom"); also the group spd shares the status board and its bus queue with. None: keep
  // the identity spweb was started with (a developer's run).
  std::optional<platform::UnixIdentity> user;
};

struct CommandLine {
  CliAction action = CliAction::Error;
  Options options;
  std::string error;  // set when action == Error
};

// getopt_long underneath; may be called more than once (it resets getopt's state).
CommandLine parseCommandLine(int argc, char* argv[]);
std::string usageText();

}  // namespace dualsp::web
