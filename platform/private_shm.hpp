#pragma once
// Shared memory only spd and spweb may touch (status board, midplane segment, local bus). In
// /dev/shm anyone can create a name first: a local user who makes "dualsp-<array>-spa-status"
// (mode 0666) before spd could show spweb an active, healthy SP, or write midplane beats.
// So each segment is created with mode 0600, and whatever is opened is checked on its open
// descriptor (not by name: the name may be swapped in between) before it is used
// (docs/SECURITY.md "Heartbeats, peer link and local IPC").

#include <sys/stat.h>
#include <sys/types.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <optional>
#include <string>

#include "platform/privilege.hpp"

namespace dualsp::platform {

constexpr mode_t kPrivateShmMode = 0600;
constexpr mode_t kWebReadMode = 040;       // status board: spweb reads it
constexpr mode_t kWebReadWriteMode = 060;  // spd's bus request queue: spweb sends on it

// What a segment may be shared with besides its owner: spweb's unprivileged identity
// (platform/privilege.hpp), and how. The default trusts private segments only.
struct ShmTrust {
  std::optional<UnixIdentity> web;
  // The group bits `web->gid` may have (kWebReadMode, kWebReadWriteMode); 0: no group access.
  mode_t web_group_mode = 0;
  // A segment owned by `web->uid` is trusted too: spd opening spweb's reply queue.
  bool web_may_own = false;

  // spd shares a segment it creates (gives it the group and the bits) only with this.
  bool shares() const { return web.has_value() && web_group_mode != 0; }
  mode_t creationMode() const { return kPrivateShmMode | (shares() ? web_group_mode : 0); }
};

// Empty when `st` is trusted, otherwise why not ("owned by uid 65534, mode 0666"). Trusted:
//   no access for others, and
//   owned by root or by this process's effective user (or by the web user when web_may_own),
//   and no group access either, or exactly the group `web->gid` with no more than
//   web_group_mode (owned by root or this user then, never by the web user).
std::string untrustedShmReason(const struct stat& st, const ShmTrust& trust = {});
// The same for an open descriptor (fstat fails: the reason).
std::string untrustedShmReason(int fd, const ShmTrust& trust = {});
// For a POSIX shared-memory name (shm_open's, without the leading '/'): empty when absent or
// trusted.
std::string untrustedShmReasonByName(const std::string& name, const ShmTrust& trust = {});
// Removes `name` when it exists and is not trusted (someone else created it first). Empty when
// nothing untrusted remains, else why it could not be removed.
std::string removeUntrustedShm(const std::string& name, const ShmTrust& trust = {});
// On a segment this process just created or checked: when `trust` shares, gives it the web
// group and creationMode() (root may give any group). Empty when done, else why not.
std::string shareShm(int fd, const ShmTrust& trust);
// The same by name, for a Boost message queue (whose descriptor Boost does not show): the
// segment must be owned by this process's effective user and trusted. Empty or why not.
std::string shareShmByName(const std::string& name, const ShmTrust& trust);

// Hands this process's segment `name` (mode 0600) to `owner`, user and group: spweb, still
// root, gives its reply queue to the user it is about to become, so that the queue stays its
// own after the drop (spd trusts it: ShmTrust::web_may_own). Empty when done, else why not.
std::string giveShmByName(const std::string& name, const UnixIdentity& owner);

// Opens the segment `name` read-write, created with mode 0600 (and shared as `trust` says)
// when absent. One someone else created first is removed and made anew (a few attempts: a
// racing creator loses once the name is ours). Throws std::runtime_error (why) or
// interprocess_exception.
boost::interprocess::shared_memory_object openPrivateShm(const std::string& name,
                                                         const ShmTrust& trust = {});

}  // namespace dualsp::platform
