// Push delivery to EventService subscriptions: order, bodies, filters, retries, drops,
// the active role, stop(). Real HTTP over 127.0.0.1 to a small receiver in the test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "sp/event_delivery.hpp"

#if defined(DUALSP_EVENT_TLS)
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "platform/tls_certificate.hpp"
#endif

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// Polls `done` until it holds or `limit` passes.
bool eventually(const std::function<bool()>& done, milliseconds limit = milliseconds(5000)) {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t);
}

int listeningSocket(uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0)
    FAIL("cannot listen on 127.0.0.1");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

// A subscriber's HTTP endpoint: records every request, answers 500 to the first
// `fail_first` ones and 204 after.
class Receiver {
 public:
  struct Request {
    std::string head;  // request line and headers
    std::string body;
    int status = 0;
  };

  explicit Receiver(int fail_first = 0) : fail_first_(fail_first) {
    fd_ = listeningSocket(port_);
    thread_ = std::thread([this] { serve(); });
  }
#if defined(DUALSP_EVENT_TLS)
  // An https:// receiver serving `certificate_and_key` (PEM), with TLS versions up to
  // `max_version`.
  Receiver(const platform::CertificateAndKey& pem, int max_version = 0) : fail_first_(0) {
    tls_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_security_level(tls_, 0);  // lets the TLS 1.1 receiver offer what it can
    SSL_CTX_set_min_proto_version(tls_, TLS1_VERSION);
    if (max_version) SSL_CTX_set_max_proto_version(tls_, max_version);
    BIO* cert = BIO_new_mem_buf(pem.certificate.data(), static_cast<int>(pem.certificate.size()));
    BIO* key = BIO_new_mem_buf(pem.key.data(), static_cast<int>(pem.key.size()));
    X509* x = PEM_read_bio_X509(cert, nullptr, nullptr, nullptr);
    EVP_PKEY* k = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
    if (!x || !k || SSL_CTX_use_certificate(tls_, x) != 1 || SSL_CTX_use_PrivateKey(tls_, k) != 1)
      FAIL("the receiver's certificate does not load");
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cert);
    BIO_free(key);
    fd_ = listeningSocket(port_);
    thread_ = std::thread([this] { serve(); });
  }
#endif
  ~Receiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
#if defined(DUALSP_EVENT_TLS)
    if (tls_) SSL_CTX_free(tls_);
#endif
  }
  std::string url(const std::string& path = "/events") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Connections that ended before a request was read (a refused TLS handshake among them).
  int failedConnections() const {
    return failed_;
  }
  // The TLS version of the last request ("TLSv1.3"), empty over plain HTTP.
  std::string lastVersion() const {
    std::lock_guard lock(mutex_);
    return version_;
  }
  uint16_t port() const {
    return port_;
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t count() const {
    return requests().size();
  }
  // The bodies of the requests answered 2xx at `path`.
  std::vector<nlohmann::json> delivered(const std::string& path = "/events") const {
    std::vector<nlohmann::json> out;
    for (const auto& r : requests())
      if (r.status == 204 && r.head.rfind("POST " + path + " ", 0) == 0)
        out.push_back(nlohmann::json::parse(r.body));
    return out;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 5) <= 0) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
#if defined(DUALSP_EVENT_TLS)
      if (tls_) {
        answerTls(c);
        close(c);
        continue;
      }
#endif
      answer(c);
      close(c);
    }
  }
