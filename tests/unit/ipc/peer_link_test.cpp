// The peer link over real loopback TCP: both SPs in this process on one io_context, driven by
// run_for loops with a bound, so nothing waits longer than a few seconds.
#include <asio.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <atomic>
#include <thread>

#include "ipc/frame_codec.hpp"
#include "ipc/peer_link.hpp"
#include "tests/unit/ipc/peer_test_support.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::ipc;
using namespace dualsp::ipc::test;

namespace {

// A port nobody listens on: bound once by the kernel's choice, then released.
uint16_t unusedPort(asio::io_context& io) {
  asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  return probe.local_endpoint().port();
}

proto::Envelope envelope(proto::Envelope::Type type, proto::SpId sender = proto::SP_A) {
  proto::Envelope e;
  e.set_version(1);
  e.set_type(type);
  e.set_sender(sender);
  e.set_message_id(1000);
  return e;
}

// A hand-driven peer speaking the wire protocol, to send what a well-behaved PeerLink never
// would: unknown types, replays, frames recorded on an earlier connection. It never pings;
// it answers the link's pings as this firmware does, as older firmware does (through its
// command handler: no ping flag, a NOT_FOUND result) or not at all.
class RawPeer {
 public:
  RawPeer(asio::io_context& io, std::string nonce) : socket_(io), decoder_(kKey), nonce_(nonce) {
    decoder_.setReceiverNonce(nonce_);
  }

  void connect(uint16_t port) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    read();
  }
  void hello(proto::SpId sender = proto::SP_A) {
    proto::Envelope e = envelope(proto::Envelope::HELLO, sender);
    e.set_nonce(nonce_);
    send(e);
  }
  // The answer to the link's challenge: a ping MACed with its nonce, naming ours.
  void prove() {
    proto::Envelope e = envelope(proto::Envelope::REQUEST);
    e.set_ping(true);
    e.set_nonce(nonce_);
    send(e);
  }
  // HELLO, the link's HELLO, the proof: the link is up once it has read it. Firmware from
  // before the proof pings at once instead, which proves as much (MACed with the link's nonce).
  void handshake(asio::io_context& io, bool like_old_firmware = false) {
    hello();
    CHECK_TRUE(runUntil(io, [&] { return gotHello(); }));
    if (!like_old_firmware) return prove();
    proto::Envelope ping = envelope(proto::Envelope::REQUEST);
    ping.set_ping(true);
    send(ping);
  }
  // The next frame of this connection, encoded but not sent.
  std::string frame(const proto::Envelope& e) {
    const uint64_t seq = seq_++;
    return encodeFrame(seq, e.SerializeAsString(), kKey, seq == 0 ? helloNonce() : peer_nonce_);
  }
  void send(const proto::Envelope& e) { sendRaw(frame(e)); }
  void sendRaw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

  bool gotHello() const { return !peer_nonce_.empty(); }
  bool closed() const { return closed_; }
  std::vector<proto::Envelope> received;  // everything but pings and HELLOs
  int hellos = 0;
  int pings = 0;
  enum class Pings { Answer, AnswerLikeOldFirmware, Ignore } answer_pings = Pings::Answer;

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [this](const asio::error_code& ec, size_t n) {
      if (ec == asio::error::operation_aborted) return;  // destroyed: do not touch this
      if (ec) {
        closed_ = true;
        return;
      }
      decoder_.feed(buffer_.data(), n);
      for (DecodeResult r = decoder_.next(); r.frame; r = decoder_.next()) {
        if (r.frame->envelope.type() == proto::Envelope::HELLO) {
          if (hellos++ == 0) peer_nonce_ = r.frame->envelope.nonce();
          continue;
        }
        if (r.frame->envelope.ping()) {
          ++pings;
          answerPing(r.frame->envelope);
          continue;
        }
        received.push_back(std::move(r.frame->envelope));
      }
      read();
    });
  }

  void answerPing(const proto::Envelope& ping) {
    // The answer to this peer's own ping (its handshake like old firmware) is no ping to answer.
    if (answer_pings == Pings::Ignore || ping.type() != proto::Envelope::REQUEST) return;
    proto::Envelope pong = envelope(proto::Envelope::RESPONSE);
    pong.set_correlation_id(ping.message_id());
    if (answer_pings == Pings::Answer)
      pong.set_ping(true);
    else
      pong.set_payload("NOT_FOUND: no such command ''");  // what an old handler makes of it
    send(pong);
  }

  asio::ip::tcp::socket socket_;
  FrameDecoder decoder_;
  std::string nonce_;
  std::string peer_nonce_;
  uint64_t seq_ = 0;
  std::array<char, 4096> buffer_{};
  bool closed_ = false;
};

}  // namespace

