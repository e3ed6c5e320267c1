#pragma once
// The election epoch, kept across reboots: a takeover that a reboot forgot could let an
// old epoch win again. Written with writeFileDurably (sp/durable_file.hpp).

#include <cstdint>
#include <string>

#include "platform/platform.hpp"

namespace dualsp::sp {

class EpochStore {
 public:
  explicit EpochStore(std::string state_dir);
  // 0 when there is no file yet; a corrupt file is reported in `problem` and reads as 0.
  uint64_t load(std::string& problem) const;
  platform::Status save(uint64_t epoch) const;
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace dualsp::sp
