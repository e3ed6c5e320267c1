#pragma once
// One line per event, syslog style, to stderr and to a file under the SP's state directory:
//   2026-11-22T02:38:38.123Z SP-A spd[1234]: <warning> peer lost on every path
// Each line is written with one write(2) so lines from several threads never interleave.
// Control characters in a message are escaped (\n, \r, \xHH): a message is always one line.

#include <sstream>
#include <string>
#include <string_view>

namespace dualsp::log {

enum class Level { Debug = 0, Info, Notice, Warning, Error, Critical };

// `program` is spd or spweb, `sp` is "SP-A"; `file` may be empty (stderr only).
// Returns false (and logs to stderr) when the file cannot be opened.
bool init(std::string_view program, std::string_view sp, const std::string& file,
          Level minimum = Level::Info);
void write(Level level, std::string_view message);
bool enabled(Level level);
std::string_view levelName(Level level);

class Line {
 public:
  explicit Line(Level level) : level_(level), enabled_(enabled(level)) {}
  ~Line() {
    if (enabled_) write(level_, out_.str());
  }
  template <typename T>
  Line& operator<<(const T& v) {
    if (enabled_) out_ << v;
    return *this;
  }

 private:
  Level level_;
  bool enabled_;
  std::ostringstream out_;
};

}  // namespace dualsp::log

#define DUALSP_LOG(level) ::dualsp::log::Line(level)
#define LOG_DEBUG DUALSP_LOG(::dualsp::log::Level::Debug)
#define LOG_INFO DUALSP_LOG(::dualsp::log::Level::Info)
#define LOG_NOTICE DUALSP_LOG(::dualsp::log::Level::Notice)
#define LOG_WARNING DUALSP_LOG(::dualsp::log::Level::Warning)
#define LOG_ERROR DUALSP_LOG(::dualsp::log::Level::Error)
#define LOG_CRITICAL DUALSP_LOG(::dualsp::log::Level::Critical)
