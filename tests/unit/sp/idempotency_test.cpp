// The active SP's half of idempotent retries (sp/idempotency.hpp) against an in-memory store:
// what IdempotencyCheck answers, what IdempotencyRecord keeps, the attempts in progress, a
// passive forwarding both, and retention (age and count, oldest first, batched).

#include "sp/idempotency.hpp"

#include <map>
#include <nlohmann/json.hpp>

#include "CppUTest/TestHarness.h"

using namespace dualsp;
using namespace dualsp::sp;
using namespace dualsp::sp::idempotency;
using json = nlohmann::json;

namespace {

struct Fixture {
  std::map<std::string, std::string> store;
  std::vector<proto::Command> writes;
  std::vector<proto::Command> forwarded;
  bool active = true;
  int64_t wall = 1'800'000'000'000;
  std::chrono::steady_clock::time_point now{std::chrono::seconds(100)};
  std::unique_ptr<IdempotencyService> service;

  explicit Fixture(Options options = {}) {
    IdempotencyService::Dependencies deps;
    deps.get = [this](const std::string& key) -> std::optional<ConfigRecord> {
      auto it = store.find(key);
      if (it == store.end()) return std::nullopt;
      ConfigRecord r;
      r.set_key(key);
      r.set_value(it->second);
      return r;
    };
    deps.list = [this](const std::string& prefix) {
      std::vector<ConfigRecord> out;
      for (const auto& [key, value] : store) {
        if (key.rfind(prefix, 0) != 0) continue;
        ConfigRecord r;
        r.set_key(key);
        r.set_value(value);
        out.push_back(r);
      }
      return out;
    };
    deps.write = [this](proto::Command c, Reply reply) {
      writes.push_back(c);
      proto::ConfigWrite change;
      change.ParseFromString(c.payload());
      for (const auto& r : change.records()) {
        if (r.deleted())
          store.erase(r.key());
        else
          store[r.key()] = r.value();
      }
      proto::CommandResult ok;
      ok.set_status(proto::CommandResult::OK);
      reply(ok);
    };
    deps.active = [this] { return active; };
    deps.forward_to_active = [this](const proto::Command& c, Reply reply) {
      forwarded.push_back(c);
      reply(proto::CommandResult());
    };
    deps.wall_ms = [this] { return wall; };
    deps.now = [this] { return now; };
    service = std::make_unique<IdempotencyService>(deps, options);
  }

  static proto::Command command(const std::string& name, const std::string& id,
                                const std::string& fp, const std::string& attempt) {
    proto::Command c;
    c.set_name(name);
    (*c.mutable_args())["id"] = id;
    (*c.mutable_args())["fp"] = fp;
    (*c.mutable_args())["attempt"] = attempt;
    return c;
  }
  json check(const std::string& id, const std::string& fp, const std::string& attempt) {
    proto::CommandResult result;
    service->check(command("IdempotencyCheck", id, fp, attempt),
                   [&](proto::CommandResult r) { result = std::move(r); });
    CHECK_EQUAL(proto::CommandResult::OK, result.status());
    return json::parse(result.payload());
  }
  void record(const std::string& id, const std::string& fp, const std::string& attempt, int status,
              const std::string& body = "{}") {
    proto::Command c = command("IdempotencyRecord", id, fp, attempt);
    (*c.mutable_args())["status"] = std::to_string(status);
    (*c.mutable_args())["headers"] = R"({"Location": "/redfish/v1/x/1"})";
    (*c.mutable_args())["body"] = body;
    service->record(c, [](proto::CommandResult) {});
  }
  void putRecord(const std::string& id, int64_t at) {
    store[recordKey(id)] =
        json{{"fp", "f"}, {"attempt", "a"}, {"at", at}, {"state", "done"}}.dump();
  }
};

std::string state(const json& answer) {
  return answer["state"].get<std::string>();
}

}  // namespace

TEST_GROUP(Idempotency){};

TEST(Idempotency, AFirstAttemptGoesAheadAndAnotherWaitsUntilItEnds) {
  Fixture f;
  STRCMP_EQUAL("none", state(f.check("aa", "f1", "one")).c_str());
  STRCMP_EQUAL("in_progress", state(f.check("aa", "f1", "two")).c_str());
  STRCMP_EQUAL("none", state(f.check("aa", "f1", "one")).c_str());  // the same attempt again
  f.record("aa", "f1", "one", 503);  // failed: nothing kept, the attempt ends
  CHECK_TRUE(f.writes.empty());
  CHECK_EQUAL(0u, f.service->inProgress());
  STRCMP_EQUAL("none", state(f.check("aa", "f1", "two")).c_str());
}

TEST(Idempotency, AnAttemptInProgressIsForgottenAfterItsBound) {
  Options o;
  o.in_progress_bound = std::chrono::seconds(60);
  Fixture f(o);
  STRCMP_EQUAL("none", state(f.check("aa", "f1", "one")).c_str());
  f.now += std::chrono::seconds(61);
  STRCMP_EQUAL("none", state(f.check("aa", "f1", "two")).c_str());
}

