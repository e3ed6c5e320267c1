// spd's transport over a real loopback peer channel: both SPs in this process on one
// io_context, the test thread running it. Every request ends exactly once, with the peer's
// result or the typed reason there is none.
#include "sp/channel_transport.hpp"

#include <asio.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/ipc/peer_test_support.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::sp;
using dualsp::ipc::PeerError;
using dualsp::ipc::test::linkOptions;
using dualsp::ipc::test::runFor;
using dualsp::ipc::test::runUntil;
using std::chrono::milliseconds;

namespace {

struct Ends {
  int calls = 0;
  PeerTransport::Answer answer;
};

std::function<void(PeerTransport::Answer)> record(Ends& e) {
  return [&e](PeerTransport::Answer a) {
    ++e.calls;
    e.answer = std::move(a);
  };
}

proto::Command command(const char* name) {
  proto::Command c;
  c.set_name(name);
  c.set_target(proto::SP_B);
  return c;
}

}  // namespace

TEST_GROUP(ChannelTransport) {
  asio::io_context io;
  std::unique_ptr<ipc::PeerChannel> a;
  std::unique_ptr<ipc::PeerChannel> b;
  bool peer_alive = true;
  std::vector<proto::Command> b_got;  // what B's router was given
  std::vector<Reply> b_held;          // B answers later when `hold`
  bool hold = false;
  std::string raw_answer;  // set: B answers these bytes instead of running the command

  ipc::PeerLink::RequestHandler bHandler() {
    auto dispatch = [this](proto::Command c, Reply reply) {
      b_got.push_back(c);
      if (hold) return b_held.push_back(std::move(reply));
      proto::CommandResult r;
      r.set_status(proto::CommandResult::OK);
      r.set_answered_by(proto::SP_B);
      r.set_error("ran " + c.name());
      reply(r);
    };
    auto parsed = commandHandler(io, dispatch);
    return [this, parsed](const proto::Envelope& request, ipc::PeerLink::Respond respond) {
      if (!raw_answer.empty()) return respond(raw_answer);
      parsed(request, std::move(respond));
    };
  }
  void startPair() {
    b = std::make_unique<ipc::PeerChannel>(
        io, std::vector<ipc::PeerRouteOptions>{{"peer-link", linkOptions(SpId::B, 0)}}, bHandler());
    b->start();
    a = std::make_unique<ipc::PeerChannel>(
        io,
        std::vector<ipc::PeerRouteOptions>{
            {"peer-link", linkOptions(SpId::A, b->listeningPort(0))}},
        commandHandler(io, [](proto::Command, Reply) {}));
    a->start();
    CHECK_TRUE(runUntil(io, [&] { return a->healthyNow() && b->healthyNow(); }));
  }
  ChannelTransport transport(bool skip_dead) {
    return ChannelTransport(
        io, *a, [this] { return peer_alive; }, skip_dead);
  }
  void teardown() override {
    b_held.clear();
    a.reset();
    b.reset();
    io.restart();
    io.poll();
  }
};

TEST(ChannelTransport, ACommandRunsOnThePeerAndItsResultComesBackOnce) {
  startPair();
  auto t = transport(/*skip_dead=*/true);
  CHECK_TRUE(t.usable());
  Ends e;
  t.send(command("GetSpStatus"), milliseconds{1000}, record(e));
  CHECK_EQUAL(0, e.calls);  // never inside send()
  CHECK_TRUE(runUntil(io, [&] { return e.calls == 1; }));
  CHECK_TRUE(e.answer.result.has_value());
  CHECK_TRUE(e.answer.error == PeerError::None);
  CHECK_EQUAL(proto::SP_B, e.answer.result->answered_by());
  CHECK_EQUAL(std::string("ran GetSpStatus"), e.answer.result->error());
  CHECK_EQUAL(1u, b_got.size());
  runFor(io, milliseconds{50});
  CHECK_EQUAL(1, e.calls);
}