TEST_GROUP(PeerLink) {
  asio::io_context io;
  std::unique_ptr<PeerLink> a;
  std::unique_ptr<PeerLink> b;
  std::unique_ptr<TcpRelay> relay;  // between A and B when a test cuts the cable
  uint16_t port = 0;
  bool hold = false;  // B keeps the responders instead of answering at once
  int handled = 0;
  proto::Envelope last_request;
  std::vector<std::pair<std::string, PeerLink::Respond>> held;

  PeerLink::RequestHandler handler() {
    return [this](const proto::Envelope& request, PeerLink::Respond respond) {
      ++handled;
      last_request = request;
      if (hold)
        held.emplace_back(request.payload(), std::move(respond));
      else
        respond("echo:" + request.payload());
    };
  }
  void startB(int at_port = 0, const std::string& key = kKey) {
    b = std::make_unique<PeerLink>(io, linkOptions(SpId::B, at_port, key), handler());
    b->start();
    port = b->listeningPort();
    CHECK_TRUE(port != 0);
  }
  void startA(const std::string& key = kKey) {
    a = std::make_unique<PeerLink>(io, linkOptions(SpId::A, port, key), handler());
    a->start();
  }
  // A dials B through the relay.
  void startRelayedPair() {
    startB();
    relay = std::make_unique<TcpRelay>(io, port);
    a = std::make_unique<PeerLink>(io, linkOptions(SpId::A, relay->port(), kKey), handler());
    a->start();
    CHECK_TRUE(runUntil(io, [&] { return a->connected() && b->connected(); }));
  }
  void startPair() {
    startB();
    startA();
    CHECK_TRUE(runUntil(io, [&] { return a->connected() && b->connected(); }));
  }
  void teardown() override {
    held.clear();
    a.reset();
    b.reset();
    relay.reset();
    io.restart();
    io.poll();  // posted completions run; nothing may touch a destroyed link
  }
};

TEST(PeerLink, RequestAndResponseRoundTrip) {
  startPair();
  a->epoch = [] { return uint64_t{42}; };
  Outcome o;
  a->request("ping", Millis{1000}, record(o));
  CHECK_TRUE(runUntil(io, [&] { return o.calls == 1; }));
  CHECK_TRUE(o.result.ok);
  CHECK_EQUAL(std::string("echo:ping"), o.result.payload);
  CHECK(last_request.sender() == proto::SP_A);
  CHECK_EQUAL(42u, last_request.epoch());
  CHECK_EQUAL(1000u, last_request.deadline_ms());

  Outcome back;  // SP-B asks SP-A over the same connection
  b->request("pong", Millis{1000}, record(back));
  CHECK_TRUE(runUntil(io, [&] { return back.calls == 1; }));
  CHECK_EQUAL(std::string("echo:pong"), back.result.payload);
  CHECK_EQUAL(0u, a->stats().refusedTotal() + b->stats().refusedTotal());
  CHECK_EQUAL(1u, a->stats().connections);
  CHECK_TRUE(a->stats().frames_in >= 2 && a->stats().frames_out >= 2);
}

TEST(PeerLink, FiftyRequestsInFlightAreMatchedWhenAnsweredInReverse) {
  startPair();
  hold = true;
  std::vector<Outcome> outcomes(50);
  for (int i = 0; i < 50; ++i)
    a->request("req-" + std::to_string(i), Millis{2000}, record(outcomes[i]));
  CHECK_TRUE(runUntil(io, [&] { return held.size() == 50; }));
  for (int i = 49; i >= 0; --i) held[i].second("re:" + held[i].first);
  CHECK_TRUE(runUntil(io, [&] {
    for (auto& o : outcomes)
      if (o.calls == 0) return false;
    return true;
  }));
  for (int i = 0; i < 50; ++i) {
    CHECK_EQUAL(1, outcomes[i].calls);
    CHECK_TRUE(outcomes[i].result.ok);
    CHECK_EQUAL("re:req-" + std::to_string(i), outcomes[i].result.payload);
  }
  CHECK_TRUE(outcomes[0].at > outcomes[49].at);  // answered in reverse, matched all the same
}

