// ReadCache: which answers are reused, for how long, and what makes spd be asked again.

#include <CppUTest/TestHarness.h>

#include "fake_command_client.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/read_cache.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;
using namespace std::chrono_literals;

namespace {

proto::CommandResult okStatus(uint64_t epoch) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.mutable_sp_status()->set_epoch(epoch);
  return r;
}

proto::Command command(std::string_view name, proto::SpId target = proto::SP_A,
                       std::string origin = "web 198.18.0.100") {
  proto::Command c;
  c.set_name(std::string(name));
  c.set_target(target);
  c.mutable_caller()->set_origin(std::move(origin));
  return c;
}

struct Harness {
  FakeCommandClient bus;
  ReadCache::Board board{1000, true};
  ReadCache::Clock::time_point now{};
  ReadCache cache{bus, [this] { return board; }, [this] { return now; }};

  std::optional<proto::CommandResult> get(std::string_view name = kGetSpStatus,
                                          proto::SpId target = proto::SP_A) {
    return cache.call(command(name, target), 1500ms);
  }
};

}  // namespace

TEST_GROUP(ReadCache){};

TEST(ReadCache, ReusesAnOkAnswerWhileTheBoardIsUnchangedAndYoung) {
  Harness h;
  h.bus.answer(okStatus(7));
  CHECK(h.get().has_value());
  h.now += 40ms;
  h.bus.answer(okStatus(8));
  std::optional<proto::CommandResult> again = h.get();
  LONGS_EQUAL(1, h.bus.calls());
  LONGS_EQUAL(7, again->sp_status().epoch());
  LONGS_EQUAL(40, again->age_ms());  // says how much older it is
  LONGS_EQUAL(1, h.cache.stats().reused);
}

TEST(ReadCache, ReuseIgnoresWhoAskedButNotTheTargetOrArguments) {
  Harness h;
  h.bus.answer(okStatus(7));
  h.cache.call(command(kGetSpStatus, proto::SP_A, "web 198.18.0.100"), 1500ms);
  h.cache.call(command(kGetSpStatus, proto::SP_A, "web 198.18.0.101"), 1500ms);
  LONGS_EQUAL(1, h.bus.calls());
  h.get(kGetSpStatus, proto::SP_B);
  LONGS_EQUAL(2, h.bus.calls());
  proto::Command a = command(kGetConfig, proto::SP_UNKNOWN);
  (*a.mutable_args())["prefix"] = "managers/SPA/";
  proto::Command b = a;
  (*b.mutable_args())["prefix"] = "managers/SPB/";
  h.cache.call(a, 1500ms);
  h.cache.call(b, 1500ms);
  h.cache.call(a, 1500ms);
  LONGS_EQUAL(4, h.bus.calls());
}

TEST(ReadCache, AsksAgainOnceTheMaximumAgeIsReached) {
  Harness h;
  h.bus.answer(okStatus(7));
  h.get();
  h.now += kReadCacheMaxAge;
  h.get();
  LONGS_EQUAL(2, h.bus.calls());
}

TEST(ReadCache, AsksAgainWhenTheBoardWasRepublished) {
  Harness h;
  h.bus.answer(okStatus(7));
  h.get();
  h.board.updated_ms += 1;  // a role change, a fault, the peer, or the 100 ms tick
  h.bus.answer(okStatus(8));
  LONGS_EQUAL(8, h.get()->sp_status().epoch());
  LONGS_EQUAL(2, h.bus.calls());
}

TEST(ReadCache, AnswersAboutThePeerAreReusedForAShorterWhile) {
  Harness h;
  proto::CommandResult peer = okStatus(7);
  peer.set_answered_by(proto::SP_B);
  peer.set_served_by(proto::SP_A);
  h.bus.answer(peer);
  h.get(kGetSpStatus, proto::SP_B);
  h.now += kPeerReadCacheMaxAge - 1ms;
  h.get(kGetSpStatus, proto::SP_B);
  LONGS_EQUAL(1, h.bus.calls());
  h.now += 1ms;
  h.get(kGetSpStatus, proto::SP_B);
  LONGS_EQUAL(2, h.bus.calls());
}

TEST(ReadCache, ConfigurationIsReusedOnlyOnTheActiveSp) {
  Harness h;
  h.bus.answer(okStatus(7));
  h.board.active = false;  // a passive applies its peer's changes: no board change before
  h.get(kGetConfig, proto::SP_UNKNOWN);
  h.get(kGetConfig, proto::SP_UNKNOWN);
  LONGS_EQUAL(2, h.bus.calls());
  h.get(kGetSpStatus, proto::SP_A);  // its own status it still reuses
  h.get(kGetSpStatus, proto::SP_A);
  LONGS_EQUAL(3, h.bus.calls());
  h.board.active = true;
  h.get(kGetConfig, proto::SP_UNKNOWN);
  h.get(kGetConfig, proto::SP_UNKNOWN);
  LONGS_EQUAL(4, h.bus.calls());
}

