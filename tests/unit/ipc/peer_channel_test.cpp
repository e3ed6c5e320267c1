// The peer channel over real loopback TCP: both SPs in this process on one io_context, each
// route through its own relay so a test can cut one cable and leave the other.
#include "ipc/peer_channel.hpp"

#include <asio.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/ipc/peer_test_support.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::ipc;
using namespace dualsp::ipc::test;

TEST_GROUP(PeerChannel) {
  asio::io_context io;
  std::unique_ptr<PeerChannel> a;
  std::unique_ptr<PeerChannel> b;
  std::unique_ptr<TcpRelay> relay0;  // the peer-link cable
  std::unique_ptr<TcpRelay> relay1;  // the management network
  uint16_t b_port0 = 0;
  uint16_t b_port1 = 0;
  bool hold = false;  // B keeps the responders instead of answering at once
  std::vector<std::pair<std::string, PeerLink::Respond>> held;
  std::vector<uint64_t> epochs_seen;

  PeerLink::RequestHandler handler() {
    return [this](const proto::Envelope& request, PeerLink::Respond respond) {
      epochs_seen.push_back(request.epoch());
      if (hold)
        held.emplace_back(request.payload(), std::move(respond));
      else
        respond("echo:" + request.payload());
    };
  }
  static std::vector<PeerRouteOptions> routes(SpId self, int port0, int port1) {
    return {{"peer-link", linkOptions(self, port0)}, {"management", linkOptions(self, port1)}};
  }
  void startB() {
    b = std::make_unique<PeerChannel>(io, routes(SpId::B, b_port0, b_port1), handler());
    b->start();
    b_port0 = b->listeningPort(0);
    b_port1 = b->listeningPort(1);
    CHECK_TRUE(b_port0 != 0 && b_port1 != 0);
  }
  void startA() {
    relay0 = std::make_unique<TcpRelay>(io, b_port0);
    relay1 = std::make_unique<TcpRelay>(io, b_port1);
    a = std::make_unique<PeerChannel>(io, routes(SpId::A, relay0->port(), relay1->port()),
                                      handler());
    a->start();
  }
  static bool allHealthy(const PeerChannel& c) {
    for (const auto& s : c.statusNow())
      if (!s.up || !s.healthy) return false;
    return true;
  }
  void startPair() {
    startB();
    startA();
    CHECK_TRUE(runUntil(io, [&] { return allHealthy(*a) && allHealthy(*b); }));
  }
  void teardown() override {
    held.clear();
    a.reset();
    b.reset();
    relay0.reset();
    relay1.reset();
    io.restart();
    io.poll();
  }
};

TEST(PeerChannel, RequestsTakeThePeerLinkRouteWhenBothAreHealthy) {
  startPair();
  a->epoch = [] { return uint64_t{7}; };
  CHECK_EQUAL(2u, a->routeCount());
  CHECK_EQUAL(std::string("peer-link"), a->routeNow());
  CHECK_EQUAL(std::string("peer-link"), b->routeNow());
  CHECK_TRUE(a->chooseRoute() == size_t{0});
  CHECK_TRUE(a->upNow());
  CHECK_TRUE(a->healthyNow());
  CHECK_EQUAL(1u, a->generation());

  const auto in0 = b->stats(0).frames_in;
  const auto in1 = b->stats(1).frames_in;
  Outcome o;
  a->request("status", Millis{1000}, record(o));
  CHECK_TRUE(runUntil(io, [&] { return o.calls == 1; }));
  CHECK_TRUE(o.result.ok);
  CHECK_EQUAL(std::string("echo:status"), o.result.payload);
  CHECK_EQUAL(in0 + 1, b->stats(0).frames_in);
  CHECK_EQUAL(in1, b->stats(1).frames_in);

  Outcome o1;  // the caller may pick a route; the epoch goes on every one
  a->requestOn(1, "other", Millis{1000}, record(o1));
  CHECK_TRUE(runUntil(io, [&] { return o1.calls == 1; }));
  CHECK_EQUAL(std::string("echo:other"), o1.result.payload);
  CHECK_EQUAL(in1 + 1, b->stats(1).frames_in);
  CHECK_EQUAL(2u, epochs_seen.size());
  CHECK_EQUAL(7u, epochs_seen[0]);
  CHECK_EQUAL(7u, epochs_seen[1]);

  CHECK_TRUE(runUntil(io, [&] {
    for (const auto& s : a->statusNow())
      if (s.rtt_us == 0) return false;
    return true;
  }));
  CHECK_TRUE(runUntil(io, [&] { return allHealthy(*a); }));
  const auto status = a->statusNow();
  CHECK_EQUAL(2u, status.size());
  CHECK_EQUAL(std::string("peer-link"), status[0].name);
  CHECK_EQUAL(std::string("management"), status[1].name);
  for (const auto& s : status) {
    CHECK_TRUE(s.up);
    CHECK_EQUAL(1u, s.connections);
    CHECK_TRUE(s.since_heard_ms >= 0 && s.since_heard_ms < 1000);
  }
}

