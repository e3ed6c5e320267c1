#include "sp/event_delivery.hpp"

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <charconv>
#if defined(DUALSP_EVENT_TLS)
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <asio/ssl.hpp>
#endif

#include <nlohmann/json.hpp>

#include "ipc/event_json.hpp"
#include "platform/log.hpp"

namespace dualsp::sp {

namespace {

using Clock = std::chrono::steady_clock;

// Events read from the log per look; a subscription filtering most events out skips fast.
constexpr size_t kBatch = 64;
// A status line longer than this is not an HTTP server answering.
constexpr size_t kMaxStatusLine = 1024;

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// A JSON array of strings into `out`; false when it is something else.
bool stringList(const nlohmann::json& v, std::vector<std::string>& out) {
  if (!v.is_array()) return false;
  for (const auto& item : v) {
    if (!item.is_string()) return false;
    out.push_back(item.get<std::string>());
  }
  return true;
}

// "ResourceEvent.1.4.3.ResourceChanged" -> registry "ResourceEvent", key "ResourceChanged".
std::string registryOf(const std::string& message_id) {
  return message_id.substr(0, message_id.find('.'));
}
std::string keyOf(const std::string& message_id) {
  size_t dot = message_id.rfind('.');
  return dot == std::string::npos ? message_id : message_id.substr(dot + 1);
}

// "HTTP/1.1 204 No Content\r\n": empty when 2xx, else why not.
std::string statusVerdict(const std::string& line) {
  if (!startsWith(line, "HTTP/")) return "not an HTTP response";
  size_t space = line.find(' ');
  int code = 0;
  if (space == std::string::npos || line.size() < space + 4 ||
      std::from_chars(line.data() + space + 1, line.data() + space + 4, code).ec != std::errc{})
    return "malformed status line";
  if (code >= 200 && code < 300) return "";
  return "HTTP " + std::to_string(code);
}

#if defined(DUALSP_EVENT_TLS)
// Why a handshake failed, with the certificate check's own reason when that was it.
std::string tlsErrorText(SSL* ssl, const asio::error_code& ec) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    return std::string("certificate: ") + X509_verify_cert_error_string(verify);
  return ec.message();
}
#endif

}  // namespace

std::optional<Subscription> parseSubscription(const std::string& id, const std::string& json,
                                              std::string& error) {
  auto v = nlohmann::json::parse(json, nullptr, false);
  if (v.is_discarded()) {
    error = "subscription " + id + ": not JSON";
    return std::nullopt;
  }
  if (!v.is_object()) {
    error = "subscription " + id + ": not a JSON object";
    return std::nullopt;
  }
  Subscription s;
  s.id = id;
  auto destination = v.find("Destination");
  if (destination == v.end() || !destination->is_string() ||
      destination->get<std::string>().empty()) {
    error = "subscription " + id + ": Destination missing or not a string";
    return std::nullopt;
  }
  s.destination = destination->get<std::string>();
  if (auto context = v.find("Context"); context != v.end() && !context->is_null()) {
    if (!context->is_string()) {
      error = "subscription " + id + ": Context is not a string";
      return std::nullopt;
    }
    s.context = context->get<std::string>();
  }
  if (auto p = v.find("RegistryPrefixes");
      p != v.end() && !p->is_null() && !stringList(*p, s.registry_prefixes)) {
    error = "subscription " + id + ": RegistryPrefixes is not an array of strings";
    return std::nullopt;
  }
  if (auto m = v.find("MessageIds");
      m != v.end() && !m->is_null() && !stringList(*m, s.message_ids)) {
    error = "subscription " + id + ": MessageIds is not an array of strings";
    return std::nullopt;
  }
  if (auto verify = v.find("VerifyCertificate"); verify != v.end() && !verify->is_null()) {
    if (!verify->is_boolean()) {
      error = "subscription " + id + ": VerifyCertificate is not a boolean";
      return std::nullopt;
    }
    s.verify_certificate = verify->get<bool>();
  }
  return s;
}

