#include "sp/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace dualsp::sp {
namespace {

platform::Status sysFailure(const std::string& step, const std::string& path, int err) {
  return platform::Status::failure(step + " " + path + ": " + strerror(err), err);
}

std::string directoryOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

platform::Status writeFileSynced(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return sysFailure("open", path, errno);
  size_t done = 0;
  int err = 0;
  const char* step = "write";
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) {
    err = errno;
    step = "fsync";
  }
  if (::close(fd) != 0 && err == 0) {  // NFS and some filesystems report write errors here
    err = errno;
    step = "close";
  }
  if (err != 0) {
    ::unlink(path.c_str());
    return sysFailure(step, path, err);
  }
  return platform::Status::success();
}

platform::Status syncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sysFailure("open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return sysFailure("fsync", dir, err);
  return platform::Status::success();
}

platform::Status writeFileDurably(const std::string& path, std::string_view data,
                                  const DurableWriteOptions& options) {
  const std::string tmp = options.tmp_path.empty() ? path + ".tmp" : options.tmp_path;
  auto status = writeFileSynced(tmp, data);
  if (!status.ok) return status;
  if (!options.keep_previous_as.empty() &&
      ::rename(path.c_str(), options.keep_previous_as.c_str()) != 0 && errno != ENOENT) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sysFailure("rename", path, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sysFailure("rename", tmp, err);
  }
  return syncDirectory(directoryOf(path));
}

platform::Status removeFileDurably(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return platform::Status::success();
    return sysFailure("unlink", path, errno);
  }
  return syncDirectory(directoryOf(path));
}

CounterFile readCounterFile(const std::string& path) {
  CounterFile out;
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    out.state = std::filesystem::exists(path, ec) || ec ? CounterFile::State::Unreadable
                                                        : CounterFile::State::Missing;
    return out;
  }
  std::string text;
  std::getline(in, text);
  out.text = text.substr(0, 32);
  out.state = CounterFile::State::Corrupt;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return out;
  try {
    size_t used = 0;
    out.value = std::stoull(text, &used);
    if (used == text.size()) out.state = CounterFile::State::Ok;
  } catch (const std::exception&) {  // out of range
  }
  return out;
}

}  // namespace dualsp::sp