TEST(PeerLink, DeadlineExpiresWhenThePeerNeverAnswers) {
  startPair();
  hold = true;
  Outcome o;
  const auto sent = Clock::now();
  a->request("slow", Millis{100}, record(o));
  CHECK_TRUE(runUntil(io, [&] { return o.calls == 1; }));
  const auto waited = std::chrono::duration_cast<Millis>(o.at - sent).count();
  CHECK_FALSE(o.result.ok);
  CHECK(o.result.error == PeerError::Timeout);
  CHECK_TRUE(waited >= 100);
  CHECK_TRUE(waited < 100 + 150);
  // The answer comes after all: counted as late, done() is not called again.
  CHECK_EQUAL(1u, held.size());
  held[0].second("too late");
  held[0].second("twice");  // at most once: ignored
  CHECK_TRUE(runUntil(io, [&] { return a->stats().late_responses == 1; }));
  runFor(io, Millis{20});
  CHECK_EQUAL(1, o.calls);
  CHECK_EQUAL(1u, a->stats().late_responses);
  CHECK_TRUE(a->connected());
}

TEST(PeerLink, RequestWhileDisconnectedFailsAtOnce) {
  port = unusedPort(io);
  startA();
  Outcome o;
  const auto sent = Clock::now();
  a->request("nobody there", Millis{1000}, record(o));
  CHECK_EQUAL(0, o.calls);  // never from inside request()
  io.poll();
  CHECK_EQUAL(1, o.calls);
  CHECK(o.result.error == PeerError::NotConnected);
  CHECK_TRUE(o.at - sent < Millis{50});
}

TEST(PeerLink, StopEndsPendingRequests) {
  startPair();
  hold = true;
  Outcome o;
  a->request("held", Millis{2000}, record(o));
  CHECK_TRUE(runUntil(io, [&] { return held.size() == 1; }));
  a->stop();
  CHECK_EQUAL(1, o.calls);
  CHECK(o.result.error == PeerError::Stopped);
  CHECK_FALSE(a->connected());
  CHECK_TRUE(runUntil(io, [&] { return !b->connected(); }));
  held[0].second("to nobody");  // the connection it came on is gone: discarded
  CHECK_EQUAL(1u, b->stats().discarded_responses);
}

TEST(PeerLink, ConnectorReconnectsAfterTheListenerRestarts) {
  startPair();
  hold = true;
  Outcome in_flight;
  a->request("in flight", Millis{2000}, record(in_flight));
  CHECK_TRUE(runUntil(io, [&] { return held.size() == 1; }));
  b.reset();  // SP-B's spd goes away
  CHECK_TRUE(runUntil(io, [&] { return in_flight.calls == 1; }));
  CHECK(in_flight.result.error == PeerError::Disconnected);
  CHECK_FALSE(a->connected());
  held[0].second("from a destroyed link");  // harmless
  held.clear();
  runFor(io, Millis{150});  // a few refused dials with backoff

  hold = false;
  startB(port);  // spd restarted, same port
  CHECK_TRUE(runUntil(io, [&] { return a->connected() && b->connected(); }));
  Outcome o;
  a->request("again", Millis{1000}, record(o));
  CHECK_TRUE(runUntil(io, [&] { return o.calls == 1; }));
  CHECK_EQUAL(std::string("echo:again"), o.result.payload);
  CHECK_EQUAL(2u, a->stats().connections);
  CHECK_EQUAL(1u, a->stats().reconnects);
}

TEST(PeerLink, PeerWithTheWrongKeyIsDropped) {
  startB();
  startA("not-the-pair-key");
  runFor(io, Millis{300});
  CHECK_FALSE(a->connected());
  CHECK_FALSE(b->connected());
  CHECK_TRUE(b->stats().refusedFor(RefuseReason::BadMac) >= 1);
  CHECK_EQUAL(b->stats().refusedFor(RefuseReason::BadMac), b->authenticationFailures());
  CHECK_EQUAL(0u, b->stats().connections);
  CHECK_EQUAL(0, handled);
  Outcome o;
  a->request("x", Millis{1000}, record(o));
  io.poll();
  CHECK(o.result.error == PeerError::NotConnected);
}

