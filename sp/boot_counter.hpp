#pragma once
// The SP's boot counter: one more at every start of spd, kept across reboots in
// <state_dir>/boot_counter (written with writeFileDurably before the first heartbeat). Every
// beat carries it; the peer refuses beats of a boot older than the newest it heard, so a
// beat captured during an earlier boot, still validly signed, can never be replayed
// (docs/SECURITY.md "Heartbeats, peer link and local IPC").

#include <cstdint>
#include <string>

#include "platform/platform.hpp"

namespace dualsp::sp {

// Reads the last boot's counter (none: 0), stores it + 1 durably and returns that in
// `counter`. A corrupt or unwritable file is an error naming the file: a boot that could not
// record its counter might repeat one the peer already heard.
platform::Status advanceBootCounter(const std::string& state_dir, uint64_t& counter);

}  // namespace dualsp::sp