bool subscriptionWants(const Subscription& s, const proto::Event& e) {
  const std::string& mid = e.message_id();
  std::string registry = registryOf(mid);
  std::string key = keyOf(mid);
  if (!s.registry_prefixes.empty() &&
      std::none_of(s.registry_prefixes.begin(), s.registry_prefixes.end(),
                   [&](const std::string& p) { return p == registry || startsWith(mid, p + "."); }))
    return false;
  // Redfish lets MessageIds name the key alone, "Registry.Key" or the full versioned id.
  if (!s.message_ids.empty() &&
      std::none_of(s.message_ids.begin(), s.message_ids.end(), [&](const std::string& m) {
        return m == mid || m == key || m == registry + "." + key;
      }))
    return false;
  return true;
}

// One POST under way. Its handlers hold it; finish() settles it once and closes the socket,
// so whatever else is queued for it ends at once (the TLS stream's operations too: they run
// on the socket).
struct EventDelivery::Attempt {
  explicit Attempt(asio::io_context& io) : socket(io), timer(io) {}
  void finish(std::string why) {
    if (result) return;
    result = std::move(why);
    asio::error_code ignored;
    socket.close(ignored);
    timer.cancel();
  }
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
#if defined(DUALSP_EVENT_TLS)
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;  // https:// only
#endif
  std::string request, body, response;
  std::optional<std::string> result;  // "" delivered, else why not
};

struct EventDelivery::Cursor {
  Subscription sub;
  std::optional<ipc::HttpDestination> to;  // nullopt: its events are dropped (logged once)
  uint64_t after = 0;  // the last event handled: delivered, dropped or not wanted
  std::optional<proto::Event> pending;
  int failures = 0;
  Clock::time_point next_try{};
  std::shared_ptr<Attempt> attempt;  // the POST of `pending` under way, or null
};

void EventDelivery::abandon(std::vector<Cursor>& cursors) {
  for (auto& c : cursors)
    if (c.attempt) c.attempt->finish("abandoned");
}

EventDelivery::EventDelivery(Source source, DeliveryOptions options)
    : source_(std::move(source)), options_(options) {}

EventDelivery::~EventDelivery() {
  stop();
}

void EventDelivery::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { work(); });
}

void EventDelivery::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (io_) io_->stop();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

EventDelivery::Stats EventDelivery::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool EventDelivery::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

// Every subscription's POST runs on this one io_context at once, each with its own deadline:
// a destination that is slow or never answers holds up its own events only.
void EventDelivery::work() {
  asio::io_context io;
  {
    std::lock_guard lock(mutex_);
    io_ = &io;
  }
  std::vector<Cursor> cursors;  // after `io`: gone before it, their attempts' sockets first
  bool was_active = false;
  Clock::time_point next_sync{};
  while (!stopping()) {
    bool moved = false;
    if (source_.active()) {
      if (!was_active) LOG_INFO << "event delivery: active, new events go to subscribers";
      was_active = true;
      try {
        if (Clock::now() >= next_sync) {
          syncCursors(cursors);
          next_sync = Clock::now() + options_.poll;
        }
        moved = deliverDue(io, cursors);
      } catch (const std::exception& e) {
        // Never out of this thread (it would end spd): the next pass tries again.
        LOG_ERROR << "event delivery: " << e.what();
      }
    } else if (was_active || !cursors.empty()) {
      // The active SP delivers; a new active one starts from its own last event.
      abandon(cursors);
      cursors.clear();
      was_active = false;
    }
    if (moved) continue;
    Clock::time_point wake = Clock::now() + options_.poll;
    if (was_active) wake = std::min(wake, next_sync);
    bool in_flight = false;
    for (const auto& c : cursors) {
      if (c.attempt)
        in_flight = true;
      else if (c.pending)
        wake = std::min(wake, c.next_try);
    }
    if (in_flight) {
      io.restart();
      if (!stopping()) io.run_one_until(wake);  // stop() stops `io`
    } else {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, wake, [this] { return stopping_; });
    }
  }
  abandon(cursors);
  std::lock_guard lock(mutex_);
  io_ = nullptr;
}

