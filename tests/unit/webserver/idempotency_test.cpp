// Idempotent retries through the Dispatcher (docs/WEB.md "Idempotent retries"): the key is
// checked with spd before the change, every command of the change carries it, the result is
// recorded after, and a retry is answered from what spd holds (a fake of sp/idempotency.cpp's
// two commands, on the fake configuration store).

#include <CppUTest/TestHarness.h>

#include <map>

#include "fake_config_store.hpp"
#include "test_dispatcher.hpp"
#include "webserver/idempotency.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

const char* const kSubscriptions = "/redfish/v1/EventService/Subscriptions";
const char* const kEnclosure = "/redfish/v1/Chassis/Enclosure";
const char* const kSubscription = R"({"Destination": "http://198.18.0.100:8080/e",
                                       "Protocol": "Redfish"})";

proto::CommandResult ok(const Json& payload) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_served_by(proto::SP_A);
  r.set_answered_by(proto::SP_A);
  r.mutable_sensors();  // the enclosure's sensors: none
  r.set_payload(payload.dump());
  return r;
}

// spd's IdempotencyCheck and IdempotencyRecord, as sp/idempotency.cpp answers them.
struct FakeKeys {
  struct Entry {
    std::string fp, attempt, state;
    Json result;
  };
  std::map<std::string, Entry> records;        // id -> record
  std::map<std::string, std::string> running;  // id -> attempt
  bool silent = false;

  explicit FakeKeys(FakeCommandClient& bus) {
    bus.respond("IdempotencyCheck", [this](const proto::Command& c) { return check(c); });
    bus.respond("IdempotencyRecord", [this](const proto::Command& c) { return record(c); });
  }
  std::optional<proto::CommandResult> check(const proto::Command& c) {
    if (silent) return std::nullopt;
    const std::string id = c.args().at("id"), fp = c.args().at("fp");
    if (auto it = records.find(id); it != records.end()) {
      if (it->second.fp != fp) return ok({{"state", "mismatch"}});
      Json out = it->second.result;
      out["state"] = it->second.state;
      return ok(out);
    }
    if (auto it = running.find(id); it != running.end() && it->second != c.args().at("attempt"))
      return ok({{"state", "in_progress"}});
    running[id] = c.args().at("attempt");
    return ok({{"state", "none"}});
  }
  std::optional<proto::CommandResult> record(const proto::Command& c) {
    const std::string id = c.args().at("id");
    running.erase(id);
    const int status = std::stoi(c.args().at("status"));
    if (status >= 200 && status < 300)
      records[id] = {c.args().at("fp"),
                     c.args().at("attempt"),
                     "done",
                     {{"status", status},
                      {"headers", Json::parse(c.args().at("headers"))},
                      {"body", c.args().at("body")}}};
    return ok({{"recorded", true}});
  }
};

struct KeyedServed : Served {
  FakeConfigStore store{bus};
  FakeKeys keys{bus};
  KeyedServed() : Served(SpId::A, Role::Active) {
    bus.answer(ok(Json::object()));  // the enclosure's sensors and inventory: none
  }
  Response keyed(HttpMethod method, const std::string& path, const std::string& body,
                 const std::string& key) const {
    Request request = makeRequest(method, path);
    request.body = body;
    request.remote_address = "198.18.0.100";
    request.headers.emplace_back("Idempotency-Key", key);
    return dispatcher->handle(request);
  }
};

}  // namespace

TEST_GROUP(IdempotentRetries){};

TEST(IdempotentRetries, AKeyedCreateIsMadeOnceAndItsRetryGetsTheFirstAnswer) {
  KeyedServed a;
  Response first = a.keyed(HttpMethod::Post, kSubscriptions, kSubscription, "create-1");
  LONGS_EQUAL(201, first.status);
  CHECK_FALSE(first.header("Idempotent-Replayed"));
  // The change carries the key to spd, which records it in the same replicated change.
  std::vector<proto::Command> writes = a.bus.commandsNamed("ConfigWrite");
  LONGS_EQUAL(1, writes.size());
  const proto::Command& write = writes[0];
  STRCMP_EQUAL(idempotency::requestId("admin", "create-1").c_str(),
               write.args().at("idempotency_id").c_str());
  CHECK(!write.args().at("idempotency_fp").empty());
  CHECK(!write.args().at("idempotency_attempt").empty());
  // ... and its result afterwards.
  std::vector<proto::Command> recorded = a.bus.commandsNamed("IdempotencyRecord");
  LONGS_EQUAL(1, recorded.size());
  STRCMP_EQUAL("201", recorded[0].args().at("status").c_str());
  STRCMP_EQUAL(write.args().at("idempotency_attempt").c_str(),
               recorded[0].args().at("attempt").c_str());

  Response retry = a.keyed(HttpMethod::Post, kSubscriptions, kSubscription, "create-1");
  LONGS_EQUAL(201, retry.status);
  STRCMP_EQUAL("true", retry.header("Idempotent-Replayed").value_or("").c_str());
  STRCMP_EQUAL(first.header("Location").value_or("?").c_str(),
               retry.header("Location").value_or("").c_str());
  CHECK(first.body == retry.body);
  checkCommonHeaders(retry, "A");
  LONGS_EQUAL(1, a.bus.commandsNamed("ConfigWrite").size());  // not made twice
}

