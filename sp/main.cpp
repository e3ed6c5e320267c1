// spd: the SP daemon. See docs/DESIGN.md "Processes on one SP" and spd_main.cpp.
#include "sp/spd_main.hpp"

int main(int argc, char** argv) {
  return dualsp::spdMain(argc, argv);
}