void EventDelivery::syncCursors(std::vector<Cursor>& cursors) {
  std::vector<Subscription> subs = source_.subscriptions();
  std::optional<uint64_t> last;  // read only when a subscription is new
  std::vector<Cursor> next;
  next.reserve(subs.size());
  for (auto& sub : subs) {
    auto old = std::find_if(cursors.begin(), cursors.end(),
                            [&](const Cursor& c) { return c.sub.id == sub.id; });
    Cursor c;
    bool reparse = true;
    if (old != cursors.end()) {
      c = std::move(*old);
      reparse = c.sub.destination != sub.destination;
    } else {
      if (!last) last = source_.last_event_id();
      // Every event after the subscription's creation, and none from before this SP became
      // active (last_event_id: its predecessor delivered those).
      c.after = std::max(sub.created_after, *last);
    }
    c.sub = std::move(sub);
    if (reparse) {
      if (c.attempt) c.attempt->finish("destination changed");
      std::string why;
      c.to = ipc::checkDestination(c.sub.destination, options_.destinations, why);
      if (!c.to)
        LOG_WARNING << "event delivery: subscription " << c.sub.id << " destination "
                    << c.sub.destination << " refused: " << why << "; its events are dropped";
    }
    next.push_back(std::move(c));
  }
  abandon(cursors);           // the removed subscriptions' POSTs
  cursors = std::move(next);  // a removed subscription's cursor goes, pending event included
}

bool EventDelivery::deliverDue(asio::io_context& io, std::vector<Cursor>& cursors) {
  bool moved = false;
  for (auto& c : cursors) {
    if (stopping()) break;
    if (c.attempt) {
      if (!c.attempt->result) continue;  // still under way
      moved |= settle(c);
      continue;
    }
    if (!c.pending) {
      for (auto& e : source_.events_after(c.after, kBatch)) {
        if (subscriptionWants(c.sub, e)) {
          c.pending = std::move(e);
          c.failures = 0;
          c.next_try = Clock::now();
          break;
        }
        c.after = e.id();
        moved = true;
      }
    }
    if (!c.pending) continue;
    if (!c.to) {
      {
        std::lock_guard lock(mutex_);
        ++stats_.dropped;
      }
      c.after = c.pending->id();
      c.pending.reset();
      moved = true;
      continue;
    }
    if (Clock::now() < c.next_try) continue;
    if (c.failures > 0) {
      std::lock_guard lock(mutex_);
      ++stats_.retried;
    }
    // Replaced, not thrown: an event's text may hold a client's bytes (docs/SECURITY.md).
    c.attempt = launch(io, *c.to,
                       ipc::eventPayloadJson({*c.pending}, c.sub.context)
                           .dump(-1, ' ', false, ipc::EventJson::error_handler_t::replace),
                       c.sub.verify_certificate);
    if (c.attempt->result) moved |= settle(c);
  }
  return moved;
}

bool EventDelivery::settle(Cursor& c) {
  const std::string why = *c.attempt->result;
  c.attempt.reset();
  const uint64_t id = c.pending->id();
  if (why.empty()) {
    std::lock_guard lock(mutex_);
    ++stats_.delivered;
  } else if (stopping()) {
    return false;  // cut short by stop(): neither a failure nor a drop
  } else if (++c.failures <= options_.retry_attempts) {
    LOG_DEBUG << "event delivery: subscription " << c.sub.id << " event " << id << " to "
              << c.sub.destination << " failed (" << why << "), retry " << c.failures;
    c.next_try = Clock::now() + options_.retry_interval;
    return false;
  } else {
    LOG_WARNING << "event delivery: subscription " << c.sub.id << " to " << c.sub.destination
                << ": event " << id << " dropped after " << c.failures << " attempts: " << why;
    std::lock_guard lock(mutex_);
    ++stats_.dropped;
  }
  c.after = id;
  c.pending.reset();
  return true;
}