TEST(IdempotentRetries, TheSameKeyForAnotherRequestIsRefusedAndNothingIsDone) {
  KeyedServed a;
  LONGS_EQUAL(201, a.keyed(HttpMethod::Post, kSubscriptions, kSubscription, "k").status);
  Response other =
      a.keyed(HttpMethod::Post, kSubscriptions,
              R"({"Destination": "http://198.18.0.100:9/e", "Protocol": "Redfish"})", "k");
  checkError(other, 422, "Base.1.22.1.HeaderInvalid");
  CHECK(str(other.body["error"]["message"]).find("another request") != std::string::npos);
  LONGS_EQUAL(1, a.bus.commandsNamed("ConfigWrite").size());
}

TEST(IdempotentRetries, ARetryWhileTheFirstRunsIsAskedToWait) {
  KeyedServed a;
  a.keys.running[idempotency::requestId("admin", "busy")] = "another attempt";
  Response res = a.keyed(HttpMethod::Patch, kEnclosure, R"({"AssetTag": "x"})", "busy");
  checkError(res, 409, "Base.1.22.1.ResourceInUse");
  STRCMP_EQUAL("1", res.header("Retry-After").value_or("").c_str());
  LONGS_EQUAL(0, a.bus.commandsNamed("ConfigWrite").size());
}

TEST(IdempotentRetries, KeysAreTheCallersOwn) {
  KeyedServed a;
  LONGS_EQUAL(201, a.keyed(HttpMethod::Post, kSubscriptions, kSubscription, "mine").status);
  a.identity = Identity{"operator", "Administrator", "", false};
  Response theirs = a.keyed(HttpMethod::Post, kSubscriptions, kSubscription, "mine");
  LONGS_EQUAL(201, theirs.status);
  CHECK_FALSE(theirs.header("Idempotent-Replayed"));
  LONGS_EQUAL(2, a.bus.commandsNamed("ConfigWrite").size());
  CHECK(idempotency::requestId("admin", "mine") != idempotency::requestId("operator", "mine"));
}

TEST(IdempotentRetries, AKeyOfBadFormIsRefusedBeforeAnything) {
  KeyedServed a;
  for (const std::string& key :
       {std::string(), std::string(256, 'k'), std::string("a\tb"), std::string("caf\xc3\xa9")}) {
    Response res = a.keyed(HttpMethod::Patch, kEnclosure, R"({"AssetTag": "x"})", key);
    checkError(res, 400, "Base.1.22.1.HeaderInvalid");
  }
  LONGS_EQUAL(0, a.bus.commandsNamed("IdempotencyCheck").size());
  LONGS_EQUAL(0, a.bus.commandsNamed("ConfigWrite").size());
  LONGS_EQUAL(
      200,
      a.keyed(HttpMethod::Patch, kEnclosure, R"({"AssetTag": "x"})", std::string(255, '~')).status);
}

TEST(IdempotentRetries, NoAnswerAboutTheKeyIsA503AndNothingIsDone) {
  KeyedServed a;
  a.keys.silent = true;
  Response res = a.keyed(HttpMethod::Patch, kEnclosure, R"({"AssetTag": "x"})", "k");
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(0, a.bus.commandsNamed("ConfigWrite").size());
}

TEST(IdempotentRetries, WithoutAKeyNothingChanges) {
  KeyedServed a;
  Request request = makeRequest(HttpMethod::Patch, kEnclosure);
  request.body = R"({"AssetTag": "x"})";
  LONGS_EQUAL(200, a.dispatcher->handle(request).status);
  LONGS_EQUAL(0, a.bus.commandsNamed("IdempotencyCheck").size());
  CHECK_FALSE(a.bus.commandsNamed("ConfigWrite")[0].args().count("idempotency_id"));
  // A read with a key: keys are for changes only.
  Request get = makeRequest(HttpMethod::Get, kEnclosure);
  get.headers.emplace_back("Idempotency-Key", "k");
  LONGS_EQUAL(200, a.dispatcher->handle(get).status);
  LONGS_EQUAL(0, a.bus.commandsNamed("IdempotencyCheck").size());
}

TEST(IdempotentRetries, AChangeAppliedWithoutItsResultIsAnsweredFromTheResourceAsItIs) {
  // The SP died between the change (and its marker) and the result: the survivor's store says
  // "applied". A PATCH is answered with the resource read now, never made again.
  KeyedServed a;
  a.store.put("chassis/AssetTag", R"("R7-12")");
  const Request body = makeRequest(HttpMethod::Patch, kEnclosure);
  Request patch = body;
  patch.body = R"({"AssetTag": "R7-12"})";
  a.keys.records[idempotency::requestId("admin", "p")] = {idempotency::fingerprint(patch), "x",
                                                          "applied", Json::object()};
  Response res = a.keyed(HttpMethod::Patch, kEnclosure, patch.body, "p");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("R7-12", str(res.body["AssetTag"]).c_str());
  STRCMP_EQUAL("true", res.header("Idempotent-Replayed").value_or("").c_str());
  LONGS_EQUAL(0, a.bus.commandsNamed("ConfigWrite").size());
}

TEST(IdempotentRetries, ACreateAppliedWithoutItsResultNamesWhatItCreated) {
  KeyedServed a;
  a.store.put("subscriptions/7", kSubscription);
  Request post = makeRequest(HttpMethod::Post, kSubscriptions);
  post.body = kSubscription;
  a.keys.records[idempotency::requestId("admin", "c")] = {
      idempotency::fingerprint(post), "x", "applied", {{"created", "7"}}};
  Response res = a.keyed(HttpMethod::Post, kSubscriptions, kSubscription, "c");
  LONGS_EQUAL(201, res.status);
  STRCMP_EQUAL("/redfish/v1/EventService/Subscriptions/7",
               res.header("Location").value_or("").c_str());
  STRCMP_EQUAL("/redfish/v1/EventService/Subscriptions/7", str(res.body["@odata.id"]).c_str());
  LONGS_EQUAL(0, a.bus.commandsNamed("ConfigWrite").size());

  // A delete applied: 204.
  Request del = makeRequest(HttpMethod::Delete, "/redfish/v1/EventService/Subscriptions/7");
  a.keys.records[idempotency::requestId("admin", "d")] = {idempotency::fingerprint(del), "x",
                                                          "applied", Json::object()};
  LONGS_EQUAL(204, a.keyed(HttpMethod::Delete, del.path, "", "d").status);
}

TEST(IdempotentRetries, AChangeSpdRefusesAsMadeByAnotherAttemptIsAnsweredAsThatOne) {
  // Two attempts raced across a failover: spd's writer refused the second's change because the
  // first's marker was there. The client gets the first's answer, not an error.
  KeyedServed a;
  const std::string id = idempotency::requestId("admin", "race");
  a.bus.respond("ConfigWrite", [&a, id](const proto::Command&) {
    Request patch = makeRequest(HttpMethod::Patch, kEnclosure);
    patch.body = R"({"AssetTag": "won"})";
    a.keys.records[id] = {idempotency::fingerprint(patch), "first", "applied", Json::object()};
    proto::CommandResult refused;
    refused.set_status(proto::CommandResult::BAD_REQUEST);
    refused.set_message_key("IdempotencyKeyApplied");
    refused.set_error("another request with this Idempotency-Key made the change already");
    return refused;
  });
  a.store.put("chassis/AssetTag", R"("won")");
  Response res = a.keyed(HttpMethod::Patch, kEnclosure, R"({"AssetTag": "won"})", "race");
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("won", str(res.body["AssetTag"]).c_str());
  STRCMP_EQUAL("true", res.header("Idempotent-Replayed").value_or("").c_str());
}

TEST(IdempotentRetries, AFailedChangeIsNotKeptSoTheRetryMakesIt) {
  KeyedServed a;
  a.store.failWrites(proto::CommandResult::UNAVAILABLE);
  checkError(a.keyed(HttpMethod::Patch, kEnclosure, R"({"AssetTag": "x"})", "f"), 503,
             "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(0, a.keys.running.size());  // the attempt ended
  a.store.failWrites(std::nullopt);
  Response retry = a.keyed(HttpMethod::Patch, kEnclosure, R"({"AssetTag": "x"})", "f");
  LONGS_EQUAL(200, retry.status);
  CHECK_FALSE(retry.header("Idempotent-Replayed"));
  LONGS_EQUAL(2, a.bus.commandsNamed("ConfigWrite").size());
}