TEST(PeerLink, UnknownEnvelopeTypeIsRefused) {
  startB();
  RawPeer peer(io, "raw-peer-nonce-1");
  peer.connect(port);
  peer.handshake(io);
  CHECK_TRUE(runUntil(io, [&] { return b->connected(); }));
  peer.send(envelope(static_cast<proto::Envelope::Type>(7)));
  CHECK_TRUE(runUntil(io, [&] { return peer.closed(); }));
  CHECK_EQUAL(1u, b->stats().refusedFor(RefuseReason::UnknownType));
  CHECK_FALSE(b->connected());
  CHECK_EQUAL(0, handled);
}

TEST(PeerLink, FrameRecordedOnAnEarlierConnectionIsRefused) {
  startB();
  std::string recorded;
  {
    RawPeer first(io, "raw-peer-nonce-1");
    first.connect(port);
    first.hello();
    CHECK_TRUE(runUntil(io, [&] { return first.gotHello(); }));
    recorded = first.frame(envelope(proto::Envelope::REQUEST));
    first.sendRaw(recorded);
    CHECK_TRUE(runUntil(io, [&] { return first.received.size() == 1; }));  // the RESPONSE
    CHECK_EQUAL(1, handled);
  }
  CHECK_TRUE(runUntil(io, [&] { return !b->connected(); }));
  RawPeer second(io, "raw-peer-nonce-2");
  second.connect(port);
  second.hello();
  CHECK_TRUE(runUntil(io, [&] { return second.gotHello(); }));
  second.sendRaw(recorded);  // right key, right sequence, but MACed with the old nonce
  CHECK_TRUE(runUntil(io, [&] { return second.closed(); }));
  CHECK_EQUAL(1u, b->stats().refusedFor(RefuseReason::BadMac));
  CHECK_EQUAL(1, handled);
}

TEST(PeerLink, ReplayedFrameIsRefused) {
  startB();
  RawPeer peer(io, "raw-peer-nonce-1");
  peer.connect(port);
  peer.hello();
  CHECK_TRUE(runUntil(io, [&] { return peer.gotHello(); }));
  const std::string frame = peer.frame(envelope(proto::Envelope::REQUEST));
  peer.sendRaw(frame + frame);
  CHECK_TRUE(runUntil(io, [&] { return peer.closed(); }));
  CHECK_EQUAL(1u, b->stats().refusedFor(RefuseReason::BadSequence));
  CHECK_EQUAL(1, handled);
}

TEST(PeerLink, RequestBeforeHelloIsRefused) {
  startB();
  RawPeer peer(io, "raw-peer-nonce-1");
  peer.connect(port);
  peer.send(envelope(proto::Envelope::REQUEST));  // sequence 0, where the HELLO belongs
  CHECK_TRUE(runUntil(io, [&] { return peer.closed(); }));
  CHECK_EQUAL(1u, b->stats().refusedFor(RefuseReason::Unexpected));
  CHECK_EQUAL(0, handled);
}

TEST(PeerLink, FramesClaimingToBeFromThisSpAreRefused) {
  startB();
  RawPeer peer(io, "raw-peer-nonce-1");
  peer.connect(port);
  peer.hello(proto::SP_B);  // B's own HELLO reflected back at it
  CHECK_TRUE(runUntil(io, [&] { return peer.closed(); }));
  CHECK_EQUAL(1u, b->stats().refusedFor(RefuseReason::WrongSender));
  CHECK_FALSE(b->connected());
}

TEST(PeerLink, OversizedFrameIsRefused) {
  startB();
  RawPeer peer(io, "raw-peer-nonce-1");
  peer.connect(port);
  peer.sendRaw(std::string("\x00\x10\x00\x01", 4));  // 1 MiB + 1, and nothing after it
  CHECK_TRUE(runUntil(io, [&] { return peer.closed(); }));
  CHECK_EQUAL(1u, b->stats().refusedFor(RefuseReason::Oversized));
}

