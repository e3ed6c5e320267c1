// Two configuration services wired together in one process through a peer link that can be
// cut: replication before acknowledgement, forwarding from the passive SP, catch-up after a
// cut, the merge of two diverged histories (deterministic, conflicts reported) and failover.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <thread>

#include "CppUTest/TestHarness.h"
#include "sp/config_service.hpp"
#include "sp/peer_commands.hpp"

using namespace dualsp;
using namespace dualsp::sp;

namespace {

// The peer link as the service sees it: commands arrive on the other SP as spd's peer link
// delivers them (dispatchFromPeer: its peer-only registry, else its router).
class LoopTransport : public PeerTransport {
 public:
  std::function<void(const proto::Command&, Reply)> deliver;
  std::atomic<bool> connected{true};
  // The link is up but the request ends with this (Timeout); None: it does not.
  ipc::PeerError fail_with = ipc::PeerError::None;
  // The request reaches the peer and runs there, but its answer is lost (Timeout).
  std::atomic<bool> lose_answers{false};
  // Runs after the peer handled a request whose answer is lost (lose_answers).
  std::function<void()> before_losing;
  // A request this returns true for fails as on a dropped link (NotConnected).
  std::function<bool(const proto::Command&)> drop;
  // A peer-link frame holds at most this (ipc/frame_codec.hpp): bigger is TooLarge.
  static constexpr size_t kMaxFrame = 1 << 20;
  std::atomic<size_t> largest{0};
  void send(const proto::Command& command, std::chrono::milliseconds,
            std::function<void(Answer)> done) override {
    if (!connected || !deliver) return done(Answer{std::nullopt, ipc::PeerError::NotConnected});
    if (fail_with != ipc::PeerError::None) return done(Answer{std::nullopt, fail_with});
    if (drop && drop(command)) return done(Answer{std::nullopt, ipc::PeerError::NotConnected});
    if (command.ByteSizeLong() > kMaxFrame)
      return done(Answer{std::nullopt, ipc::PeerError::TooLarge});
    largest = std::max(largest.load(), command.ByteSizeLong());
    if (lose_answers) {
      auto ran = std::make_shared<std::promise<void>>();
      auto f = ran->get_future();
      deliver(command, [ran](proto::CommandResult) { ran->set_value(); });
      f.wait_for(std::chrono::seconds{5});
      if (before_losing) before_losing();
      return done(Answer{std::nullopt, ipc::PeerError::Timeout});
    }
    deliver(command, [this, done](proto::CommandResult r) {
      if (r.ByteSizeLong() > kMaxFrame)
        return done(Answer{std::nullopt, ipc::PeerError::Timeout});  // never sent
      largest = std::max(largest.load(), r.ByteSizeLong());
      done(Answer{std::move(r)});
    });
  }
};

struct Sp {
  SpId id;
  std::atomic<Role> role{Role::Passive};
  std::atomic<bool> peer_alive{true};      // the election hears the peer
  std::atomic<bool> peer_reachable{true};  // a route of the peer link answers
  std::atomic<uint64_t> epoch{1};
  std::atomic<int> session{0};  // bumped when the peer restarts
  LoopTransport link;
  CommandRegistry registry;
  std::unique_ptr<PeerCommandRegistry> peer_registry;
  std::unique_ptr<CommandRouter> router;
  std::unique_ptr<ConfigService> service;
  std::string dir;
  std::vector<std::pair<std::string, Health>> faults;  // raised: id, severity
  std::vector<std::string> cleared;
  Sp* other = nullptr;                  // whose published history this SP reads (the midplane)
  std::atomic<bool> publishable{true};  // this SP's side of the midplane is not cut
  std::atomic<bool> readable{true};     // neither side is: the peer's history area reads
  mutable std::mutex history_mu;
  std::optional<History> published;

