#pragma once
// The simulated data path: no target, only a record of what the SP was told to export. Each
// apply() rewrites `state_path` (JSON, written atomically by rename) so tests and people see
// the ALUA states and LUN masks an SP would program (docs/STORAGE.md "Data path").

#include <memory>
#include <string>

#include "platform/data_path.hpp"

namespace dualsp::platform {

// `state_path` empty: nothing is written (a bare sim SP); apply() only remembers.
std::unique_ptr<DataPath> makeSimDataPath(std::string state_path);

}  // namespace dualsp::platform