// Once authenticated (the peer's spd restarted, or the old connection is half-open).
TEST(PeerLink, NewConnectionReplacesTheOldOne) {
  startB();
  RawPeer first(io, "raw-peer-nonce-1");
  first.connect(port);
  first.handshake(io);
  CHECK_TRUE(runUntil(io, [&] { return b->connected(); }));
  RawPeer second(io, "raw-peer-nonce-2");
  second.answer_pings = RawPeer::Pings::Ignore;  // an answer to the link's proof proves too
  second.connect(port);
  second.hello();
  CHECK_TRUE(runUntil(io, [&] { return second.gotHello(); }));
  runFor(io, Millis{50});
  CHECK_FALSE(first.closed());  // not before the new one has answered the challenge
  second.answer_pings = RawPeer::Pings::Answer;
  second.prove();
  CHECK_TRUE(runUntil(io, [&] { return first.closed() && b->connected(); }));
  CHECK_FALSE(second.closed());
  CHECK_EQUAL(0u, b->stats().refusedTotal());
  CHECK_EQUAL(2u, b->stats().connections);
}

// --- liveness ---

TEST(PeerLink, PingsAreAnsweredByTheLinkNotByTheHandler) {
  startPair();
  CHECK_TRUE(runUntil(
      io, [&] { return a->stats().pings_answered >= 3 && b->stats().pings_answered >= 3; }));
  CHECK_EQUAL(0, handled);
  CHECK_TRUE(b->stats().pongs_sent >= 3);
  CHECK_TRUE(a->lastRttUs() > 0);
  CHECK_TRUE(a->averageRttUs() > 0);
  CHECK_TRUE(a->lastRttUs() < 200'000);  // loopback
  // Polled, not asserted at one instant: a loaded machine may pause this thread past sick_after.
  CHECK_TRUE(runUntil(io, [&] { return a->healthy() && a->healthyNow(); }));
  CHECK_TRUE(a->sinceHeard() < Millis{1000});
  // Pings stay out of the frame and request counts: one HELLO each way.
  CHECK_EQUAL(1u, a->stats().frames_out);
  CHECK_EQUAL(1u, a->stats().frames_in);
  CHECK_EQUAL(0u, a->stats().late_responses);
}

TEST(PeerLink, OlderPeerAnsweringPingsThroughItsHandlerCountsAsAlive) {
  startB();
  RawPeer peer(io, "raw-peer-nonce-1");
  peer.answer_pings = RawPeer::Pings::AnswerLikeOldFirmware;
  peer.connect(port);
  peer.handshake(io, /*like_old_firmware=*/true);
  CHECK_TRUE(runUntil(io, [&] { return b->connected(); }));
  runFor(io, Millis{900});  // past dead_after; the peer sends nothing but its NOT_FOUND answers
  CHECK_TRUE(b->connected());
  CHECK_TRUE(runUntil(io, [&] { return b->healthy(); }));
  CHECK_FALSE(peer.closed());
  CHECK_TRUE(b->stats().pings_answered >= 5);
  CHECK_TRUE(b->lastRttUs() > 0);
  CHECK_EQUAL(0u, b->stats().silence_drops);
  CHECK_EQUAL(0u, b->stats().late_responses);  // its answers are matched as pongs
  CHECK_EQUAL(0, handled);
}

TEST(PeerLink, SilentPeerIsUnhealthyAfterSickAfterAndDroppedAfterDeadAfter) {
  startB();
  RawPeer peer(io, "raw-peer-nonce-1");
  peer.answer_pings = RawPeer::Pings::Ignore;
  peer.connect(port);
  peer.handshake(io);
  CHECK_TRUE(runUntil(io, [&] { return b->connected(); }));
  const auto heard = Clock::now() - b->sinceHeard();  // the proof was the last frame
  CHECK_TRUE(b->healthy());
  CHECK_TRUE(runUntil(io, [&] { return !b->healthy(); }));
  const Millis sick = since(heard);
  CHECK_TRUE(b->connected());
  CHECK_TRUE(b->upNow());
  CHECK_FALSE(b->healthyNow());
  CHECK_TRUE(runUntil(io, [&] { return peer.closed(); }));
  const Millis dead = since(heard);
  CHECK_FALSE(b->connected());
  CHECK_FALSE(b->upNow());
  CHECK_EQUAL(1u, b->stats().silence_drops);
  CHECK_TRUE(peer.pings >= 5);
  CHECK_TEXT(sick >= Millis{145} && sick < Millis{150 + 250}, std::to_string(sick.count()).c_str());
  CHECK_TEXT(dead >= Millis{595} && dead < Millis{600 + 300}, std::to_string(dead.count()).c_str());
}

TEST(PeerLink, BlackHoledConnectionIsDroppedWithinDeadAfterAndComesBackWhenHealed) {
  startRelayedPair();
  CHECK_TRUE(runUntil(io, [&] { return a->lastRttUs() > 0 && a->healthy(); }));
  hold = true;
  Outcome pending;
  a->request("held", Millis{5000}, record(pending));
  CHECK_TRUE(runUntil(io, [&] { return held.size() == 1; }));

  const auto cut = Clock::now();
  relay->setBlackHole(true);
  CHECK_TRUE(runUntil(io, [&] { return !a->healthy(); }));
  const Millis sick = since(cut);
  CHECK_TRUE(a->connected());
  CHECK_EQUAL(0, pending.calls);
  CHECK_TRUE(runUntil(io, [&] { return pending.calls == 1; }));
  const Millis dead = since(cut);
  CHECK(pending.result.error == PeerError::Disconnected);
  CHECK_FALSE(a->connected());
  CHECK_EQUAL(1u, a->stats().silence_drops);
  CHECK_TRUE(runUntil(io, [&] { return !b->connected(); }));  // B's own pings went unanswered
  CHECK_TRUE(b->stats().silence_drops >= 1);
  // The last frame came at most a ping interval before the cut.
  CHECK_TEXT(sick >= Millis{150 - 50 - 10} && sick < Millis{150 + 250},
             std::to_string(sick.count()).c_str());
  CHECK_TEXT(dead >= Millis{600 - 50 - 10} && dead < Millis{600 + 300},
             std::to_string(dead.count()).c_str());
  CHECK_TRUE(relay->swallowed() > 0);

  // Still cut: A's new dials get through TCP (the relay accepts) but never hear a HELLO.
  runFor(io, Millis{200});
  CHECK_FALSE(a->connected());
  hold = false;
  const auto healed = Clock::now();
  relay->setBlackHole(false);
  CHECK_TRUE(runUntil(io, [&] { return a->connected() && b->connected(); }));
  CHECK_TRUE(since(healed) < Millis{1500});  // a HELLO timeout at most, then a redial
  Outcome again;
  a->request("again", Millis{1000}, record(again));
  CHECK_TRUE(runUntil(io, [&] { return again.calls == 1; }));
  CHECK_EQUAL(std::string("echo:again"), again.result.payload);
  CHECK_TRUE(runUntil(io, [&] { return a->healthy(); }));
  held[0].second("to a connection that is gone");  // discarded, not sent on the new one
  CHECK_EQUAL(1u, b->stats().discarded_responses);
}

TEST(PeerLink, DialWhoseSynIsLostIsRedialledAfterTheConnectTimeout) {
  // A listener whose accept queue is full: the kernel drops further SYNs without an answer,
  // as for a SYN to a peer address that is not up yet (it would resend it only after 1 s).
  asio::ip::tcp::acceptor deaf(io);
  deaf.open(asio::ip::tcp::v4());
  deaf.set_option(asio::socket_base::reuse_address(true));
  deaf.bind({asio::ip::make_address("127.0.0.1"), 0});
  deaf.listen(0);
  port = deaf.local_endpoint().port();
  asio::ip::tcp::socket filler(io);
  filler.connect(deaf.local_endpoint());
  const auto dialled = Clock::now();
  startA();
  CHECK_TRUE(runUntil(
      io, [&] { return a->stats().connect_timeouts >= 1; }, Millis{2000}));
  CHECK_TRUE(since(dialled) < Millis{100 + 200});  // not the 500 ms HELLO timeout
  CHECK_FALSE(a->connected());

  deaf.close();  // SP-B's address comes up and its spd listens
  filler.close();
  const auto listening = Clock::now();
  startB(port);
  CHECK_TRUE(runUntil(io, [&] { return a->connected() && b->connected(); }));
  // At most the dial in flight (100 ms) and a backoff step (100 ms here), not 500 ms + backoff.
  CHECK_TRUE(since(listening) < Millis{100 + 100 + 150});
}

TEST(PeerLink, StateIsReadableFromAnotherThread) {
  startB();
  a = std::make_unique<PeerLink>(io, linkOptions(SpId::A, port, kKey), handler());
  CHECK_FALSE(a->upNow());
  CHECK_FALSE(a->healthyNow());
  CHECK_TRUE(a->sinceHeard() == Millis::max());
  CHECK_EQUAL(0u, a->lastRttUs());
  std::atomic<bool> done{false}, saw_up{false}, saw_healthy{false}, saw_rtt{false};
  std::thread reader([&] {
    const auto end = Clock::now() + Millis{3000};
    while (!done && Clock::now() < end) {
      if (a->upNow()) saw_up = true;
      if (a->healthyNow() && a->sinceHeard() < Millis{1000}) saw_healthy = true;
      if (a->lastRttUs() > 0 && a->averageRttUs() > 0 && a->connectionsNow() == 1) saw_rtt = true;
      std::this_thread::yield();
    }
  });
  a->start();
  CHECK_TRUE(runUntil(io, [&] { return saw_up && saw_healthy && saw_rtt; }));
  done = true;
  reader.join();
  b.reset();
  CHECK_TRUE(runUntil(io, [&] { return !a->upNow(); }));
  CHECK_FALSE(a->healthyNow());
}

// --- attacks on the handshake (issue 13) ---

// Anyone who can use the peer's address (here 127.0.0.1, as the test's SP-A) connects to SP-B
// and says nothing. It used to replace the authenticated connection at once, cutting the
// link; now the link in use stays, and the silent connection is dropped at the handshake
// timeout.
TEST(PeerLink, AConnectFromThePeersAddressDoesNotCutTheAuthenticatedLink) {
  startPair();
  RawPeer intruder(io, "intruder-nonce-1");
  intruder.connect(port);
  bool stayed = true;
  const auto end = Clock::now() + Millis{800};  // past the 500 ms handshake timeout
  for (int i = 0; i < 2000 && Clock::now() < end; ++i) {
    io.run_for(Millis{2});
    stayed = stayed && a->connected() && b->connected();
  }
  CHECK_TRUE(stayed);
  CHECK_TRUE(runUntil(io, [&] { return intruder.closed(); }));
  CHECK_EQUAL(1u, b->stats().connections);
  CHECK_EQUAL(0u, a->stats().reconnects);
  Outcome o;
  a->request("still here", Millis{1000}, record(o));
  CHECK_TRUE(runUntil(io, [&] { return o.calls == 1; }));
  CHECK_TRUE(o.result.ok);
}

// SP-A's real HELLO, captured on an earlier connection (validly MACed: a HELLO is MACed over
// no nonce), replayed on a new one. It used to bring the link up for whoever sent it; now the
// link waits for the proof, MACed with its fresh nonce, which a recording cannot give.
TEST(PeerLink, AReplayedHelloDoesNotAuthenticateANewConnection) {
  std::string captured;
  {
    asio::ip::tcp::acceptor fake_b(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket from_a(io);
    fake_b.async_accept(from_a, [](const asio::error_code&) {});
    PeerLink real_a(io, linkOptions(SpId::A, fake_b.local_endpoint().port()), handler());
    real_a.start();
    std::array<char, 4096> buf{};
    CHECK_TRUE(runUntil(io, [&] {
      asio::error_code ec;
      if (!from_a.is_open() || from_a.available(ec) == 0) return false;
      captured.append(buf.data(), from_a.read_some(asio::buffer(buf), ec));
      return captured.size() >= 4 &&
             captured.size() >= 4 + ((static_cast<size_t>(static_cast<uint8_t>(captured[2])) << 8) |
                                     static_cast<uint8_t>(captured[3]));
    }));
    real_a.stop();
  }
  startB();
  RawPeer replayer(io, "replayer-nonce-1");
  replayer.connect(port);
  replayer.sendRaw(captured);
  bool ever_up = false;
  const auto end = Clock::now() + Millis{800};
  for (int i = 0; i < 2000 && Clock::now() < end; ++i) {
    io.run_for(Millis{2});
    ever_up = ever_up || b->connected();
  }
  CHECK_FALSE(ever_up);
  CHECK_TRUE(replayer.gotHello());  // the challenge went out, unanswered
  CHECK_TRUE(runUntil(io, [&] { return replayer.closed(); }));
  CHECK_EQUAL(0u, b->stats().connections);
}
