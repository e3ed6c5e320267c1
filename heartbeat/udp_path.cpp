#include "heartbeat/udp_path.hpp"

#include "ipc/frame_codec.hpp"
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
        if (!ec && !authentic(n)) {
          if (bad_mac_++ % 1000 == 0)
            LOG_WARNING << "heartbeat " << pathName(which_) << ": dropped a frame with a bad or"
                        << " missing HMAC from " << from_.address().to_string() << " (" << bad_mac_
                        << " so far)";
        } else if (!ec) {
          if (!options_.key.empty()) n -= ipc::kFrameMacSize;
          proto::Heartbeat beat;
          if (from_.address() == peer_.address() && beat.ParseFromArray(buffer_.data(), n)) {
            ++received_;
            on_beat_(which_, beat);
          } else if (malformed_++ % 1000 == 0) {
            LOG_WARNING << "heartbeat " << pathName(which_) << ": dropped a malformed or foreign"
                        << " frame from " << from_.address().to_string() << " (" << malformed_
                        << " so far)";
          }
        }
        receive();
      });
}

bool UdpPath::authentic(size_t n) const {
  if (options_.key.empty()) return true;
  if (n < ipc::kFrameMacSize) return false;
  std::string_view body(buffer_.data(), n - ipc::kFrameMacSize);
  std::string_view mac(buffer_.data() + body.size(), ipc::kFrameMacSize);
  return ipc::macEquals(mac, ipc::hmacSha256(options_.key, body));
}

void UdpPath::send(const std::string& frame) {
  if (!bound_) return;
  asio::error_code ec;
  std::string signed_frame = frame;
  if (!options_.key.empty()) signed_frame += ipc::hmacSha256(options_.key, frame);
  socket_.send_to(asio::buffer(signed_frame), peer_, 0, ec);
  if (ec && send_errors_++ % 1000 == 0)
    LOG_WARNING << "heartbeat " << pathName(which_) << ": send to " << options_.peer_address
                << " failed: " << ec.message() << " (" << send_errors_ << " so far)";
}

}  // namespace dualsp::heartbeat