#if defined(DUALSP_EVENT_TLS)
  // Blocking, each read bounded by the socket's receive timeout.
  void answerTls(int c) {
    timeval limit{2, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    SSL* ssl = SSL_new(tls_);
    SSL_set_fd(ssl, c);
    std::string in;
    size_t head_end = std::string::npos, length = 0;
    if (SSL_accept(ssl) == 1) {
      while (head_end == std::string::npos || in.size() < head_end + 4 + length) {
        char buf[4096];
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        if (head_end == std::string::npos &&
            (head_end = in.find("\r\n\r\n")) != std::string::npos) {
          auto at = in.find("Content-Length: ");
          if (at != std::string::npos && at < head_end) length = std::stoul(in.substr(at + 16));
        }
      }
    }
    if (head_end == std::string::npos || in.size() < head_end + 4 + length) {
      ++failed_;
    } else {
      std::lock_guard lock(mutex_);
      requests_.push_back({in.substr(0, head_end), in.substr(head_end + 4, length), 204});
      version_ = SSL_get_version(ssl);
      const std::string out = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
      SSL_write(ssl, out.data(), static_cast<int>(out.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ERR_clear_error();
  }
#endif
  void answer(int c) {
    std::string in;
    size_t head_end = std::string::npos;
    size_t length = 0;
    auto deadline = Clock::now() + milliseconds(2000);
    while (Clock::now() < deadline) {
      if (head_end != std::string::npos && in.size() >= head_end + 4 + length) break;
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 10) <= 0) continue;
      char buf[4096];
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
        auto at = in.find("Content-Length: ");
        if (at != std::string::npos && at < head_end) length = std::stoul(in.substr(at + 16));
      }
    }
    if (head_end == std::string::npos) return;
    Request r{in.substr(0, head_end), in.substr(head_end + 4, length), 204};
    {
      std::lock_guard lock(mutex_);
      if (fail_first_ > 0) {
        --fail_first_;
        r.status = 500;
      }
      requests_.push_back(r);
    }
    std::string out = r.status == 204 ? "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
                                      : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
                                        "0\r\nConnection: close\r\n\r\n";
    (void)!write(c, out.data(), out.size());
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  int fail_first_;
  std::vector<Request> requests_;
  std::atomic<int> failed_{0};
  std::string version_;
#if defined(DUALSP_EVENT_TLS)
  SSL_CTX* tls_ = nullptr;
#else
  void* tls_ = nullptr;
#endif
};

// The event log, the subscriptions and the role, as spd would hand them to the delivery.
struct FakeArray {
  mutable std::mutex mutex;
  std::vector<Subscription> subs;
  std::vector<proto::Event> events;
  std::atomic<bool> active{true};
  std::atomic<int> active_calls{0}, subscription_calls{0}, last_id_calls{0}, events_calls{0};

  EventDelivery::Source source() {
    return {[this] {
              ++subscription_calls;
              std::lock_guard lock(mutex);
              return subs;
            },
            [this](uint64_t after, size_t max) {
              ++events_calls;
              std::lock_guard lock(mutex);
              std::vector<proto::Event> out;
              for (const auto& e : events)
                if (e.id() > after && out.size() < max) out.push_back(e);
              return out;
            },
            [this] {
              ++last_id_calls;
              std::lock_guard lock(mutex);
              return events.empty() ? uint64_t{0} : events.back().id();
            },
            [this] {
              ++active_calls;
              return active.load();
            }};
  }
  uint64_t addEvent(const std::string& message_id = "ResourceEvent.1.4.3.ResourceChanged",
                    const std::string& message = "The resource changed.") {
    std::lock_guard lock(mutex);
    proto::Event e;
    e.set_id(events.size() + 1);
    e.set_time_ms(1'795'000'000'000);
    e.set_message_id(message_id);
    e.set_message(message);
    e.set_severity("OK");
    e.set_origin("/redfish/v1/Chassis/Enclosure");
    events.push_back(e);
    return e.id();
  }
  void subscribe(const std::string& id, const std::string& destination,
                 std::vector<std::string> prefixes = {}, std::vector<std::string> ids = {}) {
    std::lock_guard lock(mutex);
    subs.push_back({id, destination, "ctx-" + id, std::move(prefixes), std::move(ids)});
  }
  void subscribeVerified(const std::string& id, const std::string& destination) {
    std::lock_guard lock(mutex);
    Subscription s{id, destination, "ctx-" + id, {}, {}};
    s.verify_certificate = true;
    subs.push_back(s);
  }
  void unsubscribe(const std::string& id) {
    std::lock_guard lock(mutex);
    std::erase_if(subs, [&](const Subscription& s) { return s.id == id; });
  }
  // Waits for the worker to go round its loop `n` more times.
  bool passes(int n) {
    int target = active_calls + n;
    return eventually([&] { return active_calls >= target; });
  }
};

DeliveryOptions quick() {
  DeliveryOptions o;
  o.destinations.refused = {};  // the receivers listen on loopback
  o.retry_attempts = 2;
  o.retry_interval = milliseconds(20);
  o.timeout = milliseconds(1000);
  o.poll = milliseconds(10);
  return o;
}

std::string eventIdOf(const nlohmann::json& body) {
  return body["Events"][0]["EventId"].get<std::string>();
}

std::vector<std::string> eventIds(const std::vector<nlohmann::json>& bodies) {
  std::vector<std::string> ids;
  for (const auto& b : bodies) ids.push_back(eventIdOf(b));
  return ids;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

proto::Event eventWithId(const std::string& message_id) {
  proto::Event e;
  e.set_message_id(message_id);
  return e;
}

}  // namespace

TEST_GROUP(SubscriptionRecords){};

TEST(SubscriptionRecords, ParsesTheStoredJson) {
  std::string error;
  auto s = parseSubscription(
      "7",
      R"({"Destination":"http://198.18.0.100:8080/events","Context":"mine",)"
      R"("RegistryPrefixes":["ResourceEvent"],"MessageIds":["ResourceChanged"],"Protocol":"Redfish"})",
      error);
  CHECK_TRUE(s.has_value());
  STRCMP_EQUAL("7", s->id.c_str());
  STRCMP_EQUAL("http://198.18.0.100:8080/events", s->destination.c_str());
  STRCMP_EQUAL("mine", s->context.c_str());
  CHECK_EQUAL(1u, s->registry_prefixes.size());
  STRCMP_EQUAL("ResourceChanged", s->message_ids.at(0).c_str());

  auto minimal = parseSubscription("8", R"({"Destination":"http://127.0.0.1/"})", error);
  CHECK_TRUE(minimal.has_value());
  CHECK_TRUE(minimal->context.empty());
  CHECK_TRUE(minimal->registry_prefixes.empty() && minimal->message_ids.empty());
  CHECK_FALSE(minimal->verify_certificate);  // Redfish: false unless asked for
  auto verified = parseSubscription(
      "9", R"({"Destination":"https://198.18.0.100/","VerifyCertificate":true})", error);
  CHECK_TRUE(verified.has_value());
  CHECK_TRUE(verified->verify_certificate);
}

TEST(SubscriptionRecords, BadRecordsAreRefusedWithAReason) {
  const char* bad[] = {
      "not json",
      "[1,2]",
      "{}",
      R"({"Destination":5})",
      R"({"Destination":""})",
      R"({"Destination":"http://127.0.0.1/","Context":3})",
      R"({"Destination":"http://127.0.0.1/","RegistryPrefixes":"ResourceEvent"})",
      R"({"Destination":"http://127.0.0.1/","MessageIds":[1]})",
      R"({"Destination":"http://127.0.0.1/","VerifyCertificate":"yes"})",
  };
  for (const char* json : bad) {
    std::string error;
    CHECK_FALSE_TEXT(parseSubscription("3", json, error).has_value(), json);
    CHECK_TEXT(error.find("subscription 3") != std::string::npos, json);
  }
}

TEST(SubscriptionRecords, FiltersByRegistryAndMessageId) {
  Subscription all{"1", "", "", {}, {}};
  Subscription resource{"2", "", "", {"ResourceEvent"}, {}};
  Subscription changed{"3", "", "", {}, {"ResourceChanged"}};
  Subscription full{"4", "", "", {}, {"TaskEvent.1.0.3.TaskStarted"}};
  Subscription keyed{"5", "", "", {"TaskEvent"}, {"TaskEvent.TaskCompletedOK"}};
  auto changed_event = eventWithId("ResourceEvent.1.4.3.ResourceChanged");
  auto created_event = eventWithId("ResourceEvent.1.4.3.ResourceCreated");
  auto started_event = eventWithId("TaskEvent.1.0.3.TaskStarted");
  auto done_event = eventWithId("TaskEvent.1.0.3.TaskCompletedOK");
  CHECK_TRUE(subscriptionWants(all, changed_event));
  CHECK_TRUE(subscriptionWants(resource, created_event));
  CHECK_FALSE(subscriptionWants(resource, started_event));
  CHECK_TRUE(subscriptionWants(changed, changed_event));
  CHECK_FALSE(subscriptionWants(changed, created_event));
  CHECK_TRUE(subscriptionWants(full, started_event));
  CHECK_FALSE(subscriptionWants(full, done_event));
  CHECK_TRUE(subscriptionWants(keyed, done_event));
  CHECK_FALSE(subscriptionWants(keyed, started_event));
  // A prefix names a whole registry, not the start of its name.
  Subscription partial{"6", "", "", {"Resource"}, {}};
  CHECK_FALSE(subscriptionWants(partial, changed_event));
}

TEST(SubscriptionRecords, DestinationsSpdCanReach) {
  std::string error;
  auto d = ipc::parseHttpDestination("http://198.18.0.100:8080/events?x=1", error);
  CHECK_TRUE(d.has_value());
  STRCMP_EQUAL("198.18.0.100", ipc::ipv4Text(d->address).c_str());
  CHECK_EQUAL(8080, d->port);
  STRCMP_EQUAL("/events?x=1", d->path.c_str());
  auto plain = ipc::parseHttpDestination("HTTP://198.18.0.100", error);
  CHECK_TRUE(plain.has_value());
  STRCMP_EQUAL("198.18.0.100", plain->host.c_str());
  CHECK_EQUAL(80, plain->port);
  STRCMP_EQUAL("/", plain->path.c_str());

  CHECK_EQUAL(ipc::kHttpsDestinations,
              ipc::parseHttpDestination("https://198.18.0.100/events", error).has_value());
  const char* refused[] = {
      "ftp://198.18.0.100/",   "198.18.0.100/events",       "http://listener.example/events",
      "http://[::1]:80/",      "http://198.18.0.100:0/",    "http://198.18.0.100:99999/",
      "http://198.18.0.100:/", "http://user@198.18.0.100/", "http://localhost/"};
  for (const char* url : refused) CHECK_FALSE_TEXT(ipc::parseHttpDestination(url, error), url);
}

TEST_GROUP(PushDelivery) {
  FakeArray array;
  std::unique_ptr<EventDelivery> delivery;

  void teardown() override {
    delivery.reset();
  }
  // Starts the worker and waits until it has placed the subscriptions' cursors.
  void startDelivering(DeliveryOptions options = quick()) {
    delivery = std::make_unique<EventDelivery>(array.source(), options);
    delivery->start();
    CHECK_TRUE(eventually([&] { return array.last_id_calls >= 1; }));
  }
};

TEST(PushDelivery, EachEventIsPostedInOrderWithItsBody) {
  Receiver receiver;
  array.subscribe("7", receiver.url());
  startDelivering();
  for (int i = 0; i < 3; ++i) array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().delivered == 3; }));
  auto bodies = receiver.delivered();
  STRCMP_EQUAL("1,2,3", joined(eventIds(bodies)).c_str());
  STRCMP_EQUAL("3", bodies[2]["Id"].get<std::string>().c_str());
  STRCMP_EQUAL("ctx-7", bodies[2]["Context"].get<std::string>().c_str());
  STRCMP_EQUAL("ResourceEvent.1.4.3.ResourceChanged",
               bodies[2]["Events"][0]["MessageId"].get<std::string>().c_str());
  CHECK_EQUAL(1u, bodies[2]["Events"].size());
  std::string head = receiver.requests()[0].head;
  CHECK_TEXT(head.rfind("POST /events HTTP/1.1\r\n", 0) == 0, head.c_str());
  std::string host = "Host: 127.0.0.1:" + std::to_string(receiver.port()) + "\r\n";
  CHECK_TEXT(head.find(host) != std::string::npos, head.c_str());
  CHECK_TEXT(head.find("Content-Type: application/json\r\n") != std::string::npos, head.c_str());
  auto stats = delivery->stats();
  CHECK_EQUAL(3u, stats.delivered);
  CHECK_EQUAL(0u, stats.retried);
  CHECK_EQUAL(0u, stats.dropped);
}

