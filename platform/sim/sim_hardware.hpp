#pragma once
// The hardware of a simulated SP: a JSON hardware description (docs/HARDWARE-SIM.md) that the
// two-SP harness writes per SP and tests edit to change a reading or break a part.

#include <memory>
#include <string>

#include "platform/hardware.hpp"

namespace dualsp::platform {

// Reads `description_path` at construction and again whenever its stat (inode, size, mtime,
// ctime) changes: one stat(2) per sensors()/inventory()/faults()/drives()/performance() call. A
// missing, unreadable or malformed file keeps the last good content (empty lists and no
// performance figures before the first one) and sets lastError() to a text naming the file and
// the problem. Unknown keys are ignored.
std::unique_ptr<Hardware> makeSimHardware(std::string description_path);

}  // namespace dualsp::platform
