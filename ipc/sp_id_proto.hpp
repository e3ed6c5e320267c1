#pragma once
// SP ids between the shared vocabulary (platform/sp_types.hpp) and the wire (heartbeat.proto).

#include <optional>

#include "platform/sp_types.hpp"
#include "proto/heartbeat.pb.h"

namespace dualsp::ipc {

inline proto::SpId toProto(SpId sp) {
  return sp == SpId::A ? proto::SP_A : proto::SP_B;
}

inline std::optional<SpId> fromProto(proto::SpId sp) {
  if (sp == proto::SP_A) return SpId::A;
  if (sp == proto::SP_B) return SpId::B;
  return std::nullopt;
}

}  // namespace dualsp::ipc
