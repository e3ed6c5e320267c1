#pragma once
// What spd takes from the machine: the platform implementations the SP's configuration
// selects (the floating address, netlink or loopback; the fencer, GPIO, chassis power or the
// harness's power controller; the hardware, Linux, a simulated description or none), the
// carrier of a link, a fresh boot id and the wall clock.

#include <cstdint>
#include <memory>
#include <string>

#include "platform/data_path.hpp"
#include "platform/hardware.hpp"
#include "platform/platform.hpp"
#include "sp/settings.hpp"

namespace dualsp::sp {

std::unique_ptr<platform::FloatingAddress> makeFloating(const Settings& c);
std::unique_ptr<platform::Fencer> makeFencer(const Settings& c);      // throws when it cannot
std::unique_ptr<platform::Hardware> makeHardware(const Settings& c);  // nullptr: none
// The sim records the data path in <state_dir>/datapath.json; Linux has no target back end
// yet (issue 16 brings LIO): it applies nothing and says so once.
std::unique_ptr<platform::DataPath> makeDataPath(const Settings& c);
bool hasCarrier(const std::string& interface);
std::string newBootId();  // a random UUID from the kernel
int64_t wallMillis();     // ms since 1970

}  // namespace dualsp::sp
