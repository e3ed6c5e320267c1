#pragma once
// CivetWeb underneath the Dispatcher: one catch-all request handler that turns CivetWeb's
// request into a Request and writes the Response back. Nothing else here knows CivetWeb.

#include <string>

#include "webserver/dispatcher.hpp"

struct mg_context;

namespace dualsp::web {

struct ListenConfig {
  std::string address;  // IPv4
  int port = 0;         // 0: any free port, see WebServer::port()
  // Small on purpose: firmware memory (DESIGN.md "Targets": spd + spweb under 10 MB).
  int threads = 4;
  int request_timeout_ms = 10000;
};

class WebServer {
 public:
  explicit WebServer(const Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  ~WebServer() { stop(); }
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // False, with CivetWeb's reason in `error`, when it cannot listen (address in use, ...).
  bool start(const ListenConfig& config, std::string& error);
  // Waits for the requests in flight. Safe to call twice.
  void stop();
  // The port actually bound (the chosen one when ListenConfig::port was 0); -1 if stopped.
  int port() const;

 private:
  const Dispatcher& dispatcher_;
  mg_context* context_ = nullptr;
  std::string wake_address_;  // where stop() connects to wake CivetWeb's accept loop
};

}  // namespace dualsp::web
