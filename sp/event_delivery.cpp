#include "sp/event_delivery.hpp"

#include <algorithm>
#include <array>
#include <asio.hpp>
#include <cctype>
#include <charconv>

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

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

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

std::optional<HttpDestination> parseHttpDestination(const std::string& url, std::string& error) {
  size_t scheme_end = url.find("://");
  std::string scheme = lower(url.substr(0, scheme_end == std::string::npos ? 0 : scheme_end));
  if (scheme == "https") {
    error = "https is not supported (spd has no TLS client)";
    return std::nullopt;
  }
  if (scheme != "http") {
    error = "not an http:// URL";
    return std::nullopt;
  }
  std::string rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, authority_end);
  HttpDestination to;
  if (authority_end != std::string::npos) {
    to.path = rest.substr(authority_end);
    to.path = to.path.substr(0, to.path.find('#'));
    if (to.path.empty() || to.path[0] != '/') to.path = "/" + to.path;
  }
  if (authority.find('@') != std::string::npos || authority.find('[') != std::string::npos) {
    error = "only an IPv4 address or localhost as host";
    return std::nullopt;
  }
  size_t colon = authority.rfind(':');
  to.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    std::string port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      error = "bad port '" + port + "'";
      return std::nullopt;
    }
    to.port = static_cast<uint16_t>(value);
  }
  if (lower(to.host) == "localhost") {
    to.address = "127.0.0.1";
  } else {
    // No resolver: a DNS wait could not be bounded by the per-attempt timeout.
    asio::error_code ec;
    asio::ip::make_address_v4(to.host, ec);
    if (ec) {
      error = "host '" + to.host + "' is not an IPv4 address or localhost";
      return std::nullopt;
    }
    to.address = to.host;
  }
  return to;
}

struct EventDelivery::Cursor {
  Subscription sub;
  std::optional<HttpDestination> to;  // nullopt: its events are dropped (logged once)
  uint64_t after = 0;                 // the last event handled: delivered, dropped or not wanted
  std::optional<proto::Event> pending;
  int failures = 0;
  Clock::time_point next_try{};
};

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
    if (attempt_io_) attempt_io_->stop();
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

void EventDelivery::work() {
  std::vector<Cursor> cursors;
  bool was_active = false;
  while (!stopping()) {
    bool moved = false;
    if (source_.active()) {
      if (!was_active) LOG_INFO << "event delivery: active, new events go to subscribers";
      syncCursors(cursors);
      was_active = true;
      moved = deliverDue(cursors);
    } else {
      // The active SP delivers; a new active one starts from its own last event.
      cursors.clear();
      was_active = false;
    }
    if (moved) continue;
    Clock::time_point wake = Clock::now() + options_.poll;
    for (const auto& c : cursors)
      if (c.pending) wake = std::min(wake, c.next_try);
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, wake, [this] { return stopping_; });
  }
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
      std::string why;
      c.to = parseHttpDestination(c.sub.destination, why);
      if (!c.to)
        LOG_WARNING << "event delivery: subscription " << c.sub.id << " destination "
                    << c.sub.destination << " not supported: " << why << "; its events are dropped";
    }
    next.push_back(std::move(c));
  }
  cursors = std::move(next);  // a removed subscription's cursor goes, pending event included
}

bool EventDelivery::deliverDue(std::vector<Cursor>& cursors) {
  bool moved = false;
  for (auto& c : cursors) {
    if (stopping()) break;
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
    uint64_t id = c.pending->id();
    if (!c.to) {
      std::lock_guard lock(mutex_);
      ++stats_.dropped;
    } else {
      if (Clock::now() < c.next_try) continue;
      if (c.failures > 0) {
        std::lock_guard lock(mutex_);
        ++stats_.retried;
      }
      std::string why = post(*c.to, ipc::eventPayloadJson({*c.pending}, c.sub.context).dump());
      if (why.empty()) {
        std::lock_guard lock(mutex_);
        ++stats_.delivered;
      } else if (stopping()) {
        break;  // cut short by stop(): neither a failure nor a drop
      } else if (++c.failures <= options_.retry_attempts) {
        LOG_DEBUG << "event delivery: subscription " << c.sub.id << " event " << id << " to "
                  << c.sub.destination << " failed (" << why << "), retry " << c.failures;
        c.next_try = Clock::now() + options_.retry_interval;
        continue;
      } else {
        LOG_WARNING << "event delivery: subscription " << c.sub.id << " to " << c.sub.destination
                    << ": event " << id << " dropped after " << c.failures << " attempts: " << why;
        std::lock_guard lock(mutex_);
        ++stats_.dropped;
      }
    }
    c.after = id;
    c.pending.reset();
    moved = true;
  }
  return moved;
}

std::string EventDelivery::post(const HttpDestination& to, const std::string& body) {
  asio::io_context io;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return "stopped";
    attempt_io_ = &io;
  }
  std::string request =
      "POST " + to.path + " HTTP/1.1\r\nHost: " + to.host +
      (to.port == 80 ? "" : ":" + std::to_string(to.port)) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  std::string response;
  std::optional<std::string> result;
  asio::ip::tcp::socket socket(io);
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address_v4(to.address), to.port);
  // Each step starts the next; run_for() below bounds the whole chain by the timeout.
  socket.async_connect(endpoint, [&](const asio::error_code& ec) {
    if (ec) {
      result = "connect: " + ec.message();
      return;
    }
    std::array<asio::const_buffer, 2> out{asio::buffer(request), asio::buffer(body)};
    asio::async_write(socket, out, [&](const asio::error_code& ec, size_t) {
      if (ec) {
        result = "send: " + ec.message();
        return;
      }
      asio::async_read_until(socket, asio::dynamic_buffer(response, kMaxStatusLine), "\r\n",
                             [&](const asio::error_code& ec, size_t n) {
                               result = ec ? "no response: " + ec.message()
                                           : statusVerdict(response.substr(0, n));
                             });
    });
  });
  io.run_for(options_.timeout);
  {
    std::lock_guard lock(mutex_);
    attempt_io_ = nullptr;
    if (!result && stopping_) return "stopped";
  }
  // Handlers still queued are destroyed with `io`, never run; the socket closes first.
  if (!result) return "no answer within " + std::to_string(options_.timeout.count()) + " ms";
  return *result;
}

}  // namespace dualsp::sp
