#pragma once
// Push delivery of array events to the Redfish EventService subscriptions
// (docs/EVENTS.md "Push delivery"): the active SP POSTs each new event a subscription wants
// to its destination, in id order, with bounded retries. One worker thread runs every
// subscription's POST at once (asio), each bounded by the per-attempt timeout, so a slow or
// silent destination delays only its own events; stop() interrupts them all.

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

#include "ipc/event_destination.hpp"
#include "proto/config.pb.h"

namespace asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace asio

namespace dualsp::sp {

struct Subscription {
  std::string id;           // "7" (record key "subscriptions/7")
  std::string destination;  // "http://198.18.0.100:8080/events"
  std::string context;
  // Empty = all; "ResourceEvent" matches "ResourceEvent.1.4.3.X".
  std::vector<std::string> registry_prefixes;
  std::vector<std::string> message_ids;  // empty = all; "ResourceChanged" or full id
  uint64_t created_after = 0;            // the newest event id when it was created (0: unknown)
  // https:// only: the destination's certificate must chain to a trusted certificate
  // (DeliveryOptions::trusted_certificates) and name its address. Redfish's default: false.
  bool verify_certificate = false;
};

// Parses the stored JSON value of a subscription record (Destination, Context,
// RegistryPrefixes, MessageIds); nullopt + error on bad JSON.
std::optional<Subscription> parseSubscription(const std::string& id, const std::string& json,
                                              std::string& error);
bool subscriptionWants(const Subscription& s, const proto::Event& e);

struct DeliveryOptions {
  int retry_attempts = 3;  // after the first try
  std::chrono::milliseconds retry_interval{2000};
  std::chrono::milliseconds timeout{2000};  // connect + send + response, per attempt
  std::chrono::milliseconds poll{200};
  // Where no event is ever sent (ipc/event_destination.hpp), checked again before delivery:
  // spweb checks when a subscription is created, but a record may come from elsewhere (an
  // older firmware's store, the peer).
  ipc::DestinationPolicy destinations;
  // The certificates (PEM file) that https destinations with VerifyCertificate are checked
  // against; empty: the system's trust store (OpenSSL's default paths, /etc/ssl/certs).
  std::string trusted_certificates;
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
  struct Attempt;
  struct Cursor;  // one subscription's place in the log

  void work();
  // One pass over the cursors: settles finished POSTs, starts the due ones on `io`; true
  // when some cursor moved (look again at once).
  bool deliverDue(asio::io_context& io, std::vector<Cursor>& cursors);
  void syncCursors(std::vector<Cursor>& cursors);
  // The outcome of the cursor's finished POST: delivered, a retry later, or dropped.
  bool settle(Cursor& c);
  // Starts one POST on `io`, bounded by options_.timeout; its result is set when it ends.
  std::shared_ptr<Attempt> launch(asio::io_context& io, const ipc::HttpDestination& to,
                                  std::string body, bool verify);
  // Sends the request on `stream` (the socket, or the TLS stream over it) and reads the
  // status line; the attempt's timer bounds it all.
  template <typename Stream>
  static void exchange(const std::shared_ptr<Attempt>& a, Stream& stream);
#if defined(DUALSP_EVENT_TLS)
  // The TLS client's context, made on first use (the worker's thread); null when it cannot
  // be set up (logged), and then https attempts fail.
  asio::ssl::context* tlsContext();
  std::unique_ptr<asio::ssl::context> tls_context_;
#endif
  bool stopping() const;
  // Ends the POSTs under way of cursors about to go.
  static void abandon(std::vector<Cursor>& cursors);

  Source source_;
  DeliveryOptions options_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  asio::io_context* io_ = nullptr;  // the worker's, so stop() can cut its waits short
  Stats stats_;
};

}  // namespace dualsp::sp