TEST(PushDelivery, EachSubscriptionGetsOnlyWhatItsFiltersWant) {
  Receiver receiver;
  array.subscribe("1", receiver.url("/tasks"), {"TaskEvent"});
  array.subscribe("2", receiver.url("/changes"), {}, {"ResourceChanged"});
  startDelivering();
  array.addEvent("ResourceEvent.1.4.3.ResourceChanged");  // 1: changes
  array.addEvent("TaskEvent.1.0.3.TaskStarted");          // 2: tasks
  array.addEvent("ResourceEvent.1.4.3.ResourceCreated");  // 3: neither
  array.addEvent("TaskEvent.1.0.3.TaskCompletedOK");      // 4: tasks
  array.addEvent("ResourceEvent.1.4.3.ResourceChanged");  // 5: changes
  array.addEvent("TaskEvent.1.0.3.TaskCompletedOK");      // 6: tasks
  CHECK_TRUE(eventually([&] {
    return receiver.delivered("/tasks").size() == 3 && receiver.delivered("/changes").size() == 2;
  }));
  STRCMP_EQUAL("2,4,6", joined(eventIds(receiver.delivered("/tasks"))).c_str());
  STRCMP_EQUAL("1,5", joined(eventIds(receiver.delivered("/changes"))).c_str());
  STRCMP_EQUAL("ctx-2", receiver.delivered("/changes")[0]["Context"].get<std::string>().c_str());
}

