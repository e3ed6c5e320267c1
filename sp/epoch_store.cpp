#include "sp/epoch_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dualsp::sp {

EpochStore::EpochStore(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/epoch") {}

uint64_t EpochStore::load(std::string& problem) const {
  std::ifstream in(path_);
  if (!in) return 0;
  std::string text;
  std::getline(in, text);
  try {
    size_t used = 0;
    uint64_t epoch = std::stoull(text, &used);
    if (used == text.size() && !text.empty()) return epoch;
  } catch (const std::exception&) {
  }
  problem = path_ + " is corrupt ('" + text.substr(0, 32) + "'); starting from epoch 0";
  return 0;
}

platform::Status EpochStore::save(uint64_t epoch) const {
  std::string tmp = path_ + ".tmp";
  std::string text = std::to_string(epoch) + "\n";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return platform::Status::failure("open " + tmp + ": " + strerror(errno));
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  ok = ok && fsync(fd) == 0;
  if (!ok) err = errno;
  close(fd);
  if (!ok) {
    unlink(tmp.c_str());
    return platform::Status::failure("write " + tmp + ": " + strerror(err));
  }
  if (rename(tmp.c_str(), path_.c_str()) != 0)
    return platform::Status::failure("rename " + tmp + ": " + strerror(errno));
  int dfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);  // the rename itself must survive a power cut
    close(dfd);
  }
  return platform::Status::success();
}

}  // namespace dualsp::sp
