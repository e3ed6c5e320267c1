#pragma once
// CivetWeb underneath the Dispatcher: one catch-all request handler that turns CivetWeb's
// request into a Request and writes the Response back. Nothing else here knows CivetWeb.

#include <atomic>
#include <string>

#include "webserver/dispatcher.hpp"
#include "webserver/sse_stream.hpp"

struct mg_context;

namespace dualsp::web {

struct ListenConfig {
  std::string address;  // IPv4
  int port = 0;         // 0: any free port, see WebServer::port()
  // Small on purpose: firmware memory (docs/DESIGN.md "Targets": spd + spweb under 10 MB). Four
  // for ordinary requests, plus one per event stream, which holds its thread while it lasts
  // (a thread is a stack that is mostly never touched: a few tens of KiB resident each).
  int threads = 4 + kMaxEventStreams;
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

  // For CivetWeb's callbacks (web_server.cpp).
  const Dispatcher& dispatcher() const { return dispatcher_; }
  const StopSignal& stopping() const { return stopping_; }
  // Takes one of the kMaxEventStreams places; false when all are taken.
  bool enterEventStream();
  void leaveEventStream();
  int eventStreams() const { return event_streams_.load(); }

 private:
  const Dispatcher& dispatcher_;
  mg_context* context_ = nullptr;
  std::string wake_address_;  // where stop() connects to wake CivetWeb's accept loop
  StopSignal stopping_;       // raised by stop(): open event streams end
  std::atomic<int> event_streams_{0};
};

}  // namespace dualsp::web