std::shared_ptr<EventDelivery::Attempt> EventDelivery::launch(asio::io_context& io,
                                                              const ipc::HttpDestination& to,
                                                              std::string body, bool verify) {
  auto a = std::make_shared<Attempt>(io);
  a->request = ipc::httpRequestHead(to, body.size());
  if (a->request.empty()) {
    a->finish("control characters in the destination");
    return a;
  }
#if defined(DUALSP_EVENT_TLS)
  if (to.tls) {
    asio::ssl::context* context = tlsContext();
    if (!context) {
      a->finish("no TLS client (see the log)");
      return a;
    }
    a->tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(a->socket, *context);
    // The destination is an IPv4 literal: no SNI (RFC 6066 3), the address is what the
    // certificate must name (an iPAddress subjectAltName) when it is verified.
    if (verify) {
      a->tls->set_verify_mode(asio::ssl::verify_peer);
      X509_VERIFY_PARAM* param = SSL_get0_param(a->tls->native_handle());
      X509_VERIFY_PARAM_set1_ip_asc(param, to.host.c_str());
    } else {
      a->tls->set_verify_mode(asio::ssl::verify_none);
    }
  }
#else
  (void)verify;
  if (to.tls) {
    a->finish("https: this spd has no TLS client");
    return a;
  }
#endif
  a->body = std::move(body);
  a->timer.expires_after(options_.timeout);
  a->timer.async_wait([a, ms = options_.timeout.count()](const asio::error_code& ec) {
    if (!ec) a->finish("no answer within " + std::to_string(ms) + " ms");
  });
  // Each step starts the next; the timer bounds the whole chain.
  asio::ip::tcp::endpoint endpoint(asio::ip::address_v4(to.address), to.port);
  a->socket.async_connect(endpoint, [a](const asio::error_code& ec) {
    if (a->result) return;
    if (ec) return a->finish("connect: " + ec.message());
#if defined(DUALSP_EVENT_TLS)
    if (a->tls) {
      a->tls->async_handshake(asio::ssl::stream_base::client, [a](const asio::error_code& ec) {
        if (a->result) return;
        if (ec) return a->finish("TLS handshake: " + tlsErrorText(a->tls->native_handle(), ec));
        exchange(a, *a->tls);
      });
      return;
    }
#endif
    exchange(a, a->socket);
  });
  return a;
}

template <typename Stream>
void EventDelivery::exchange(const std::shared_ptr<Attempt>& a, Stream& stream) {
  std::array<asio::const_buffer, 2> out{asio::buffer(a->request), asio::buffer(a->body)};
  asio::async_write(stream, out, [a, &stream](const asio::error_code& ec, size_t) {
    if (a->result) return;
    if (ec) return a->finish("send: " + ec.message());
    asio::async_read_until(
        stream, asio::dynamic_buffer(a->response, kMaxStatusLine), "\r\n",
        [a](const asio::error_code& ec, size_t n) {
          if (a->result) return;
          a->finish(ec ? "no response: " + ec.message() : statusVerdict(a->response.substr(0, n)));
        });
  });
}

#if defined(DUALSP_EVENT_TLS)
asio::ssl::context* EventDelivery::tlsContext() {
  if (tls_context_) return tls_context_.get();
  try {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    // TLS 1.2 and newer, OpenSSL's default (AEAD-first) suites at its default security level.
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    context->set_options(asio::ssl::context::no_compression);
    if (options_.trusted_certificates.empty())
      context->set_default_verify_paths();
    else
      context->load_verify_file(options_.trusted_certificates);
    tls_context_ = std::move(context);
  } catch (const std::exception& e) {
    LOG_ERROR << "event delivery: cannot set up the TLS client ("
              << (options_.trusted_certificates.empty() ? "system trust store"
                                                        : options_.trusted_certificates)
              << "): " << e.what() << "; https destinations fail";
  }
  return tls_context_.get();
}
#endif

}  // namespace dualsp::sp
