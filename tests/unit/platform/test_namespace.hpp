#pragma once
// A throwaway network namespace with a veth pair, for tests of the real network code.
// `ip` only builds and removes the fixture; the code under test runs on a thread that
// setns()es into the namespace, so it sees exactly what a process inside would see.

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

namespace dualsp::platform::test {

class TestNamespace {
 public:
  // Creates dualsp-ut-<pid>-<tag> holding veth `a` <-> `b`, both up.
  TestNamespace(const std::string& tag, const std::string& a, const std::string& b)
      : name_("dualsp-ut-" + std::to_string(getpid()) + "-" + tag) {
    std::system(("ip netns del " + name_ + " 2>/dev/null").c_str());  // a crashed earlier run
    ok_ = ip("netns add " + name_) && ipIn("link add " + a + " type veth peer name " + b) &&
          ipIn("link set " + a + " up") && ipIn("link set " + b + " up");
  }
  TestNamespace(const TestNamespace&) = delete;
  TestNamespace& operator=(const TestNamespace&) = delete;
  ~TestNamespace() { ip("netns del " + name_); }  // the veth pair goes with it

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }

  // Runs fn on a fresh thread inside the namespace; empty when the thread could not enter
  // it (fn then does not run at all, so nothing touches the host's interfaces).
  template <typename F>
  auto run(F fn) -> std::optional<decltype(fn())> {
    std::optional<decltype(fn())> result;
    std::thread t([&] {
      int fd = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return;
      int rc = ::setns(fd, CLONE_NEWNET);
      ::close(fd);
      if (rc == 0) result = fn();
    });
    t.join();
    return result;
  }

 private:
  static bool ip(const std::string& args) { return std::system(("ip " + args).c_str()) == 0; }
  bool ipIn(const std::string& args) const { return ip("-n " + name_ + " " + args); }

  std::string name_;
  bool ok_ = false;
};

// Sets an interface administratively up or down in the calling thread's namespace.
inline bool setLinkUp(const std::string& interface, bool up) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  if (ok) {
    ifr.ifr_flags = static_cast<short>(up ? (ifr.ifr_flags | IFF_UP) : (ifr.ifr_flags & ~IFF_UP));
    ok = ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  }
  ::close(fd);
  return ok;
}

}  // namespace dualsp::platform::test