  Sp(SpId sp, const std::string& d) : id(sp), dir(d) {}
  std::optional<History> publishedHistory() const {
    std::lock_guard lock(history_mu);
    return published;
  }
  void open() {
    ConfigServiceDependencies deps;
    deps.self = id;
    deps.role = [this] { return role.load(); };
    deps.epoch = [this] { return epoch.load(); };
    deps.peer_alive = [this] { return peer_alive.load(); };
    deps.peer_reachable = [this] { return peer_reachable.load() && link.connected.load(); };
    deps.peer = &link;
    deps.forward = [this](proto::Command c, Reply reply) {
      router->dispatch(std::move(c), std::move(reply));
    };
    deps.peer_session = [this] { return std::to_string(session.load()); };
    deps.wall_ms = [] { return int64_t{1'800'000'000'000}; };
    deps.publish_history = [this](const History& h) {
      std::lock_guard lock(history_mu);
      published = h;
    };
    deps.history_publishable = [this] { return publishable.load(); };
    deps.peer_history_readable = [this] { return readable.load(); };
    deps.peer_history = [this]() -> std::optional<History> {
      return other && readable ? other->publishedHistory() : std::nullopt;
    };
    deps.fault = [this](const std::string& id, bool raised, const std::string&, const std::string&,
                        Health severity) {
      if (raised)
        faults.emplace_back(id, severity);
      else
        cleared.push_back(id);
    };
    ConfigServiceOptions options;
    options.resync_interval = std::chrono::milliseconds{0};
    options.replicate_timeout = std::chrono::milliseconds{200};
    options.change_wait = std::chrono::milliseconds{300};
    service = std::make_unique<ConfigService>(dir, deps, options);
    registry = CommandRegistry{};
    peer_registry = std::make_unique<PeerCommandRegistry>(registry);
    router = std::make_unique<CommandRouter>(id, registry, link, std::chrono::seconds{1});
    service->registerCommands(registry, *peer_registry);
    service->start();
  }
  void close() { service.reset(); }
  // A request that arrived on the peer link.
  void fromPeer(const proto::Command& command, Reply reply) {
    dispatchFromPeer(*peer_registry, *router, command, std::move(reply));
  }

  proto::CommandResult call(const std::string& name, const std::string& payload = "",
                            std::map<std::string, std::string> args = {}) {
    proto::Command c;
    c.set_name(name);
    c.set_payload(payload);
    for (auto& [k, v] : args) (*c.mutable_args())[k] = v;
    auto p = std::make_shared<std::promise<proto::CommandResult>>();
    auto f = p->get_future();
    Reply reply = [p](proto::CommandResult r) { p->set_value(std::move(r)); };
    if (const CommandSpec* spec = registry.find(name))
      spec->handler(c, reply);
    else
      (*peer_registry->find(name))(c, reply);
    if (f.wait_for(std::chrono::seconds{10}) != std::future_status::ready) FAIL("no answer");
    return f.get();
  }

  // One change of one key through the command path, answered as it is (no expectation).
  proto::CommandResult write(const std::string& key, const std::string& value,
                             const std::string& event_message = "") {
    proto::ConfigWrite w;
    auto* r = w.add_records();
    r->set_key(key);
    r->set_value(value);
    if (!event_message.empty()) w.mutable_event()->set_message(event_message);
    return call("ConfigWrite", w.SerializeAsString());
  }

  proto::ConfigWriteAnswer put(const std::string& key, const std::string& value,
                               proto::CommandResult::Status expect = proto::CommandResult::OK) {
    proto::ConfigWrite w;
    auto* r = w.add_records();
    r->set_key(key);
    r->set_value(value);
    auto* e = w.mutable_event();
    e->set_message_id("ResourceEvent.1.4.3.ResourceChanged");
    e->set_message(key + " = " + value);
    auto result = call("ConfigWrite", w.SerializeAsString());
    CHECK_EQUAL_TEXT(expect, result.status(), result.error().c_str());
    proto::ConfigWriteAnswer answer;
    answer.ParseFromString(result.payload());
    return answer;
  }

  std::map<std::string, std::string> config(const std::string& prefix = "") {
    proto::ConfigRecords records;
    records.ParseFromString(call("GetConfig", "", {{"prefix", prefix}}).payload());
    std::map<std::string, std::string> out;
    for (const auto& r : records.records()) out[r.key()] = r.value();
    return out;
  }

  std::vector<proto::Event> events(uint64_t after = 0) {
    proto::EventPage page;
    page.ParseFromString(
        call("GetEvents", "", {{"after", std::to_string(after)}, {"top", "1000"}}).payload());
    return {page.events().begin(), page.events().end()};
  }

  // The worker has run every job posted before this call.
  void settle() { call("ConfigSyncOffer"); }
  // A main-loop tick, and everything it posted done.
  void tickAndSettle() {
    service->tick();
    settle();
  }

  // This (active) SP has brought its passive peer up to date.
  bool syncPeer() {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    while (std::chrono::steady_clock::now() < end) {
      service->tick();
      if (service->stats().peer_in_sync) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    return false;
  }
};

bool hasEventContaining(Sp& sp, const std::string& text) {
  for (const auto& e : sp.events())
    if (e.message().find(text) != std::string::npos) return true;
  return false;
}

template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = std::chrono::seconds{5}) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return f();
}

}  // namespace

