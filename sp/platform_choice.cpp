#include "sp/platform_choice.hpp"

#include <sys/stat.h>
#include <sys/time.h>

#include <fstream>

#include "platform/linux/gpio_fencer.hpp"
#include "platform/linux/link_state.hpp"
#include "platform/linux/linux_hardware.hpp"
#include "platform/linux/lio_data_path.hpp"
#include "platform/linux/netlink_address.hpp"
#include "platform/linux/volume_devices.hpp"
#include "platform/log.hpp"
#include "platform/loopback/loopback_address.hpp"
#include "platform/sim/chassis_power_fencer.hpp"
#include "platform/sim/power_controller_fencer.hpp"
#include "platform/sim/sim_data_path.hpp"
#include "platform/sim/sim_hardware.hpp"

namespace dualsp::sp {

std::unique_ptr<platform::FloatingAddress> makeFloating(const Settings& c) {
  if (c.floating.mode == "loopback")
    return platform::makeLoopbackFloatingAddress(c.floating.address, c.floating.port,
                                                 c.management.address, c.web.port);
  return platform::makeNetlinkFloatingAddress(c.floating.address, c.floating.prefix_length,
                                              c.floating.interface);
}

std::unique_ptr<platform::Fencer> makeFencer(const Settings& c) {
  if (c.platform.backend == "linux") return platform::makeGpioFencer(c.platform.fence_gpio);
  if (c.platform.backend == "qemu") {
    return platform::makeChassisPowerFencer(c.heartbeat.midplane_segment, c.sp);
  }
  return platform::makePowerControllerFencer(c.platform.power_controller, peerOf(c.sp));
}

namespace {

platform::LinuxHardwareOptions linuxHardwareOptions(const Settings& c) {
  platform::LinuxHardwareOptions options;
  options.exclude_drives = c.platform.shelf_exclude;
  for (const auto& p : c.platform.frontend_iscsi) {
    options.iscsi_portals.push_back({p.interface, p.address, p.prefix_length});
  }
  options.iscsi_target = platform::iscsiTargetName(c.array_id, spLetter(c.sp));
  return options;
}

// A QEMU board whose shelf is real (virtio disks both VMs share, a front-end NIC): the
// sensors, inventory and faults from the hardware description, the drives, ports and the
// shelf's I/O from the kernel.
class QemuShelfHardware final : public platform::Hardware {
 public:
  QemuShelfHardware(std::unique_ptr<platform::Hardware> board,
                    std::unique_ptr<platform::Hardware> shelf)
      : board_(std::move(board)), shelf_(std::move(shelf)) {}

  std::vector<platform::SensorReading> sensors() override {
    return board_ ? board_->sensors() : std::vector<platform::SensorReading>{};
  }
  std::vector<platform::InventoryItem> inventory() override {
    return board_ ? board_->inventory() : std::vector<platform::InventoryItem>{};
  }
  std::vector<platform::HardwareFault> faults() override {
    return board_ ? board_->faults() : std::vector<platform::HardwareFault>{};
  }
  std::vector<platform::DriveInfo> drives() override { return shelf_->drives(); }
  std::vector<platform::FrontEndPortInfo> ports() override { return shelf_->ports(); }
  platform::PerformanceReading performance() override {
    platform::PerformanceReading out = shelf_->performance();
    if (board_) {  // the description's CPU and memory stand-ins, when it has them
      platform::PerformanceReading b = board_->performance();
      out.cpu_percent = b.cpu_percent;
      out.memory_percent = b.memory_percent;
    }
    return out;
  }
  std::string describe() const override {
    return (board_ ? board_->describe() : std::string("no board description")) + ", shelf from " +
           shelf_->describe();
  }
  std::string lastError() const override {
    std::string a = board_ ? board_->lastError() : std::string();
    std::string b = shelf_->lastError();
    return a.empty() ? b : b.empty() ? a : a + "; " + b;
  }

 private:
  std::unique_ptr<platform::Hardware> board_;  // may be null
  std::unique_ptr<platform::Hardware> shelf_;
};

}  // namespace

std::unique_ptr<platform::Hardware> makeHardware(const Settings& c) {
  if (c.platform.backend == "linux") return platform::makeLinuxHardware(linuxHardwareOptions(c));
  if (c.platform.backend == "qemu" && c.platform.shelf == "linux") {
    return std::make_unique<QemuShelfHardware>(
        c.platform.hardware.empty() ? nullptr : platform::makeSimHardware(c.platform.hardware),
        platform::makeLinuxHardware(linuxHardwareOptions(c)));
  }
  if (c.platform.hardware.empty()) return nullptr;
  return platform::makeSimHardware(c.platform.hardware);
}

namespace {

constexpr const char* kLioRoot = "/sys/kernel/config/target";

// A Linux board without the LIO target (its modules not loaded, configfs not mounted):
// nothing is exported, and every apply with volumes says so (the SP's data-path fault).
class NoDataPath final : public platform::DataPath {
 public:
  std::vector<std::string> apply(const platform::DataPathState& wanted) override {
    if (wanted.volumes.empty()) return {};
    return {"no LIO target on this board (" + std::string(kLioRoot) +
            " is missing): volumes are not exported"};
  }
  std::string describe() const override { return "no data path"; }
};

}  // namespace

std::unique_ptr<platform::DataPath> makeDataPath(const Settings& c) {
  // A real shelf (a Linux board, or a QEMU board whose drives are the kernel's) gets the
  // kernel's target; the simulated one records what it was told.
  if (c.platform.backend == "linux" ||
      (c.platform.backend == "qemu" && c.platform.shelf == "linux")) {
    struct stat st {};
    if (::stat(kLioRoot, &st) != 0 || !S_ISDIR(st.st_mode)) return std::make_unique<NoDataPath>();
    platform::LioOptions options;
    options.root = kLioRoot;
    // Each volume on a device-mapper device over its pool's drives (docs/STORAGE.md
    // "Volume devices"), named after its backstore, removed with it.
    options.device = [](const platform::DataPathVolume& v,
                        std::string& why) -> std::optional<std::string> {
      std::vector<platform::ShelfDrive> drives;
      for (const std::string& name : v.drives) {
        auto d = platform::readShelfDrive(name, why);
        if (!d) return std::nullopt;
        drives.push_back(std::move(*d));
      }
      auto table = platform::linearTable(v, drives, why);
      if (!table) return std::nullopt;
      return platform::makeLinearDevice(platform::lioObjectName(v.id), *table, why);
    };
    options.release = [](const std::string& object) {
      std::string why;
      if (platform::removeLinearDevice(object, why))
        LOG_INFO << "storage: device-mapper device " << object << " gone with its backstore";
      else
        LOG_WARNING << "storage: " << why;
    };
    return platform::makeLioDataPath(std::move(options), platform::makeSystemConfigFs());
  }
  return platform::makeSimDataPath(c.state_dir.empty() ? "" : c.state_dir + "/datapath.json");
}

bool hasCarrier(const std::string& interface) {
  return platform::linkHasCarrier(interface);
}

std::string newBootId() {
  std::ifstream in("/proc/sys/kernel/random/uuid");
  std::string id;
  std::getline(in, id);
  return id;
}

int64_t wallMillis() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

}  // namespace dualsp::sp
