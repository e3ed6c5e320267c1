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
#include "sp/account_service.hpp"
#include "sp/daemon.hpp"
#include "sp/daemon_options.hpp"
#include "sp/settings.hpp"
#include "sp/spd_main.hpp"

#include <sodium.h>

namespace {

constexpr const char* kUsage =
    "Usage: spd --settings FILE [--check]\n"
    "       spd --hash-password < PASSWORD\n"
    "\n"
    "The DualSP service-processor daemon: heartbeats and election with the peer SP, the\n"
    "floating management address, and supervision of the web server (spweb).\n"
    "\n"
    "  -s, --settings FILE  the SP's own start-up settings (JSON; see docs/SETTINGS.md);\n"
    "                       -c/--config is the same option under its former name\n"
    "      --check          validate the settings and exit\n"
    "      --hash-password  read a password (one line) on standard input, print its Argon2id\n"
    "                       hash: the content of accounts.initial_password_file\n"
    "  -h, --help           show this help\n"
    "  -V, --version        show the firmware version\n";

dualsp::log::Level levelFrom(const std::string& s) {
  using dualsp::log::Level;
  if (s == "debug") return Level::Debug;
  if (s == "notice") return Level::Notice;
  if (s == "warning") return Level::Warning;
  if (s == "error") return Level::Error;
  return Level::Info;
}

// spd --hash-password: the password from standard input (never an argument: `ps` shows those).
int hashPasswordFromStdin() {
  std::string password;
  if (!std::getline(std::cin, password)) {
    std::cerr << "spd: --hash-password reads the password on standard input\n";
    return 2;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() < dualsp::sp::kMinPasswordLength ||
      password.size() > dualsp::sp::kMaxPasswordLength) {
    std::cerr << "spd: a password has " << dualsp::sp::kMinPasswordLength << " to "
              << dualsp::sp::kMaxPasswordLength << " characters\n";
    return 2;
  }
  if (sodium_init() < 0) {
    std::cerr << "spd: libsodium cannot start\n";
    return 1;
  }
  try {
    std::cout << dualsp::sp::hashPassword(password) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "spd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int dualsp::spdMain(int argc, char** argv) {
  static const option kOptions[] = {{"settings", required_argument, nullptr, 's'},
                                    {"config", required_argument, nullptr, 's'},
                                    {"check", no_argument, nullptr, 'k'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"hash-password", no_argument, nullptr, 'P'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {nullptr, 0, nullptr, 0}};
  std::string settings_path;
  bool check_only = false;
  int opt;
  while ((opt = getopt_long(argc, argv, "s:c:hV", kOptions, nullptr)) != -1) {
    switch (opt) {
      case 's':
      case 'c':
        settings_path = optarg;
        break;
      case 'k':
        check_only = true;
        break;
      case 'P':
        return hashPasswordFromStdin();
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
  if (settings_path.empty() || optind != argc) {
    std::cerr << "spd: --settings FILE is required\n" << kUsage;
    return 2;
  }

  dualsp::sp::Settings settings;
  try {
    settings = dualsp::sp::loadSettings(settings_path);
  } catch (const dualsp::sp::SettingsError& e) {
    std::cerr << "spd: settings error: " << e.what() << "\n";
    return 2;
  }
  struct stat st {};
  if (stat(settings.state_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::cerr << "spd: state directory " << settings.state_dir << " (state_dir in " << settings_path
              << ") does not exist or is not a directory\n";
    return 2;
  }
  if (access(settings.state_dir.c_str(), W_OK) != 0) {
    std::cerr << "spd: state directory " << settings.state_dir
              << " is not writable: " << strerror(errno) << "\n";
    return 2;
  }
  // Without the pair key nothing the peer says can be believed: no election at all.
  if (std::string key_error;
      dualsp::sp::readPairKey(settings.peer_link.key_file, key_error).empty()) {
    std::cerr << "spd: settings error: " << key_error
              << "; spd does not run an election without the pair key\n";
    return 2;
  }
  // A first administrator's hash anybody could read or replace is no secret: refuse it. Read
  // once, here; the account service gets it from runDaemon.
  std::string initial_admin_hash;
  try {
    initial_admin_hash =
        dualsp::sp::readInitialPasswordHash(settings.accounts.initial_password_file);
  } catch (const std::exception& e) {
    std::cerr << "spd: settings error: accounts.initial_password_file: " << e.what() << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << "spd: " << settings_path << " is valid\n";
    return 0;
  }
  std::string log_dir = settings.state_dir + "/log";
  mkdir(log_dir.c_str(), 0750);
  std::string sp = std::string(dualsp::spName(settings.sp));
  dualsp::log::init("spd", sp, log_dir + "/spd.log", levelFrom(settings.log_level));

  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string self_exe = n > 0 ? std::string(exe, static_cast<size_t>(n)) : argv[0];
  // In the firmware's multi-call binary /proc/self/exe is "dualsp": spd restarts itself and
  // finds spweb through the "spd" link beside it, which runs as spd.
  if (std::string spd_link = self_exe.substr(0, self_exe.rfind('/') + 1) + "spd";
      self_exe.ends_with("/dualsp") && access(spd_link.c_str(), X_OK) == 0) {
    self_exe = spd_link;
  }
  return dualsp::sp::runDaemon(settings, settings_path, self_exe, std::move(initial_admin_hash));
}
