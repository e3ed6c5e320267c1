#include "heartbeat/udp_path.hpp"

#include "heartbeat/heartbeat_frame.hpp"
#include "platform/log.hpp"

namespace dualsp::heartbeat {

UdpPath::UdpPath(asio::io_context& io, Path which, UdpPathOptions options, OnBeat on_beat)
    : io_(io),
      which_(which),
      options_(std::move(options)),
      on_beat_(std::move(on_beat)),
      socket_(io),
      rebind_(io) {
  peer_ = asio::ip::udp::endpoint(asio::ip::make_address_v4(options_.peer_address),
                                  static_cast<uint16_t>(options_.port));
}

void UdpPath::start() {
  bind();
}

void UdpPath::bind() {
  asio::error_code ec;
  asio::ip::udp::endpoint local(asio::ip::make_address_v4(options_.local_address),
                                static_cast<uint16_t>(options_.port));
  socket_.open(asio::ip::udp::v4(), ec);
  if (!ec) socket_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) socket_.bind(local, ec);
  // A beat that cannot go now is dropped, never waited for: a full send buffer must not hold
  // the heartbeat thread (and so the midplane's beats and every judgement) up.
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    if (rebind_attempts_++ == 0)
      LOG_WARNING << "heartbeat " << pathName(which_) << ": cannot bind " << options_.local_address
                  << ":" << options_.port << " (" << ec.message() << "); retrying every 500 ms";
    socket_.close(ec);
    rebind_.expires_after(Millis{500});
    rebind_.async_wait([this](const asio::error_code& e) {
      if (!e) bind();
    });
    return;
  }
  bound_ = true;
  LOG_INFO << "heartbeat " << pathName(which_) << ": " << options_.local_address << ":"
           << options_.port << " -> " << options_.peer_address << ":" << options_.port << " every "
           << options_.interval.count() << " ms";
  receive();
}

void UdpPath::receive() {
  socket_.async_receive_from(
      asio::buffer(buffer_), from_, [this](const asio::error_code& ec, size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          FrameProblem problem = FrameProblem::None;
          std::optional<proto::Heartbeat> beat =
              decodeHeartbeatFrame(std::string_view(buffer_.data(), n), options_.key, problem);
          if (problem == FrameProblem::BadMac) {
            if (bad_mac_++ % 1000 == 0)
              LOG_WARNING << "heartbeat " << pathName(which_) << ": dropped a frame with a bad or"
                          << " missing HMAC from " << from_.address().to_string() << " ("
                          << bad_mac_ << " so far)";
          } else if (beat && from_.address() == peer_.address()) {
            ++received_;
            on_beat_(which_, *beat);
          } else if (malformed_++ % 1000 == 0) {
            LOG_WARNING << "heartbeat " << pathName(which_) << ": dropped a malformed or foreign"
                        << " frame from " << from_.address().to_string() << " (" << malformed_
                        << " so far)";
          }
        }
        receive();
      });
}

void UdpPath::send(const std::string& frame) {
  if (!bound_) return;
  asio::error_code ec;
  const std::string signed_frame = signHeartbeatFrame(frame, options_.key);
  socket_.send_to(asio::buffer(signed_frame), peer_, 0, ec);
  if (ec && send_errors_++ % 1000 == 0)
    LOG_WARNING << "heartbeat " << pathName(which_) << ": send to " << options_.peer_address
                << " failed: " << ec.message() << " (" << send_errors_ << " so far)";
}

}  // namespace dualsp::heartbeat
