// The GPIO fencer against a plain file standing in for the sysfs value file.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "platform/linux/gpio_fencer.hpp"

// CppUTest last: its leak-detector macros redefine new.
#include <CppUTest/TestHarness.h>

using namespace dualsp::platform;
using namespace std::chrono_literals;

TEST_GROUP(GpioFencer) {
  std::string dir;
  std::string value_path;

  void setup() override {
    char tmpl[] = "/tmp/dualsp-ut-gpio-XXXXXX";
    CHECK_TRUE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    value_path = dir + "/value";
    std::ofstream(value_path) << "0\n";  // the line as exported: deasserted
  }
  void teardown() override {
    std::system(("rm -rf " + dir).c_str());
  }

  std::string contents() {
    std::ifstream in(value_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

TEST(GpioFencer, WritesOneToTheValueFile) {
  Status s = makeGpioFencer(value_path)->fencePeer(100ms);
  CHECK_TRUE_TEXT(s.ok, s.error.c_str());
  STRCMP_EQUAL("1", contents().c_str());
}

TEST(GpioFencer, FencingTwiceStaysAsserted) {
  auto fencer = makeGpioFencer(value_path);
  CHECK_TRUE(fencer->fencePeer(100ms).ok);
  CHECK_TRUE(fencer->fencePeer(100ms).ok);
  STRCMP_EQUAL("1", contents().c_str());
}

TEST(GpioFencer, MissingValueFileFails) {
  std::string missing = dir + "/no-such-gpio/value";  // line not exported
  Status s = makeGpioFencer(missing)->fencePeer(100ms);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS(missing.c_str(), s.error.c_str());
  STRCMP_CONTAINS("No such file or directory", s.error.c_str());
}

TEST(GpioFencer, UnwritablePathFails) {
  Status s = makeGpioFencer(dir)->fencePeer(100ms);  // a directory: never writable as a file
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS("Is a directory", s.error.c_str());
}

TEST(GpioFencer, DescribeNamesTheLine) {
  STRCMP_EQUAL("GPIO reset line /sys/class/gpio/gpio17/value",
               makeGpioFencer("/sys/class/gpio/gpio17/value")->describe().c_str());
}
