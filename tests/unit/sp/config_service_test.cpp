// Two configuration services wired together in one process through a peer link that can be
// cut: replication before acknowledgement, forwarding from the passive SP, catch-up after a
// cut, the merge of two diverged histories (deterministic, conflicts reported) and failover.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <thread>

#include "CppUTest/TestHarness.h"
#include "sp/config_service.hpp"

using namespace dualsp;
using namespace dualsp::sp;

namespace {

// The peer link as the service sees it: commands run on the other service's registry.
class LoopTransport : public PeerTransport {
 public:
  CommandRegistry* peer_registry = nullptr;
  std::atomic<bool> connected{true};
  std::string fail_with;  // the link is up but the request ends with this ("timeout")
  void send(const proto::Command& command, std::chrono::milliseconds,
            std::function<void(Answer)> done) override {
    if (!connected || !peer_registry) return done(Answer{std::nullopt, "not connected"});
    if (!fail_with.empty()) return done(Answer{std::nullopt, fail_with});
    const CommandSpec* spec = peer_registry->find(command.name());
    if (!spec) return done(Answer{std::nullopt, "unknown command"});
    spec->handler(command, [done](proto::CommandResult r) { done(Answer{std::move(r), ""}); });
  }
};

struct Sp {
  SpId id;
  std::atomic<Role> role{Role::Passive};
  std::atomic<bool> peer_alive{true};
  std::atomic<uint64_t> epoch{1};
  std::atomic<int> session{0};  // bumped when the peer link reconnects
  LoopTransport link;
  CommandRegistry registry;
  std::unique_ptr<ConfigService> service;
  std::string dir;
  std::vector<std::pair<std::string, Health>> faults;  // raised: id, severity

  Sp(SpId sp, const std::string& d) : id(sp), dir(d) {}
  void open() {
    ConfigServiceDependencies deps;
    deps.self = id;
    deps.role = [this] { return role.load(); };
    deps.epoch = [this] { return epoch.load(); };
    deps.peer_alive = [this] { return peer_alive.load(); };
    deps.peer = &link;
    deps.peer_session = [this] { return std::to_string(session.load()); };
    deps.wall_ms = [] { return int64_t{1'800'000'000'000}; };
    deps.fault = [this](const std::string& id, bool raised, const std::string&, const std::string&,
                        Health severity) {
      if (raised) faults.emplace_back(id, severity);
    };
    ConfigServiceOptions options;
    options.resync_interval = std::chrono::milliseconds{0};
    service = std::make_unique<ConfigService>(dir, deps, options);
    registry = CommandRegistry{};
    service->registerCommands(registry);
    service->start();
  }
  void close() { service.reset(); }

