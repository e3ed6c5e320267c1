// The one durable-write helper: the new content replaces the old whole, nothing is left
// behind, and every failure (for real: a full filesystem, a write error, a missing or
// non-directory parent) is reported with its step and errno, the old file untouched.

#include "sp/durable_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "CppUTest/TestHarness.h"
#include "config_test_support.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using dualsp::sp::testing::TempDir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_GROUP(DurableFile) {
  TempDir tmp;
};

TEST(DurableFile, ReplacesTheFileWholeAndLeavesNoTemporaryBehind) {
  const std::string path = tmp.path + "/epoch";
  CHECK_TRUE(writeFileDurably(path, "1\n").ok);
  CHECK_TRUE(writeFileDurably(path, "2\n").ok);
  STRCMP_EQUAL("2\n", slurp(path).c_str());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(DurableFile, KeepsThePreviousCopyUnderItsOwnName) {
  const std::string path = tmp.path + "/snapshot.pb";
  CHECK_TRUE(writeFileDurably(path, "old").ok);
  auto s = writeFileDurably(
      path, "new",
      {.tmp_path = tmp.path + "/snapshot.tmp", .keep_previous_as = tmp.path + "/snapshot.prev.pb"});
  CHECK_TRUE(s.ok);
  STRCMP_EQUAL("new", slurp(path).c_str());
  STRCMP_EQUAL("old", slurp(tmp.path + "/snapshot.prev.pb").c_str());
  CHECK_FALSE(std::filesystem::exists(tmp.path + "/snapshot.tmp"));
}

TEST(DurableFile, AWriteErrorIsReportedWithItsErrnoAndTheOldFileStays) {
  const std::string path = tmp.path + "/sync.point";
  CHECK_TRUE(writeFileDurably(path, "3.4\n").ok);
  // The temporary file is /dev/full: every write fails with ENOSPC.
  CHECK_EQUAL(0, symlink("/dev/full", (path + ".tmp").c_str()));
  auto s = writeFileDurably(path, "3.5\n");
  CHECK_FALSE(s.ok);
  CHECK_EQUAL(ENOSPC, s.sys_errno);
  CHECK_TRUE(s.error.find("write " + path + ".tmp") == 0);
  STRCMP_EQUAL("3.4\n", slurp(path).c_str());
  CHECK_TRUE(std::filesystem::exists("/dev/full"));  // only the link was removed
  CHECK_FALSE(std::filesystem::is_symlink(path + ".tmp"));
}

TEST(DurableFile, AMissingOrNonDirectoryParentIsReportedWithItsErrno) {
  auto missing = writeFileDurably(tmp.path + "/no/such/dir/file", "x");
  CHECK_FALSE(missing.ok);
  CHECK_EQUAL(ENOENT, missing.sys_errno);
  CHECK_TRUE(writeFileDurably(tmp.path + "/plain", "x").ok);
  auto not_dir = writeFileDurably(tmp.path + "/plain/file", "x");
  CHECK_EQUAL(ENOTDIR, not_dir.sys_errno);
  CHECK_EQUAL(ENOTDIR, syncDirectory(tmp.path + "/plain").sys_errno);
}

TEST(DurableFile, AFullFilesystemIsReportedAsENOSPC) {
  int rc = dualsp::sp::testing::inFullFilesystem([](const std::string& dir) {
    if (!writeFileDurably(dir + "/epoch", "7\n").ok) return 1;
    dualsp::sp::testing::fillUp(dir);
    auto s = writeFileDurably(dir + "/epoch", std::string(8192, '8'));
    if (s.ok || s.sys_errno != ENOSPC) return 2;
    if (slurp(dir + "/epoch") != "7\n") return 3;  // the old content stays
    if (std::filesystem::exists(dir + "/epoch.tmp")) return 4;
    return 0;
  });
  if (rc == -1) {
    UT_PRINT("NOT RUN: mounting a small tmpfs needs CAP_SYS_ADMIN (run as root)");
    return;
  }
  CHECK_EQUAL(0, rc);
}

TEST(DurableFile, RemovingIsDurableAndAnAbsentFileIsNoError) {
  const std::string path = tmp.path + "/missing.point";
  CHECK_TRUE(writeFileDurably(path, "1.2 3\n").ok);
  CHECK_TRUE(removeFileDurably(path).ok);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_TRUE(removeFileDurably(path).ok);
}
