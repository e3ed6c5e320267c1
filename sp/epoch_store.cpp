#include "sp/epoch_store.hpp"

#include <fstream>

#include "sp/durable_file.hpp"

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
  return writeFileDurably(path_, std::to_string(epoch) + "\n");
}

}  // namespace dualsp::sp
