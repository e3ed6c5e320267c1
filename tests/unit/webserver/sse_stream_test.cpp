// The event stream's loop apart from CivetWeb: a fake spd event log, a fake clock that moves
// one poll interval per wait, and a writer that records what the client would read.

#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

#include "fake_config_store.hpp"
#include "webserver/json.hpp"
#include "webserver/sse_stream.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;
using namespace std::chrono_literals;

namespace {

// The ids in SSE text, in order.
std::vector<uint64_t> idsIn(const std::string& text) {
  std::vector<uint64_t> ids;
  for (size_t at = text.find("id: "); at != std::string::npos; at = text.find("id: ", at + 1))
    ids.push_back(std::stoull(text.substr(at + 4)));
  return ids;
}

struct Fixture {
  FakeCommandClient bus;
  FakeConfigStore log{bus};
  void add(int n) {
    for (int i = 0; i < n; ++i) log.addEvent("ResourceEvent.1.4.3.ResourceChanged", "changed");
  }
};

}  // namespace

TEST_GROUP(EventStream){};

TEST(EventStream, WithoutLastEventIdOnlyNewEventsAreSent) {
  Fixture f;
  f.add(3);
  EventStream stream(f.bus, "web 127.0.0.1", std::nullopt);
  STRCMP_EQUAL("", stream.poll().c_str());  // finds where the log ends
  LONGS_EQUAL(3, *stream.lastSent());
  proto::Command head = f.bus.last();
  STRCMP_EQUAL("GetEvents", head.name().c_str());
  STRCMP_EQUAL("0", head.args().at("top").c_str());
  LONGS_EQUAL(proto::SP_UNKNOWN, head.target());
  STRCMP_EQUAL("web 127.0.0.1", head.caller().origin().c_str());
  STRCMP_EQUAL("", stream.poll().c_str());
  f.add(2);
  const std::string text = stream.poll();
  CHECK(idsIn(text) == std::vector<uint64_t>({4, 5}));
  STRCMP_EQUAL("3", f.bus.commandsNamed("GetEvents")[2].args().at("after").c_str());
  STRCMP_EQUAL("100", f.bus.last().args().at("top").c_str());
}

TEST(EventStream, LastEventIdResumesAfterItInIdOrderAndNeverTwice) {
  Fixture f;
  f.add(5);
  EventStream stream(f.bus, "web 127.0.0.1", 2);
  std::string text = stream.poll();
  CHECK(idsIn(text) == std::vector<uint64_t>({3, 4, 5}));
  // One message: the id line, one data line with the whole Event, a blank line.
  const size_t first_end = text.find("\n\n");
  const std::string message = text.substr(0, first_end + 2);
  STRCMP_CONTAINS("id: 3\ndata: {", message.c_str());
  LONGS_EQUAL(2, std::count(message.begin(), message.end(), '\n') - 1);
  Json data = Json::parse(message.substr(message.find("data: ") + 6));
  STRCMP_EQUAL("#Event.v1_13_0.Event", data["@odata.type"].get<std::string>().c_str());
  STRCMP_EQUAL("3", data["Events"][0]["EventId"].get<std::string>().c_str());
  STRCMP_EQUAL("", stream.poll().c_str());  // nothing new: nothing again
  f.add(1);
  CHECK(idsIn(stream.poll()) == std::vector<uint64_t>({6}));
}

TEST(EventStream, DuplicatesAndDisorderFromSpdAreFiltered) {
  FakeCommandClient bus;
  bus.respond("GetEvents", [](const proto::Command&) {
    proto::EventPage page;
    for (uint64_t id : {5, 3, 4, 4, 2}) page.add_events()->set_id(id);
    page.set_last_id(5);
    proto::CommandResult r;
    r.set_payload(page.SerializeAsString());
    return std::optional<proto::CommandResult>(r);
  });
  EventStream stream(bus, "web 127.0.0.1", 2);
  CHECK(idsIn(stream.poll()) == std::vector<uint64_t>({3, 4, 5}));
  STRCMP_EQUAL("", stream.poll().c_str());
}

TEST(EventStream, SpdNotAnsweringKeepsTheStreamAndItsPlace) {
  Fixture f;
  f.add(2);
  f.log.silence(true);
  EventStream fresh(f.bus, "web 127.0.0.1", std::nullopt);
  STRCMP_EQUAL("", fresh.poll().c_str());
  CHECK_FALSE(fresh.lastSent().has_value());
  EventStream resumed(f.bus, "web 127.0.0.1", 1);
  STRCMP_EQUAL("", resumed.poll().c_str());
  LONGS_EQUAL(500, f.bus.lastTimeout().count());  // a poll does not wait long for spd
  f.add(1);
  f.log.silence(false);
  CHECK(idsIn(resumed.poll()) == std::vector<uint64_t>({2, 3}));
  STRCMP_EQUAL("", fresh.poll().c_str());
  LONGS_EQUAL(3, *fresh.lastSent());
}

// A bus on which each call takes one poll interval of the fake clock.
struct ClockedBus : ipc::CommandClient {
  ipc::CommandClient& inner;
  std::chrono::steady_clock::time_point now{};
  int calls = 0;
  std::function<void(int)> on_call;
  explicit ClockedBus(ipc::CommandClient& bus) : inner(bus) {}
  std::optional<proto::CommandResult> call(const proto::Command& command,
                                           std::chrono::milliseconds timeout) override {
    now += 100ms;
    if (on_call) on_call(++calls);
    return inner.call(command, timeout);
  }
};

TEST(EventStream, LoopWritesKeepAlivesAndStopsAtTheLimit) {
  Fixture f;
  f.add(1);
  ClockedBus bus(f.bus);
  bus.on_call = [&](int call) {
    if (call == 20) f.add(1);  // at 2 s
  };
  EventStreamTiming timing;
  timing.poll_interval = 0ms;  // the fake clock moves instead
  std::string written;
  StopSignal stop;
  EventStream stream(bus, "web 127.0.0.1", 0);
  StreamEnd end = runEventStream(
      stream, timing,
      [&](std::string_view text) {
        written += text;
        return true;
      },
      stop, [&] { return bus.now; });
  CHECK(end == StreamEnd::MaxDuration);
  CHECK(idsIn(written) == std::vector<uint64_t>({1, 2}));
  LONGS_EQUAL(36000, bus.calls);  // an hour of 100 ms polls
  size_t keep_alives = 0;
  for (size_t at = written.find(": keep-alive\n\n"); at != std::string::npos;
       at = written.find(": keep-alive\n\n", at + 1))
    ++keep_alives;
  LONGS_EQUAL(719, keep_alives);  // one each 5 s without an event, the first at 7 s
}

TEST(EventStream, LoopEndsWhenTheClientGoesOrTheServerStops) {
  Fixture f;
  f.add(2);
  EventStreamTiming timing;
  timing.poll_interval = 1ms;
  StopSignal stop;
  EventStream gone(f.bus, "web 127.0.0.1", 0);
  CHECK(runEventStream(
            gone, timing, [](std::string_view) { return false; }, stop) == StreamEnd::ClientGone);
  EventStream stopping(f.bus, "web 127.0.0.1", 0);
  int writes = 0;
  StreamEnd end = runEventStream(
      stopping, timing,
      [&](std::string_view) {
        if (++writes == 1) stop.raise();  // spweb stops while the stream is open
        return true;
      },
      stop);
  CHECK(end == StreamEnd::Stopping);
  CHECK(stop.waitFor(10s));  // raised: returns at once
}
