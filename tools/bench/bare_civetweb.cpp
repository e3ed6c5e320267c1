// bare_civetweb: the yardstick of tools/bench/http. CivetWeb configured as spweb configures it
// (same thread count, keep-alive, tcp_nodelay), answering each configured path with a fixed
// JSON body of a given size and the same response headers spweb sends, and nothing else: no
// routing table, no status board, no bus. What DualSP adds on top is the difference.
//
//   bare_civetweb --listen 0.0.0.0 --port 8081 --threads 12 --route /redfish/v1=812
//                 --route /redfish/v1/Managers/SPA=2150
//
// Runs until SIGTERM or SIGINT. Not part of the firmware.

#include <civetweb.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

struct Options {
  std::string address = "127.0.0.1";
  std::string port = "8081";
  std::string threads = "12";
  std::map<std::string, std::string> bodies;  // path -> JSON body
};

// A JSON object of exactly `bytes` bytes (at least 16): {"Padding":"xxx..."}.
std::string jsonBodyOf(size_t bytes) {
  const std::string head = "{\"Padding\":\"";
  const std::string tail = "\"}";
  if (bytes < head.size() + tail.size()) bytes = head.size() + tail.size();
  return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
}

int answer(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const auto& bodies = *static_cast<const std::map<std::string, std::string>*>(
      mg_get_user_data(mg_get_context(conn)));
  auto it = bodies.find(info->local_uri ? info->local_uri : "");
  if (it == bodies.end()) {
    mg_send_http_error(conn, 404, "%s", "not configured");
    return 404;
  }
  const std::string& body = it->second;
  const std::string length = std::to_string(body.size());
  // The headers spweb sends with a JSON answer (webserver/dispatcher.cpp addCommonHeaders,
  // and on a read Allow, ETag and Link: docs/WEB.md "Protocol"), of the same sizes.
  mg_response_header_start(conn, 200);
  mg_response_header_add(conn, "X-DualSP-SP", "bare", 4);
  mg_response_header_add(conn, "OData-Version", "4.0", 3);
  mg_response_header_add(conn, "Cache-Control", "no-store", 8);
  mg_response_header_add(conn, "Content-Type", "application/json; charset=utf-8", -1);
  mg_response_header_add(conn, "Allow", "GET, HEAD", -1);
  mg_response_header_add(conn, "ETag", "W/\"0123456789abcdef\"", -1);
  mg_response_header_add(
      conn, "Link", "<https://redfish.dmtf.org/schemas/v1/Manager.v1_19_0.json>; rel=describedby",
      -1);
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_send(conn);
  mg_write(conn, body.data(), body.size());
  return 200;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--listen") {
      o.address = value;
    } else if (flag == "--port") {
      o.port = value;
    } else if (flag == "--threads") {
      o.threads = value;
    } else if (flag == "--route") {
      const size_t eq = value.rfind('=');
      if (eq == std::string::npos || value[0] != '/') return false;
      o.bodies[value.substr(0, eq)] = jsonBodyOf(std::strtoul(value.c_str() + eq + 1, nullptr, 10));
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !o.bodies.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: bare_civetweb [--listen ADDR] [--port N] [--threads N] "
                 "--route /path=BYTES...\n");
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // inherited by CivetWeb's threads
  signal(SIGPIPE, SIG_IGN);

  mg_init_library(0);
  const std::string ports = o.address + ":" + o.port;
  const char* options[] = {"listening_ports",    ports.c_str(), "num_threads", o.threads.c_str(),
                           "enable_keep_alive",  "yes",         "tcp_nodelay", "1",
                           "request_timeout_ms", "10000",       nullptr};
  mg_callbacks callbacks{};
  callbacks.begin_request = answer;
  mg_context* ctx = mg_start(&callbacks, &o.bodies, options);
  if (!ctx) {
    std::fprintf(stderr, "bare_civetweb: cannot listen on %s\n", ports.c_str());
    return 1;
  }
  std::printf("bare_civetweb: listening on %s, %s threads\n", ports.c_str(), o.threads.c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  mg_stop(ctx);
  return 0;
}
