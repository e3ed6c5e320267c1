#include "platform/linux/volume_devices.hpp"

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace dualsp::platform {

namespace {

constexpr uint64_t kSector = 512;

std::optional<std::string> firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

// One ioctl on /dev/mapper/control with a dm_ioctl header and `payload` after it.
class DmRequest {
 public:
  explicit DmRequest(const std::string& name, size_t payload = 0)
      : buf_(sizeof(dm_ioctl) + payload + 4096, 0) {
    dm_ioctl* io = header();
    io->version[0] = DM_VERSION_MAJOR;
    io->version[1] = 0;
    io->version[2] = 0;
    io->data_size = static_cast<uint32_t>(buf_.size());
    io->data_start = sizeof(dm_ioctl);
    std::strncpy(io->name, name.c_str(), sizeof io->name - 1);
  }
  dm_ioctl* header() { return reinterpret_cast<dm_ioctl*>(buf_.data()); }
  char* payload() { return buf_.data() + sizeof(dm_ioctl); }
  int run(unsigned long request) {
    int fd = ::open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = ::ioctl(fd, request, buf_.data()) == 0 ? 0 : errno;
    ::close(fd);
    return err;
  }

 private:
  std::vector<char> buf_;
};

std::string errnoText(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

}  // namespace

std::optional<std::vector<LinearLine>> linearTable(const DataPathVolume& volume,
                                                   const std::vector<ShelfDrive>& drives,
                                                   std::string& why) {
  std::vector<LinearLine> out;
  uint64_t at = 0;  // in the volume, sectors
  for (const DataPathExtent& e : volume.extents) {
    if (e.offset % kSector || e.length % kSector) {
      why = "an extent of volume " + volume.id + " is not in whole sectors";
      return std::nullopt;
    }
    uint64_t offset = e.offset / kSector, left = e.length / kSector;
    uint64_t base = 0;  // the pool's sector where the current drive starts
    for (const ShelfDrive& d : drives) {
      if (left == 0) break;
      if (offset < base + d.sectors) {
        const uint64_t on_drive = offset - base;
        const uint64_t take = std::min(left, d.sectors - on_drive);
        out.push_back({at, take, d.device, on_drive});
        at += take;
        offset += take;
        left -= take;
      }
      base += d.sectors;
    }
    if (left != 0) {
      why = "volume " + volume.id + " reaches beyond its pool's drives";
      return std::nullopt;
    }
  }
  if (out.empty()) {
    why = "volume " + volume.id + " has no extents";
    return std::nullopt;
  }
  return out;
}

std::optional<ShelfDrive> readShelfDrive(const std::string& name, std::string& why,
                                         const std::string& sys_block) {
  ShelfDrive d;
  d.name = name;
  const auto dev = firstLine(sys_block + "/" + name + "/dev");
  const auto size = firstLine(sys_block + "/" + name + "/size");
  if (!dev || !size) {
    why = "drive " + name + " is not on this SP (" + sys_block + "/" + name + ")";
    return std::nullopt;
  }
  d.device = *dev;
  try {
    d.sectors = std::stoull(*size);
  } catch (const std::exception&) {
    why = "drive " + name + ": unreadable size '" + *size + "'";
    return std::nullopt;
  }
  return d;
}

std::optional<std::string> makeLinearDevice(const std::string& name,
                                            const std::vector<LinearLine>& table,
                                            std::string& why) {
  {
    DmRequest create(name);
    if (int err = create.run(DM_DEV_CREATE); err != 0 && err != EBUSY) {
      why = errnoText(("device-mapper: create " + name).c_str(), err);
      return std::nullopt;
    }
  }
  // The table: a dm_target_spec and its parameters per line, each 8-byte aligned.
  std::vector<std::string> params;
  size_t payload = 0;
  for (const LinearLine& l : table) {
    params.push_back(l.device + " " + std::to_string(l.offset));
    payload += (sizeof(dm_target_spec) + params.back().size() + 1 + 7) & ~size_t{7};
  }
  DmRequest load(name, payload);
  load.header()->target_count = static_cast<uint32_t>(table.size());
  char* at = load.payload();
  for (size_t i = 0; i < table.size(); ++i) {
    auto* spec = reinterpret_cast<dm_target_spec*>(at);
    spec->sector_start = table[i].start;
    spec->length = table[i].length;
    std::strncpy(spec->target_type, "linear", sizeof spec->target_type - 1);
    std::memcpy(at + sizeof(dm_target_spec), params[i].c_str(), params[i].size() + 1);
    const size_t size = (sizeof(dm_target_spec) + params[i].size() + 1 + 7) & ~size_t{7};
    spec->next = static_cast<uint32_t>(size);
    at += size;
  }
  if (int err = load.run(DM_TABLE_LOAD); err != 0) {
    why = errnoText(("device-mapper: load the table of " + name).c_str(), err);
    return std::nullopt;
  }
  DmRequest resume(name);  // DM_DEV_SUSPEND without DM_SUSPEND_FLAG: resume
  if (int err = resume.run(DM_DEV_SUSPEND); err != 0) {
    why = errnoText(("device-mapper: resume " + name).c_str(), err);
    return std::nullopt;
  }
  const dev_t dev = static_cast<dev_t>(resume.header()->dev);
  return "/dev/dm-" + std::to_string(minor(dev));
}

bool removeLinearDevice(const std::string& name, std::string& why) {
  DmRequest remove(name);
  int err = remove.run(DM_DEV_REMOVE);
  if (err == 0 || err == ENXIO) return true;
  why = errnoText(("device-mapper: remove " + name).c_str(), err);
  return false;
}

}  // namespace dualsp::platform