TEST(PeerChannel, RequestsMoveToTheManagementNetworkWhenThePeerLinkIsCut) {
  startPair();
  const auto cut = Clock::now();
  relay0->setBlackHole(true);
  CHECK_TRUE(runUntil(io, [&] { return a->routeNow() == "management"; }));
  const Millis moved = since(cut);
  CHECK_TRUE(moved < Millis{150 + 200});  // about sick_after, long before dead_after
  CHECK_TRUE(runUntil(io, [&] { return b->routeNow() == "management"; }));
  CHECK_FALSE(a->statusNow()[0].healthy);
  CHECK_TRUE(runUntil(io, [&] { return a->statusNow()[1].healthy && a->healthyNow(); }));

  const auto in1 = b->stats(1).frames_in;
  Outcome o;
  a->request("while cut", Millis{1000}, record(o));
  CHECK_TRUE(runUntil(io, [&] { return o.calls == 1; }));
  CHECK_EQUAL(std::string("echo:while cut"), o.result.payload);
  CHECK_EQUAL(in1 + 1, b->stats(1).frames_in);

  // The peer link is dropped after dead_after; the channel stayed up all along.
  CHECK_TRUE(runUntil(io, [&] { return !a->statusNow()[0].up; }));
  CHECK_TRUE(a->upNow());
  CHECK_EQUAL(1u, a->generation());

  relay0->setBlackHole(false);  // the cable is back: requests return to it
  CHECK_TRUE(runUntil(io, [&] { return a->routeNow() == "peer-link"; }));
  CHECK_TRUE(runUntil(io, [&] { return b->routeNow() == "peer-link"; }));
  CHECK_EQUAL(1u, a->generation());
  CHECK_EQUAL(2u, a->statusNow()[0].connections);
}

TEST(PeerChannel, ALinkThatWentSilentIsNotPreferredUntilItHasAnsweredSteadily) {
  // A lossy link is healthy now and then and silent again a moment later (30 % loss: TCP
  // retransmits after 200 ms and more): the management network carries the requests until
  // the peer link has answered steadily for stable_after.
  startPair();
  CHECK_TRUE(runUntil(io, [&] { return a->routeNow() == "peer-link"; }));
  CHECK_TRUE(runUntil(io, [&] { return a->statusNow()[1].healthy; }));
  runFor(io, Millis{600});  // both routes steady
  relay0->setBlackHole(true);
  CHECK_TRUE(runUntil(io, [&] { return a->routeNow() == "management"; }));
  // Back before dead_after. (The relay lost the bytes it swallowed, so the link may find its
  // stream broken and reconnect; a new connection is not steady yet either.)
  relay0->setBlackHole(false);
  CHECK_TRUE(runUntil(io, [&] { return a->statusNow()[0].healthy; }));
  const auto healed = Clock::now();
  CHECK_EQUAL(std::string("management"), a->routeNow());
  CHECK_TRUE(runUntil(io, [&] { return a->routeNow() == "peer-link"; }));
  CHECK_TRUE(since(healed) >= Millis{400});  // stable_after 500 ms, less a poll
}

TEST(PeerChannel, WithNoRouteHealthyTheOneHeardLastIsUsedUntilBothAreDown) {
  startPair();
  relay1->setBlackHole(true);
  CHECK_TRUE(runUntil(io, [&] { return !a->statusNow()[1].healthy; }));
  relay0->setBlackHole(true);  // cut after the management network: heard more recently
  CHECK_TRUE(runUntil(io, [&] { return !a->healthyNow(); }));
  CHECK_TRUE(a->upNow());
  CHECK_EQUAL(std::string("peer-link"), a->routeNow());
  CHECK_TRUE(a->chooseRoute() == size_t{0});

  Outcome o;  // sent into the cut: it ends when the route is declared down
  a->request("into the cut", Millis{5000}, record(o));
  CHECK_TRUE(runUntil(io, [&] { return o.calls == 1; }));
  CHECK(o.result.error == PeerError::Disconnected);
  CHECK_TRUE(runUntil(io, [&] { return !a->upNow(); }));
  CHECK_EQUAL(std::string(""), a->routeNow());
  CHECK_EQUAL(1u, a->generation());

  relay0->setBlackHole(false);
  relay1->setBlackHole(false);
  CHECK_TRUE(runUntil(io, [&] { return a->upNow(); }));
  CHECK_EQUAL(2u, a->generation());
}

