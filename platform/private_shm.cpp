#include "platform/private_shm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace dualsp::platform {

std::string untrustedShmReason(const struct stat& st) {
  const bool owner_ok = st.st_uid == 0 || st.st_uid == ::geteuid();
  const bool mode_ok = (st.st_mode & 077) == 0;
  if (owner_ok && mode_ok) return {};
  char why[96];
  std::snprintf(why, sizeof why, "owned by uid %u, mode %04o (want uid 0 or %u, mode 0600)",
                static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_mode & 07777),
                static_cast<unsigned>(::geteuid()));
  return why;
}

std::string untrustedShmReason(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::string("fstat: ") + std::strerror(errno);
  return untrustedShmReason(st);
}

std::string untrustedShmReasonByName(const std::string& name) {
  int fd = ::shm_open(("/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return errno == ENOENT ? std::string() : std::string("open: ") + std::strerror(errno);
  std::string why = untrustedShmReason(fd);
  ::close(fd);
  return why;
}

std::string removeUntrustedShm(const std::string& name) {
  std::string why = untrustedShmReasonByName(name);
  if (why.empty()) return {};
  if (::shm_unlink(("/" + name).c_str()) != 0 && errno != ENOENT)
    return "/dev/shm/" + name + " is " + why + " and cannot be removed: " + std::strerror(errno);
  return {};
}

boost::interprocess::shared_memory_object openPrivateShm(const std::string& name) {
  namespace bip = boost::interprocess;
  std::string why;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (why = removeUntrustedShm(name); !why.empty()) break;
    bip::shared_memory_object shm(bip::open_or_create, name.c_str(), bip::read_write,
                                  bip::permissions(kPrivateShmMode));
    // Checked on the descriptor: the name may have been taken between the removal and here.
    why = untrustedShmReason(shm.get_mapping_handle().handle);
    if (why.empty()) return shm;
    why = "/dev/shm/" + name + " is " + why;
  }
  throw std::runtime_error(why + ": not made by this SP, refused");
}

}  // namespace dualsp::platform
