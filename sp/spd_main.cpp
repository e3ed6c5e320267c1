// spd: the SP daemon. See docs/DESIGN.md "Processes on one SP".
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "platform/log.hpp"
#include "sp/config.hpp"
#include "sp/daemon.hpp"
#include "sp/spd_main.hpp"

namespace {

constexpr const char* kUsage =
    "Usage: spd --config FILE [--check]\n"
    "\n"
    "The DualSP service-processor daemon: heartbeats and election with the peer SP, the\n"
    "floating management address, and supervision of the web server (spweb).\n"
    "\n"
    "  -c, --config FILE  the SP's configuration (JSON; see docs/CONFIG.md)\n"
    "      --check        validate the configuration and exit\n"
    "  -h, --help         show this help\n"
    "  -V, --version      show the firmware version\n";

dualsp::log::Level levelFrom(const std::string& s) {
  using dualsp::log::Level;
  if (s == "debug") return Level::Debug;
  if (s == "notice") return Level::Notice;
  if (s == "warning") return Level::Warning;
  if (s == "error") return Level::Error;
  return Level::Info;
}

}  // namespace

int dualsp::spdMain(int argc, char** argv) {
  static const option kOptions[] = {{"config", required_argument, nullptr, 'c'},
                                    {"check", no_argument, nullptr, 'k'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {nullptr, 0, nullptr, 0}};
  std::string config_path;
  bool check_only = false;
  int opt;
  while ((opt = getopt_long(argc, argv, "c:hV", kOptions, nullptr)) != -1) {
    switch (opt) {
      case 'c':
        config_path = optarg;
        break;
      case 'k':
        check_only = true;
        break;
      case 'h':
        std::cout << kUsage;
        return 0;
      case 'V':
        std::cout << "spd " << DUALSP_FIRMWARE_VERSION << "\n";
        return 0;
      default:
        std::cerr << kUsage;
        return 2;
    }
  }
  if (config_path.empty() || optind != argc) {
    std::cerr << "spd: --config FILE is required\n" << kUsage;
    return 2;
  }

  dualsp::sp::Config config;
  try {
    config = dualsp::sp::loadConfig(config_path);
  } catch (const dualsp::sp::ConfigError& e) {
    std::cerr << "spd: configuration error: " << e.what() << "\n";
    return 2;
  }
  struct stat st {};
  if (stat(config.state_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::cerr << "spd: state directory " << config.state_dir << " (state_dir in " << config_path
              << ") does not exist or is not a directory\n";
    return 2;
  }
  if (access(config.state_dir.c_str(), W_OK) != 0) {
    std::cerr << "spd: state directory " << config.state_dir
              << " is not writable: " << strerror(errno) << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << "spd: " << config_path << " is valid\n";
    return 0;
  }
  std::string log_dir = config.state_dir + "/log";
  mkdir(log_dir.c_str(), 0750);
  std::string sp = std::string(dualsp::spName(config.sp));
  dualsp::log::init("spd", sp, log_dir + "/spd.log", levelFrom(config.log_level));

  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string self_exe = n > 0 ? std::string(exe, static_cast<size_t>(n)) : argv[0];
  // In the firmware's multi-call binary /proc/self/exe is "dualsp": spd restarts itself and
  // finds spweb through the "spd" link beside it, which runs as spd.
  if (std::string spd_link = self_exe.substr(0, self_exe.rfind('/') + 1) + "spd";
      self_exe.ends_with("/dualsp") && access(spd_link.c_str(), X_OK) == 0) {
    self_exe = spd_link;
  }
  return dualsp::sp::runDaemon(config, config_path, self_exe);
}