TEST(PushDelivery, AFailureIsRetriedUntilItGoesThrough) {
  Receiver receiver(2);
  array.subscribe("7", receiver.url());
  startDelivering();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().delivered == 1; }));
  auto requests = receiver.requests();
  CHECK_EQUAL(3u, requests.size());
  CHECK_EQUAL(500, requests[0].status);
  CHECK_EQUAL(204, requests[2].status);
  CHECK_TRUE(requests[0].body == requests[2].body);
  auto stats = delivery->stats();
  CHECK_EQUAL(2u, stats.retried);
  CHECK_EQUAL(0u, stats.dropped);
}

TEST(PushDelivery, AnEventIsDroppedAfterItsRetriesAndTheNextStillGoes) {
  Receiver receiver(3);  // the first try and both retries of event 1 fail
  array.subscribe("7", receiver.url());
  startDelivering();
  array.addEvent();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().delivered == 1; }));
  auto requests = receiver.requests();
  CHECK_EQUAL(4u, requests.size());
  for (int i = 0; i < 3; ++i)
    STRCMP_EQUAL("1", eventIdOf(nlohmann::json::parse(requests[i].body)).c_str());
  STRCMP_EQUAL("2", eventIdOf(receiver.delivered()[0]).c_str());
  auto stats = delivery->stats();
  CHECK_EQUAL(1u, stats.dropped);
  CHECK_EQUAL(2u, stats.retried);
}

