#include "ipc/peer_link.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <optional>

#include "platform/log.hpp"

namespace dualsp::ipc {

namespace {

using SteadyClock = std::chrono::steady_clock;

// The peer's HELLO must arrive within this of the TCP connection, or it is abandoned.
constexpr Millis kHandshakeTimeout{500};
// Our pings still unanswered are forgotten beyond this many (a peer that answers none is
// dropped after dead_after anyway).
constexpr size_t kMaxPingsInFlight = 64;
// SP-B retries binding while its peer-link address is not up yet (link down at boot).
constexpr Millis kRebindInterval{500};
// A peer that stops reading must not make our queue grow without bound.
constexpr size_t kMaxQueuedBytes = size_t{16} << 20;
constexpr size_t kReadChunk = 16 * 1024;

proto::SpId protoSp(SpId sp) {
  return sp == SpId::A ? proto::SP_A : proto::SP_B;
}

RefuseReason reasonFor(FrameError e) {
  switch (e) {
    case FrameError::Oversized:
      return RefuseReason::Oversized;
    case FrameError::Truncated:
      return RefuseReason::Truncated;
    case FrameError::BadMac:
      return RefuseReason::BadMac;
    case FrameError::BadSequence:
      return RefuseReason::BadSequence;
    case FrameError::Malformed:
      return RefuseReason::Malformed;
  }
  return RefuseReason::Malformed;
}

// Repeated failures (a wrong key retried forever) log the first few, then every 100th.
bool worthLogging(uint64_t count) {
  return count <= 10 || count % 100 == 0;
}

std::optional<std::string> randomNonce() {
  std::string nonce(kNonceSize, '\0');
  if (sodium_init() < 0) return std::nullopt;  // no usable entropy source
  randombytes_buf(nonce.data(), kNonceSize);
  return nonce;
}

void tuneSocket(asio::ip::tcp::socket& socket) {
  asio::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);  // requests are small and latency-bound
  socket.set_option(asio::socket_base::keep_alive(true), ec);
  // A peer that vanished without a FIN (power cut, fenced) is noticed in seconds, not hours.
  const int fd = socket.native_handle();
  const int idle_s = 1, interval_s = 1, probes = 3;
  const unsigned user_timeout_ms = 4000;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

std::string endpointText(const asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

std::string_view refuseReasonName(RefuseReason r) {
  switch (r) {
    case RefuseReason::BadMac:
      return "bad MAC";
    case RefuseReason::BadSequence:
      return "bad sequence (replay or reorder)";
    case RefuseReason::Oversized:
      return "oversized";
    case RefuseReason::Malformed:
      return "malformed";
    case RefuseReason::Truncated:
      return "truncated";
    case RefuseReason::UnknownType:
      return "unknown envelope type";
    case RefuseReason::WrongSender:
      return "wrong sender";
    case RefuseReason::Unexpected:
      return "unexpected";
  }
  return "unknown";
}

uint64_t PeerLink::Stats::refusedTotal() const {
  uint64_t total = 0;
  for (uint64_t n : refused) total += n;
  return total;
}

struct PeerLink::Connection {
  Connection(asio::ip::tcp::socket s, const PeerLinkOptions& o)
      : socket(std::move(s)), handshake(socket.get_executor()), decoder(o.key, o.max_frame) {}

  asio::ip::tcp::socket socket;
  asio::steady_timer handshake;  // connect + the peer's HELLO
  FrameDecoder decoder;
  std::string nonce;       // ours, sent in our HELLO: the peer MACs its frames with it
  std::string peer_nonce;  // the peer's: we MAC our frames with it
  std::string remote;      // address:port, for the log
  std::array<char, kReadChunk> buffer{};
  struct Outgoing {
    std::string bytes;
    bool counted;  // in stats().frames_out; pings and their answers are not
  };
  std::deque<Outgoing> out;  // encoded frames; the front one is being written
  size_t out_bytes = 0;
  bool writing = false;
  bool connecting = false;  // SP-A: the TCP connect has not completed yet
  bool up = false;          // the peer's HELLO has been received
  SteadyClock::time_point last_heard{};
  uint64_t send_seq = kHelloSequence;
};

PeerLink::PeerLink(asio::io_context& io, PeerLinkOptions options, RequestHandler handler)
    : io_(io),
      options_(std::move(options)),
      handler_(std::move(handler)),
      acceptor_(io),
      retry_timer_(io),
      liveness_timer_(io) {
  // A zero minimum would never grow and would redial in a tight loop.
  options_.reconnect_min = std::max(options_.reconnect_min, Millis{1});
  options_.reconnect_max = std::max(options_.reconnect_max, options_.reconnect_min);
  if (options_.connect_timeout <= Millis{0}) options_.connect_timeout = kHandshakeTimeout;
  options_.connect_timeout = std::min(options_.connect_timeout, kHandshakeTimeout);
  options_.ping_interval = std::max(options_.ping_interval, Millis{1});
  options_.sick_after = std::max(options_.sick_after, Millis{1});
  options_.dead_after = std::max(options_.dead_after, options_.sick_after);
  backoff_ = options_.reconnect_min;
}

PeerLink::~PeerLink() {
  stop();
}

void PeerLink::start() {
  if (running_) return;
  if (options_.key.empty()) {
    LOG_ERROR << "peer link: no pair key, not starting";
    return;
  }
  running_ = true;
  backoff_ = options_.reconnect_min;
  handshake_failures_ = 0;
  bind_failures_ = 0;
  if (options_.self == SpId::A)
    connect();
  else
    listen();
}

void PeerLink::stop() {
  running_ = false;
  retry_timer_.cancel();
  liveness_timer_.cancel();
  asio::error_code ec;
  acceptor_.close(ec);
  if (conn_) close(conn_, "stopped");
  failPending(PeerError::Stopped);
}

bool PeerLink::connected() const {
  return conn_ && conn_->up;
}

bool PeerLink::healthy() const {
  return connected() && SteadyClock::now() - conn_->last_heard < options_.sick_after;
}

bool PeerLink::stable() const {
  return healthy() && SteadyClock::now() - last_sick_ >= options_.stable_after;
}

bool PeerLink::healthyNow() const {
  return upNow() && sinceHeard() < options_.sick_after;
}

Millis PeerLink::sinceHeard() const {
  const int64_t heard = last_heard_ns_.load(std::memory_order_acquire);
  if (heard == 0) return Millis::max();
  const auto now = SteadyClock::now().time_since_epoch();
  return std::chrono::duration_cast<Millis>(now - std::chrono::nanoseconds(heard));
}

uint16_t PeerLink::listeningPort() const {
  if (!acceptor_.is_open()) return 0;
  asio::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

// --- SP-B: listen and accept ---

void PeerLink::listen() {
  asio::error_code ec;
  asio::ip::address address = asio::ip::address_v4::any();
  if (!options_.local_address.empty()) address = asio::ip::make_address(options_.local_address, ec);
  asio::ip::tcp::endpoint local(address, static_cast<uint16_t>(options_.port));
  if (!ec) acceptor_.open(local.protocol(), ec);
  // Rebind at once after spd restarts, while the old connection sits in TIME_WAIT.
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(local, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    if (bind_failures_++ == 0)
      LOG_WARNING << "peer link: cannot listen on " << options_.local_address << ":"
                  << options_.port << " (" << ec.message() << "); retrying every "
                  << kRebindInterval.count() << " ms";
    asio::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.expires_after(kRebindInterval);
    retry_timer_.async_wait([this, alive = std::weak_ptr(alive_)](const asio::error_code& e) {
      if (!alive.expired() && !e && running_) listen();
    });
    return;
  }
  bind_failures_ = 0;
  LOG_INFO << "peer link: listening on " << endpointText(acceptor_.local_endpoint(ec)) << " for "
           << spName(peerOf(options_.self));
  accept();
}

void PeerLink::accept() {
  acceptor_.async_accept([this, alive = std::weak_ptr(alive_)](const asio::error_code& ec,
                                                               asio::ip::tcp::socket socket) {
    if (alive.expired() || !running_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors and the like: try again a little later rather than spin.
      LOG_WARNING << "peer link: accept failed (" << ec.message() << ")";
      retry_timer_.expires_after(kRebindInterval);
      retry_timer_.async_wait([this, alive](const asio::error_code& e) {
        if (!alive.expired() && !e && running_) accept();
      });
      return;
    }
    asio::error_code e;
    const auto remote = socket.remote_endpoint(e);
    if (!e && !options_.peer_address.empty()) {
      const auto peer = asio::ip::make_address(options_.peer_address, e);
      if (!e && remote.address() != peer) e = asio::error::access_denied;
    }
    if (e) {
      if (worthLogging(++foreign_connections_))
        LOG_WARNING << "peer link: refused a connection from "
                    << (remote.port() ? endpointText(remote) : "?") << ": not "
                    << spName(peerOf(options_.self)) << " at " << options_.peer_address;
      socket.close(e);
      accept();
      return;
    }
    auto conn = std::make_shared<Connection>(std::move(socket), options_);
    conn->remote = endpointText(remote);
    // The peer's spd restarted, or its old connection is half-open: the newest one wins.
    if (conn_) drop(conn_, "replaced by a new connection from " + conn->remote);
    conn_ = conn;
    armHandshake(conn, kHandshakeTimeout);
    adopt(conn);
    accept();
  });
}

// --- SP-A: dial with backoff ---

void PeerLink::connect() {
  auto conn = std::make_shared<Connection>(asio::ip::tcp::socket(io_), options_);
  conn->remote = options_.peer_address + ":" + std::to_string(options_.port);
  conn_ = conn;  // the attempt in progress, so stop() and drop() reach it
  asio::error_code ec;
  const auto peer = asio::ip::make_address(options_.peer_address, ec);
  const asio::ip::tcp::endpoint remote(peer, static_cast<uint16_t>(options_.port));
  if (!ec) conn->socket.open(remote.protocol(), ec);
  if (!ec && !options_.local_address.empty()) {
    // Leave from the peer-link address, so the connection takes the peer-link network.
    const auto local = asio::ip::make_address(options_.local_address, ec);
    if (!ec) conn->socket.bind(asio::ip::tcp::endpoint(local, 0), ec);
  }
  if (ec) {
    drop(conn, ec.message());
    return;
  }
  conn->connecting = true;
  armHandshake(conn, options_.connect_timeout);
  conn->socket.async_connect(
      remote, [this, alive = std::weak_ptr(alive_), conn](const asio::error_code& e) {
        if (alive.expired() || conn != conn_) return;
        if (e) {
          drop(conn, e.message());
          return;
        }
        conn->connecting = false;
        armHandshake(conn, kHandshakeTimeout);
        adopt(conn);
      });
}

void PeerLink::scheduleReconnect() {
  const Millis delay = backoff_;
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this, alive = std::weak_ptr(alive_)](const asio::error_code& e) {
    if (!alive.expired() && !e && running_ && !conn_) connect();
  });
}

void PeerLink::armHandshake(const ConnectionPtr& conn, Millis timeout) {
  conn->handshake.expires_after(timeout);
  conn->handshake.async_wait(
      [this, alive = std::weak_ptr(alive_), weak = std::weak_ptr(conn)](const asio::error_code& e) {
        if (alive.expired() || e) return;
        auto c = weak.lock();
        if (!c || c != conn_ || c->up) return;
        if (c->connecting)
          onConnectTimeout(c);
        else
          drop(c, "no HELLO within " + std::to_string(kHandshakeTimeout.count()) + " ms");
      });
}

void PeerLink::onConnectTimeout(const ConnectionPtr& conn) {
  asio::error_code ec;
  conn->socket.remote_endpoint(ec);
  if (!ec) {  // connected after all, its completion not run yet (a busy io thread)
    armHandshake(conn, kHandshakeTimeout);
    return;
  }
  // The SYN or its answer was lost (the peer's address not up yet, say): the kernel would
  // resend it only after 1 s, so a fresh dial is the faster way.
  ++stats_.connect_timeouts;
  drop(conn, "no answer to the connection request within " +
                 std::to_string(options_.connect_timeout.count()) + " ms");
}

// --- one connection ---

void PeerLink::adopt(ConnectionPtr conn) {
  tuneSocket(conn->socket);
  auto nonce = randomNonce();
  if (!nonce) {
    drop(conn, "no random bytes for the connection nonce");
    return;
  }
  conn->nonce = *nonce;
  conn->decoder.setReceiverNonce(conn->nonce);
  proto::Envelope hello;
  hello.set_type(proto::Envelope::HELLO);
  hello.set_nonce(conn->nonce);
  send(conn, std::move(hello));
  if (conn == conn_) read(std::move(conn));
}

void PeerLink::read(ConnectionPtr conn) {
  auto& socket = conn->socket;
  auto& buffer = conn->buffer;
  socket.async_read_some(asio::buffer(buffer),
                         [this, alive = std::weak_ptr(alive_), conn = std::move(conn)](
                             const asio::error_code& ec, size_t n) {
                           if (alive.expired() || conn != conn_) return;
                           if (ec == asio::error::eof) {
                             auto error = conn->decoder.finish();
                             if (error && error->code == FrameError::Truncated)
                               refuse(conn, RefuseReason::Truncated, error->text);
                             else
                               drop(conn, "closed by the peer");
                             return;
                           }
                           if (ec) {
                             drop(conn, ec.message());
                             return;
                           }
                           onBytes(conn, n);
                         });
}

void PeerLink::onBytes(const ConnectionPtr& conn, size_t n) {
  std::weak_ptr<char> alive = alive_;
  conn->decoder.feed(conn->buffer.data(), n);
  for (;;) {
    DecodeResult r = conn->decoder.next();
    if (r.error) {
      refuse(conn, reasonFor(r.error->code), r.error->text);
      return;
    }
    if (!r.frame) break;
    handleFrame(conn, r.frame->envelope);
    // A callback may have stopped or replaced the link.
    if (alive.expired() || conn != conn_) return;
  }
  read(conn);
}

void PeerLink::handleFrame(const ConnectionPtr& conn, proto::Envelope& envelope) {
  if (envelope.sender() != protoSp(peerOf(options_.self))) {
    refuse(conn, RefuseReason::WrongSender,
           "sender " + std::to_string(envelope.sender()) + ", expected " +
               std::string(spName(peerOf(options_.self))));
    return;
  }
  switch (envelope.type()) {
    case proto::Envelope::HELLO:
      if (conn->up) {
        refuse(conn, RefuseReason::Unexpected, "a second HELLO");
        return;
      }
      if (envelope.nonce().size() != kNonceSize || envelope.version() == 0) {
        refuse(conn, RefuseReason::Malformed,
               "HELLO with a " + std::to_string(envelope.nonce().size()) + "-byte nonce, version " +
                   std::to_string(envelope.version()));
        return;
      }
      ++stats_.frames_in;
      handleHello(conn, envelope);
      return;
    case proto::Envelope::REQUEST:
    case proto::Envelope::RESPONSE:
      if (!conn->up) {
        refuse(conn, RefuseReason::Unexpected,
               std::string(envelope.type() == proto::Envelope::REQUEST ? "REQUEST" : "RESPONSE") +
                   " before HELLO");
        return;
      }
      break;
    default:
      refuse(conn, RefuseReason::UnknownType,
             "envelope type " + std::to_string(static_cast<int>(envelope.type())));
      return;
  }
  heard(conn);
  if (conn != conn_) return;  // on_change dropped it
  if (envelope.type() == proto::Envelope::REQUEST && envelope.ping()) {
    handlePing(conn, envelope);
    return;
  }
  // By id, not by the flag: an older peer answers a ping through its command handler.
  if (envelope.type() == proto::Envelope::RESPONSE &&
      (envelope.ping() || pings_.count(envelope.correlation_id()))) {
    handlePong(envelope);
    return;
  }
  ++stats_.frames_in;
  if (envelope.type() == proto::Envelope::REQUEST) {
    handleRequest(conn, envelope);
  } else if (!finishRequest(
                 envelope.correlation_id(),
                 Result{true, std::move(*envelope.mutable_payload()), PeerError::None})) {
    ++stats_.late_responses;  // its request timed out first
  }
}

void PeerLink::handleHello(const ConnectionPtr& conn, const proto::Envelope& envelope) {
  conn->peer_nonce = envelope.nonce();
  conn->up = true;
  conn->handshake.cancel();
  if (stats_.connections++ > 0) ++stats_.reconnects;
  connections_now_.store(stats_.connections, std::memory_order_relaxed);
  backoff_ = options_.reconnect_min;
  handshake_failures_ = 0;
  LOG_INFO << "peer link up: " << spName(peerOf(options_.self)) << " at " << conn->remote
           << " (version " << envelope.version() << ")";
  next_ping_ = SteadyClock::now();  // the first RTT sample at once
  heard(conn);
  if (conn == conn_) checkLiveness();
}

// --- liveness ---

void PeerLink::heard(const ConnectionPtr& conn) {
  const auto now = SteadyClock::now();
  // A new connection, or a silence longer than sick_after that ends now: not stable yet.
  if (conn->last_heard == SteadyClock::time_point{} || now - conn->last_heard > options_.sick_after)
    last_sick_ = now;
  conn->last_heard = now;
  last_heard_ns_.store(conn->last_heard.time_since_epoch().count(), std::memory_order_release);
  publish();
}

void PeerLink::handlePing(const ConnectionPtr& conn, const proto::Envelope& envelope) {
  ++stats_.pongs_sent;
  proto::Envelope pong;
  pong.set_type(proto::Envelope::RESPONSE);
  pong.set_message_id(next_message_id_++);
  pong.set_correlation_id(envelope.message_id());
  pong.set_ping(true);
  send(conn, std::move(pong), false);
}

void PeerLink::handlePong(const proto::Envelope& envelope) {
  auto it = pings_.find(envelope.correlation_id());
  if (it == pings_.end()) return;  // forgotten, or from an earlier connection
  const auto rtt =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - it->second);
  pings_.erase(it);
  ++stats_.pings_answered;
  const auto us = static_cast<uint64_t>(std::max<int64_t>(rtt.count(), 0));
  last_rtt_us_.store(us, std::memory_order_relaxed);
  const uint64_t avg = rtt_ewma_us_.load(std::memory_order_relaxed);
  const auto next =
      avg == 0 ? us
               : static_cast<uint64_t>(static_cast<int64_t>(avg) +
                                       (static_cast<int64_t>(us) - static_cast<int64_t>(avg)) / 8);
  rtt_ewma_us_.store(std::max<uint64_t>(next, 1), std::memory_order_relaxed);
}

void PeerLink::sendPing(const ConnectionPtr& conn) {
  const uint64_t id = next_message_id_++;
  proto::Envelope ping;
  ping.set_type(proto::Envelope::REQUEST);
  ping.set_message_id(id);
  ping.set_ping(true);
  ping.set_deadline_ms(static_cast<uint32_t>(options_.dead_after.count()));
  pings_.emplace(id, SteadyClock::now());
  if (pings_.size() > kMaxPingsInFlight) pings_.erase(pings_.begin());
  ++stats_.pings_sent;
  send(conn, std::move(ping), false);
}

void PeerLink::checkLiveness() {
  const ConnectionPtr conn = conn_;
  const auto now = SteadyClock::now();
  const auto silence = std::chrono::duration_cast<Millis>(now - conn->last_heard);
  if (silence >= options_.dead_after) {
    asio::error_code ec;
    if (silence < 2 * options_.dead_after && conn->socket.available(ec) > 0 && !ec) {
      // Bytes are waiting unread: this thread was late (CPU load), not the peer. Bounded, so
      // a trickle of bytes that never makes a frame does not keep a connection alive.
      liveness_timer_.expires_after(Millis{1});
      liveness_timer_.async_wait([this, alive = std::weak_ptr(alive_),
                                  weak = std::weak_ptr(conn)](const asio::error_code& e) {
        if (alive.expired() || e) return;
        if (auto c = weak.lock(); c && c == conn_ && c->up) checkLiveness();
      });
      return;
    }
    ++stats_.silence_drops;
    drop(conn, "no frame from the peer in " + std::to_string(silence.count()) + " ms");
    return;
  }
  if (now >= next_ping_) {
    next_ping_ = now + options_.ping_interval;
    sendPing(conn);
    if (conn != conn_) return;  // the send queue overflowed and took the connection
  }
  publish();
  if (conn == conn_) armLiveness();
}

void PeerLink::armLiveness() {
  const auto heard = conn_->last_heard;
  auto next = std::min(heard + options_.dead_after, next_ping_);
  // Wake at the sick deadline too, so on_change reports it on time.
  if (SteadyClock::now() < heard + options_.sick_after)
    next = std::min(next, heard + options_.sick_after);
  liveness_timer_.expires_at(next);
  liveness_timer_.async_wait([this, alive = std::weak_ptr(alive_),
                              weak = std::weak_ptr(conn_)](const asio::error_code& e) {
    if (alive.expired() || e) return;
    if (auto c = weak.lock(); c && c == conn_ && c->up) checkLiveness();
  });
}

void PeerLink::publish() {
  const bool up = connected();
  const bool ok = healthy();
  const bool steady = stable();
  up_now_.store(up, std::memory_order_release);
  if (up == published_up_ && ok == published_healthy_ && steady == published_stable_) return;
  published_up_ = up;
  published_healthy_ = ok;
  published_stable_ = steady;
  if (on_change) on_change();
}

void PeerLink::handleRequest(const ConnectionPtr& conn, const proto::Envelope& envelope) {
  if (!handler_) return;  // the requester's deadline answers it
  auto answered = std::make_shared<bool>(false);
  Respond respond = [this, alive = std::weak_ptr(alive_), weak = std::weak_ptr(conn),
                     id = envelope.message_id(), answered](std::string payload) {
    if (alive.expired() || *answered) return;
    *answered = true;
    this->respond(weak, id, std::move(payload));
  };
  handler_(envelope, std::move(respond));
}

void PeerLink::respond(const std::weak_ptr<Connection>& weak, uint64_t correlation_id,
                       std::string payload) {
  auto conn = weak.lock();
  if (!conn || conn != conn_) {
    ++stats_.discarded_responses;  // the requester saw Disconnected already
    return;
  }
  proto::Envelope response;
  response.set_type(proto::Envelope::RESPONSE);
  response.set_message_id(next_message_id_++);
  response.set_correlation_id(correlation_id);
  response.set_payload(std::move(payload));
  if (!send(conn, std::move(response))) {
    ++stats_.discarded_responses;
    LOG_ERROR << "peer link: the response to request " << correlation_id
              << " exceeds the frame limit of " << options_.max_frame << " bytes; not sent";
  }
}

bool PeerLink::send(const ConnectionPtr& conn, proto::Envelope envelope, bool counted) {
  envelope.set_version(kPeerLinkVersion);
  envelope.set_sender(protoSp(options_.self));
  envelope.set_epoch(epoch ? epoch() : 0);
  const std::string bytes = envelope.SerializeAsString();
  if (kMinFrameLength + bytes.size() > options_.max_frame) return false;
  const std::string& nonce = conn->send_seq == kHelloSequence ? helloNonce() : conn->peer_nonce;
  conn->out.push_back({encodeFrame(conn->send_seq++, bytes, options_.key, nonce), counted});
  conn->out_bytes += conn->out.back().bytes.size();
  if (conn->out_bytes > kMaxQueuedBytes) {
    drop(conn, "the peer is not reading: " + std::to_string(conn->out_bytes) + " bytes queued");
    return true;
  }
  if (!conn->writing) writeNext(conn);
  return true;
}

void PeerLink::writeNext(ConnectionPtr conn) {
  conn->writing = true;
  auto& socket = conn->socket;
  auto& front = conn->out.front().bytes;  // deque: stays put while more frames are queued
  asio::async_write(socket, asio::buffer(front),
                    [this, alive = std::weak_ptr(alive_), conn = std::move(conn)](
                        const asio::error_code& ec, size_t) {
                      if (alive.expired() || conn != conn_) return;
                      if (ec) {
                        drop(conn, "write failed: " + ec.message());
                        return;
                      }
                      if (conn->out.front().counted) ++stats_.frames_out;
                      conn->out_bytes -= conn->out.front().bytes.size();
                      conn->out.pop_front();
                      if (conn->out.empty())
                        conn->writing = false;
                      else
                        writeNext(conn);
                    });
}

void PeerLink::refuse(ConnectionPtr conn, RefuseReason reason, const std::string& text) {
  const uint64_t count = ++stats_.refused[static_cast<size_t>(reason)];
  if (reason == RefuseReason::BadMac) auth_failures_.fetch_add(1, std::memory_order_relaxed);
  if (worthLogging(count))
    LOG_WARNING << "peer link: refused a frame from " << conn->remote << ": "
                << refuseReasonName(reason) << " (" << text << "); dropping the connection"
                << (count > 1 ? " [" + std::to_string(count) + " so far]" : "");
  drop(conn, std::string(refuseReasonName(reason)), true);
}

void PeerLink::drop(ConnectionPtr conn, const std::string& why, bool logged) {
  if (conn != conn_) return;
  const bool was_up = conn->up;
  close(conn, why);
  if (!was_up && handshake_failures_++ == 0 && !logged) {
    if (options_.self == SpId::A)
      LOG_WARNING << "peer link: cannot connect to " << conn->remote << " (" << why
                  << "); retrying every " << options_.reconnect_min.count() << " to "
                  << options_.reconnect_max.count() << " ms";
    else
      LOG_WARNING << "peer link: dropped the connection from " << conn->remote
                  << " before its HELLO (" << why << ")";
  }
  std::weak_ptr<char> alive = alive_;
  if (was_up) failPending(PeerError::Disconnected);
  if (alive.expired()) return;  // a done() callback destroyed the link
  if (running_ && options_.self == SpId::A && !conn_) scheduleReconnect();
}

void PeerLink::close(ConnectionPtr conn, const std::string& why) {
  const bool current = conn == conn_;
  if (current) {
    conn_.reset();
    liveness_timer_.cancel();
    pings_.clear();
  }
  asio::error_code ec;
  conn->socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  conn->socket.close(ec);
  conn->handshake.cancel();
  if (conn->up) {
    if (why == "stopped")
      LOG_INFO << "peer link down: " << spName(peerOf(options_.self)) << " at " << conn->remote
               << " (stopped)";
    else
      LOG_WARNING << "peer link down: " << spName(peerOf(options_.self)) << " at " << conn->remote
                  << " (" << why << ")";
  }
  // Before the pending requests fail: a caller retrying on another route sees this one down.
  if (current) publish();
}

// --- requests ---

void PeerLink::request(std::string payload, Millis deadline, Done done) {
  if (!connected()) {
    failSoon(std::move(done), PeerError::NotConnected);
    return;
  }
  deadline = std::max(deadline, Millis{0});
  const uint64_t id = next_message_id_++;
  proto::Envelope envelope;
  envelope.set_type(proto::Envelope::REQUEST);
  envelope.set_message_id(id);
  envelope.set_deadline_ms(static_cast<uint32_t>(std::min<int64_t>(deadline.count(), UINT32_MAX)));
  envelope.set_payload(std::move(payload));
  const ConnectionPtr conn = conn_;
  if (!send(conn, std::move(envelope))) {
    failSoon(std::move(done), PeerError::TooLarge);
    return;
  }
  if (conn != conn_) {  // the queue overflowed and the connection went with it
    failSoon(std::move(done), PeerError::Disconnected);
    return;
  }
  auto timer = std::make_unique<asio::steady_timer>(io_, deadline);
  timer->async_wait([this, alive = std::weak_ptr(alive_), id](const asio::error_code& ec) {
    if (!alive.expired() && !ec) finishRequest(id, Result{false, "", PeerError::Timeout});
  });
  pending_.emplace(id, Pending{std::move(done), std::move(timer)});
}

bool PeerLink::finishRequest(uint64_t id, Result result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  Done done = std::move(it->second.done);
  it->second.timer->cancel();
  pending_.erase(it);
  done(std::move(result));
  return true;
}

void PeerLink::failPending(PeerError error) {
  // Taken out first: a done() callback may make a new request.
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    p.timer->cancel();
    p.done(Result{false, "", error});
  }
}

void PeerLink::failSoon(Done done, PeerError error) {
  // Posted, never called from inside request(): the caller may hold locks or be mid-update.
  asio::post(io_, [done = std::move(done), error] { done(Result{false, "", error}); });
}

}  // namespace dualsp::ipc
