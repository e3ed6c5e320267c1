#include "platform/data_path.hpp"

namespace dualsp::platform {

const char* aluaStateName(AluaState state) {
  switch (state) {
    case AluaState::Optimized:
      return "active/optimized";
    case AluaState::NonOptimized:
      return "active/non-optimized";
    case AluaState::Transitioning:
      return "transitioning";
    case AluaState::Unavailable:
      return "unavailable";
  }
  return "unavailable";
}

bool operator==(const DataPathVolume& a, const DataPathVolume& b) {
  return a.id == b.id && a.wwn == b.wwn && a.capacity_bytes == b.capacity_bytes &&
         a.drives == b.drives && a.state == b.state && a.extents == b.extents;
}
bool operator==(const DataPathLun& a, const DataPathLun& b) {
  return a.lun == b.lun && a.volume == b.volume && a.read_only == b.read_only && a.ports == b.ports;
}
bool operator==(const DataPathAcl& a, const DataPathAcl& b) {
  return a.protocol == b.protocol && a.initiator == b.initiator && a.luns == b.luns;
}
bool operator==(const DataPathPort& a, const DataPathPort& b) {
  return a.id == b.id && a.protocol == b.protocol && a.identifier == b.identifier &&
         a.address == b.address;
}
bool DataPathState::operator==(const DataPathState& o) const {
  return sp == o.sp && ports == o.ports && volumes == o.volumes && acls == o.acls;
}

}  // namespace dualsp::platform
