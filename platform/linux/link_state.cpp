#include "platform/linux/link_state.hpp"

#include <fstream>

namespace dualsp::platform {

bool linkHasCarrier(const std::string& interface, const std::string& sysfs_root) {
  // Reading carrier of an interface that is down fails with EINVAL: no carrier either.
  std::ifstream in(sysfs_root + "/class/net/" + interface + "/carrier");
  char c = 0;
  return in.get(c) && c == '1';
}

}  // namespace dualsp::platform