TEST(ReadCache, ReusesNothingWhileTheBoardCannotBeRead) {
  Harness h;
  h.board.updated_ms = 0;
  h.bus.answer(okStatus(7));
  h.get();
  h.get();
  LONGS_EQUAL(2, h.bus.calls());
}

TEST(ReadCache, AWriteMakesTheNextReadAskSpd) {
  Harness h;
  h.bus.answer(okStatus(7));
  h.get(kGetConfig, proto::SP_UNKNOWN);
  h.cache.call(command(kConfigWrite, proto::SP_UNKNOWN), 1500ms);
  h.get(kGetConfig, proto::SP_UNKNOWN);
  LONGS_EQUAL(3, h.bus.calls());
}

// A bus on which a write from another request completes while a read is on its way.
class WriteDuringRead : public ipc::CommandClient {
 public:
  ReadCache* cache = nullptr;
  int reads = 0;
  int writes = 0;
  std::optional<proto::CommandResult> call(const proto::Command& c,
                                           std::chrono::milliseconds) override {
    if (c.name() != kGetConfig) {
      ++writes;
      return okStatus(0);
    }
    if (++reads == 1) cache->call(command(kConfigWrite, proto::SP_UNKNOWN), 1500ms);
    return okStatus(7);
  }
};

TEST(ReadCache, AnAnswerAskedWhileAWriteRanIsNotReused) {
  WriteDuringRead bus;
  ReadCache cache(bus, [] { return ReadCache::Board{1000, true}; });
  bus.cache = &cache;
  cache.call(command(kGetConfig, proto::SP_UNKNOWN), 1500ms);  // may predate the write
  cache.call(command(kGetConfig, proto::SP_UNKNOWN), 1500ms);
  LONGS_EQUAL(1, bus.writes);
  LONGS_EQUAL(2, bus.reads);
  cache.call(command(kGetConfig, proto::SP_UNKNOWN), 1500ms);  // after it: reused
  LONGS_EQUAL(2, bus.reads);
}

TEST(ReadCache, OtherReadsPassThroughWithoutInvalidating) {
  Harness h;
  h.bus.answer(okStatus(7));
  h.get();
  h.cache.call(command(kGetEvents, proto::SP_UNKNOWN), 1500ms);  // an event stream's poll
  h.cache.call(command(kGetEvents, proto::SP_UNKNOWN), 1500ms);
  h.get();
  LONGS_EQUAL(1, h.bus.commandsNamed(std::string(kGetSpStatus)).size());
  LONGS_EQUAL(2, h.bus.commandsNamed(std::string(kGetEvents)).size());
}

TEST(ReadCache, NeitherFailuresNorStaleAnswersAreReused) {
  Harness h;
  h.bus.answer(std::nullopt);  // no answer in time
  CHECK_FALSE(h.get().has_value());
  proto::CommandResult unavailable;
  unavailable.set_status(proto::CommandResult::UNAVAILABLE);
  h.bus.answer(unavailable);
  h.get();
  proto::CommandResult stale = okStatus(7);
  stale.set_stale(true);
  h.bus.answer(stale);
  h.get();
  h.get();
  LONGS_EQUAL(4, h.bus.calls());
  LONGS_EQUAL(0, h.cache.stats().reused);
}

TEST(ReadCache, KnowsWhichCommandsOnlyRead) {
  CHECK(isReadCommand(std::string(kGetSpStatus)));
  CHECK(isReadCommand(std::string(kGetEvents)));
  // The storage model, the accounts and the certificate only read too: a GetStorage no longer
  // makes the next Manager GET ask spd again.
  CHECK(isReadCommand(std::string(kGetStorage)));
  CHECK(isReadCommand("GetAccounts"));
  CHECK(isReadCommand(std::string(kGetHttpsCertificate)));
  CHECK_FALSE(isReadCommand(std::string(kConfigWrite)));
  CHECK_FALSE(isReadCommand(std::string(kStorageWrite)));
  CHECK_FALSE(isReadCommand(std::string(kReplaceHttpsCertificate)));
  CHECK_FALSE(isReadCommand("AccountWrite"));
  CHECK_FALSE(isReadCommand(std::string(kForceFailover)));
  CHECK_FALSE(isReadCommand("SomethingNew"));
}
