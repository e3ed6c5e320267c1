#include "sp/boot_counter.hpp"

#include <filesystem>
#include <fstream>
#include <limits>

#include "sp/durable_file.hpp"

namespace dualsp::sp {
namespace {

bool parseCounter(const std::string& text, uint64_t& value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  try {
    size_t used = 0;
    value = std::stoull(text, &used);
    return used == text.size();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

platform::Status advanceBootCounter(const std::string& state_dir, uint64_t& counter) {
  const std::string path = state_dir + "/boot_counter";
  uint64_t last = 0;
  std::ifstream in(path);
  if (in) {
    std::string text;
    std::getline(in, text);
    if (!parseCounter(text, last) || last == std::numeric_limits<uint64_t>::max())
      return platform::Status::failure(path + " is corrupt ('" + text.substr(0, 32) +
                                       "'): remove it only once the peer has been restarted too "
                                       "(it refuses beats of a boot older than one it heard)");
  } else if (std::error_code ec; std::filesystem::exists(path, ec) || ec) {
    return platform::Status::failure("cannot read " + path);
  }
  auto s = writeFileDurably(path, std::to_string(last + 1) + "\n");
  if (!s.ok) return platform::Status::failure("cannot store the boot counter: " + s.error);
  counter = last + 1;
  return platform::Status::success();
}

}  // namespace dualsp::sp
