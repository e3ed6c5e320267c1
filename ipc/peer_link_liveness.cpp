// PeerLink: pings, liveness of the connection and what the link publishes about it
// (docs/COMMANDS.md "The peer link").
#include "ipc/peer_link.hpp"
#include "ipc/peer_link_detail.hpp"
#include "platform/log.hpp"

namespace dualsp::ipc {

using namespace detail;

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

}  // namespace dualsp::ipc
