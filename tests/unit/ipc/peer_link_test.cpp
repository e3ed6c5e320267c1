// The peer link over real loopback TCP: both SPs in this process on one io_context, driven by
// run_for loops with a bound, so nothing waits longer than a few seconds.
#include <asio.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ipc/frame_codec.hpp"
#include "ipc/peer_link.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::ipc;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kKey = "pair-key-of-the-test-array-0001";

// Runs `io` until `pred` holds; false when `limit` passed first.
template <typename Pred>
bool runUntil(asio::io_context& io, Pred pred, Millis limit = Millis{3000}) {
  const auto end = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() >= end) return false;
    if (io.stopped()) io.restart();
    io.run_for(Millis{2});
  }
  return true;
}

void runFor(asio::io_context& io, Millis how_long) {
  runUntil(
      io, [] { return false; }, how_long);
}

PeerLinkOptions linkOptions(SpId self, int port, const std::string& key) {
  PeerLinkOptions o;
  o.self = self;
  o.local_address = "127.0.0.1";
  o.peer_address = "127.0.0.1";
  o.port = port;
  o.key = key;
  o.reconnect_min = Millis{10};
  o.reconnect_max = Millis{100};
  return o;
}

// A port nobody listens on: bound once by the kernel's choice, then released.
uint16_t unusedPort(asio::io_context& io) {
  asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  return probe.local_endpoint().port();
}

struct Outcome {
  int calls = 0;
  PeerLink::Result result;
  Clock::time_point at;
};

PeerLink::Done record(Outcome& o) {
  return [&o](PeerLink::Result r) {
    ++o.calls;
    o.result = std::move(r);
    o.at = Clock::now();
  };
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
// would: unknown types, replays, frames recorded on an earlier connection.
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
  // The next frame of this connection, encoded but not sent.
  std::string frame(const proto::Envelope& e) {
    const uint64_t seq = seq_++;
    return encodeFrame(seq, e.SerializeAsString(), kKey, seq == 0 ? helloNonce() : peer_nonce_);
  }
  void send(const proto::Envelope& e) { sendRaw(frame(e)); }
  void sendRaw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

  bool gotHello() const { return !peer_nonce_.empty(); }
  bool closed() const { return closed_; }
  std::vector<proto::Envelope> received;

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
        if (r.frame->envelope.type() == proto::Envelope::HELLO)
          peer_nonce_ = r.frame->envelope.nonce();
        received.push_back(std::move(r.frame->envelope));
      }
      read();
    });
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
  void startPair() {
    startB();
    startA();
    CHECK_TRUE(runUntil(io, [&] { return a->connected() && b->connected(); }));
  }
  void teardown() override {
    held.clear();
    a.reset();
    b.reset();
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
  CHECK_EQUAL(std::string("timeout"), o.result.error);
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
  CHECK_EQUAL(std::string("not connected"), o.result.error);
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
  CHECK_EQUAL(std::string("stopped"), o.result.error);
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
  CHECK_EQUAL(std::string("disconnected"), in_flight.result.error);
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
  CHECK_EQUAL(std::string("not connected"), o.result.error);
}

TEST(PeerLink, UnknownEnvelopeTypeIsRefused) {
  startB();
  RawPeer peer(io, "raw-peer-nonce-1");
  peer.connect(port);
  peer.hello();
  CHECK_TRUE(runUntil(io, [&] { return peer.gotHello() && b->connected(); }));
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
    CHECK_TRUE(runUntil(io, [&] { return first.received.size() == 2; }));  // HELLO, RESPONSE
    CHECK_EQUAL(1, handled);
  }
  CHECK_TRUE(runUntil(io, [&] { return !b->connected(); }));
  RawPeer second(io, "raw-peer-nonce-2");
  second.connect(port);
  second.hello();
  CHECK_TRUE(runUntil(io, [&] { return second.gotHello() && b->connected(); }));
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

TEST(PeerLink, NewConnectionReplacesTheOldOne) {
  startB();
  RawPeer first(io, "raw-peer-nonce-1");
  first.connect(port);
  first.hello();
  CHECK_TRUE(runUntil(io, [&] { return first.gotHello() && b->connected(); }));
  RawPeer second(io, "raw-peer-nonce-2");
  second.connect(port);
  second.hello();
  CHECK_TRUE(runUntil(io, [&] { return first.closed() && second.gotHello(); }));
  CHECK_TRUE(runUntil(io, [&] { return b->connected(); }));
  CHECK_FALSE(second.closed());
  CHECK_EQUAL(0u, b->stats().refusedTotal());
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
  CHECK_TRUE(std::chrono::duration_cast<Millis>(Clock::now() - dialled) <
             Millis{100 + 200});  // not the 500 ms HELLO timeout
  CHECK_FALSE(a->connected());

  deaf.close();  // SP-B's address comes up and its spd listens
  filler.close();
  const auto listening = Clock::now();
  startB(port);
  CHECK_TRUE(runUntil(io, [&] { return a->connected() && b->connected(); }));
  // At most the dial in flight (100 ms) and a backoff step (100 ms here), not 500 ms + backoff.
  CHECK_TRUE(std::chrono::duration_cast<Millis>(Clock::now() - listening) <
             Millis{100 + 100 + 150});
}
