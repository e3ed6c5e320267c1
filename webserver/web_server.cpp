#include "webserver/web_server.hpp"

#include <civetweb.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/log.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/sse_stream.hpp"
#include "webserver/tls_cipher_lists.hpp"

namespace dualsp::web {
namespace {

// A client's event stream: 503 when every place is taken, so ordinary requests keep their
// threads.
inline constexpr int kRetryAfterStreamsFullSeconds = 5;
// A client over its requests at once: one of its own finishes soon.
inline constexpr int kRetryAfterClientBusySeconds = 1;
// The TLS 1.2 suites in the names of CivetWeb's TLS library (tls_cipher_lists.hpp).
#ifdef DUALSP_TLS_MBEDTLS
constexpr const char* kTlsCipherList = kMbedtlsCipherList;
#else
constexpr const char* kTlsCipherList = kOpensslCipherList;
#endif

HttpMethod methodOf(const char* name) {
  std::optional<HttpMethod> m = parseMethod(name ? name : "");
  return m ? *m : HttpMethod::Other;
}

void writeResponse(mg_connection* conn, const Response& res, bool head) {
  const std::string body = res.serializedBody();
  mg_response_header_start(conn, res.status);
  for (const auto& [name, value] : res.headers)
    mg_response_header_add(conn, name.c_str(), value.c_str(), static_cast<int>(value.size()));
  // A 304 has no body, and a Content-Length would have to be the unsent 200's (RFC 9110 8.6).
  std::string length = std::to_string(body.size());
  if (res.status != 304)
    mg_response_header_add(conn, "Content-Length", length.c_str(), static_cast<int>(length.size()));
  mg_response_header_send(conn);
  if (!head && !body.empty()) mg_write(conn, body.data(), body.size());
}

enum class BodyRead { Complete, TooLarge, TooSlow };

// The request body, up to kMaxRequestBodyBytes (CivetWeb undoes chunked encoding), all of it
// within `timeout` of its headers. One byte per mg_read: a read of n bytes returns only once
// all n have come (CivetWeb's pull_all), so a client sending a byte now and then could hold a
// longer read as long as it likes, while one byte waits at most request_timeout_ms. What came
// with the headers is in CivetWeb's buffer already: for most bodies this is copies, not calls.
BodyRead readBody(mg_connection* conn, Request& request, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const long long expected = mg_get_request_info(conn)->content_length;  // -1: chunked
  for (;;) {
    char byte = 0;
    if (mg_read(conn, &byte, 1) <= 0) break;  // the end, the client gone or a read timed out
    if (request.body.size() >= kMaxRequestBodyBytes) {
      request.body_too_large = true;
      request.body.clear();
      return BodyRead::TooLarge;
    }
    request.body += byte;
    if (std::chrono::steady_clock::now() > deadline) return BodyRead::TooSlow;
  }
  if (expected > 0 && request.body.size() < static_cast<unsigned long long>(expected))
    return BodyRead::TooSlow;
  return BodyRead::Complete;
}

WebServer& serverOf(const mg_connection* conn) {
  return *static_cast<WebServer*>(mg_get_user_data(mg_get_context(conn)));
}

const Dispatcher& dispatcherOf(const mg_connection* conn) {
  return serverOf(conn).dispatcher();
}

// GET /redfish/v1/EventService/SSE, accepted by the dispatcher (route, method, mode): the
// headers without Content-Length, then the stream until the client goes, spweb stops or an
// hour has passed. The connection closes after it (there is no length to end the body).
int streamEvents(mg_connection* conn, const Request& request, Response& res) {
  WebServer& server = serverOf(conn);
  if (!server.enterEventStream()) {
    LOG_WARNING << "event stream from " << request.remote_address
                << " refused: " << kMaxEventStreams << " streams open";
    Response refused;
    messages::serviceTemporarilyUnavailable(refused, kRetryAfterStreamsFullSeconds);
    for (const auto& [name, value] : res.headers)
      if (name == "X-DualSP-SP" || name == "OData-Version") refused.addHeader(name, value);
    refused.addHeader("Cache-Control", "no-store");
    refused.addHeader("Content-Type", "application/json; charset=utf-8");
    writeResponse(conn, refused, false);
    return refused.status;
  }
  mg_response_header_start(conn, res.status);
  for (const auto& [name, value] : res.headers)
    mg_response_header_add(conn, name.c_str(), value.c_str(), static_cast<int>(value.size()));
  mg_response_header_add(conn, "Connection", "close", 5);
  mg_response_header_send(conn);

  const EventStreamTiming& timing = server.eventStreamTiming();
  EventStream stream(server.dispatcher().bus(), "web " + request.remote_address,
                     res.event_stream->last_event_id, timing);
  const StreamWriter write = [conn](std::string_view text) {
    return mg_write(conn, text.data(), text.size()) == static_cast<int>(text.size());
  };
  const StreamEnd end = runEventStream(stream, timing, write, server.stopping());
  server.leaveEventStream();
  const char* why = end == StreamEnd::ClientGone ? "client gone"
                    : end == StreamEnd::Stopping ? "spweb stopping"
                                                 : "time limit";
  LOG_DEBUG << "event stream to " << request.remote_address << " ended: " << why;
  return res.status;
}

// What begin_request returns for a request whose body is left unread: CivetWeb 1.15 drains
// the rest of a body after a positive return (discard_unread_request_data), which a client
// dripping it would make last for ever; after a negative one it returns at once, and with the
// body unread it closes the connection (process_new_connection's keep-alive test).
constexpr int kAnsweredCloseUnread = -1;

// An answer given here rather than by the dispatcher (a refusal before the request is read),
// with the headers the dispatcher puts on every answer.
void writeOwnAnswer(mg_connection* conn, Response& res, bool head) {
  res.addHeader("X-DualSP-SP", std::string(1, spLetter(dispatcherOf(conn).config().sp)));
  res.addHeader("OData-Version", "4.0");
  res.addHeader("Cache-Control", "no-store");
  res.addHeader("Content-Type", "application/json; charset=utf-8");
  writeResponse(conn, res, head);
}

// One of the client's places while the request lives (WebServer::enterClientRequest).
class ClientRequest {
 public:
  ClientRequest(WebServer& server, std::string client)
      : server_(server), client_(std::move(client)), taken_(server_.enterClientRequest(client_)) {}
  ~ClientRequest() {
    if (taken_) server_.leaveClientRequest(client_, answering_);
  }
  ClientRequest(const ClientRequest&) = delete;
  ClientRequest& operator=(const ClientRequest&) = delete;
  bool taken() const { return taken_; }
  // From here on the client may have its answer before the place is let go.
  void answering() {
    if (!taken_ || answering_) return;
    answering_ = true;
    server_.answeringClientRequest(client_);
  }

