// The log as the log service reads it back: one message is one line, whatever the message
// quotes (docs/SECURITY.md "Hostile input": a CR/LF from a client must not forge an entry).

#include <CppUTest/TestHarness.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "platform/log.hpp"
#include "platform/text.hpp"

using namespace dualsp;

namespace {

std::vector<std::string> linesOf(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct LogFile {
  std::string path;
  LogFile() {
    char name[] = "/tmp/dualsp-log-test-XXXXXX";
    int fd = mkstemp(name);
    close(fd);
    path = name;
    dualsp::log::init("spd", "SP-A", path);
  }
  ~LogFile() {
    dualsp::log::init("spd", "SP-A", "");
    unlink(path.c_str());
  }
};

}  // namespace

TEST_GROUP(LogLines){};

TEST(LogLines, ACrLfInAMessageCannotStartALineOfItsOwn) {
  LogFile file;
  const std::string forged =
      "http://198.18.0.100/x\r\n2026-11-22T02:38:38.123Z SP-A spd[1]: <crit> forged entry";
  LOG_WARNING << "event delivery: destination " << forged << " refused";
  std::vector<std::string> lines = linesOf(file.path);
  LONGS_EQUAL(1, lines.size());
  CHECK(lines[0].find("<warning> event delivery: destination http://198.18.0.100/x\\r\\n2026") !=
        std::string::npos);
  CHECK(lines[0].find("<crit>") != std::string::npos);  // quoted inside, not a line's level
  CHECK(lines[0].find('\r') == std::string::npos);
}

TEST(LogLines, OtherControlCharactersAreEscapedAndTextIsKept) {
  LogFile file;
  LOG_INFO << "a\tb\x01"
           << "c\x7f"
           << " caf\xc3\xa9 \\n";
  std::vector<std::string> lines = linesOf(file.path);
  LONGS_EQUAL(1, lines.size());
  const std::string tail = lines[0].substr(lines[0].find("<info> ") + 7);
  STRCMP_EQUAL("a\\tb\\x01c\\x7f caf\xc3\xa9 \\n", tail.c_str());
}

TEST_GROUP(Text){};

TEST(Text, CutsEndWhereACharacterEnds) {
  const std::string s =
      "ab\xc3\xa9"
      "cd\xe2\x82\xac"
      "e\xf0\x9f\x98\x80";  // é, €, 😀
  STRCMP_EQUAL("ab", std::string(text::cutUtf8(s, 3)).c_str());
  STRCMP_EQUAL("ab\xc3\xa9", std::string(text::cutUtf8(s, 4)).c_str());
  STRCMP_EQUAL(
      "ab\xc3\xa9"
      "cd",
      std::string(text::cutUtf8(s, 8)).c_str());
  STRCMP_EQUAL(
      "ab\xc3\xa9"
      "cd\xe2\x82\xac"
      "e",
      std::string(text::cutUtf8(s, 12)).c_str());
  STRCMP_EQUAL(s.c_str(), std::string(text::cutUtf8(s, 100)).c_str());
  STRCMP_EQUAL("ab...", text::shortened(s, 3).c_str());
  STRCMP_EQUAL(s.c_str(), text::shortened(s, s.size()).c_str());
}

TEST(Text, ACutOfBytesThatAreNotUtf8StaysWithinTheLimit) {
  const std::string junk(10, '\x80');
  LONGS_EQUAL(5, text::cutUtf8(junk, 5).size());
}
