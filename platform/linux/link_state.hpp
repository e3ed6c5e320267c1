#pragma once
// Whether a network interface has carrier (a cable, a live switch port), from sysfs.

#include <string>

namespace dualsp::platform {

// False when the interface has no carrier, is administratively down or does not exist.
bool linkHasCarrier(const std::string& interface, const std::string& sysfs_root = "/sys");

}  // namespace dualsp::platform
