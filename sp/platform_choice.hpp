#pragma once
// Which platform implementations the SP's configuration selects: the floating address
// (netlink or loopback), the fencer (GPIO, chassis power or the harness's power controller)
// and the hardware (Linux, a simulated description, or none).

#include <memory>
#include <string>

#include "platform/hardware.hpp"
#include "platform/platform.hpp"
#include "sp/config.hpp"

namespace dualsp::sp {

std::unique_ptr<platform::FloatingAddress> makeFloating(const Config& c);
std::unique_ptr<platform::Fencer> makeFencer(const Config& c);      // throws when it cannot
std::unique_ptr<platform::Hardware> makeHardware(const Config& c);  // nullptr: none
bool hasCarrier(const std::string& interface);

}  // namespace dualsp::sp