TEST_GROUP(ConfigService) {
  std::string tmp;
  std::unique_ptr<Sp> a, b;

  void setup() override {
    char tmpl[] = "/tmp/config-service-XXXXXX";
    tmp = mkdtemp(tmpl);
    a = std::make_unique<Sp>(SpId::A, tmp + "/a");
    b = std::make_unique<Sp>(SpId::B, tmp + "/b");
    a->link.deliver = [this](const proto::Command& c, Reply r) { b->fromPeer(c, std::move(r)); };
    b->link.deliver = [this](const proto::Command& c, Reply r) { a->fromPeer(c, std::move(r)); };
    a->other = b.get();
    b->other = a.get();
    a->role = Role::Active;
    b->role = Role::Passive;
    a->open();
    b->open();
    CHECK_TRUE(a->syncPeer());
  }
  void teardown() override {
    a.reset();
    b.reset();
    std::filesystem::remove_all(tmp);
  }
  // The peer link is cut; the heartbeats still hear the peer on another path.
  void cut() {
    a->link.connected = false;
    b->link.connected = false;
  }
  void heal() {
    a->link.connected = true;
    b->link.connected = true;
  }
  // The election declares the peer dead (every heartbeat path silent).
  void peersDead() {
    cut();
    a->peer_alive = false;
    b->peer_alive = false;
  }
  void peersAlive() {
    heal();
    a->peer_alive = true;
    b->peer_alive = true;
  }
};

TEST(ConfigService, AChangeIsAcknowledgedOnlyWithThePassivesCopy) {
  auto answer = a->put("chassis/AssetTag", "\"rack-7\"");
  CHECK_TRUE(answer.replicated());
  // The passive wrote it before the answer: no waiting here.
  STRCMP_EQUAL("\"rack-7\"", b->service->get("chassis/AssetTag")->value().c_str());
  CHECK_TRUE(a->service->stats().last == b->service->stats().last);
}

TEST(ConfigService, APassiveSpForwardsWritesToTheActiveOne) {
  a->put("chassis/AssetTag", "\"first\"");
  auto answer = b->put("chassis/AssetTag", "\"from-b\"");
  CHECK_EQUAL(proto::SP_A, answer.written_by());
  CHECK_TRUE(answer.replicated());
  STRCMP_EQUAL("\"from-b\"", a->service->get("chassis/AssetTag")->value().c_str());
  STRCMP_EQUAL("\"from-b\"", b->service->get("chassis/AssetTag")->value().c_str());
}

TEST(ConfigService, WhileThePassiveIsHeardButUnreachableAChangeIsRefusedAndAppliedNowhere) {
  a->put("k", "\"before\"");
  cut();  // the peer link is down, the heartbeats still hear SP-B
  auto started = std::chrono::steady_clock::now();
  auto result = a->write("k", "\"refused\"");
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, result.status());
  CHECK_TRUE(result.error().find("not applied anywhere") != std::string::npos);
  CHECK_TRUE(waited >= std::chrono::milliseconds{300});  // it waited for the link first
  STRCMP_EQUAL("\"before\"", a->service->get("k")->value().c_str());
  STRCMP_EQUAL("\"before\"", b->service->get("k")->value().c_str());
  CHECK_EQUAL(1u, a->service->stats().refused);
}

TEST(ConfigService, AChangeWaitsForAPeerLinkThatComesBackWithinTheWait) {
  cut();
  auto answer = std::async(std::launch::async, [&] { return a->put("k", "\"waited\""); });
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  heal();
  CHECK_TRUE(answer.get().replicated());
  STRCMP_EQUAL("\"waited\"", b->service->get("k")->value().c_str());
}

TEST(ConfigService, AChangeWaitingForThePeerLinkIsRefusedWhenTheServiceStops) {
  a->put("k", "\"before\"");
  cut();
  auto answer =
      std::async(std::launch::async, [&] { return a->write("k", "\"during shutdown\""); });
  std::this_thread::sleep_for(std::chrono::milliseconds{20});  // it is waiting for the link
  a->service->stop();  // spd shuts down or restarts: the wait ends now, not at change_wait
  auto result = answer.get();
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, result.status());
  CHECK_TRUE(result.error().find("shutting down") != std::string::npos);
  CHECK_TRUE(result.error().find("not applied anywhere") != std::string::npos);
  STRCMP_EQUAL("\"before\"", a->service->get("k")->value().c_str());
  STRCMP_EQUAL("\"before\"", b->service->get("k")->value().c_str());
}

