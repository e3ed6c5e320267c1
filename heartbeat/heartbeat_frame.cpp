#include "heartbeat/heartbeat_frame.hpp"

#include "ipc/frame_codec.hpp"
#include "ipc/sp_id_proto.hpp"

namespace dualsp::heartbeat {

std::string signHeartbeatFrame(const std::string& frame, const std::string& key) {
  if (key.empty()) return frame;
  return frame + ipc::hmacSha256(key, frame);
}

std::optional<proto::Heartbeat> decodeHeartbeatFrame(std::string_view datagram,
                                                     const std::string& key,
                                                     FrameProblem& problem) {
  problem = FrameProblem::None;
  std::string_view body = datagram;
  if (!key.empty()) {
    if (datagram.size() < ipc::kFrameMacSize) {
      problem = FrameProblem::BadMac;
      return std::nullopt;
    }
    body = datagram.substr(0, datagram.size() - ipc::kFrameMacSize);
    if (!ipc::macEquals(datagram.substr(body.size()), ipc::hmacSha256(key, body))) {
      problem = FrameProblem::BadMac;
      return std::nullopt;
    }
  }
  proto::Heartbeat beat;
  if (!beat.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    problem = FrameProblem::Malformed;
    return std::nullopt;
  }
  return beat;
}

std::optional<Beat> beatOfFrame(const proto::Heartbeat& f, const std::string& array_id, SpId self) {
  auto sp = ipc::fromProto(f.sp());
  if (f.array_id() != array_id || !sp || *sp == self) return std::nullopt;
  // Open proto3 enums: a value outside the known ones, negative ones included, is refused
  // (a negative health cast to Health would read as healthy).
  if (f.role() < proto::ROLE_STARTING || f.role() > proto::ROLE_ACTIVE ||
      f.health() < proto::HEALTH_OK || f.health() > proto::HEALTH_CRITICAL)
    return std::nullopt;
  Beat beat{*sp,       static_cast<Role>(f.role()), static_cast<Health>(f.health()),
            f.epoch(), bootNonce(f.boot_id()),      f.sent_us()};
  beat.yielding = f.yielding();
  beat.can_serve = !f.no_carrier();
  beat.history = History{f.history_epoch(), f.history_seq(), f.last_event_id()};
  beat.heard_boot = f.heard_boot();
  beat.boot_counter = f.boot_counter();
  return beat;
}

}  // namespace dualsp::heartbeat
