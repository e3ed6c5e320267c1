#pragma once
// A shared-memory object made by another local user, the way an attacker without privileges
// would make it before spd: a forked child drops to uid/gid 65534 (nobody), creates
// /dev/shm/<name> with mode 0666 and writes `bytes` at `offset`.
#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace dualsp::test {

constexpr uid_t kNobody = 65534;

// False when it could not be made (this process is not root: the test cannot switch users).
inline bool createAsNobody(const std::string& name, size_t size, size_t offset = 0,
                           const std::string& bytes = {}) {
  if (::geteuid() != 0) return false;
  pid_t child = ::fork();
  if (child == 0) {
    int code = 1;
    if (::setgroups(0, nullptr) == 0 && ::setresgid(kNobody, kNobody, kNobody) == 0 &&
        ::setresuid(kNobody, kNobody, kNobody) == 0) {
      ::umask(0);
      int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0666);
      if (fd >= 0 && ::ftruncate(fd, static_cast<off_t>(size)) == 0 &&
          (bytes.empty() || ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) ==
                                static_cast<ssize_t>(bytes.size())))
        code = 0;
    }
    ::_exit(code);
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

inline struct stat statShm(const std::string& name) {
  struct stat st {};
  ::stat(("/dev/shm/" + name).c_str(), &st);
  return st;
}

}  // namespace dualsp::test