TEST(PushDelivery, ARefusingDestinationIsDroppedInBoundedTime) {
  uint16_t port = 0;
  close(listeningSocket(port));  // nothing listens there any more: connect is refused
  array.subscribe("7", "http://127.0.0.1:" + std::to_string(port) + "/events");
  startDelivering();
  auto t0 = Clock::now();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().dropped == 1; }));
  CHECK(since(t0) < milliseconds(1000));  // 3 refused connects 20 ms apart
  CHECK_EQUAL(2u, delivery->stats().retried);
  CHECK_EQUAL(0u, delivery->stats().delivered);
}

TEST(PushDelivery, ADestinationThatNeverAnswersTimesOutEachAttempt) {
  uint16_t port = 0;
  int silent = listeningSocket(port);  // the kernel accepts; nobody reads or answers
  array.subscribe("7", "http://127.0.0.1:" + std::to_string(port) + "/events");
  DeliveryOptions options = quick();
  options.retry_attempts = 1;
  options.timeout = milliseconds(100);
  startDelivering(options);
  auto t0 = Clock::now();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().dropped == 1; }));
  CHECK(since(t0) >= milliseconds(200));  // two attempts, each cut at the timeout
  CHECK(since(t0) < milliseconds(2000));
  close(silent);
}

TEST(PushDelivery, NothingWhilePassiveAndNoHistoryOnBecomingActive) {
  Receiver receiver;
  array.subscribe("7", receiver.url());
  array.active = false;
  array.addEvent();  // 1
  delivery = std::make_unique<EventDelivery>(array.source(), quick());
  delivery->start();
  CHECK_TRUE(array.passes(3));
  array.addEvent();  // 2
  CHECK_TRUE(array.passes(3));
  CHECK_EQUAL(0, array.events_calls.load());
  CHECK_EQUAL(0u, receiver.count());

  array.active = true;
  CHECK_TRUE(eventually([&] { return array.last_id_calls >= 1; }));
  array.addEvent();  // 3: the first one after activation
  CHECK_TRUE(eventually([&] { return receiver.count() == 1; }));

  // Passive again, then active: what happened meanwhile is the new history.
  array.active = false;
  CHECK_TRUE(array.passes(2));
  array.addEvent();  // 4
  array.active = true;
  CHECK_TRUE(eventually([&] { return array.last_id_calls >= 2; }));
  array.addEvent();  // 5
  CHECK_TRUE(eventually([&] { return receiver.count() == 2; }));
  STRCMP_EQUAL("3,5", joined(eventIds(receiver.delivered())).c_str());
}

