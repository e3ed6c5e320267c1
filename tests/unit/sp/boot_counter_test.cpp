// The boot counter: one more at every start, kept across restarts; a damaged file stops spd.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "sp/boot_counter.hpp"

#include <CppUTest/TestHarness.h>

using dualsp::sp::advanceBootCounter;

TEST_GROUP(BootCounter) {
  std::string dir;
  void setup() override {
    char tmpl[] = "/tmp/dualsp-boot-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  void teardown() override {
    std::string cmd = "rm -rf '" + dir + "'";
    CHECK_EQUAL(0, system(cmd.c_str()));
  }
  std::string stored() {
    std::ifstream in(dir + "/boot_counter");
    std::string text;
    std::getline(in, text);
    return text;
  }
};

TEST(BootCounter, EveryStartCountsOneMoreAndIsStoredBeforeUse) {
  uint64_t counter = 0;
  CHECK_TRUE(advanceBootCounter(dir, counter).ok);
  CHECK_EQUAL(1u, counter);
  STRCMP_EQUAL("1", stored().c_str());
  CHECK_TRUE(advanceBootCounter(dir, counter).ok);
  CHECK_TRUE(advanceBootCounter(dir, counter).ok);
  CHECK_EQUAL(3u, counter);
  STRCMP_EQUAL("3", stored().c_str());
}

TEST(BootCounter, ADamagedFileIsAnErrorNamingIt) {
  std::ofstream(dir + "/boot_counter") << "7x\n";
  uint64_t counter = 0;
  auto s = advanceBootCounter(dir, counter);
  CHECK_FALSE(s.ok);
  STRCMP_CONTAINS((dir + "/boot_counter").c_str(), s.error.c_str());
  STRCMP_EQUAL("7x", stored().c_str());  // left as it was
}

TEST(BootCounter, AnUnwritableStateDirectoryIsAnError) {
  uint64_t counter = 0;
  CHECK_FALSE(advanceBootCounter(dir + "/missing", counter).ok);
}