TEST(ConfigService, WithThePassiveDeclaredDeadChangesAreHeldByOneAndReachItOnReturn) {
  a->put("k/0", "0");
  peersDead();
  for (int i = 1; i <= 20; ++i)
    CHECK_FALSE(a->put("k/" + std::to_string(i), std::to_string(i)).replicated());
  CHECK_FALSE(b->service->get("k/20"));
  // How far SP-A's history reaches is published before each acknowledgement.
  CHECK_TRUE(a->publishedHistory().has_value());
  CHECK_EQUAL(a->service->stats().last.seq, a->publishedHistory()->seq);
  CHECK_TRUE(hasEventContaining(*a, "acknowledged by SP-A alone: SP-B was down"));
  peersAlive();
  CHECK_TRUE(a->syncPeer());
  for (int i = 0; i <= 20; ++i) CHECK_TRUE(b->service->get("k/" + std::to_string(i)).has_value());
  CHECK_TRUE(hasEventContaining(*a, "Resynchronised SP-B"));
  b->settle();
  CHECK_TRUE(a->service->stats().last == b->service->stats().last);
  // The next change goes to both again.
  CHECK_TRUE(a->put("k/21", "21").replicated());
}

TEST(ConfigService, ACopyLargerThanAPeerLinkFrameTravelsInParts) {
  // 3 MB of changes while SP-B is down (more than 500 behind: a full copy), then back.
  peersDead();
  const std::string big(2000, 'x');
  for (int i = 0; i < 1500; ++i) a->put("big/" + std::to_string(i), "\"" + big + "\"");
  peersAlive();
  CHECK_TRUE(a->syncPeer());
  b->settle();
  CHECK_TRUE(a->service->stats().last == b->service->stats().last);
  CHECK_TRUE(b->service->get("big/1499").has_value());
  CHECK_TRUE(a->link.largest < LoopTransport::kMaxFrame);
  // And SP-B's offer of its whole store, when its store needs the peer's copy, comes in pages
  // the same way (exercised through the offer of a store this size).
  proto::SyncOffer offer;
  offer.ParseFromString(b->call("ConfigSyncOffer", "all").payload());
  CHECK_TRUE(offer.more());
  CHECK_TRUE(offer.ByteSizeLong() < LoopTransport::kMaxFrame);
}

// Chaos seed 5: SP-B, its side of the midplane cut, acknowledged changes alone; it died and
// SP-A took over without knowing how far they reached, and reused their event ids.
TEST(ConfigService, NothingIsTakenAloneWhenTheHistoryCannotBeLeftOnTheMidplane) {
  a->put("k", "\"before\"");
  peersDead();
  a->publishable = false;
  auto result = a->write("k", "\"alone\"", "k = alone");
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, result.status());
  CHECK_TRUE(result.error().find("midplane") != std::string::npos);
  STRCMP_EQUAL("\"before\"", a->service->get("k")->value().c_str());
  a->publishable = true;  // the connector is back
  CHECK_FALSE(a->put("k", "\"alone\"").replicated());
}

// Chaos seed 5: SP-A took over from a dead SP-B with its own side of the midplane cut, so
// without knowing how far SP-B's alone-acknowledged history went, and reused its event ids.
TEST(ConfigService, ATakeoverThatCannotReadThePeersHistoryTakesNoChangeUntilItCan) {
  a->put("k", "\"shared\"");
  b->tickAndSettle();
  b->close();
  peersDead();
  a->put("only-a", "\"1\"");  // SP-A alone: its history is published
  a->close();
  b->role = Role::Passive;
  b->open();
  b->readable = false;  // SP-B cannot read the midplane
  b->epoch = 2;
  b->role = Role::Active;
  b->tickAndSettle();
  CHECK_EQUAL(1u, b->faults.size());
  STRCMP_EQUAL("config-unknown", b->faults[0].first.c_str());
  auto refused = b->write("k", "\"b\"");
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, refused.status());
  const uint64_t before = b->events().empty() ? 0 : b->events().back().id();
  // The connector is mended: SP-A's reach is read, its ids left free, changes taken again.
  b->readable = true;
  b->put("k", "\"b\"");
  CHECK_TRUE(b->events().back().id() > a->publishedHistory()->last_event_id);
  CHECK_TRUE(b->events().back().id() > before);
}

