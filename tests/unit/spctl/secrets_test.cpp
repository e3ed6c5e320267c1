#include "tools/spctl/client/secrets.hpp"

#include <CppUTest/TestHarness.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

using namespace dualsp::spctl;

namespace {

std::string tempDir() {
  char pattern[] = "/tmp/spctl-secrets-XXXXXX";
  return ::mkdtemp(pattern);
}

void write(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

mode_t modeOf(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

}  // namespace

TEST_GROUP(Secrets) {
  std::string dir;
  void setup() override {
    dir = tempDir();
  }
  void teardown() override {
    std::system(("rm -rf " + dir).c_str());
  }
};

TEST(Secrets, ACredentialsFileOthersCanReadIsRefused) {
  const std::string path = dir + "/creds";
  write(path, "user=ops\npassword=s3cret\n", 0644);
  std::string error;
  CHECK_FALSE(readCredentialsFile(path, error));
  STRCMP_CONTAINS("mode 644", error.c_str());
  ::chmod(path.c_str(), 0600);
  error.clear();
  auto c = readCredentialsFile(path, error);
  CHECK_TRUE(c.has_value());
  STRCMP_EQUAL("ops", c->user.c_str());
  STRCMP_EQUAL("s3cret", c->password.c_str());
}

TEST(Secrets, ACredentialsFileWithoutAPasswordIsRefused) {
  const std::string path = dir + "/creds";
  write(path, "# only a user\nuser=ops\n", 0600);
  std::string error;
  CHECK_FALSE(readCredentialsFile(path, error));
  STRCMP_CONTAINS("no password", error.c_str());
}

TEST(Secrets, TheTokenCacheIsPrivateAndReplacedWhole) {
  TokenCache cache(dir + "/cache/spctl", "198.18.0.10", "admin");
  STRCMP_EQUAL("", cache.store({"tok-1", "/redfish/v1/SessionService/Sessions/1"}).c_str());
  LONGS_EQUAL(0700, modeOf(dir + "/cache/spctl"));
  LONGS_EQUAL(0700, modeOf(dir + "/cache"));
  LONGS_EQUAL(0600, modeOf(cache.path()));
  STRCMP_EQUAL("", cache.store({"tok-2", "/s/2"}).c_str());
  std::string warning;
  auto entry = cache.load(warning);
  CHECK_TRUE(entry.has_value());
  STRCMP_EQUAL("tok-2", entry->token.c_str());
  STRCMP_EQUAL("/s/2", entry->session.c_str());
  cache.remove();
  CHECK_FALSE(cache.load(warning));
}

TEST(Secrets, ATokenFileOthersCouldReadIsIgnored) {
  TokenCache cache(dir + "/spctl", "198.18.0.10", "admin");
  STRCMP_EQUAL("", cache.store({"tok", ""}).c_str());
  ::chmod(cache.path().c_str(), 0644);
  std::string warning;
  CHECK_FALSE(cache.load(warning));
  STRCMP_CONTAINS("ignored", warning.c_str());
}

TEST(Secrets, EachUserAndAddressHasItsOwnToken) {
  TokenCache a(dir, "198.18.0.10", "admin"), b(dir, "198.18.0.10", "ops"),
      c(dir, "198.18.0.11:8443", "admin");
  CHECK(a.path() != b.path());
  CHECK(a.path() != c.path());
  STRCMP_EQUAL("", a.store({"for-admin", ""}).c_str());
  std::string warning;
  CHECK_FALSE(b.load(warning));
}