  proto::CommandResult call(const std::string& name, const std::string& payload = "",
                            std::map<std::string, std::string> args = {}) {
    proto::Command c;
    c.set_name(name);
    c.set_payload(payload);
    for (auto& [k, v] : args) (*c.mutable_args())[k] = v;
    auto p = std::make_shared<std::promise<proto::CommandResult>>();
    auto f = p->get_future();
    registry.find(name)->handler(c, [p](proto::CommandResult r) { p->set_value(std::move(r)); });
    if (f.wait_for(std::chrono::seconds{10}) != std::future_status::ready) FAIL("no answer");
    return f.get();
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
    a->link.peer_registry = &b->registry;
    b->link.peer_registry = &a->registry;
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
  void cut() {
    a->link.connected = false;
    b->link.connected = false;
  }
  void heal() {
    a->link.connected = true;
    b->link.connected = true;
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

TEST(ConfigService, ChangesMadeWhileTheLinkIsCutReachThePassiveAfterIt) {
  a->put("k/0", "0");
  cut();
  for (int i = 1; i <= 20; ++i)
    CHECK_FALSE(a->put("k/" + std::to_string(i), std::to_string(i)).replicated());
  CHECK_FALSE(b->service->get("k/20"));
  heal();
  a->service->tick();
  CHECK_TRUE(eventually([&] { return b->service->get("k/20").has_value(); }));
  for (int i = 0; i <= 20; ++i) CHECK_TRUE(b->service->get("k/" + std::to_string(i)).has_value());
  CHECK_TRUE(eventually([&] { return a->service->stats().peer_in_sync; }));
  CHECK_TRUE(hasEventContaining(*a, "Resynchronised SP-B"));
  b->settle();
  CHECK_TRUE(a->service->stats().last == b->service->stats().last);
  // The next change goes to both again.
  CHECK_TRUE(a->put("k/21", "21").replicated());
}

TEST(ConfigService, EventIdsIncreaseAndOnlyAcknowledgedEventsAreShown) {
  a->put("x", "1");
  a->put("x", "2");
  auto events = a->events();
  // The first resync of the passive is an event too.
  CHECK_EQUAL(3u, events.size());
  CHECK_TRUE(events[0].message().find("Resynchronised") != std::string::npos);
  events.erase(events.begin());
  CHECK_EQUAL(2u, events.size());
  CHECK_TRUE(events[0].id() < events[1].id());
  auto after = a->events(events[0].id());
  CHECK_EQUAL(1u, after.size());
  CHECK_EQUAL(events[1].id(), after[0].id());
  // The passive shows the same events with the same ids.
  auto on_b = b->events();
  CHECK_EQUAL(3u, on_b.size());
  CHECK_EQUAL(events[1].id(), on_b[2].id());
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
  CHECK_TRUE(events[0].id() > last_event);
  // SP-A returns as passive and catches up; nothing it had is in conflict.
  a->role = Role::Passive;
  a->open();
  heal();
  b->peer_alive = true;
  b->service->tick();
  CHECK_TRUE(eventually(
      [&] { return a->service->get("tag") && a->service->get("tag")->value() == "30"; }));
  CHECK_EQUAL(0u, b->service->stats().conflicts);
}

// Both SPs take changes while the peer link is down; the merge when it returns.
static std::map<std::string, std::string> partitionScenario(Sp& a, Sp& b, LoopTransport& la,
                                                            LoopTransport& lb) {
  CHECK_TRUE(a.syncPeer());
  a.put("shared", "\"before\"");
  la.connected = false;
  lb.connected = false;
  a.put("only-a", "\"a\"");
  a.put("shared", "\"a\"");
  auto local = b.put("only-b", "\"b\"");
  CHECK_EQUAL(proto::SP_B, local.written_by());
  CHECK_FALSE(local.replicated());
  b.put("shared", "\"b\"");
  b.put("shared", "\"b2\"");
  la.connected = true;
  lb.connected = true;
  a.service->tick();
  CHECK_TRUE(eventually([&] { return a.service->stats().peer_in_sync; }));
  b.settle();
  return a.config();
}

TEST(ConfigService, DivergedHistoriesMergeDeterministicallyAndReportConflicts) {
  auto merged = partitionScenario(*a, *b, a->link, b->link);
  STRCMP_EQUAL("\"a\"", merged["only-a"].c_str());
  STRCMP_EQUAL("\"b\"", merged["only-b"].c_str());
  // SP-B's last write of "shared" has the newer version (seq 4 against SP-A's 3... both
  // epoch 1): the newer wins, and the loser is a conflict event.
  STRCMP_EQUAL("\"b2\"", merged["shared"].c_str());
  CHECK_EQUAL(1u, a->service->stats().conflicts);
  CHECK_TRUE(hasEventContaining(*a, "Both SPs changed 'shared'"));
  // Both SPs end with the same configuration.
  CHECK_TRUE(merged == b->config());
  // The passive's own events of the partition are in the log, with new ids.
  CHECK_TRUE(hasEventContaining(*a, "recorded by SP-B while the peers were apart"));

  // The same histories merge to the same result in a second pair.
  auto tmp2 = tmp + "/again";
  std::filesystem::create_directories(tmp2);
  Sp a2(SpId::A, tmp2 + "/a"), b2(SpId::B, tmp2 + "/b");
  a2.link.peer_registry = &b2.registry;
  b2.link.peer_registry = &a2.registry;
  a2.role = Role::Active;
  a2.open();
  b2.open();
  auto again = partitionScenario(a2, b2, a2.link, b2.link);
  CHECK_TRUE(merged == again);
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

TEST(ConfigService, ThePassiveRefusesChangesFromAnOlderEpoch) {
  // SP-B moved to epoch 2 (it took over while SP-A was hung); SP-A still thinks it is active.
  b->epoch = 2;
  auto answer = a->put("tag", "\"stale\"");
  CHECK_FALSE(answer.replicated());
  CHECK_FALSE(b->service->get("tag").has_value());
}

TEST(ConfigService, ChangesOnlyThePassiveTookAreMergedWhenTheLinkReturns) {
  cut();
  auto local = b->put("only-b", "\"b\"");
  CHECK_EQUAL(proto::SP_B, local.written_by());
  heal();
  a->session = 1;  // the link reconnected: the active asks the passive what it has
  CHECK_TRUE(eventually([&] {
    a->service->tick();
    return a->service->get("only-b").has_value();
  }));
  CHECK_TRUE(eventually([&] { return b->service->stats().last == a->service->stats().last; }));
}

TEST(ConfigService, AForwardedWriteWithoutAnAnswerIsUnavailableAndNotTakenLocally) {
  // The link is up but the active SP does not answer: the change may have been applied
  // there, so the passive must not take it too.
  b->link.fail_with = "timeout";
  b->put("tag", "\"lost?\"", proto::CommandResult::UNAVAILABLE);
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