TEST(ConfigService, EventIdsAreConsecutiveAndTheSameOnBothSps) {
  a->put("x", "1");
  proto::ConfigWrite two;  // two records and one event
  for (const char* key : {"y", "z"}) {
    auto* r = two.add_records();
    r->set_key(key);
    r->set_value("2");
  }
  two.mutable_event()->set_message("y and z");
  CHECK_EQUAL(proto::CommandResult::OK, a->call("ConfigWrite", two.SerializeAsString()).status());
  a->put("x", "3");
  auto events = a->events();
  CHECK_EQUAL(4u, events.size());  // the first resync of the passive is an event too
  for (size_t i = 0; i < events.size(); ++i) CHECK_EQUAL(i + 1, events[i].id());
  auto after = a->events(events[1].id());
  CHECK_EQUAL(2u, after.size());
  CHECK_EQUAL(events[2].id(), after[0].id());
  // The passive shows the same events with the same ids once the active acknowledged them.
  b->tickAndSettle();
  auto on_b = b->events();
  CHECK_EQUAL(4u, on_b.size());
  for (size_t i = 0; i < on_b.size(); ++i) {
    CHECK_EQUAL(events[i].id(), on_b[i].id());
    STRCMP_EQUAL(events[i].message().c_str(), on_b[i].message().c_str());
  }
}

TEST(ConfigService, AnUnconfirmedChangeIsAnsweredAsUnknownAndItsEventIdIsNeverShownTwice) {
  a->put("k", "\"one\"");
  b->tickAndSettle();
  const uint64_t shown = b->events().back().id();
  // SP-B journals the change, but its answer is lost.
  a->link.lose_answers = true;
  auto lost = a->write("k", "\"unconfirmed\"", "k = unconfirmed");
  CHECK_EQUAL(proto::CommandResult::TIMEOUT, lost.status());
  CHECK_TRUE(lost.error().find("read it back") != std::string::npos);
  STRCMP_EQUAL("\"one\"", a->service->get("k")->value().c_str());  // not applied on SP-A
  STRCMP_EQUAL("\"unconfirmed\"", b->service->get("k")->value().c_str());
  // SP-B never shows its event: SP-A never acknowledged it.
  b->tickAndSettle();
  CHECK_EQUAL(shown, b->events().back().id());
  CHECK_EQUAL(1u, a->service->stats().in_doubt);
  // The next change resynchronises SP-B with a full copy first: the unconfirmed one is gone.
  a->link.lose_answers = false;
  a->put("k", "\"two\"");
  STRCMP_EQUAL("\"two\"", b->service->get("k")->value().c_str());
  b->tickAndSettle();
  auto on_a = a->events();
  auto on_b = b->events();
  CHECK_EQUAL(on_a.size(), on_b.size());
  for (size_t i = 0; i < on_a.size(); ++i) {
    CHECK_EQUAL(i + 1, on_a[i].id());
    STRCMP_EQUAL(on_a[i].message().c_str(), on_b[i].message().c_str());
    CHECK_TRUE(on_a[i].message().find("k = unconfirmed") == std::string::npos);
  }
}

// Chaos seed 53: SP-B journals a change of SP-A whose confirmation is lost; SP-A's next resync
// of SP-B merges (its own event stamped with that change's version and event id), but the
// copy never installs; SP-A dies and SP-B takes over with what it journaled. SP-A showed the
// resync's event under the id SP-B now shows the lost change under: one id, two events. A
// resync that could not install shows nothing stamped over what the peer holds.
TEST(ConfigService, AResyncThatDidNotInstallShowsNothingUnderIdsThePeerHolds) {
  a->put("k", "\"one\"");
  b->tickAndSettle();
  a->link.lose_answers = true;
  auto lost = a->write("k", "\"unconfirmed\"", "k = unconfirmed");
  CHECK_EQUAL(proto::CommandResult::TIMEOUT, lost.status());
  a->link.lose_answers = false;
  a->link.drop = [](const proto::Command& c) { return c.name() == "ConfigSyncInstall"; };
  a->tickAndSettle();  // the resync: offer, merge, install dropped
  CHECK_FALSE(a->service->stats().peer_in_sync);
  std::map<uint64_t, std::string> shown_by_a;
  for (const auto& e : a->events()) shown_by_a[e.id()] = e.message();
  CHECK_FALSE(shown_by_a.empty());

  a->close();  // SP-A dies
  b->link.connected = false;
  b->peer_alive = false;
  b->epoch = 2;
  b->role = Role::Active;
  b->tickAndSettle();
  size_t compared = 0;
  for (const auto& e : b->events()) {
    auto it = shown_by_a.find(e.id());
    if (it == shown_by_a.end()) continue;
    ++compared;
    STRCMP_EQUAL(it->second.c_str(), e.message().c_str());
  }
  CHECK_EQUAL(shown_by_a.size(), compared);  // SP-B shows all that SP-A showed
}

