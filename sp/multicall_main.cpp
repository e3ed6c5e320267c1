// The firmware's one binary (docs/FIRMWARE.md): spd and spweb statically linked share one
// copy of the C and C++ runtimes and protobuf, which is most of each binary's size. It runs
// as the program it is called by: /usr/sbin/spd and /usr/sbin/spweb are links to it, and
// `dualsp spd ...` works too.
#include <cstring>
#include <iostream>
#include <optional>
#include <string_view>

#include "sp/spd_main.hpp"
#include "webserver/spweb_main.hpp"

namespace {

std::optional<int> dispatch(std::string_view name, int argc, char** argv) {
  if (name == "spd") return dualsp::spdMain(argc, argv);
  if (name == "spweb") return dualsp::spwebMain(argc, argv);
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  const char* slash = argc > 0 ? std::strrchr(argv[0], '/') : nullptr;
  std::string_view name = argc > 0 ? (slash ? slash + 1 : argv[0]) : "";
  if (auto rc = dispatch(name, argc, argv)) return *rc;
  if (argc > 1) {
    if (auto rc = dispatch(argv[1], argc - 1, argv + 1)) return *rc;
  }
  std::cerr << "usage: dualsp spd|spweb [ARGS...] (or call it through a link named spd or "
               "spweb)\n";
  return 2;
}
