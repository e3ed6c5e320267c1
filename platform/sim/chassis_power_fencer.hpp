#pragma once
// Fencing in a QEMU chassis: the harness (tools/qemu-pair) plays the chassis power
// controller and watches the power register in the midplane window (midplane_segment.hpp).
// This SP asks for its peer to be powered off there and waits for the chassis to confirm.

#include <memory>
#include <string>

#include "platform/platform.hpp"
#include "platform/sp_types.hpp"

namespace dualsp::platform {

// `midplane` is the midplane window's name or path (as for MidplaneSegment), `self` this
// SP. fencePeer(timeout) succeeds once the chassis reports the peer powered off, and fails
// with a message naming the window when the chassis has not answered by the timeout.
// Throws std::runtime_error when the window cannot be mapped.
std::unique_ptr<Fencer> makeChassisPowerFencer(const std::string& midplane, SpId self);

}  // namespace dualsp::platform
