#include "platform/loopback/loopback_address.hpp"

#include <array>
#include <asio.hpp>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/log.hpp"

namespace dualsp::platform {
namespace {

using asio::ip::tcp;

// Relay buffer per direction; the web server's responses are small.
constexpr size_t kRelayBufferSize = 16 * 1024;
// Back-off after a failed accept (e.g. EMFILE), so the relay thread does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

// One client connection and its connection to the web server. Lives as long as a handler
// holds it; Relay::stop() closes it explicitly.
class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket client)
      : client_(std::move(client)), upstream_(client_.get_executor()) {}

  void start(const tcp::endpoint& target) {
    upstream_.async_connect(target, [self = shared_from_this(), target](asio::error_code ec) {
      if (ec) {
        LOG_DEBUG << "loopback relay: cannot reach " << target << ": " << ec.message();
        self->close();
        return;
      }
      asio::error_code ignored;
      self->client_.set_option(tcp::no_delay(true), ignored);
      self->upstream_.set_option(tcp::no_delay(true), ignored);
      self->pump(self->client_, self->upstream_, self->to_upstream_);
      self->pump(self->upstream_, self->client_, self->to_client_);
    });
  }

  void close() {
    asio::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
  }

 private:
  struct Direction {
    std::array<char, kRelayBufferSize> buffer;
    bool finished = false;  // the source sent FIN and it was passed on
  };

  void pump(tcp::socket& from, tcp::socket& to, Direction& dir) {
    from.async_read_some(asio::buffer(dir.buffer), [self = shared_from_this(), &from, &to, &dir](
                                                       asio::error_code ec, size_t n) {
      if (ec == asio::error::eof) {
        // Pass the half-close on, so request/response protocols that rely on it work.
        asio::error_code ignored;
        to.shutdown(tcp::socket::shutdown_send, ignored);
        dir.finished = true;
        if (self->to_upstream_.finished && self->to_client_.finished) self->close();
        return;
      }
      if (ec) {
        self->close();
        return;
      }
      asio::async_write(to, asio::buffer(dir.buffer.data(), n),
                        [self, &from, &to, &dir](asio::error_code wec, size_t) {
                          if (wec) {
                            self->close();
                            return;
                          }
                          self->pump(from, to, dir);
                        });
    });
  }

  tcp::socket client_;
  tcp::socket upstream_;
  Direction to_upstream_;
  Direction to_client_;
};

// The listener and its io_context thread; exists only while the address is held.
class Relay {
 public:
  explicit Relay(tcp::endpoint target)
      : io_(1), acceptor_(io_), retry_timer_(io_), target_(target) {}
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;
  ~Relay() { stop(); }

  asio::error_code listen(const tcp::endpoint& at) {
    asio::error_code ec;
    acceptor_.open(at.protocol(), ec);
    // Lets the new active SP bind while old relayed connections sit in TIME_WAIT; it does
    // not let two listeners share the address, which is what keeps the holder unique.
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(at, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      asio::error_code ignored;
      acceptor_.close(ignored);
    }
    return ec;
  }

  void start() {
    accept();
    thread_ = std::thread([this] { run(); });
  }

  // Stops the thread first, so closing the sockets below races with no handler.
  void stop() {
    if (!thread_.joinable()) return;
    io_.stop();
    thread_.join();
    asio::error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : sessions_) {
      if (auto session = weak.lock()) session->close();
    }
    sessions_.clear();
  }

 private:
  void run() {
    try {
      io_.run();
    } catch (const std::exception& e) {
      LOG_ERROR << "loopback relay stopped: " << e.what();
    }
  }

  void accept() {
    acceptor_.async_accept([this](asio::error_code ec, tcp::socket client) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        LOG_WARNING << "loopback relay: accept failed: " << ec.message();
        retry_timer_.expires_after(kAcceptRetryDelay);
        retry_timer_.async_wait([this](asio::error_code tec) {
          if (!tec) accept();
        });
        return;
      }
      auto session = std::make_shared<Session>(std::move(client));
      std::erase_if(sessions_, [](const std::weak_ptr<Session>& s) { return s.expired(); });
      sessions_.push_back(session);
      session->start(target_);
      accept();
    });
  }

  asio::io_context io_;  // first member: destroyed last, after every socket
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  tcp::endpoint target_;
  std::vector<std::weak_ptr<Session>> sessions_;  // touched only on the relay thread, or after
  std::thread thread_;
};

class LoopbackFloatingAddress final : public FloatingAddress {
 public:
  LoopbackFloatingAddress(std::string address, int port, std::string target_address,
                          int target_port)
      : address_(std::move(address)),
        port_(port),
        target_address_(std::move(target_address)),
        target_port_(target_port) {}

  ~LoopbackFloatingAddress() override { remove(); }

  Status add() override {
    std::lock_guard lock(mutex_);
    if (relay_) return Status::success();
    asio::error_code ec;
    auto listen_ip = asio::ip::make_address(address_, ec);
    if (ec) return Status::failure("invalid address '" + address_ + "'");
    auto target_ip = asio::ip::make_address(target_address_, ec);
    if (ec) return Status::failure("invalid relay target '" + target_address_ + "'");
    if (!validPort(port_) || !validPort(target_port_)) {
      return Status::failure("invalid port in " + describe());
    }

    auto relay = std::make_unique<Relay>(
        tcp::endpoint(target_ip, static_cast<unsigned short>(target_port_)));
    ec = relay->listen(tcp::endpoint(listen_ip, static_cast<unsigned short>(port_)));
    if (ec == asio::error::address_in_use) {
      return Status::failure("cannot listen on " + endpointText() + ": " + ec.message() +
                             " (EADDRINUSE: the other SP still holds it)");
    }
    if (ec) return Status::failure("cannot listen on " + endpointText() + ": " + ec.message());
    relay->start();
    relay_ = std::move(relay);
    return Status::success();
  }

  Status remove() override {
    // Stop under the lock: held() must not say false while the listener is still open.
    std::lock_guard lock(mutex_);
    if (relay_) relay_->stop();
    relay_.reset();
    return Status::success();
  }

  bool held() override {
    std::lock_guard lock(mutex_);
    return relay_ != nullptr;
  }

  // Nothing caches a loopback address's owner.
  Status announce() override { return Status::success(); }

  std::string describe() const override {
    return endpointText() + " relaying to " + target_address_ + ":" + std::to_string(target_port_);
  }

 private:
  static bool validPort(int port) { return port > 0 && port < 65536; }
  std::string endpointText() const { return address_ + ":" + std::to_string(port_); }

  std::string address_;
  int port_;
  std::string target_address_;
  int target_port_;
  std::mutex mutex_;
  std::unique_ptr<Relay> relay_;
};

}  // namespace

std::unique_ptr<FloatingAddress> makeLoopbackFloatingAddress(std::string address, int port,
                                                             std::string target_address,
                                                             int target_port) {
  return std::make_unique<LoopbackFloatingAddress>(std::move(address), port,
                                                   std::move(target_address), target_port);
}

}  // namespace dualsp::platform
