#include "platform/private_shm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace dualsp::platform {

std::string untrustedShmReason(const struct stat& st, const ShmTrust& trust) {
  const mode_t mode = st.st_mode & 07777;
  const mode_t group_bits = mode & 070;
  const bool by_web = trust.web_may_own && trust.web && st.st_uid == trust.web->uid;
  const bool owner_ok = st.st_uid == 0 || st.st_uid == ::geteuid() || by_web;
  const bool others_ok = (mode & 07) == 0;
  // Group access only as spd grants it: the web group, no more than its bits, from root or us.
  const bool group_ok =
      group_bits == 0 || (trust.shares() && !by_web && st.st_gid == trust.web->gid &&
                          (group_bits & ~trust.web_group_mode) == 0);
  if (owner_ok && others_ok && group_ok) return {};
  char why[200];
  int n = std::snprintf(why, sizeof why, "owned by uid %u gid %u, mode %04o (want uid 0",
                        static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_gid),
                        static_cast<unsigned>(mode));
  if (::geteuid() != 0)
    n += std::snprintf(why + n, sizeof why - n, " or %u", static_cast<unsigned>(::geteuid()));
  if (trust.web_may_own && trust.web)
    n += std::snprintf(why + n, sizeof why - n, " or %u", static_cast<unsigned>(trust.web->uid));
  if (trust.shares())
    std::snprintf(why + n, sizeof why - n, ", mode 0600 or %04o with gid %u)",
                  static_cast<unsigned>(trust.creationMode()),
                  static_cast<unsigned>(trust.web->gid));
  else
    std::snprintf(why + n, sizeof why - n, ", mode 0600)");
  return why;
}

std::string untrustedShmReason(int fd, const ShmTrust& trust) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::string("fstat: ") + std::strerror(errno);
  return untrustedShmReason(st, trust);
}

std::string untrustedShmReasonByName(const std::string& name, const ShmTrust& trust) {
  int fd = ::shm_open(("/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return errno == ENOENT ? std::string() : std::string("open: ") + std::strerror(errno);
  std::string why = untrustedShmReason(fd, trust);
  ::close(fd);
  return why;
}

std::string removeUntrustedShm(const std::string& name, const ShmTrust& trust) {
  std::string why = untrustedShmReasonByName(name, trust);
  if (why.empty()) return {};
  if (::shm_unlink(("/" + name).c_str()) != 0 && errno != ENOENT)
    return "/dev/shm/" + name + " is " + why + " and cannot be removed: " + std::strerror(errno);
  return {};
}

std::string shareShm(int fd, const ShmTrust& trust) {
  if (!trust.shares()) return {};
  if (::fchown(fd, static_cast<uid_t>(-1), trust.web->gid) != 0)
    return "cannot give it group " + std::to_string(trust.web->gid) + ": " + std::strerror(errno);
  if (::fchmod(fd, trust.creationMode()) != 0)
    return std::string("cannot change its mode: ") + std::strerror(errno);
  return {};
}

namespace {

// Opens /dev/shm/<name> (never through a link) and hands `change` the descriptor and what
// fstat says of it: the checks and the change are made on the same file. Why it failed, or
// empty.
template <typename Change>
std::string changeShmByName(const std::string& name, Change change) {
  int fd = ::shm_open(("/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return std::string("open: ") + std::strerror(errno);
  struct stat st {};
  std::string why =
      ::fstat(fd, &st) != 0 ? std::string("fstat: ") + std::strerror(errno) : change(fd, st);
  ::close(fd);
  return why;
}

}  // namespace

std::string shareShmByName(const std::string& name, const ShmTrust& trust) {
  if (!trust.shares()) return {};
  return changeShmByName(name, [&trust](int fd, const struct stat& st) -> std::string {
    if (st.st_uid != ::geteuid()) return "owned by uid " + std::to_string(st.st_uid) + ", not ours";
    if (std::string why = untrustedShmReason(st, trust); !why.empty()) return why;
    return shareShm(fd, trust);
  });
}

std::string giveShmByName(const std::string& name, const UnixIdentity& owner) {
  return changeShmByName(name, [&owner](int fd, const struct stat& st) -> std::string {
    if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
      return untrustedShmReason(st) + ", not ours";
    if (::fchown(fd, owner.uid, owner.gid) != 0)
      return "cannot give it to " + identityText(owner) + ": " + std::strerror(errno);
    return {};
  });
}

boost::interprocess::shared_memory_object openPrivateShm(const std::string& name,
                                                         const ShmTrust& trust) {
  namespace bip = boost::interprocess;
  std::string why;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (why = removeUntrustedShm(name, trust); !why.empty()) break;
    bip::shared_memory_object shm(bip::open_or_create, name.c_str(), bip::read_write,
                                  bip::permissions(kPrivateShmMode));
    // Checked on the descriptor: the name may have been taken between the removal and here.
    const int fd = shm.get_mapping_handle().handle;
    why = untrustedShmReason(fd, trust);
    if (why.empty()) {
      if (why = shareShm(fd, trust); why.empty()) return shm;
      throw std::runtime_error("/dev/shm/" + name + ": " + why);
    }
    why = "/dev/shm/" + name + " is " + why;
  }
  throw std::runtime_error(why + ": not made by this SP, refused");
}

}  // namespace dualsp::platform
