#pragma once
// The status board as CivetWeb's worker threads read it: StatusBoardReader keeps a mapping
// it may reopen, so one reader is shared under a lock (a read is a memcpy of a few hundred
// bytes; the lock is never held across anything slower).

#include <mutex>
#include <optional>
#include <string>

#include "ipc/status_board.hpp"

namespace dualsp::web {

class StatusBoardSource {
 public:
  explicit StatusBoardSource(std::string name, std::optional<platform::UnixIdentity> web = {})
      : reader_(std::move(name), std::move(web)) {}

  std::optional<ipc::StatusSnapshot> read() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reader_.read();
  }

 private:
  std::mutex mutex_;
  ipc::StatusBoardReader reader_;
};

}  // namespace dualsp::web