TEST(Idempotency, ASuccessIsRecordedAndRepliedToTheSameRequestOnly) {
  Fixture f;
  STRCMP_EQUAL("none", state(f.check("aa", "f1", "one")).c_str());
  f.record("aa", "f1", "one", 201, R"({"Id": "1"})");
  CHECK_EQUAL(1u, f.writes.size());
  STRCMP_EQUAL("1", f.writes[0].args().at("private").c_str());
  proto::ConfigWrite change;
  change.ParseFromString(f.writes[0].payload());
  CHECK_FALSE(change.has_event());  // a private record: no event
  json done = f.check("aa", "f1", "two");
  STRCMP_EQUAL("done", state(done).c_str());
  CHECK_EQUAL(201, done["status"].get<int>());
  STRCMP_EQUAL("/redfish/v1/x/1", done["headers"]["Location"].get<std::string>().c_str());
  STRCMP_EQUAL(R"({"Id": "1"})", done["body"].get<std::string>().c_str());
  STRCMP_EQUAL("mismatch", state(f.check("aa", "f2", "three")).c_str());
}

TEST(Idempotency, TheChangesMarkerWithoutAResultIsAnsweredApplied) {
  Fixture f;
  f.store[recordKey("aa")] =
      json{{"fp", "f1"}, {"attempt", "one"}, {"at", f.wall}, {"state", "applied"}, {"created", "7"}}
          .dump();
  json applied = f.check("aa", "f1", "two");
  STRCMP_EQUAL("applied", state(applied).c_str());
  STRCMP_EQUAL("7", applied["created"].get<std::string>().c_str());
  // Another attempt's result never replaces the record of the one that made the change.
  f.record("aa", "f1", "two", 200);
  CHECK_TRUE(f.writes.empty());
  f.record("aa", "f1", "one", 201);
  CHECK_EQUAL(1u, f.writes.size());
  json kept = json::parse(f.store[recordKey("aa")]);
  STRCMP_EQUAL("done", kept["state"].get<std::string>().c_str());
  STRCMP_EQUAL("7", kept["created"].get<std::string>().c_str());
  CHECK_EQUAL(f.wall, kept["at"].get<int64_t>());
}

TEST(Idempotency, APassiveSpAsksTheActiveOne) {
  Fixture f;
  f.active = false;
  proto::CommandResult ignored;
  f.service->check(Fixture::command("IdempotencyCheck", "aa", "f", "a"),
                   [&](proto::CommandResult r) { ignored = r; });
  f.service->record(Fixture::command("IdempotencyRecord", "aa", "f", "a"),
                    [&](proto::CommandResult r) { ignored = r; });
  CHECK_EQUAL(2u, f.forwarded.size());
  CHECK_EQUAL(0u, f.service->inProgress());
}

TEST(Idempotency, TheWriterMarkerRefusesAnotherAttempt) {
  proto::IdempotencyMarker marker;
  marker.set_id("aa");
  marker.set_fp("f");
  marker.set_attempt("one");
  auto first = appliedValue(marker, std::nullopt, {"storage/volumes/3"}, "", 5);
  CHECK_TRUE(first.has_value());
  ConfigRecord existing;
  existing.set_key(recordKey("aa"));
  existing.set_value(*first);
  marker.set_attempt("two");
  CHECK_FALSE(appliedValue(marker, existing, {}, "", 6).has_value());
  marker.set_attempt("one");
  auto again = appliedValue(marker, existing, {}, "", 6);
  CHECK_EQUAL(5, json::parse(*again)["at"].get<int64_t>());  // the first change's time stays
}

TEST(Idempotency, RetentionDropsOldKeysAndTheOldestBeyondTheCountInOneChange) {
  Options o;
  o.keep = std::chrono::hours(24);
  o.max_records = 5;
  o.removals_per_change = 100;
  Fixture f(o);
  const int64_t day = 24LL * 3600 * 1000;
  f.putRecord("old1", f.wall - day - 1);
  f.putRecord("old2", f.wall - day - 5);
  for (int i = 0; i < 7; ++i) f.putRecord("new" + std::to_string(i), f.wall - 1000 + i);
  std::vector<std::string> expired = f.service->expiredKeys();
  // 9 records, 5 kept: the two too old, then the two oldest of the recent ones.
  CHECK_EQUAL(4u, expired.size());
  STRCMP_EQUAL("idempotency/old2", expired[0].c_str());
  STRCMP_EQUAL("idempotency/old1", expired[1].c_str());
  STRCMP_EQUAL("idempotency/new0", expired[2].c_str());
  STRCMP_EQUAL("idempotency/new1", expired[3].c_str());
  f.service->tick();
  CHECK_EQUAL(1u, f.writes.size());  // one change for all of them
  proto::ConfigWrite change;
  change.ParseFromString(f.writes[0].payload());
  CHECK_EQUAL(4, change.records_size());
  CHECK_TRUE(change.records(0).deleted());
  CHECK_FALSE(change.has_event());
  CHECK_EQUAL(5u, f.store.size());
  f.service->tick();  // nothing more, and not before retention_every anyway
  CHECK_EQUAL(1u, f.writes.size());
}

TEST(Idempotency, RetentionRemovesInBatchesAndOnlyOnTheActiveSp) {
  Options o;
  o.max_records = 0;
  o.removals_per_change = 3;
  o.retention_every = std::chrono::milliseconds(0);
  Fixture f(o);
  for (int i = 0; i < 7; ++i) f.putRecord("k" + std::to_string(i), f.wall);
  f.active = false;
  f.service->tick();
  CHECK_TRUE(f.writes.empty());
  f.active = true;
  f.service->tick();
  f.service->tick();
  f.service->tick();
  f.service->tick();
  CHECK_EQUAL(3u, f.writes.size());  // 3 + 3 + 1
  CHECK_TRUE(f.store.empty());
}