TEST(PushDelivery, SubscriptionsStartAtTheLastEventWhenTheyAppear) {
  Receiver receiver;
  array.subscribe("1", receiver.url("/one"));
  array.addEvent();
  array.addEvent();
  startDelivering();
  array.addEvent();  // 3
  CHECK_TRUE(eventually([&] { return receiver.count() == 1; }));
  array.subscribe("2", receiver.url("/two"));
  CHECK_TRUE(eventually([&] { return array.last_id_calls >= 2; }));
  array.addEvent();  // 4
  CHECK_TRUE(eventually([&] { return receiver.count() == 3; }));
  STRCMP_EQUAL("3,4", joined(eventIds(receiver.delivered("/one"))).c_str());
  STRCMP_EQUAL("4", joined(eventIds(receiver.delivered("/two"))).c_str());
}

TEST(PushDelivery, ARemovedSubscriptionStops) {
  Receiver receiver(1'000'000);
  array.subscribe("7", receiver.url());
  DeliveryOptions options = quick();
  options.retry_attempts = 1'000'000;
  startDelivering(options);
  array.addEvent();
  CHECK_TRUE(eventually([&] { return receiver.count() >= 2; }));
  array.unsubscribe("7");
  // Two more looks at the subscriptions: the second came after the removal was seen.
  int seen = array.subscription_calls;
  CHECK_TRUE(eventually([&] { return array.subscription_calls >= seen + 2; }));
  size_t tries = receiver.count();
  CHECK_TRUE(array.passes(5));
  CHECK_EQUAL(tries, receiver.count());
  CHECK_EQUAL(0u, delivery->stats().dropped);
}

#if !defined(DUALSP_EVENT_TLS)
TEST(PushDelivery, HttpsDestinationsAreSkippedAsDropped) {
  Receiver receiver;
  array.subscribe("1", "https://127.0.0.1:" + std::to_string(receiver.port()) + "/events");
  array.subscribe("2", receiver.url("/plain"));
  startDelivering();
  array.addEvent();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().dropped == 2; }));
  CHECK_TRUE(eventually([&] { return receiver.delivered("/plain").size() == 2; }));
  CHECK_TRUE(receiver.delivered("/events").empty());
  CHECK_EQUAL(2u, receiver.count());
}
#else
namespace {

platform::CertificateAndKey receiverCertificate(const std::string& ip,
                                                const std::string& name = "event-listener") {
  std::string error;
  auto made = platform::makeSelfSigned({name, {ip}, 30}, error);
  if (!made) FAIL(error.c_str());
  return *made;
}

// A PEM file of trusted certificates, removed with the test.
struct TrustFile {
  explicit TrustFile(const std::string& pem) {
    char name[] = "/tmp/dualsp-trust-XXXXXX";
    int fd = mkstemp(name);
    (void)!write(fd, pem.data(), pem.size());
    close(fd);
    path = name;
  }
  ~TrustFile() { unlink(path.c_str()); }
  std::string path;
};

}  // namespace

