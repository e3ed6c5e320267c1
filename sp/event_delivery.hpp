#pragma once
// Push delivery of array events to the Redfish EventService subscriptions
// (docs/EVENTS.md "Push delivery"): the active SP POSTs each new event a subscription wants
// to its destination, in id order, with bounded retries. One worker thread; every network
// wait is bounded by the per-attempt timeout and interrupted by stop().

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proto/config.pb.h"

namespace asio {
class io_context;
}

namespace dualsp::sp {

struct Subscription {
  std::string id;           // "7" (record key "subscriptions/7")
  std::string destination;  // "http://198.18.0.100:8080/events"
  std::string context;
  // Empty = all; "ResourceEvent" matches "ResourceEvent.1.4.3.X".
  std::vector<std::string> registry_prefixes;
  std::vector<std::string> message_ids;  // empty = all; "ResourceChanged" or full id
  uint64_t created_after = 0;            // the newest event id when it was created (0: unknown)
};

// Parses the stored JSON value of a subscription record (Destination, Context,
// RegistryPrefixes, MessageIds); nullopt + error on bad JSON.
std::optional<Subscription> parseSubscription(const std::string& id, const std::string& json,
                                              std::string& error);
bool subscriptionWants(const Subscription& s, const proto::Event& e);

// Where a destination URL points, for the HTTP client: "http://host[:port][/path]" with an
// IPv4 literal or "localhost" as host. Anything else (https, names to resolve) is refused
// with a reason, since spd neither speaks TLS nor waits on DNS.
struct HttpDestination {
  std::string host;     // as written in the URL, for the Host header
  std::string address;  // IPv4 literal to connect to
  uint16_t port = 80;
  std::string path = "/";
};
std::optional<HttpDestination> parseHttpDestination(const std::string& url, std::string& error);

struct DeliveryOptions {
  int retry_attempts = 3;  // after the first try
  std::chrono::milliseconds retry_interval{2000};
  std::chrono::milliseconds timeout{2000};  // connect + send + response, per attempt
  std::chrono::milliseconds poll{200};
};

class EventDelivery {
 public:
  struct Source {
    std::function<std::vector<Subscription>()> subscriptions;
    std::function<std::vector<proto::Event>(uint64_t after, size_t max)>
        events_after;  // id > after, oldest first
    // Where delivery starts: the newest event id when this SP became active.
    std::function<uint64_t()> last_event_id;
    std::function<bool()> active;  // deliver only while this SP is the active one
  };
  EventDelivery(Source source, DeliveryOptions options = {});
  ~EventDelivery();  // stops
  EventDelivery(const EventDelivery&) = delete;
  EventDelivery& operator=(const EventDelivery&) = delete;

  void start();
  void stop();  // returns within ~timeout; no thread left behind

  struct Stats {
    uint64_t delivered = 0, retried = 0, dropped = 0;
  };
  Stats stats() const;

 private:
  struct Cursor;
  void work();
  // One pass over the cursors; true when some cursor moved (look again at once).
  bool deliverDue(std::vector<Cursor>& cursors);
  void syncCursors(std::vector<Cursor>& cursors);
  // One POST; empty = delivered, else why not.
  std::string post(const HttpDestination& to, const std::string& body);
  bool stopping() const;

  Source source_;
  DeliveryOptions options_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  asio::io_context* attempt_io_ = nullptr;  // the POST under way, so stop() can cut it short
  Stats stats_;
};

}  // namespace dualsp::sp
