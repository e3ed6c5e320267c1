#pragma once
// The configuration journal: an append-only file of framed records, each
//   u32 length | u32 crc32c(payload) | payload        (little-endian)
// appended with fsync before the store changes memory. A failed append leaves the file at
// its previous length, so a write either is in the journal whole or is not there at all.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "platform/platform.hpp"

namespace dualsp::sp {

// A record larger than this is read as corruption, not as a reason to allocate.
constexpr uint32_t kMaxFrameLength = 16u << 20;
constexpr size_t kFrameHeaderLength = 8;

std::string encodeFrame(std::string_view payload);

enum class FrameResult {
  Ok,
  End,        // no bytes left: the clean end
  Short,      // the file ends inside the header or payload: a write cut short
  BadLength,  // zero or absurd length
  BadCrc,     // complete, but the checksum does not match
};
const char* frameResultName(FrameResult result);

// Reads the frame at `offset` of `data`; on Ok sets `payload` and advances `offset`.
FrameResult decodeFrame(std::string_view data, size_t& offset, std::string_view& payload);

struct JournalFrame {
  uint64_t offset = 0;  // where the frame starts: the place to cut if it is bad
  std::string payload;
};

struct JournalScan {
  std::vector<JournalFrame> frames;  // the good frames, in order
  uint64_t good_length = 0;          // end of the last good frame
  uint64_t file_length = 0;
  FrameResult stop = FrameResult::End;  // why the scan ended
};

class Journal {
 public:
  explicit Journal(std::string path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Opens (creating it) and reads every well-framed record; changes nothing on disk.
  platform::Status open(JournalScan& scan);
  // Cuts the file at `length` (a bad tail) and fsyncs; `records` good ones remain.
  platform::Status truncateTo(uint64_t length, size_t records);
  // Writes one frame and fsyncs. On failure the file is cut back to its previous length.
  platform::Status append(std::string_view payload);
  // Several frames in one write and one fsync: a change and the event that records it.
  platform::Status appendBatch(const std::vector<std::string>& payloads);
  // Empties the journal after a snapshot has taken its content over.
  platform::Status clear();

  uint64_t length() const { return length_; }
  size_t records() const { return records_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t length_ = 0;
  size_t records_ = 0;
  // Set when a failed append could not be undone: the length on disk is unknown.
  std::string broken_;
  int broken_errno_ = 0;
};

}  // namespace dualsp::sp
