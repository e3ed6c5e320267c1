#pragma once
// spd: wires the platform, the heartbeat service, the status board and the spweb
// supervisor together, and runs until SIGTERM/SIGINT.

#include <string>

#include "sp/settings.hpp"

namespace dualsp::sp {

// Returns the process exit code.
int runDaemon(const Settings& settings, const std::string& settings_path,
              const std::string& self_exe);

}  // namespace dualsp::sp
