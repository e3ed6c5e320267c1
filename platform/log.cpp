#include "platform/log.hpp"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "platform/text.hpp"

namespace dualsp::log {
namespace {

struct State {
  std::string prefix = "dualsp";  // "SP-A spd[1234]"
  int fd = -1;
  Level minimum = Level::Info;
};

State& state() {
  static State s;
  return s;
}

std::string timestamp() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm utc{};
  gmtime_r(&tv.tv_sec, &utc);
  char buf[40];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buf + n, sizeof buf - n, ".%03ldZ", static_cast<long>(tv.tv_usec / 1000));
  return buf;
}

}  // namespace

std::string_view levelName(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Notice:
      return "notice";
    case Level::Warning:
      return "warning";
    case Level::Error:
      return "error";
    case Level::Critical:
      return "crit";
  }
  return "info";
}

bool init(std::string_view program, std::string_view sp, const std::string& file, Level minimum) {
  State& s = state();
  s.prefix = std::string(sp) + " " + std::string(program) + "[" + std::to_string(getpid()) + "]";
  s.minimum = minimum;
  if (s.fd >= 0) {
    close(s.fd);
    s.fd = -1;
  }
  if (file.empty()) return true;
  s.fd = open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (s.fd < 0) {
    write(Level::Error, "cannot open log file " + file + ": " + strerror(errno));
    return false;
  }
  return true;
}

bool enabled(Level level) {
  return level >= state().minimum;
}

void write(Level level, std::string_view message) {
  const State& s = state();
  std::string line = timestamp();
  line += ' ';
  line += s.prefix;
  line += ": <";
  line += levelName(level);
  line += "> ";
  // Messages quote what clients sent (destinations, values): one message, one line.
  line += text::escapeControl(message);
  line += '\n';
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  if (s.fd >= 0) (void)!::write(s.fd, line.data(), line.size());
}

}  // namespace dualsp::log