TEST(PeerChannel, RequestFailsAtOnceWhenNoRouteIsUp) {
  startPair();
  b.reset();  // SP-B's spd goes away: both connections close
  CHECK_TRUE(runUntil(io, [&] { return !a->upNow(); }));
  CHECK_FALSE(a->healthyNow());
  CHECK_EQUAL(std::string(""), a->routeNow());
  CHECK_FALSE(a->chooseRoute().has_value());

  std::vector<Outcome> outcomes(3);
  const auto sent = Clock::now();
  a->request("nobody", Millis{1000}, record(outcomes[0]));
  a->requestOn(1, "nobody", Millis{1000}, record(outcomes[1]));
  a->requestOn(7, "no such route", Millis{1000}, record(outcomes[2]));
  for (const auto& o : outcomes) CHECK_EQUAL(0, o.calls);  // never from inside request()
  io.poll();
  for (const auto& o : outcomes) {
    CHECK_EQUAL(1, o.calls);
    CHECK(o.result.error == PeerError::NotConnected);
    CHECK_TRUE(o.at - sent < Millis{50});
  }

  startB();  // same ports: the relays still point at them
  CHECK_TRUE(runUntil(io, [&] { return a->upNow(); }));
  CHECK_EQUAL(2u, a->generation());
}

TEST(PeerChannel, ResponsesGoBackOnTheConnectionTheRequestCameOn) {
  startPair();
  hold = true;
  Outcome o0, o1;
  a->requestOn(0, "zero", Millis{2000}, record(o0));
  a->requestOn(1, "one", Millis{2000}, record(o1));
  CHECK_TRUE(runUntil(io, [&] { return held.size() == 2; }));
  const auto out0 = b->stats(0).frames_out;
  const auto out1 = b->stats(1).frames_out;
  held[1].second("re:" + held[1].first);
  held[0].second("re:" + held[0].first);
  CHECK_TRUE(runUntil(io, [&] { return o0.calls == 1 && o1.calls == 1; }));
  CHECK_EQUAL(std::string("re:zero"), o0.result.payload);
  CHECK_EQUAL(std::string("re:one"), o1.result.payload);
  CHECK_EQUAL(out0 + 1, b->stats(0).frames_out);
  CHECK_EQUAL(out1 + 1, b->stats(1).frames_out);

  // Its connection died meanwhile: the answer is discarded, not sent over the other route.
  held.clear();
  Outcome lost;
  a->requestOn(0, "lost", Millis{5000}, record(lost));
  CHECK_TRUE(runUntil(io, [&] { return held.size() == 1; }));
  relay0->setBlackHole(true);
  CHECK_TRUE(runUntil(io, [&] { return lost.calls == 1; }));
  CHECK(lost.result.error == PeerError::Disconnected);
  CHECK_TRUE(runUntil(io, [&] { return !b->statusNow()[0].up; }));
  held[0].second("too late");
  CHECK_EQUAL(1u, b->stats(0).discarded_responses);
  CHECK_EQUAL(out1 + 1, b->stats(1).frames_out);
}

TEST(PeerChannel, RouteWithoutPeerAddressOrKeyIsLeftOut) {
  auto r = routes(SpId::A, 7500, 7500);
  r[1].link.peer_address.clear();
  PeerChannel one(io, r, handler());
  CHECK_EQUAL(1u, one.routeCount());
  CHECK_EQUAL(std::string("peer-link"), one.routeName(0));
  r[0].link.key.clear();
  PeerChannel none(io, r, handler());
  CHECK_EQUAL(0u, none.routeCount());
  none.start();
  CHECK_FALSE(none.upNow());
  Outcome o;
  none.request("x", Millis{1000}, record(o));
  io.poll();
  CHECK(o.result.error == PeerError::NotConnected);
  CHECK_TRUE(none.statusNow().empty());
}

TEST(PeerChannel, AuthenticationFailuresAreSummedOverTheRoutes) {
  startB();
  auto r = routes(SpId::A, b_port0, b_port1);
  r[1].link.key = "not-the-pair-key";
  a = std::make_unique<PeerChannel>(io, r, handler());
  a->start();
  CHECK_TRUE(runUntil(io, [&] { return b->authenticationFailures() >= 1 && a->upNow(); }));
  CHECK_EQUAL(std::string("peer-link"), a->routeNow());
  CHECK_FALSE(a->statusNow()[1].up);
}
