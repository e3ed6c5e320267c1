#pragma once
// Fencing on a real board: the peer SP's reset/power line is a GPIO this SP drives.

#include <memory>
#include <string>

#include "platform/platform.hpp"

namespace dualsp::platform {

// `value_path` is the sysfs value file of the line, e.g. /sys/class/gpio/gpio17/value.
// Board bring-up exports the line as an output, with active_low set so that "1" means
// "peer held in reset / powered off" whatever the line's electrical polarity.
// fencePeer() writes "1", fsyncs, and reads the value back; ok means the line is asserted.
std::unique_ptr<Fencer> makeGpioFencer(std::string value_path);

}  // namespace dualsp::platform