 private:
  WebServer& server_;
  std::string client_;
  bool taken_;
  bool answering_ = false;
};

// Counts a request as being handled while it lives (WebServer::stopUntil waits for these).
class HandlingRequest {
 public:
  explicit HandlingRequest(WebServer& server) : server_(server) { server_.enterHandler(); }
  ~HandlingRequest() { server_.leaveHandler(); }
  HandlingRequest(const HandlingRequest&) = delete;
  HandlingRequest& operator=(const HandlingRequest&) = delete;

 private:
  WebServer& server_;
};

// A 503 answered while spweb stops (its bus closed: docs/WEB.md "Stopping") says so. It was
// never passed on to spd; one spd had already received answers 500 OperationTimeout instead
// (its outcome is for the client to read back: runCommand, UNANSWERED).
void noteStopping(Response& res) {
  if (!res.body.is_object() || !res.body.contains("error") ||
      !res.body["error"].contains("message") || !res.body["error"]["message"].is_string())
    return;
  res.body["error"]["message"] =
      res.body["error"]["message"].get<std::string>() +
      " This SP's web server is restarting (spd changes its mode); retry.";
}

int serveRequest(mg_connection* conn) {
  if (serverOf(conn).refusingAll()) return kAnsweredCloseUnread;  // start() is failing
  const mg_request_info* info = mg_get_request_info(conn);
  Request request;
  request.method = methodOf(info->request_method);
  request.path = info->local_uri ? info->local_uri : "";
  request.query = info->query_string ? info->query_string : "";
  request.remote_address = info->remote_addr;
  for (int i = 0; i < info->num_headers; ++i)
    request.headers.emplace_back(info->http_headers[i].name ? info->http_headers[i].name : "",
                                 info->http_headers[i].value ? info->http_headers[i].value : "");
  WebServer& server = serverOf(conn);
  const bool head = request.method == HttpMethod::Head;
  // Before the body: a client sending slowly holds its own places, never everyone's workers.
  ClientRequest place(server, request.remote_address);
  if (!place.taken()) {
    LOG_DEBUG << "request from " << request.remote_address << " refused: too many at once";
    Response busy;
    messages::serviceTemporarilyUnavailable(busy, kRetryAfterClientBusySeconds);
    writeOwnAnswer(conn, busy, head);
    return kAnsweredCloseUnread;
  }
  if (readBody(conn, request, server.requestTimeout()) == BodyRead::TooSlow) {
    LOG_NOTICE << methodName(request.method) << " " << request.path << " from "
               << request.remote_address << ": body not complete within "
               << server.requestTimeout().count() << " ms; closed";
    Response slow;
    messages::requestTimeout(slow);
    slow.addHeader("Connection", "close");  // the rest of the body is never read: CivetWeb closes
    writeOwnAnswer(conn, slow, head);
    return kAnsweredCloseUnread;
  }
  HandlingRequest handling(server);
  Response res = dispatcherOf(conn).handle(request);
  if (serverOf(conn).stopping().raised() && res.status == 503) noteStopping(res);
  if (res.event_stream) return streamEvents(conn, request, res);
  place.answering();
  writeResponse(conn, res, request.method == HttpMethod::Head);
  return request.body_too_large ? kAnsweredCloseUnread : res.status;
}

// begin_request, not a registered handler: it sees every request, including any that
// arrives between mg_start and a handler registration. Nothing may be thrown through
// CivetWeb's C frames (that ends spweb): a failure is this request's 500.
int handleRequest(mg_connection* conn) {
  try {
    return serveRequest(conn);
  } catch (const std::exception& e) {
    LOG_ERROR << "request failed: " << e.what();
  } catch (...) {
    LOG_ERROR << "request failed";
  }
  Response failed;
  messages::internalError(failed);
  writeOwnAnswer(conn, failed, false);
  return failed.status;
}

// CivetWeb refuses a request line whose method it does not know with 400 "Bad request"
// before begin_request (parse_http_request, CivetWeb 1.15), with the method and the HTTP
// version already split out of the line. Such a request gets the dispatcher's 501.
bool isUnknownMethod(const mg_connection* conn, int status, const char* message) {
  const mg_request_info* info = mg_get_request_info(conn);
  if (status != 400 || !message || std::strcmp(message, "Bad request") != 0 || !info ||
      !info->request_method || !info->http_version)
    return false;
  const std::string_view method = info->request_method;
  // A token (RFC 9110 9.1): upper-case letters, digits, '-' and '_' are what methods use.
  const bool token = !method.empty() && std::all_of(method.begin(), method.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  return token && !parseMethod(method);
}

int answerUnknownMethod(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  Request request;
  request.method = HttpMethod::Other;
  request.path = info->request_uri ? info->request_uri : "";
  request.remote_address = info->remote_addr;
  Response res = dispatcherOf(conn).handle(request);
  res.addHeader("Connection", "close");  // CivetWeb closes the connection after an error
  writeResponse(conn, res, false);
  return 0;
}

// Errors CivetWeb raises itself (a malformed request, a timeout): plain text, but with the
// header that says which SP answered, like every other response. An unknown method is the
// exception: it gets a Redfish 501.
int handleHttpError(mg_connection* conn, int status, const char* message) {
  if (isUnknownMethod(conn, status, message)) {
    try {
      return answerUnknownMethod(conn);
    } catch (const std::exception& e) {
      LOG_ERROR << "answering an unknown method failed: " << e.what();
    }
  }
  std::string body = std::string(message ? message : "") + "\n";
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nX-DualSP-SP: %c\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Cache-Control: no-store\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
            status, mg_get_response_code_text(conn, status),
            spLetter(dispatcherOf(conn).config().sp), body.size());
  mg_write(conn, body.data(), body.size());
  return 0;
}

// While WebServer::start runs, CivetWeb's complaints (the bind error) go into the start error
// so a failed start is one log line that says why; later ones are logged as they come.
thread_local std::string* start_messages = nullptr;

int logCivetwebMessage(const mg_connection* conn, const char* message) {
  if (start_messages) {
    if (!start_messages->empty()) *start_messages += "; ";
    *start_messages += message;
  } else {
    LOG_WARNING << "civetweb: " << message;
  }
  return 1;  // handled: CivetWeb prints nothing itself
}

// Opens and closes one TCP connection to the listener, to wake CivetWeb's accept loop.
void pokeListener(const std::string& address, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
  connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // non-blocking: SYN is enough
  close(fd);
}

}  // namespace

bool WebServer::start(const ListenConfig& config, std::string& error) {
  static std::once_flag library_ready;
  std::call_once(library_ready, [] { mg_init_library(0); });
  stop();
  stopping_.reset();
  request_timeout_ms_ = config.request_timeout_ms;
  max_client_requests_ = config.max_client_requests;
  stream_timing_.keep_alive = config.sse_keep_alive;
  client_place_grace_ = config.client_place_grace;
  wake_address_ = config.address == "0.0.0.0" ? "127.0.0.1" : config.address;

  if (config.tls_port >= 0 && !tlsAvailable()) {
    error = "this spweb was built without TLS (DUALSP_TLS off): no HTTPS port";
    return false;
  }
  if (config.tls_port >= 0 && config.tls_certificate.empty()) {
    error = "an HTTPS port needs a certificate file";
    return false;
  }
  // CivetWeb's port list: "r" redirects a plain port to the first "s" (TLS) port.
  std::string ports = config.address + ":" + std::to_string(config.port);
  if (config.tls_port >= 0) {
    if (config.redirect_plain) ports += "r";
    ports += "," + config.address + ":" + std::to_string(config.tls_port) + "s";
  }
  const std::string threads = std::to_string(config.threads);
  const std::string timeout = std::to_string(config.request_timeout_ms);
  std::vector<const char*> options = {
      "listening_ports",
      ports.c_str(),
      "num_threads",
      threads.c_str(),
      "request_timeout_ms",
      timeout.c_str(),
      "enable_keep_alive",
      "yes",
      // Headers and body go out in two writes; without this Nagle holds the body back until
      // the client's delayed ACK (40 ms per request).
      "tcp_nodelay",
      "1",
  };
  if (config.tls_port >= 0) {
    options.insert(options.end(), {
                                      "ssl_certificate",
                                      config.tls_certificate.c_str(),
                                      // 4: TLS 1.2 and newer (CivetWeb's numbering)
                                      "ssl_protocol_version",
                                      "4",
                                      "ssl_cipher_list",
                                      kTlsCipherList,
                                      // A redirect names the address the client connected
                                      // to, not CivetWeb's default "mydomain.com".
                                      "enable_auth_domain_check",
                                      "no",
                                  });
  }
  options.push_back(nullptr);
  mg_callbacks callbacks{};
  // CivetWeb 1.15 calls init_context after binding the port and before it starts its master
  // and worker threads (mg_start2).
  callbacks.init_context = [](const mg_context* ctx) {
    static_cast<WebServer*>(mg_get_user_data(ctx))->runAfterBind();
  };
  callbacks.begin_request = handleRequest;
  callbacks.http_error = handleHttpError;
  callbacks.log_message = logCivetwebMessage;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = options.data();
  char text[256] = {};
  unsigned code = 0;
  mg_error_data failure{&code, text, sizeof text};

  std::string messages;
  after_bind_ = config.after_bind;
  after_bind_error_.clear();
  refuse_all_ = false;
  start_messages = &messages;
  context_ = mg_start2(&init, &failure);
  start_messages = nullptr;
  if (!context_) {
    error = !messages.empty() ? messages : text[0] ? text : "CivetWeb did not start";
    return false;
  }
  if (refuse_all_) {
    // Nothing was served (every request refused): stopped without the stop hook, which is
    // for a server that served.
    error = after_bind_error_;
    std::function<void()> hook = std::move(on_stopping_);
    on_stopping_ = nullptr;
    stop();
    on_stopping_ = std::move(hook);
    refuse_all_ = false;
    return false;
  }
  return true;
}

void WebServer::runAfterBind() {
  if (!after_bind_) return;
  std::string why;
  try {
    why = after_bind_();
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (why.empty()) return;
  after_bind_error_ = std::move(why);
  refuse_all_ = true;
}

void WebServer::stop() {
  stopUntil(std::chrono::steady_clock::time_point::max());
}

bool WebServer::stopWithin(std::chrono::milliseconds bound) {
  return stopUntil(std::chrono::steady_clock::now() + bound);
}

bool WebServer::stopUntil(std::chrono::steady_clock::time_point deadline) {
  if (context_) {
    stopping_.raise();  // open event streams end at their next wait, at once
    if (on_stopping_) on_stopping_();
    // Once mg_stop raises CivetWeb's stop flag its writes fail: the requests being handled
    // (answered 503 now that the bus is closed) write their answers first.
    {
      std::unique_lock lock(handling_mutex_);
      handled_.wait_until(lock,
                          std::min(deadline, std::chrono::steady_clock::now() + kStopAnswerGrace),
                          [this] { return handling_ == 0; });
    }
    wake_port_ = port();
    stopped_ = std::make_shared<std::atomic<bool>>(false);
    stopper_ = std::thread([context = context_, stopped = stopped_] {
      mg_stop(context);
      *stopped = true;
    });
    context_ = nullptr;  // being stopped: port() says -1 from now on
  }
  if (!stopper_.joinable()) return true;
  // CivetWeb's accept loop sees the stop flag only when its poll() returns, which without
  // traffic is up to 2 s later (SOCKET_TIMEOUT_QUANTUM). spd restarts spweb to change its mode
  // and must not wait that long for the port, so connections to our own listener wake it.
  while (!stopped_->load() && std::chrono::steady_clock::now() < deadline) {
    if (wake_port_ > 0) pokeListener(wake_address_, wake_port_);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!stopped_->load()) return false;  // a worker is held by a slow client
  stopper_.join();
  return true;
}

void WebServer::enterHandler() {
  std::lock_guard lock(handling_mutex_);
  ++handling_;
}

void WebServer::leaveHandler() {
  std::lock_guard lock(handling_mutex_);
  if (--handling_ == 0) handled_.notify_all();
}

bool WebServer::enterClientRequest(const std::string& client) {
  std::unique_lock lock(clients_mutex_);
  const auto deadline = std::chrono::steady_clock::now() + client_place_grace_;
  for (;;) {
    ClientPlaces& places = client_requests_[client];
    if (places.open < max_client_requests_) {
      ++places.open;
      return true;
    }
    // A worker that has written an answer lets its place go a moment later; the client may
    // have sent this request in that moment (a thread preempted there, on a busy SP). A
    // client whose places are all still reading or being handled is refused at once.
    if (places.answering == 0) return false;
    ++waiting_for_places_;
    const bool timed_out = client_left_.wait_until(lock, deadline) == std::cv_status::timeout;
    --waiting_for_places_;
    if (timed_out) {
      auto it = client_requests_.find(client);
      if (it != client_requests_.end() && it->second.open < max_client_requests_) {
        ++it->second.open;
        return true;
      }
      if (it != client_requests_.end() && it->second.open == 0) client_requests_.erase(it);
      return false;
    }
  }
}

void WebServer::answeringClientRequest(const std::string& client) {
  std::lock_guard lock(clients_mutex_);
  auto it = client_requests_.find(client);
  if (it != client_requests_.end()) ++it->second.answering;
}

void WebServer::leaveClientRequest(const std::string& client, bool answering) {
  {
    std::lock_guard lock(clients_mutex_);
    auto it = client_requests_.find(client);
    if (it != client_requests_.end()) {
      if (answering) --it->second.answering;
      if (--it->second.open <= 0) client_requests_.erase(it);
    }
  }
  client_left_.notify_all();
}

int WebServer::waitingForClientPlaces() const {
  std::lock_guard lock(clients_mutex_);
  return waiting_for_places_;
}

int WebServer::clientPlacesTaken(const std::string& client) const {
  std::lock_guard lock(clients_mutex_);
  auto it = client_requests_.find(client);
  return it == client_requests_.end() ? 0 : it->second.open;
}

bool WebServer::enterEventStream() {
  int open = event_streams_.load();
  while (open < kMaxEventStreams)
    if (event_streams_.compare_exchange_weak(open, open + 1)) return true;
  return false;
}

void WebServer::leaveEventStream() {
  --event_streams_;
}

int WebServer::port() const {
  return boundPort(false);
}

int WebServer::tlsPort() const {
  return boundPort(true);
}

int WebServer::boundPort(bool tls) const {
  if (!context_) return -1;
  mg_server_port ports[4] = {};
  int n = mg_get_server_ports(context_, 4, ports);
  for (int i = 0; i < n; ++i)
    if ((ports[i].is_ssl != 0) == tls) return ports[i].port;
  return -1;
}

bool tlsAvailable() {
#ifdef DUALSP_TLS
  return true;
#else
  return false;
#endif
}

}  // namespace dualsp::web