// Chaos seed 11: the passive is cut off on every path while a change to it is under way; by
// the time the answer is given up, the election declares it dead. This SP's side of the
// midplane is cut too: it cannot leave how far its history reaches, so it must not take the
// change alone (a survivor would reuse its event id); the outcome is unknown instead.
TEST(ConfigService, AChangeInDoubtIsNotTakenAloneWhenTheHistoryCannotBeLeftOnTheMidplane) {
  a->put("k", "\"one\"");
  a->link.lose_answers = true;
  a->link.before_losing = [this] {
    a->peer_alive = false;
    a->publishable = false;
  };
  auto result = a->write("k", "\"in-doubt\"", "k = in-doubt");
  CHECK_EQUAL(proto::CommandResult::TIMEOUT, result.status());
  STRCMP_EQUAL("\"one\"", a->service->get("k")->value().c_str());
  CHECK_FALSE(hasEventContaining(*a, "k = in-doubt"));
  // With the midplane writable again, a passive declared dead means a change taken alone.
  a->publishable = true;
  a->link.before_losing = [this] { a->peer_alive = false; };
  a->peer_alive = true;
  auto held = a->write("k", "\"held\"");
  CHECK_EQUAL(proto::CommandResult::OK, held.status());
  STRCMP_EQUAL("\"held\"", a->service->get("k")->value().c_str());
}

TEST(ConfigService, AfterFailoverTheNewActiveHasEveryAcknowledgedChange) {
  std::vector<proto::ConfigWriteAnswer> acked;
  for (int i = 0; i < 30; ++i) acked.push_back(a->put("tag", std::to_string(i)));
  uint64_t last_event = a->events().back().id();
  // SP-A dies: SP-B takes over with a higher epoch.
  a->close();
  b->link.connected = false;
  b->peer_alive = false;
  b->epoch = 2;
  b->role = Role::Active;
  STRCMP_EQUAL("29", b->service->get("tag")->value().c_str());
  auto answer = b->put("tag", "30");
  CHECK_EQUAL(proto::SP_B, answer.written_by());
  auto events = b->events(last_event);
  CHECK_EQUAL(1u, events.size());
  CHECK_EQUAL(last_event + 1, events[0].id());
  CHECK_TRUE(b->faults.empty());  // it lacks nothing SP-A acknowledged
  // SP-A returns as passive and catches up; nothing it had is in conflict.
  a->role = Role::Passive;
  a->open();
  heal();
  b->peer_alive = true;
  CHECK_TRUE(b->syncPeer());
  CHECK_TRUE(eventually(
      [&] { return a->service->get("tag") && a->service->get("tag")->value() == "30"; }));
  CHECK_EQUAL(0u, b->service->stats().conflicts);
}

// A restarted SP's store may be behind the array's (the survivor changed it meanwhile): it does
// not hold the acknowledged history until the active has resynchronised it, and says so (its
// data path claims no volume until then, sp/storage_service.hpp).
TEST(ConfigService, ARestartedPassiveHoldsTheAcknowledgedHistoryOnlyOnceResynchronised) {
  a->put("tag", "1");
  CHECK_TRUE(a->service->holdsAcknowledgedHistory());
  CHECK_TRUE(b->service->holdsAcknowledgedHistory());
  a->close();
  b->link.connected = false;
  b->peer_alive = false;
  b->epoch = 2;
  b->role = Role::Active;
  b->put("tag", "2");  // taken alone, its history published
  CHECK_TRUE(b->service->holdsAcknowledgedHistory());
  a->role = Role::Passive;
  a->open();  // the link still cut: no resync yet
  CHECK_FALSE(a->service->holdsAcknowledgedHistory());
  heal();
  b->peer_alive = true;
  CHECK_TRUE(b->syncPeer());
  CHECK_TRUE(eventually([&] { return a->service->holdsAcknowledgedHistory(); }));
  STRCMP_EQUAL("2", a->service->get("tag")->value().c_str());
}

