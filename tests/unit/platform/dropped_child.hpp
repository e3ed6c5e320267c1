#pragma once
// Runs a piece of a test in a forked child process, for what cannot be undone in the test
// runner itself (giving up root: platform::dropPrivileges). The child reports one line back
// through a pipe: "ok", or what went wrong.
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "platform/privilege.hpp"

namespace dualsp::test {

// spweb's identity in the tests: unprivileged, and neither nobody (the foreign_shm.hpp
// attacker) nor the firmware's default.
inline constexpr platform::UnixIdentity kTestWebIdentity{64901, 64901};

// Runs `body` in a child; its return value (empty: "ok") comes back. The child ends with
// _exit, so nothing of the runner's state (CppUTest, statics) runs twice.
inline std::string inChild(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    ::close(fds[0]);
    std::string out;
    try {
      out = body();
    } catch (const std::exception& e) {
      out = std::string("threw: ") + e.what();
    } catch (...) {
      out = "threw";
    }
    if (out.empty()) out = "ok";
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) out.append(buffer, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "child ended abnormally (status " + std::to_string(status) + "): " + out;
  return out;
}

}  // namespace dualsp::test
