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
#include <string>

namespace dualsp::platform {

constexpr mode_t kPrivateShmMode = 0600;

// Empty when `st` is trusted: owned by root or by this process's effective user, and no
// access at all for group or others. Otherwise why not ("owned by uid 65534, mode 0666").
std::string untrustedShmReason(const struct stat& st);
// The same for an open descriptor (fstat fails: the reason).
std::string untrustedShmReason(int fd);
// For a POSIX shared-memory name (shm_open's, without the leading '/'): empty when absent or
// trusted.
std::string untrustedShmReasonByName(const std::string& name);
// Removes `name` when it exists and is not trusted (someone else created it first). Empty when
// nothing untrusted remains, else why it could not be removed.
std::string removeUntrustedShm(const std::string& name);

// Opens the segment `name` read-write, created with mode 0600 when absent. One someone else
// created first is removed and made anew (a few attempts: a racing creator loses once the
// name is ours). Throws std::runtime_error (why) or interprocess_exception.
boost::interprocess::shared_memory_object openPrivateShm(const std::string& name);

}  // namespace dualsp::platform