TEST(ChannelTransport, NoRouteUpEndsAtOnceWithNotConnected) {
  a = std::make_unique<ipc::PeerChannel>(
      io, std::vector<ipc::PeerRouteOptions>{{"peer-link", linkOptions(SpId::A, 1)}},
      commandHandler(io, [](proto::Command, Reply) {}));  // never started: no route up
  auto t = transport(/*skip_dead=*/false);
  CHECK_FALSE(t.usable());
  Ends e;
  t.send(command("ConfigReplicate"), milliseconds{1000}, record(e));
  CHECK_TRUE(runUntil(
      io, [&] { return e.calls == 1; }, milliseconds{200}));
  CHECK_FALSE(e.answer.result.has_value());
  CHECK_TRUE(e.answer.error == PeerError::NotConnected);
  runFor(io, milliseconds{50});
  CHECK_EQUAL(1, e.calls);
}

TEST(ChannelTransport, ADeadPeerIsNotAskedByTheRouterButIsByTheConfigurationService) {
  startPair();
  peer_alive = false;
  auto router_side = transport(/*skip_dead=*/true);
  CHECK_FALSE(router_side.usable());
  Ends skipped;
  router_side.send(command("GetSpStatus"), milliseconds{1000}, record(skipped));
  CHECK_EQUAL(1, skipped.calls);  // at once, nothing sent
  CHECK_TRUE(skipped.answer.error == PeerError::PeerDead);

  auto config_side = transport(/*skip_dead=*/false);
  Ends sent;
  config_side.send(command("ConfigReplicate"), milliseconds{1000}, record(sent));
  CHECK_TRUE(runUntil(io, [&] { return sent.calls == 1; }));
  CHECK_TRUE(sent.answer.result.has_value());
  CHECK_EQUAL(1u, b_got.size());
  CHECK_EQUAL(std::string("ConfigReplicate"), b_got[0].name());
}

TEST(ChannelTransport, AnUnansweredCommandEndsOnceWithTimeoutAndALateAnswerIsDropped) {
  startPair();
  hold = true;
  auto t = transport(/*skip_dead=*/true);
  Ends e;
  const auto start = ipc::test::Clock::now();
  t.send(command("ResetSp"), milliseconds{100}, record(e));
  CHECK_TRUE(runUntil(io, [&] { return e.calls == 1; }));
  CHECK_TRUE(ipc::test::since(start) >= milliseconds{100});
  CHECK_TRUE(e.answer.error == PeerError::Timeout);
  CHECK_EQUAL(1u, b_held.size());
  proto::CommandResult late;
  late.set_status(proto::CommandResult::OK);
  b_held[0](late);
  runFor(io, milliseconds{50});
  CHECK_EQUAL(1, e.calls);
}

TEST(ChannelTransport, AnAnswerThatIsNoCommandResultIsUnreadable) {
  startPair();
  raw_answer = std::string("\xff\xff\xff\xff", 4);  // no valid protobuf field
  auto t = transport(/*skip_dead=*/true);
  Ends e;
  t.send(command("GetSpStatus"), milliseconds{1000}, record(e));
  CHECK_TRUE(runUntil(io, [&] { return e.calls == 1; }));
  CHECK_FALSE(e.answer.result.has_value());
  CHECK_TRUE(e.answer.error == PeerError::Unreadable);
}

TEST(ChannelTransport, AnUnreadableCommandFromThePeerIsAnsweredBadRequest) {
  startPair();
  ipc::test::Outcome o;
  a->request(std::string("\xff\xff\xff\xff", 4), milliseconds{1000}, ipc::test::record(o));
  CHECK_TRUE(runUntil(io, [&] { return o.calls == 1; }));
  CHECK_TRUE(o.result.ok);
  proto::CommandResult r;
  CHECK_TRUE(r.ParseFromString(o.result.payload));
  CHECK_EQUAL(proto::CommandResult::BAD_REQUEST, r.status());
  CHECK_EQUAL(0u, b_got.size());
}
