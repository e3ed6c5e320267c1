#pragma once
// CivetWeb underneath the Dispatcher: one catch-all request handler that turns CivetWeb's
// request into a Request and writes the Response back. Nothing else here knows CivetWeb.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "webserver/dispatcher.hpp"
#include "webserver/sse_stream.hpp"

struct mg_context;

namespace dualsp::web {

// A client (a source address) is served this many requests at once by default: a browser's
// parallel requests, a monitoring station's parallel queries (or several administrators behind
// one NAT) and an event stream or two. The next ones are answered 503 at once; with 16 workers
// for ordinary requests, one address never holds them all (docs/SECURITY.md "Hostile input").
inline constexpr int kDefaultMaxClientRequests = 12;
// Whether this build of spweb can serve HTTPS (CMake's DUALSP_TLS).
bool tlsAvailable();
inline constexpr int kDefaultRequestTimeoutMs = 10000;
inline constexpr std::chrono::milliseconds kDefaultClientPlaceGrace{100};

struct ListenConfig {
  std::string address;  // IPv4
  int port = 0;         // 0: any free port, see WebServer::port()
  // HTTPS (docs/SECURITY.md "TLS"): a second port, TLS 1.2 or newer with forward-secret AEAD
  // suites only, when tls_port >= 0 (0: any free port, see WebServer::tlsPort()).
  // tls_certificate: a PEM file holding the certificate and its private key. A build
  // without TLS (DUALSP_TLS off: the firmware today) refuses to start with one.
  int tls_port = -1;
  std::string tls_certificate = {};
  // With HTTPS: the plain port answers every request with 308 to the same path on the HTTPS
  // port instead of serving it.
  bool redirect_plain = false;
  // Small on purpose: firmware memory (docs/DESIGN.md "Targets": spd + spweb under 10 MB).
  // Sixteen for ordinary requests (more than one address may take), plus one per event stream,
  // which holds its thread while it lasts (a thread is a stack that is mostly never touched: a few
  // tens of KiB resident each).
  int threads = 16 + kMaxEventStreams;
  // The headers must arrive within this, then the body within this again (408 and the
  // connection closed otherwise), and each write of an answer must go through within it.
  int request_timeout_ms = kDefaultRequestTimeoutMs;
  int max_client_requests = kDefaultMaxClientRequests;  // per source address, at once
  // An event stream with nothing to send writes ": keep-alive" this often (EventStreamTiming).
  std::chrono::milliseconds sse_keep_alive = EventStreamTiming{}.keep_alive;
  // A request over its client's places waits this long for one of them to be freed, but only
  // while one of them is writing its answer: the client may already have that answer and sent
  // this one before the worker let its place go. Over the limit otherwise: 503 at once.
  std::chrono::milliseconds client_place_grace = kDefaultClientPlaceGrace;
  // Runs once the port is bound, before CivetWeb starts any thread (its init_context
  // callback), so that no part of a request is ever handled before it: spweb drops root here
  // (docs/SECURITY.md "What runs as whom"). Returns why it failed, or empty; a failure makes
  // start() fail with that reason, and nothing is served meanwhile.
  std::function<std::string()> after_bind = {};
};

// How long spweb's stop waits for CivetWeb's workers (docs/WEB.md "Stopping"). Requests
// waiting for spd are answered 503 at once (WebServer::onStopping closes the bus), so what is
// left after this is a client sending or reading slowly: not worth the floating address
// going unanswered while spd restarts spweb in another mode (chaos invariant 4: under 1 s).
inline constexpr std::chrono::milliseconds kStopBound{250};
// Of that, how long the requests being handled get to write their answers (503 once the bus is
// closed) before mg_stop, after which CivetWeb writes nothing more.
inline constexpr std::chrono::milliseconds kStopAnswerGrace{100};

class WebServer {
 public:
  explicit WebServer(const Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  ~WebServer() { stop(); }
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // False, with CivetWeb's reason in `error`, when it cannot listen (address in use, ...).
  bool start(const ListenConfig& config, std::string& error);
  // Waits for the requests in flight, however long. Safe to call twice.
  void stop();
  // The same, but waits at most `bound`. False when a worker still held a request then:
  // CivetWeb goes on stopping in the background (its threads still use the Dispatcher), so
  // the caller must end the process (spweb: _exit) or call stop() again before destroying
  // what the handlers use (stop() then waits for that background stop).
  bool stopWithin(std::chrono::milliseconds bound);
  // Runs first thing in a stop, after the event streams' stop signal is raised: spweb closes
  // the local bus there, so requests waiting for spd are answered at once.
  void onStopping(std::function<void()> hook) { on_stopping_ = std::move(hook); }
  // The port actually bound (the chosen one when ListenConfig::port was 0); -1 if stopped.
  int port() const;     // the plain HTTP port bound, -1 before start
  int tlsPort() const;  // the HTTPS port bound, -1 without one

  // For CivetWeb's callbacks (web_server.cpp).
  const Dispatcher& dispatcher() const { return dispatcher_; }
  bool refusingAll() const { return refuse_all_.load(); }
  void runAfterBind();
  const StopSignal& stopping() const { return stopping_; }
  // Takes one of the kMaxEventStreams places; false when all are taken.
  bool enterEventStream();
  void leaveEventStream();
  int eventStreams() const { return event_streams_.load(); }
  // A request between its body read and its answer written (a stop lets these finish).
  void enterHandler();
  void leaveHandler();
  // Takes one of the client's max_client_requests places; false when all are taken (after
  // waiting up to ListenConfig::client_place_grace if one of them is answering).
  bool enterClientRequest(const std::string& client);
  // The request holding one of the client's places is writing its answer.
  void answeringClientRequest(const std::string& client);
  void leaveClientRequest(const std::string& client, bool answering);
  // Requests waiting for one of their client's places (for tests).
  int waitingForClientPlaces() const;
  // The places a client's requests hold now (for tests).
  int clientPlacesTaken(const std::string& client) const;
  std::chrono::milliseconds requestTimeout() const {
    return std::chrono::milliseconds(request_timeout_ms_);
  }
  // The timing of every event stream (ListenConfig::sse_keep_alive).
  const EventStreamTiming& eventStreamTiming() const { return stream_timing_; }

 private:
  int boundPort(bool tls) const;
  const Dispatcher& dispatcher_;
  mg_context* context_ = nullptr;
  std::string wake_address_;  // where stop() connects to wake CivetWeb's accept loop
  int wake_port_ = -1;
  StopSignal stopping_;  // raised by stop(): open event streams end
  std::atomic<int> event_streams_{0};
  std::function<void()> on_stopping_;
  std::function<std::string()> after_bind_;  // ListenConfig::after_bind, during start()
  std::string after_bind_error_;
  std::mutex handling_mutex_;
  std::condition_variable handled_;
  int handling_ = 0;  // under handling_mutex_
  int request_timeout_ms_ = kDefaultRequestTimeoutMs;
  int max_client_requests_ = kDefaultMaxClientRequests;
  EventStreamTiming stream_timing_;
  std::chrono::milliseconds client_place_grace_ = kDefaultClientPlaceGrace;
  struct ClientPlaces {
    int open = 0;       // places taken
    int answering = 0;  // of those, writing their answers
  };
  mutable std::mutex clients_mutex_;
  std::condition_variable client_left_;
  // Under clients_mutex_; no entry with nothing open.
  std::unordered_map<std::string, ClientPlaces> client_requests_;
  int waiting_for_places_ = 0;  // under clients_mutex_
  std::shared_ptr<std::atomic<bool>> stopped_;
  // after_bind failed: every request is refused until start() has stopped CivetWeb.
  std::atomic<bool> refuse_all_{false};  // set by mg_stop's thread when it returns
  std::thread stopper_;                  // runs mg_stop

  bool stopUntil(std::chrono::steady_clock::time_point deadline);
};

}  // namespace dualsp::web
