#include "sp/boot_counter.hpp"

#include <limits>

#include "sp/durable_file.hpp"

namespace dualsp::sp {

platform::Status advanceBootCounter(const std::string& state_dir, uint64_t& counter) {
  const std::string path = state_dir + "/boot_counter";
  const CounterFile file = readCounterFile(path);
  if (file.state == CounterFile::State::Unreadable)
    return platform::Status::failure("cannot read " + path);
  if (file.state == CounterFile::State::Corrupt ||
      (file.state == CounterFile::State::Ok && file.value == std::numeric_limits<uint64_t>::max()))
    return platform::Status::failure(path + " is corrupt ('" + file.text +
                                     "'): remove it only once the peer has been restarted too "
                                     "(it refuses beats of a boot older than one it heard)");
  const uint64_t last = file.state == CounterFile::State::Ok ? file.value : 0;
  auto s = writeFileDurably(path, std::to_string(last + 1) + "\n");
  if (!s.ok) return platform::Status::failure("cannot store the boot counter: " + s.error);
  counter = last + 1;
  return platform::Status::success();
}

}  // namespace dualsp::sp
