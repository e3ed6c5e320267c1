#pragma once
// spd: wires the platform, the heartbeat service, the status board and the spweb
// supervisor together, and runs until SIGTERM/SIGINT.

#include <string>

#include "sp/settings.hpp"

namespace dualsp::sp {

// Returns the process exit code. `initial_admin_hash`: the content of
// accounts.initial_password_file as spd_main read and checked it (empty: no such file).
int runDaemon(const Settings& settings, const std::string& settings_path,
              const std::string& self_exe, std::string initial_admin_hash);

}  // namespace dualsp::sp
