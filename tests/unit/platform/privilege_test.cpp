// Giving up root (spweb after binding its port): which identity, and that the drop is whole
// (every thread, no way back). The drops run in forked children: they cannot be undone.
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "platform/privilege.hpp"
#include "tests/unit/platform/dropped_child.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::platform;

namespace {

std::string passwdFile() {
  std::string path = "/tmp/dualsp-ut-passwd-" + std::to_string(getpid());
  std::ofstream out(path);
  out << "root:x:0:0:root:/root:/bin/bash\n"
         "dualsp-web:x:64800:64801:DualSP web server:/nonexistent:/usr/sbin/nologin\n"
         "broken:x:abc:1::/:/bin/false\n"
         "toor:x:0:5::/:/bin/false\n";
  return path;
}

std::string resolved(const std::string& spec, const std::string& passwd) {
  std::string error;
  std::optional<UnixIdentity> id = resolveIdentity(spec, error, passwd);
  return id ? identityText(*id) : "error: " + error;
}

}  // namespace

TEST_GROUP(Privilege) {
  std::string passwd;
  void setup() override {
    passwd = passwdFile();
  }
  void teardown() override {
    std::remove(passwd.c_str());
  }
};

TEST(Privilege, ANumericIdentityIsTakenAsIs) {
  STRCMP_EQUAL("64900:64900", resolved("64900:64900", passwd).c_str());
  STRCMP_EQUAL("1000:100", resolved("1000:100", passwd).c_str());
}

TEST(Privilege, ANameIsItsPasswdUidAndPrimaryGroup) {
  STRCMP_EQUAL("64800:64801", resolved("dualsp-web", passwd).c_str());
}

TEST(Privilege, TheDefaultUserMissingFallsBackToTheDocumentedIds) {
  STRCMP_EQUAL("64900:64900", resolved(kDefaultWebUser, "/nonexistent/passwd").c_str());
  CHECK_TRUE((kFallbackWebIdentity == UnixIdentity{64900, 64900}));
}

TEST(Privilege, AnotherUnknownOrMalformedUserIsAnError) {
  STRCMP_CONTAINS("no user 'www'", resolved("www", passwd).c_str());
  STRCMP_CONTAINS("no user 'broken'", resolved("broken", passwd).c_str());
  STRCMP_CONTAINS("not UID:GID", resolved("12:", passwd).c_str());
  STRCMP_CONTAINS("not UID:GID", resolved("a:b", passwd).c_str());
  STRCMP_CONTAINS("not UID:GID", resolved("-1:5", passwd).c_str());
  STRCMP_CONTAINS("empty", resolved("", passwd).c_str());
}

TEST(Privilege, RootIsNoIdentityToDropTo) {
  STRCMP_CONTAINS("is root", resolved("0:0", passwd).c_str());
  STRCMP_CONTAINS("is root", resolved("1000:0", passwd).c_str());
  STRCMP_CONTAINS("is root", resolved("root", passwd).c_str());
  STRCMP_CONTAINS("is root", resolved("toor", passwd).c_str());
  STRCMP_CONTAINS("uid or gid 0", dropPrivileges(UnixIdentity{0, 0}).c_str());
}

// The drop reaches every thread, also one started before it (glibc's set*id broadcast: the
// kernel's credentials are per thread), and there is no way back to root.
TEST(Privilege, TheDropIsForEveryThreadAndForGood) {
  if (::geteuid() != 0) return;  // only root can drop
  const UnixIdentity web = test::kTestWebIdentity;
  std::string outcome = test::inChild([web]() -> std::string {
    std::atomic<bool> dropped{false};
    std::atomic<long> thread_uid{-1}, thread_euid{-1}, thread_gid{-1}, thread_egid{-1};
    std::thread before([&] {
      while (!dropped.load()) std::this_thread::yield();
      thread_uid = ::syscall(SYS_getuid);
      thread_euid = ::syscall(SYS_geteuid);
      thread_gid = ::syscall(SYS_getgid);
      thread_egid = ::syscall(SYS_getegid);
    });
    std::string why = dropPrivileges(web);
    dropped = true;
    before.join();
    if (!why.empty()) return "drop: " + why;
    if (::syscall(SYS_getuid) != web.uid || ::syscall(SYS_geteuid) != web.uid ||
        ::syscall(SYS_getgid) != web.gid || ::syscall(SYS_getegid) != web.gid)
      return "main thread keeps other ids";
    if (thread_uid != web.uid || thread_euid != web.uid || thread_gid != web.gid ||
        thread_egid != web.gid)
      return "a thread started before the drop keeps uid " + std::to_string(thread_uid.load());
    if (::getgroups(0, nullptr) != 0) return "supplementary groups left";
    if (::setuid(0) == 0 || ::seteuid(0) == 0 || ::setresuid(0, 0, 0) == 0) return "root regained";
    if (::setgid(0) == 0) return "group root regained";
    // A thread started after it is the same.
    long later = -1;
    std::thread after([&] { later = ::syscall(SYS_geteuid); });
    after.join();
    if (later != web.uid) return "a thread started after the drop is uid " + std::to_string(later);
    return {};
  });
  STRCMP_EQUAL("ok", outcome.c_str());
}
