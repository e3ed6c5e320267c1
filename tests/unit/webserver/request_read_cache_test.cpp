// One client request's read cache (webserver/request_read_cache.hpp) over a fake bus:
// identical reads sent once and their JSON parsed once, any other command forgetting them, no
// answer reused too, different callers apart, nothing kept from one request to the next.

#include <CppUTest/TestHarness.h>

#include "fake_command_client.hpp"
#include "webserver/request_read_cache.hpp"

using namespace dualsp;
using namespace dualsp::web;

TEST_GROUP(RequestReadCache){};

TEST(RequestReadCache, IdenticalReadsAreSentOnceAndAWriteForgetsThem) {
  test::FakeCommandClient bus;
  proto::CommandResult ok;
  ok.set_status(proto::CommandResult::OK);
  ok.set_payload(R"({"volumes": [1, 2, 3]})");
  bus.answer(ok);
  RequestReadCache cache(bus);
  proto::Command read;
  read.set_name("GetStorage");
  proto::Command other = read;
  other.set_target(proto::SP_B);  // about another SP: another read
  for (int i = 0; i < 100; ++i) {
    std::optional<proto::CommandResult> r = cache.call(read, std::chrono::milliseconds(10));
    CHECK(r && r->payload() == ok.payload());
    RequestReadCache::JsonAnswer json = cache.callForJson(read, std::chrono::milliseconds(10));
    CHECK(json.result && json.result->payload().empty());
    LONGS_EQUAL(3, (*json.payload)["volumes"].size());
  }
  // One parse for all of them: the same shared document.
  CHECK(cache.callForJson(read, std::chrono::milliseconds(10)).payload ==
        cache.callForJson(read, std::chrono::milliseconds(10)).payload);
  LONGS_EQUAL(1, bus.commandsNamed("GetStorage").size());
  cache.call(other, std::chrono::milliseconds(10));
  LONGS_EQUAL(2, bus.commandsNamed("GetStorage").size());

  // A command that is not a read goes through and everything is asked again after it.
  proto::Command write;
  write.set_name("StorageWrite");
  cache.call(write, std::chrono::milliseconds(10));
  cache.call(write, std::chrono::milliseconds(10));
  LONGS_EQUAL(2, bus.commandsNamed("StorageWrite").size());
  cache.call(read, std::chrono::milliseconds(10));
  LONGS_EQUAL(3, bus.commandsNamed("GetStorage").size());
  LONGS_EQUAL(5, cache.sent());
}

TEST(RequestReadCache, NoAnswerIsReusedTooAndCallersAreApart) {
  test::FakeCommandClient bus;  // answers nothing
  RequestReadCache cache(bus);
  proto::Command read;
  read.set_name("GetSpStatus");
  for (int i = 0; i < 10; ++i) CHECK_FALSE(cache.call(read, std::chrono::milliseconds(1)));
  CHECK_FALSE(cache.callForJson(read, std::chrono::milliseconds(1)).result);
  LONGS_EQUAL(1, bus.calls());
  proto::Command someone_else = read;
  someone_else.mutable_caller()->set_user("other");
  cache.call(someone_else, std::chrono::milliseconds(1));
  LONGS_EQUAL(2, bus.calls());
  // A new cache (a new request) asks again.
  RequestReadCache next(bus);
  next.call(read, std::chrono::milliseconds(1));
  LONGS_EQUAL(3, bus.calls());
}
