#include "sp/config_store/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sp/config_store/crc32c.hpp"

namespace dualsp::sp {

namespace {

void putU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t getU32(std::string_view data, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(data[at + i])) << (8 * i);
  return v;
}

platform::Status sysFailure(const std::string& what, const std::string& path, int err) {
  return platform::Status::failure(what + " " + path + ": " + strerror(err), err);
}

}  // namespace

std::string encodeFrame(std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderLength + payload.size());
  putU32(out, static_cast<uint32_t>(payload.size()));
  putU32(out, crc32c(payload));
  out.append(payload);
  return out;
}

const char* frameResultName(FrameResult result) {
  switch (result) {
    case FrameResult::Ok:
      return "ok";
    case FrameResult::End:
      return "end";
    case FrameResult::Short:
      return "torn record (file ends inside it)";
    case FrameResult::BadLength:
      return "bad record length";
    case FrameResult::BadCrc:
      return "checksum mismatch";
  }
  return "?";
}

FrameResult decodeFrame(std::string_view data, size_t& offset, std::string_view& payload) {
  if (offset == data.size()) return FrameResult::End;
  if (data.size() - offset < kFrameHeaderLength) return FrameResult::Short;
  uint32_t length = getU32(data, offset);
  uint32_t crc = getU32(data, offset + 4);
  // A zero length would match crc32c("") == 0 in a zero-filled tail: never valid.
  if (length == 0 || length > kMaxFrameLength) return FrameResult::BadLength;
  if (data.size() - offset - kFrameHeaderLength < length) return FrameResult::Short;
  std::string_view body = data.substr(offset + kFrameHeaderLength, length);
  if (crc32c(body) != crc) return FrameResult::BadCrc;
  payload = body;
  offset += kFrameHeaderLength + length;
  return FrameResult::Ok;
}

Journal::Journal(std::string path) : path_(std::move(path)) {}

Journal::~Journal() {
  if (fd_ >= 0) close(fd_);
}

platform::Status Journal::open(JournalScan& scan) {
  if (fd_ >= 0) close(fd_);
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) return sysFailure("open", path_, errno);
  broken_.clear();
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = pread(fd_, buf, sizeof buf, static_cast<off_t>(data.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sysFailure("read", path_, errno);
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  scan = JournalScan{};
  scan.file_length = data.size();
  size_t offset = 0;
  for (;;) {
    size_t start = offset;
    std::string_view payload;
    FrameResult r = decodeFrame(data, offset, payload);
    if (r != FrameResult::Ok) {
      scan.stop = r;
      break;
    }
    scan.frames.push_back({start, std::string(payload)});
    scan.good_length = offset;
  }
  length_ = data.size();
  records_ = scan.frames.size();
  return platform::Status::success();
}

platform::Status Journal::truncateTo(uint64_t length, size_t records) {
  if (fd_ < 0) return platform::Status::failure("journal " + path_ + " is not open");
  if (ftruncate(fd_, static_cast<off_t>(length)) != 0) return sysFailure("truncate", path_, errno);
  if (fsync(fd_) != 0) return sysFailure("fsync", path_, errno);
  length_ = length;
  records_ = records;
  return platform::Status::success();
}

platform::Status Journal::append(std::string_view payload) {
  return appendBatch({std::string(payload)});
}

platform::Status Journal::appendBatch(const std::vector<std::string>& payloads) {
  if (fd_ < 0) return platform::Status::failure("journal " + path_ + " is not open");
  if (!broken_.empty()) return platform::Status::failure(broken_, broken_errno_);
  std::string frame;
  for (const auto& payload : payloads) frame += encodeFrame(payload);
  size_t done = 0;
  int err = 0;
  const char* step = "write";
  while (done < frame.size()) {
    ssize_t n =
        pwrite(fd_, frame.data() + done, frame.size() - done, static_cast<off_t>(length_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && fdatasync(fd_) != 0) {
    err = errno;
    step = "fsync";
  }
  if (err == 0) {
    length_ += frame.size();
    records_ += payloads.size();
    return platform::Status::success();
  }
  auto why = sysFailure(step, path_, err);
  // Undo the part that reached the file, so replay never sees half of this record.
  if (ftruncate(fd_, static_cast<off_t>(length_)) != 0 || fsync(fd_) != 0) {
    broken_ = why.error + "; cutting it back also failed (" + strerror(errno) +
              "); the journal refuses writes until the store is reopened";
    broken_errno_ = err;  // the write's own error: what the disk refused
    return platform::Status::failure(broken_, broken_errno_);
  }
  return why;
}

platform::Status Journal::clear() {
  return truncateTo(0, 0);
}

}  // namespace dualsp::sp
