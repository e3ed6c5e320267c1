#include "platform/sim/chassis_power_fencer.hpp"

#include <chrono>
#include <thread>

#include "platform/midplane_segment.hpp"

namespace dualsp::platform {
namespace {

using Clock = std::chrono::steady_clock;

// How often the confirmation is polled: the chassis watcher polls every few milliseconds,
// so a finer grain buys nothing.
constexpr auto kPollInterval = std::chrono::milliseconds(2);

class ChassisPowerFencer final : public Fencer {
 public:
  ChassisPowerFencer(const std::string& midplane, SpId self)
      : name_(midplane), peer_(peerOf(self)), window_(midplane, self) {}

  Status fencePeer(std::chrono::milliseconds timeout) override {
    const auto deadline = Clock::now() + timeout;
    const uint64_t request = window_.requestPowerOff(peer_);
    while (window_.powerOffDone(peer_) < request) {
      if (Clock::now() >= deadline) {
        return Status::failure("chassis power controller did not confirm power-off of SP-" +
                               std::string(1, spLetter(peer_)) + " (request " +
                               std::to_string(request) + " in " + name_ + ") within " +
                               std::to_string(timeout.count()) + " ms");
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    return Status::success();
  }

  // The chassis writes the power state of each board beside the power register, if it can.
  PowerState peerPower(std::chrono::milliseconds) override { return window_.powerState(peer_); }

  std::string describe() const override { return "chassis power register in " + name_; }

 private:
  std::string name_;
  SpId peer_;
  MidplaneSegment window_;
};

}  // namespace

std::unique_ptr<Fencer> makeChassisPowerFencer(const std::string& midplane, SpId self) {
  return std::make_unique<ChassisPowerFencer>(midplane, self);
}

}  // namespace dualsp::platform