TEST(PushDelivery, HttpsDestinationsGetTheirEventsOverTls) {
  Receiver tls(receiverCertificate("127.0.0.1"));
  Receiver plain;
  array.subscribe("1", tls.url());  // VerifyCertificate false: Redfish's default
  array.subscribe("2", plain.url("/plain"));
  startDelivering();
  array.addEvent();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return tls.delivered().size() == 2; }));
  CHECK_TRUE(eventually([&] { return plain.delivered("/plain").size() == 2; }));
  std::vector<std::string> expected{"1", "2"};
  CHECK_TRUE(eventIds(tls.delivered()) == expected);
  // The Host header carries the port the URL names.
  CHECK_TRUE(tls.requests().at(0).head.find("Host: 127.0.0.1:" + std::to_string(tls.port())) !=
             std::string::npos);
  const std::string version = tls.lastVersion();
  CHECK_TEXT(version == "TLSv1.2" || version == "TLSv1.3", version.c_str());
  CHECK_EQUAL(0u, delivery->stats().dropped);
}

TEST(PushDelivery, AVerifiedDestinationNeedsATrustedCertificateThatNamesItsAddress) {
  platform::CertificateAndKey good = receiverCertificate("127.0.0.1", "good");
  platform::CertificateAndKey other_address = receiverCertificate("198.18.0.100", "elsewhere");
  platform::CertificateAndKey untrusted = receiverCertificate("127.0.0.1", "stranger");
  TrustFile trust(good.certificate + other_address.certificate);
  Receiver trusted(good), misnamed(other_address), stranger(untrusted);
  array.subscribeVerified("1", trusted.url());
  array.subscribeVerified("2", misnamed.url());
  array.subscribeVerified("3", stranger.url());
  array.subscribe("4", stranger.url("/unverified"));  // the same server, not verified
  DeliveryOptions options = quick();
  options.trusted_certificates = trust.path;
  startDelivering(options);
  array.addEvent();
  CHECK_TRUE(eventually([&] { return trusted.delivered().size() == 1; }));
  CHECK_TRUE(eventually([&] { return stranger.delivered("/unverified").size() == 1; }));
  // Each refused subscription: the first try and its retries, every one cut at the handshake.
  CHECK_TRUE(eventually([&] { return delivery->stats().dropped == 2; }));
  CHECK_TRUE(misnamed.requests().empty());
  CHECK_EQUAL(1u, stranger.requests().size());  // the unverified one only
  CHECK_EQUAL(3, misnamed.failedConnections());
  CHECK_EQUAL(3, stranger.failedConnections());
}

TEST(PushDelivery, ADestinationOfferingOnlyTls11IsNotSentTo) {
  Receiver old(receiverCertificate("127.0.0.1"), TLS1_1_VERSION);
  array.subscribe("1", old.url());
  startDelivering();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().dropped == 1; }));
  CHECK_TRUE(old.requests().empty());
  CHECK_EQUAL(3, old.failedConnections());
}

TEST(PushDelivery, AnHttpsUrlToAPlainHttpServerFailsAndIsDropped) {
  Receiver plain;
  array.subscribe("1", "https://127.0.0.1:" + std::to_string(plain.port()) + "/events");
  startDelivering();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().dropped == 1; }));
  CHECK_TRUE(plain.delivered("/events").empty());
}
#endif

