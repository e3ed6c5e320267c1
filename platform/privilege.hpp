#pragma once
// Who spweb runs as (docs/SECURITY.md "What runs as whom"): spd runs as root; spweb starts as
// root to bind its port and then drops for good to an unprivileged user and group, the "web
// identity". spd shares with that identity exactly what spweb needs (platform/private_shm.hpp).

#include <sys/types.h>

#include <optional>
#include <string>

namespace dualsp::platform {

struct UnixIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  bool operator==(const UnixIdentity&) const = default;
};

// The default web identity: the user "dualsp-web" of /etc/passwd, or, when there is no such
// user (the QEMU image, the netns harness), the fixed ids 64900:64900, which nothing else uses.
inline constexpr const char* kDefaultWebUser = "dualsp-web";
inline constexpr UnixIdentity kFallbackWebIdentity{64900, 64900};

// "UID:GID" (decimal), or a user name looked up in `passwd_file` (its uid and primary gid;
// read directly, not through NSS: the firmware is linked statically). kDefaultWebUser not found
// there is kFallbackWebIdentity; another name not found is an error. Root (uid or gid 0) is
// refused: it would be no drop at all. nullopt with `error` set on failure.
std::optional<UnixIdentity> resolveIdentity(const std::string& spec, std::string& error,
                                            const std::string& passwd_file = "/etc/passwd");
std::string identityText(const UnixIdentity& id);  // "64900:64900"

// Gives up root for good, in every thread of the process (glibc applies set*id to all
// threads): setgroups(0), setresgid, setresuid, in that order. Then checks that the real,
// effective and saved ids are the target's, that no supplementary group is left, and that
// setuid(0) fails. Empty when done, else what failed (the process may then be half-dropped:
// the caller must exit).
std::string dropPrivileges(const UnixIdentity& target);

}  // namespace dualsp::platform
