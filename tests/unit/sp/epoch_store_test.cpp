// The persisted election epoch: survives, is atomic, reports corruption and write failures.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>

#include "sp/epoch_store.hpp"

#include <CppUTest/TestHarness.h>

using dualsp::sp::EpochStore;

TEST_GROUP(EpochStore) {
  std::string dir;
  void setup() override {
    char tmpl[] = "/tmp/dualsp-epoch-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  void teardown() override {
    std::string cmd = "rm -rf '" + dir + "'";
    CHECK_EQUAL(0, system(cmd.c_str()));
  }
};

TEST(EpochStore, MissingFileReadsAsZero) {
  std::string problem;
  CHECK_EQUAL(0u, EpochStore(dir).load(problem));
  CHECK_TRUE(problem.empty());
}

TEST(EpochStore, SavedEpochIsReadBackByANewInstance) {
  CHECK_TRUE(EpochStore(dir).save(42).ok);
  std::string problem;
  CHECK_EQUAL(42u, EpochStore(dir).load(problem));
  CHECK_FALSE(access((dir + "/epoch.tmp").c_str(), F_OK) == 0);  // renamed, not left behind
}

TEST(EpochStore, CorruptFileIsReported) {
  std::ofstream(dir + "/epoch") << "4x2\n";
  std::string problem;
  CHECK_EQUAL(0u, EpochStore(dir).load(problem));
  CHECK(problem.find("corrupt") != std::string::npos);
}

// std::stoull alone reads "-1" as 2^64-1, and an epoch above kMaxEpoch would wrap the next
// takeover's: both are corrupt.
TEST(EpochStore, ASignOrAnEpochAboveTheLargestIsCorrupt) {
  for (const char* text : {"-1", "+5", " 7", "18446744073709551615", "99999999999999999999999"}) {
    std::ofstream(dir + "/epoch") << text << "\n";
    std::string problem;
    CHECK_EQUAL_TEXT(0u, EpochStore(dir).load(problem), text);
    CHECK_TEXT(problem.find("corrupt") != std::string::npos, text);
  }
  std::ofstream(dir + "/epoch") << "4611686018427387904\n";  // kMaxEpoch itself
  std::string problem;
  CHECK_EQUAL(4611686018427387904u, EpochStore(dir).load(problem));
  CHECK(problem.empty());
}

TEST(EpochStore, UnwritableDirectoryFailsWithTheReason) {
  if (geteuid() == 0) {
    // root ignores directory permissions: use a path whose parent is a file instead.
    std::ofstream(dir + "/file") << "x";
    auto s = EpochStore(dir + "/file").save(7);
    CHECK_FALSE(s.ok);
    CHECK(s.error.find("Not a directory") != std::string::npos);
    CHECK_EQUAL(ENOTDIR, s.sys_errno);
  } else {
    chmod(dir.c_str(), 0500);
    auto s = EpochStore(dir).save(7);
    chmod(dir.c_str(), 0700);
    CHECK_FALSE(s.ok);
    CHECK(s.error.find("Permission denied") != std::string::npos);
    CHECK_EQUAL(EACCES, s.sys_errno);
  }
}
