#include "tools/spctl/client/secrets.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dualsp::spctl {

std::string secretFileProblem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  if (st.st_uid != ::geteuid()) return path + " is not owned by this user";
  if ((st.st_mode & 077) != 0) {
    std::ostringstream mode;
    mode << std::oct << (st.st_mode & 0777);
    return path + " has mode " + mode.str() + ": others may read it (chmod 600)";
  }
  return {};
}

std::optional<Credentials> readCredentialsFile(const std::string& path, std::string& error) {
  if (std::string problem = secretFileProblem(path); !problem.empty()) {
    error = "credentials file refused: " + problem;
    return std::nullopt;
  }
  std::ifstream in(path);
  if (!in) {
    error = "cannot read the credentials file " + path;
    return std::nullopt;
  }
  Credentials c;
  bool has_password = false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    if (key == "user") c.user = line.substr(eq + 1);
    if (key == "password") {
      c.password = line.substr(eq + 1);
      has_password = true;
    }
  }
  if (!has_password) {
    error = "the credentials file " + path + " has no password= line";
    return std::nullopt;
  }
  return c;
}

namespace {

std::string safeName(const std::string& s) {
  std::string out;
  for (char ch : s)
    out += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-') ? ch : '_';
  return out;
}

}  // namespace

TokenCache::TokenCache(std::string directory, const std::string& address, const std::string& user)
    : directory_(std::move(directory)),
      path_(directory_.empty()
                ? std::string()
                : directory_ + "/" + safeName(address) + "@" + safeName(user) + ".session") {}

std::string TokenCache::defaultDirectory() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/spctl";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/spctl";
  return {};
}

std::optional<TokenCache::Entry> TokenCache::load(std::string& warning) const {
  if (path_.empty() || ::access(path_.c_str(), F_OK) != 0) return std::nullopt;
  if (std::string problem = secretFileProblem(path_); !problem.empty()) {
    warning = "session cache ignored: " + problem;
    return std::nullopt;
  }
  std::ifstream in(path_);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("token") || !j["token"].is_string()) {
    warning = "session cache " + path_ + " is unreadable; logging in again";
    return std::nullopt;
  }
  return Entry{j["token"].get<std::string>(), j.value("session", std::string())};
}

std::string TokenCache::store(const Entry& entry) const {
  if (path_.empty()) return "no cache directory (set XDG_CACHE_HOME or HOME)";
  // Each missing level made 0700 (the parent of spctl/ may be ~/.cache itself).
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = directory_.find('/', pos + 1);
    const std::string part = directory_.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot make " + part + ": " + std::strerror(errno);
  }
  struct stat st {};
  if (::stat(directory_.c_str(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 077))
    return directory_ + " is not a directory only this user can use (chmod 700)";
  const std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot write " + tmp + ": " + std::strerror(errno);
  const std::string text =
      nlohmann::json{{"token", entry.token}, {"session", entry.session}}.dump() + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool closed = ::close(fd) == 0;
  if (!written || !closed || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return "cannot write " + path_ + ": " + why;
  }
  return {};
}

void TokenCache::remove() const {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace dualsp::spctl