TEST(PushDelivery, StopCutsARetryWaitShort) {
  Receiver receiver(1'000'000);
  array.subscribe("7", receiver.url());
  DeliveryOptions options = quick();
  options.retry_interval = milliseconds(30'000);
  startDelivering(options);
  array.addEvent();
  CHECK_TRUE(eventually([&] { return receiver.count() == 1; }));
  auto t0 = Clock::now();
  delivery->stop();
  CHECK(since(t0) < milliseconds(500));
  CHECK_EQUAL(1u, receiver.count());
}

TEST(PushDelivery, StopCutsAnAttemptShort) {
  uint16_t port = 0;
  int silent = listeningSocket(port);
  array.subscribe("7", "http://127.0.0.1:" + std::to_string(port) + "/events");
  DeliveryOptions options = quick();
  options.timeout = milliseconds(30'000);
  startDelivering(options);
  array.addEvent();
  // A connection waiting in the listen queue: the worker is inside the POST.
  CHECK_TRUE(eventually([&] {
    pollfd p{silent, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }));
  auto t0 = Clock::now();
  delivery->stop();
  CHECK(since(t0) < milliseconds(500));
  CHECK_EQUAL(0u, delivery->stats().dropped);
  close(silent);
}

// An event's text may quote a client's bytes: invalid UTF-8 is replaced (U+FFFD), the worker
// goes on, and the next event follows (a strict writer threw out of the thread: spd aborted).
TEST(PushDelivery, AnEventWithInvalidUtf8IsDeliveredWithReplacementCharacters) {
  Receiver receiver;
  array.subscribe("7", receiver.url());
  startDelivering();
  array.addEvent("ResourceEvent.1.4.3.ResourceErrorsDetected", "wrote 'caf\xc3' and '\xff\xfe'");
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().delivered == 2; }));
  auto bodies = receiver.delivered();
  STRCMP_EQUAL("1,2", joined(eventIds(bodies)).c_str());
  STRCMP_EQUAL("wrote 'caf\xef\xbf\xbd' and '\xef\xbf\xbd\xef\xbf\xbd'",
               bodies[0]["Events"][0]["Message"].get<std::string>().c_str());
}

// The rules of spweb again before anything is sent (ipc/event_destination.hpp): a refused
// address and a destination with CR/LF get nothing, not even a connection, and count as
// dropped; a request is never written with a second one smuggled in its request line.
TEST(PushDelivery, RefusedDestinationsAreNeverContacted) {
  Receiver receiver;
  const std::string base = "http://127.0.0.1:" + std::to_string(receiver.port());
  array.subscribe("1", base + "/events");
  array.subscribe("2", base + "/x HTTP/1.1\r\nHost: a\r\n\r\nDELETE /y");
  DeliveryOptions options = quick();
  options.destinations.refused = {*ipc::parseIpv4Network("127.0.0.1")};
  startDelivering(options);
  array.addEvent();
  CHECK_TRUE(eventually([&] { return delivery->stats().dropped == 2; }));
  CHECK_TRUE(array.passes(3));
  CHECK_EQUAL(0u, receiver.count());
  CHECK_EQUAL(0u, delivery->stats().delivered);
}

// One subscriber that accepts and never answers must not hold up the others: the second
// gets its event while the first's attempt is still waiting for its timeout.
TEST(PushDelivery, ASilentDestinationDoesNotDelayTheOthers) {
  uint16_t port = 0;
  int silent = listeningSocket(port);  // the kernel accepts; nobody reads or answers
  Receiver receiver;
  array.subscribe("1", "http://127.0.0.1:" + std::to_string(port) + "/events");
  array.subscribe("2", receiver.url());
  DeliveryOptions options = quick();
  options.timeout = milliseconds(3000);
  startDelivering(options);
  auto t0 = Clock::now();
  array.addEvent();
  CHECK_TRUE(eventually([&] { return receiver.delivered().size() == 1; }, milliseconds(2000)));
  CHECK(since(t0) < milliseconds(1000));
  array.addEvent();
  CHECK_TRUE(eventually([&] { return receiver.delivered().size() == 2; }, milliseconds(2000)));
  CHECK(since(t0) < milliseconds(1500));  // still within the silent one's first attempt
  delivery.reset();
  close(silent);
}
