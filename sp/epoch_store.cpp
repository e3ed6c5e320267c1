#include "sp/epoch_store.hpp"

#include "heartbeat/election.hpp"
#include "sp/durable_file.hpp"

namespace dualsp::sp {

EpochStore::EpochStore(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/epoch") {}

uint64_t EpochStore::load(std::string& problem) const {
  const CounterFile file = readCounterFile(path_);
  switch (file.state) {
    case CounterFile::State::Missing:
      return 0;
    case CounterFile::State::Unreadable:
      problem = "cannot read " + path_ + "; starting from epoch 0";
      return 0;
    case CounterFile::State::Ok:
      // Above the largest epoch the election adopts, a takeover's epoch would wrap.
      if (file.value <= heartbeat::kMaxEpoch) return file.value;
      break;
    case CounterFile::State::Corrupt:
      break;
  }
  problem = path_ + " is corrupt ('" + file.text + "'); starting from epoch 0";
  return 0;
}

platform::Status EpochStore::save(uint64_t epoch) const {
  return writeFileDurably(path_, std::to_string(epoch) + "\n");
}

}  // namespace dualsp::sp
