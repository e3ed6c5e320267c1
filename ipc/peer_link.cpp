#include "ipc/peer_link.hpp"
#include "ipc/peer_link_detail.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>

#include "platform/log.hpp"

namespace dualsp::ipc {

using namespace detail;

namespace {

// A peer that stops reading must not make our queue grow without bound.
constexpr size_t kMaxQueuedBytes = size_t{16} << 20;

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
  if (candidate_) close(std::exchange(candidate_, nullptr), "stopped", /*stopping=*/true);
  if (conn_) close(conn_, "stopped", /*stopping=*/true);
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
  if (tracked(conn)) read(std::move(conn));
}

void PeerLink::read(ConnectionPtr conn) {
  auto& socket = conn->socket;
  auto& buffer = conn->buffer;
  socket.async_read_some(asio::buffer(buffer),
                         [this, alive = std::weak_ptr(alive_), conn = std::move(conn)](
                             const asio::error_code& ec, size_t n) {
                           if (alive.expired() || !tracked(conn)) return;
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
    if (alive.expired() || !tracked(conn)) return;
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
      if (conn->hello) {
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
      if (!conn->hello) {
        refuse(conn, RefuseReason::Unexpected,
               std::string(envelope.type() == proto::Envelope::REQUEST ? "REQUEST" : "RESPONSE") +
                   " before HELLO");
        return;
      }
      if (!conn->up) {
        // The first frame after the HELLO is MACed with our fresh nonce: the answer to our
        // challenge. The peer's proof names its own nonce again (both nonces covered); an
        // older peer's first ping names none and proves as much.
        if (!envelope.nonce().empty() && envelope.nonce() != conn->peer_nonce) {
          refuse(conn, RefuseReason::Unexpected, "a proof naming another nonce than its HELLO");
          return;
        }
        std::weak_ptr<char> alive = alive_;
        authenticated(conn);
        if (alive.expired() || !tracked(conn)) return;
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
  // A HELLO alone proves nothing (one recorded earlier replays as well as the peer sends it):
  // the connection is up only once the peer has MACed a frame with our fresh nonce.
  conn->peer_nonce = envelope.nonce();
  conn->peer_version = envelope.version();
  conn->hello = true;
  // Our proof: a ping (any firmware answers one), MACed with the peer's nonce, naming ours.
  const uint64_t id = next_message_id_++;
  proto::Envelope proof;
  proof.set_type(proto::Envelope::REQUEST);
  proof.set_message_id(id);
  proof.set_ping(true);
  proof.set_nonce(conn->nonce);
  proof.set_deadline_ms(static_cast<uint32_t>(options_.dead_after.count()));
  pings_.emplace(id, SteadyClock::now());  // its answer is an RTT sample like any pong
  send(conn, std::move(proof), false);
}

void PeerLink::authenticated(const ConnectionPtr& conn) {
  if (conn == candidate_) {
    candidate_.reset();
    if (ConnectionPtr old = conn_) {
      std::weak_ptr<char> alive = alive_;
      // The peer's spd restarted, or its old connection is half-open: the newest one wins.
      drop(old, "replaced by a new connection from " + conn->remote);
      if (alive.expired() || !running_) return;
    }
    conn_ = conn;
  }
  conn->up = true;
  conn->handshake.cancel();
  if (stats_.connections++ > 0) ++stats_.reconnects;
  connections_now_.store(stats_.connections, std::memory_order_relaxed);
  backoff_ = options_.reconnect_min;
  handshake_failures_ = 0;
  LOG_INFO << "peer link up: " << spName(peerOf(options_.self)) << " at " << conn->remote
           << " (version " << conn->peer_version << ")";
  next_ping_ = SteadyClock::now();  // the first RTT sample at once
  heard(conn);
  if (conn == conn_) checkLiveness();
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
                      if (alive.expired() || !tracked(conn)) return;
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
  if (conn == candidate_) {
    // The connection in use stays: only an authenticated one replaces it.
    candidate_.reset();
    close(conn, why);
    if (!logged && worthLogging(++candidate_failures_))
      LOG_WARNING << "peer link: dropped a new connection from " << conn->remote
                  << " before it authenticated (" << why << "); the link in use stays ["
                  << candidate_failures_ << " so far]";
    return;
  }
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

void PeerLink::close(ConnectionPtr conn, const std::string& why, bool stopping) {
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
    if (stopping)
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
