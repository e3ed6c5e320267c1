#pragma once
// The data path on the Linux kernel's LIO target, driven through configfs
// (/sys/kernel/config/target; docs/STORAGE.md "LIO back end"). apply() reads what is
// configured, and makes only the changes that bring it to the wanted state:
//
//   core/iblock_0/dualsp_<volume>              one iblock backstore per volume, on the block
//                                              device VolumeDevice names, its unit serial the
//                                              volume's WWN (the same on both SPs: hosts see
//                                              one LU through both SPs' targets)
//   core/iblock_0/dualsp_<volume>/alua/dualsp_sp_<a|b>
//                                              this SP's target port group (id 1 on SP-A,
//                                              2 on SP-B), implicit ALUA, the volume's state
//   iscsi/<IQN>/tpgt_1                         one target per IQN this SP's ports publish,
//     np/<address>                             its portals,
//     lun/lun_<n> -> the backstore             one LUN per volume, in this SP's group,
//     acls/<initiator>/lun_<m> -> lun_<n>      each mapping, at the host's LUN number m
//
// The firmware owns core/iblock_0's dualsp_* backstores and everything under iscsi/: what is
// there and not wanted is removed (an unmapped volume disappears from that host only).
// Nothing is ever written to a volume's blocks. What cannot be applied is returned, a line
// each, and the rest is applied all the same.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/data_path.hpp"

namespace dualsp::platform {

// The file operations apply() needs: the system's (configfs) or a test's.
class ConfigFs {
 public:
  virtual ~ConfigFs() = default;
  // Names in `dir` (directories and symbolic links; attribute files too on configfs).
  virtual std::vector<std::string> list(const std::string& dir) = 0;
  virtual bool isDir(const std::string& path) = 0;
  // An attribute's value without its trailing newline, nullopt when it cannot be read.
  virtual std::optional<std::string> read(const std::string& path) = 0;
  virtual std::optional<std::string> readLink(const std::string& path) = 0;
  // 0 or an errno.
  virtual int makeDir(const std::string& path) = 0;
  virtual int removeDir(const std::string& path) = 0;
  virtual int write(const std::string& path, const std::string& value) = 0;
  virtual int symlink(const std::string& target, const std::string& path) = 0;
  virtual int unlink(const std::string& path) = 0;
};

std::unique_ptr<ConfigFs> makeSystemConfigFs();

// The block device a volume's blocks are on ("/dev/dm-3"), or nullopt with the reason.
using VolumeDevice =
    std::function<std::optional<std::string>(const DataPathVolume& volume, std::string& why)>;

struct LioOptions {
  std::string root = "/sys/kernel/config/target";
  VolumeDevice device;
  // Called with a backstore's name (lioObjectName) once it is removed: its device may go.
  std::function<void(const std::string& object)> release;
};

// The backstore name of a volume: "dualsp_" and its id, other characters than letters,
// digits, '-' and '_' as '_'.
std::string lioObjectName(const std::string& volume_id);

// LIO's ALUA access state codes (alua_access_state): SPC-4's.
int lioAluaStateCode(AluaState state);

std::unique_ptr<DataPath> makeLioDataPath(LioOptions options, std::unique_ptr<ConfigFs> fs);

}  // namespace dualsp::platform
