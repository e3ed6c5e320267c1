#include "platform/linux/gpio_fencer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dualsp::platform {
namespace {

class GpioFencer final : public Fencer {
 public:
  explicit GpioFencer(std::string value_path) : value_path_(std::move(value_path)) {}

  // A sysfs GPIO write completes at once, so the timeout has nothing to bound here.
  Status fencePeer(std::chrono::milliseconds /*timeout*/) override {
    // No O_CREAT: a missing value file means the line is not exported, never "fenced".
    int fd = ::open(value_path_.c_str(), O_RDWR | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return failure("open", errno);
    Status status = assertLine(fd);
    if (::close(fd) < 0 && status.ok) status = failure("close", errno);
    return status;
  }

  std::string describe() const override { return "GPIO reset line " + value_path_; }

 private:
  Status assertLine(int fd) const {
    ssize_t n;
    do {
      n = ::write(fd, "1", 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) return failure("write", n < 0 ? errno : EIO);
    if (::fsync(fd) < 0 && errno != EINVAL) return failure("fsync", errno);
    // Read back: "ok" must mean the line is asserted, not merely that a write was accepted.
    char value[8] = {};
    n = ::pread(fd, value, sizeof value - 1, 0);
    if (n < 0) return failure("read back", errno);
    if (n < 1 || value[0] != '1') {
      return Status::failure("fencing through " + value_path_ + ": line reads back '" +
                             std::string(value, static_cast<size_t>(n)) + "', not 1");
    }
    return Status::success();
  }

  Status failure(const char* step, int err) const {
    return Status::failure("fencing through " + value_path_ + ": " + step + ": " +
                           std::strerror(err));
  }

  std::string value_path_;
};

}  // namespace

std::unique_ptr<Fencer> makeGpioFencer(std::string value_path) {
  return std::make_unique<GpioFencer>(std::move(value_path));
}

}  // namespace dualsp::platform
