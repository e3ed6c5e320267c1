// spweb: the SP's Redfish web server. See docs/WEB.md and spweb_main.cpp.
#include "webserver/spweb_main.hpp"

int main(int argc, char** argv) {
  return dualsp::spwebMain(argc, argv);
}