// Issue 11: SP-B is down while SP-A acknowledges changes alone; SP-A dies; SP-B comes back
// and takes over without them. It says what it lacks, keeps SP-A's event ids free, and gets
// them back under their own ids when SP-A returns.
TEST(ConfigService, ATakeoverWithoutTheDeadPeersChangesNamesThemAndMergesThemBackUnderTheirIds) {
  a->put("tag", "\"shared\"");
  b->tickAndSettle();
  b->close();
  peersDead();
  for (int i = 1; i <= 3; ++i) a->put("only-a/" + std::to_string(i), std::to_string(i));
  auto a_events = a->events();
  const uint64_t a_last = a_events.back().id();
  a->close();  // SP-A dies; its published history stays readable (the midplane)

  b->role = Role::Passive;
  b->open();
  b->epoch = 2;
  b->role = Role::Active;
  b->tickAndSettle();
  CHECK_EQUAL(1u, b->faults.size());
  STRCMP_EQUAL("config-missing", b->faults[0].first.c_str());
  CHECK_TRUE(hasEventContaining(*b, "became active without the configuration versions"));
  b->put("tag", "\"b\"");
  for (const auto& e : b->events()) {
    if (e.id() <= a_last) CHECK_TRUE(e.message().find("only-a") == std::string::npos);
  }
  auto b_events = b->events();
  CHECK_TRUE(b_events.back().id() > a_last);  // SP-A's ids are left free

  // SP-A returns as passive: its changes and events come back, the events under their ids.
  a->role = Role::Passive;
  a->open();
  peersAlive();
  CHECK_TRUE(b->syncPeer());
  for (int i = 1; i <= 3; ++i)
    CHECK_TRUE(b->service->get("only-a/" + std::to_string(i)).has_value());
  STRCMP_EQUAL("\"b\"", b->service->get("tag")->value().c_str());
  std::map<uint64_t, proto::Event> by_id;
  for (const auto& e : b->events()) {
    CHECK_TRUE(by_id.emplace(e.id(), e).second);  // no id twice
  }
  for (const auto& e : a_events) {
    if (e.message().find("only-a") == std::string::npos) continue;
    CHECK_TRUE(by_id.count(e.id()) == 1);
    STRCMP_EQUAL(e.message().c_str(), by_id[e.id()].message().c_str());  // the same event
    CHECK_TRUE(by_id[e.id()].restored());
  }
  CHECK_EQUAL(1u, b->cleared.size() -
                      std::count(b->cleared.begin(), b->cleared.end(), "config-storage") -
                      std::count(b->cleared.begin(), b->cleared.end(), "config-store"));
  b->settle();
  a->settle();
  CHECK_TRUE(a->config() == b->config());
}

// Chaos seed 11: SP-B journals a change whose confirmation SP-A never gets; SP-A dies, then
// SP-B; SP-A comes back and takes over knowing from the midplane that SP-B's history reached
// further. When SP-B returns, that change comes back to SP-A under its event id (the active
// died first, so it survives on the passive) and the two stores agree again.
TEST(ConfigService, AChangeOnlyThePassiveJournaledComesBackAfterTheActiveDiedFirst) {
  a->put("k", "\"one\"");
  b->tickAndSettle();
  a->link.lose_answers = true;
  auto lost = a->write("k", "\"in-doubt\"", "k = in-doubt");
  CHECK_EQUAL(proto::CommandResult::TIMEOUT, lost.status());
  a->link.lose_answers = false;
  CHECK_TRUE(b->publishedHistory().has_value());
  const uint64_t in_doubt_id = b->publishedHistory()->last_event_id;
  CHECK_TRUE(in_doubt_id > a->events().back().id());
  a->close();  // SP-A dies, then SP-B; their published histories stay (the midplane)
  b->close();
  peersDead();

  a->role = Role::Passive;
  a->open();
  a->epoch = 2;
  a->role = Role::Active;
  a->tickAndSettle();
  CHECK_TRUE(std::any_of(a->faults.begin(), a->faults.end(),
                         [](const auto& f) { return f.first == "config-missing"; }));
  a->put("other", "\"alone\"");
  CHECK_TRUE(a->events().back().id() > in_doubt_id);  // SP-B's id is left free

  b->role = Role::Passive;
  b->open();
  peersAlive();
  CHECK_TRUE(a->syncPeer());
  std::map<uint64_t, proto::Event> by_id;
  for (const auto& e : a->events()) CHECK_TRUE(by_id.emplace(e.id(), e).second);
  CHECK_EQUAL(1u, by_id.count(in_doubt_id));
  STRCMP_EQUAL("k = in-doubt", by_id[in_doubt_id].message().c_str());
  CHECK_TRUE(by_id[in_doubt_id].restored());
  STRCMP_EQUAL("\"in-doubt\"", a->service->get("k")->value().c_str());
  CHECK_TRUE(std::count(a->cleared.begin(), a->cleared.end(), "config-missing") == 1);
  a->settle();
  b->settle();
  CHECK_TRUE(a->config() == b->config());
  b->tickAndSettle();
  auto on_a = a->events();
  auto on_b = b->events();
  CHECK_EQUAL(on_a.size(), on_b.size());
  for (size_t i = 0; i < on_a.size() && i < on_b.size(); ++i) {
    CHECK_EQUAL(on_a[i].id(), on_b[i].id());
    STRCMP_EQUAL(on_a[i].message().c_str(), on_b[i].message().c_str());
  }
}

