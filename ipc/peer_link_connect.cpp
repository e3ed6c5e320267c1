// PeerLink: SP-B listens and accepts, SP-A dials with backoff (docs/COMMANDS.md "The peer link").
#include <utility>

#include "ipc/peer_link.hpp"
#include "ipc/peer_link_detail.hpp"
#include "platform/log.hpp"

namespace dualsp::ipc {

using namespace detail;

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
    if (conn_ && conn_->up) {
      // Anyone who can use the peer's address can connect: the link in use stays until this
      // one has answered our challenge (PeerLink::authenticated). A newer candidate wins.
      if (candidate_) close(std::exchange(candidate_, nullptr), "superseded by a newer connection");
      candidate_ = conn;
    } else {
      if (conn_) drop(conn_, "replaced by a new connection from " + conn->remote);
      conn_ = conn;
    }
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
        if (!c || !tracked(c) || c->up) return;
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

}  // namespace dualsp::ipc
