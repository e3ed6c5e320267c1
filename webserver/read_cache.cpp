#include "webserver/read_cache.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "webserver/account_access.hpp"
#include "webserver/bus_command.hpp"

namespace dualsp::web {
namespace {

// Distinct reads are few (two Managers, a few configuration prefixes): a bound, not a policy.
constexpr size_t kMaxEntries = 64;

// What the answer depends on: the command, its target and arguments, not who asked.
std::string keyOf(const proto::Command& command) {
  std::vector<std::pair<std::string, std::string>> args(command.args().begin(),
                                                        command.args().end());
  std::sort(args.begin(), args.end());
  std::string key = command.name() + "|" + std::to_string(command.target());
  for (const auto& [name, value] : args) key += "|" + name + "=" + value;
  return key;
}

}  // namespace

bool isReadCommand(const std::string& name) {
  return name == kGetSpStatus || name == kGetConfig || name == kGetEvents || name == kGetLog ||
         name == kGetSensors || name == kGetInventory || name == kGetSpMetrics ||
         name == kGetStorage || name == kGetAccounts || name == kGetHttpsCertificate;
}

ReadCache::ReadCache(ipc::CommandClient& bus, BoardStamp stamp,
                     std::function<Clock::time_point()> now)
    : bus_(bus), stamp_(std::move(stamp)), now_(std::move(now)) {}

bool ReadCache::reusable(const proto::Command& command, const Board& board) {
  if (board.updated_ms == 0) return false;
  return command.name() == kGetSpStatus || (command.name() == kGetConfig && board.active);
}

std::optional<proto::CommandResult> ReadCache::reuse(const std::string& key, int64_t stamp) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second;
  const auto age = now_() - e.at;
  const bool about_peer = e.result.answered_by() != e.result.served_by();
  if (e.stamp != stamp || e.generation != generation_.load() || age < Clock::duration::zero() ||
      age >= (about_peer ? kPeerReadCacheMaxAge : kReadCacheMaxAge)) {
    entries_.erase(it);
    return std::nullopt;
  }
  ++stats_.reused;
  proto::CommandResult out = e.result;
  out.set_age_ms(
      out.age_ms() +
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(age).count()));
  return out;
}

std::optional<proto::CommandResult> ReadCache::call(const proto::Command& command,
                                                    std::chrono::milliseconds timeout) {
  if (!isReadCommand(command.name())) {
    ++generation_;
    std::optional<proto::CommandResult> result = bus_.call(command, timeout);
    ++generation_;  // whatever was asked while it ran is not reused either
    return result;
  }
  if (command.name() != kGetSpStatus && command.name() != kGetConfig)
    return bus_.call(command, timeout);
  const Board board = stamp_();
  const bool reusable_now = reusable(command, board);
  const std::string key = keyOf(command);
  if (reusable_now) {
    if (std::optional<proto::CommandResult> reused = reuse(key, board.updated_ms)) return reused;
  }
  const uint64_t generation = generation_.load();
  const Clock::time_point asked_at = now_();
  std::optional<proto::CommandResult> result = bus_.call(command, timeout);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.asked;
  if (reusable_now && result && result->status() == proto::CommandResult::OK && !result->stale()) {
    if (entries_.size() >= kMaxEntries && !entries_.count(key)) entries_.clear();
    entries_[key] = Entry{*result, asked_at, board.updated_ms, generation};
  }
  return result;
}

ReadCache::Stats ReadCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace dualsp::web
