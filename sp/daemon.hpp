#pragma once
// spd: wires the platform, the heartbeat service, the status board and the spweb
// supervisor together, and runs until SIGTERM/SIGINT.

#include <string>

#include "sp/config.hpp"

namespace dualsp::sp {

// Returns the process exit code.
int runDaemon(const Config& config, const std::string& config_path, const std::string& self_exe);

}  // namespace dualsp::sp
