#pragma once
// spweb's entry point, shared by the spweb executable (main.cpp) and the firmware's
// multi-call binary (sp/multicall_main.cpp).

namespace dualsp {
int spwebMain(int argc, char** argv);
}  // namespace dualsp
