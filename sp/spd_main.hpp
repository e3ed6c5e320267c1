#pragma once
// spd's entry point, shared by the spd executable (main.cpp) and the firmware's multi-call
// binary (multicall_main.cpp).

namespace dualsp {
int spdMain(int argc, char** argv);
}  // namespace dualsp