TEST(ConfigService, RemovingAMissingObjectIsNotFound) {
  proto::ConfigWrite w;
  auto* r = w.add_records();
  r->set_key("subscriptions/9");
  r->set_deleted(true);
  auto result = a->call("ConfigWrite", w.SerializeAsString());
  CHECK_EQUAL(proto::CommandResult::NOT_FOUND, result.status());
}

TEST(ConfigService, CreateWithAPrefixPicksTheKey) {
  proto::ConfigWrite w;
  w.add_records()->set_value("{\"Destination\":\"http://198.18.0.100/\"}");
  w.set_create_prefix("subscriptions/");
  auto result = a->call("ConfigWrite", w.SerializeAsString());
  CHECK_EQUAL(proto::CommandResult::OK, result.status());
  proto::ConfigWriteAnswer answer;
  answer.ParseFromString(result.payload());
  CHECK_EQUAL(1, answer.keys_size());
  CHECK_TRUE(answer.keys(0).rfind("subscriptions/", 0) == 0);
  CHECK_TRUE(b->service->get(answer.keys(0)).has_value());
}

TEST(ConfigService, AnUnreadableChangeIsABadRequest) {
  auto result = a->call("ConfigWrite", "\xff\xff\xff");
  CHECK_EQUAL(proto::CommandResult::BAD_REQUEST, result.status());
}

TEST(ConfigService, DefaultsAnswerUntilAValueIsSet) {
  a->service->setDefault("network/management", "{\"Address\":\"198.18.0.10\"}");
  STRCMP_EQUAL("{\"Address\":\"198.18.0.10\"}",
               a->config("network/")["network/management"].c_str());
  a->put("network/management", "{\"Address\":\"198.18.0.11\"}");
  STRCMP_EQUAL("{\"Address\":\"198.18.0.11\"}",
               a->config("network/")["network/management"].c_str());
}

TEST(ConfigService, AnSpThatLostTheRoleWithoutKnowingItAppliesNothing) {
  // SP-B moved to epoch 2 (it took over while SP-A was hung); SP-A still thinks it is active.
  b->epoch = 2;
  auto result = a->write("tag", "\"stale\"");
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, result.status());
  CHECK_TRUE(result.error().find("no longer the active SP") != std::string::npos);
  CHECK_FALSE(b->service->get("tag").has_value());
  CHECK_FALSE(a->service->get("tag").has_value());
}

TEST(ConfigService, APassiveThatCannotReachTheActiveRefusesTheChange) {
  cut();
  b->put("only-b", "\"b\"", proto::CommandResult::UNAVAILABLE);
  b->settle();
  CHECK_FALSE(b->service->get("only-b").has_value());
  heal();
  a->tickAndSettle();
  CHECK_FALSE(a->service->get("only-b").has_value());
}

TEST(ConfigService, AForwardedWriteWithoutAnAnswerIsAnUnknownOutcomeAndNotTakenLocally) {
  // The link is up but the active SP does not answer: the change may have been applied
  // there, so the passive must not take it too, and says the outcome is unknown.
  b->link.fail_with = ipc::PeerError::Timeout;
  b->put("tag", "\"lost?\"", proto::CommandResult::TIMEOUT);
  b->settle();
  CHECK_FALSE(b->service->get("tag").has_value());
  CHECK_FALSE(a->service->get("tag").has_value());
}

TEST(ConfigService, AStoreThatCannotOpenRaisesACriticalFaultAndRefusesService) {
  a.reset();
  std::filesystem::create_directories(tmp + "/broken");
  // Both snapshots corrupt: nothing trustworthy to start from.
  for (const char* name : {"snapshot.pb", "snapshot.prev.pb"}) {
    std::ofstream out(tmp + "/broken/" + name);
    out << "not a snapshot";
  }
  Sp broken(SpId::A, tmp + "/broken");
  broken.role = Role::Active;
  broken.open();
  CHECK_EQUAL(1u, broken.faults.size());
  STRCMP_EQUAL("config-store", broken.faults[0].first.c_str());
  CHECK_TRUE(broken.faults[0].second == Health::Critical);
  broken.put("tag", "\"x\"", proto::CommandResult::UNAVAILABLE);
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, broken.call("GetConfig").status());
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, broken.call("GetEvents").status());
}
