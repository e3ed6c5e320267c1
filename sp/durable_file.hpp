#pragma once
// The one way an SP persists a file (docs/CONFIG-STORE.md "On disk"): write a temporary
// file, fsync it, rename it over the old one, fsync the directory. After ok the new content
// survives a power cut; after a failure the old file is untouched. Every failure carries the
// step, the path and its errno (Status::sys_errno), so callers decide on the errno, not text.

#include <cstdint>
#include <string>
#include <string_view>

#include "platform/platform.hpp"

namespace dualsp::sp {

struct DurableWriteOptions {
  // The temporary file; empty: `path` + ".tmp". Left behind only by a crash.
  std::string tmp_path;
  // Before the rename, the current file (if any) is renamed to this name (a previous copy).
  std::string keep_previous_as;
};

platform::Status writeFileDurably(const std::string& path, std::string_view data,
                                  const DurableWriteOptions& options = {});
// Writes `data` to `path` (created or truncated) and fsyncs it; no rename. The file is
// removed again on failure.
platform::Status writeFileSynced(const std::string& path, std::string_view data);
// A rename or a new or removed name is durable only once its directory is fsynced.
platform::Status syncDirectory(const std::string& dir);
// Removes `path` (absent is fine) and fsyncs its directory.
platform::Status removeFileDurably(const std::string& path);

// A counter kept as one decimal line (the boot counter, the election epoch): digits only, no
// sign, no space, no overflow (std::stoull alone would read "-1" as 2^64-1).
struct CounterFile {
  enum class State { Missing, Ok, Unreadable, Corrupt };
  State state = State::Missing;
  uint64_t value = 0;  // when Ok
  std::string text;    // the first line, at most 32 bytes, for the message (Corrupt)
};
CounterFile readCounterFile(const std::string& path);

}  // namespace dualsp::sp
