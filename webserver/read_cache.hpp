#pragma once
// spd's recent answers to the reads a Manager GET makes (GetSpStatus, GetConfig), reused for
// a few ms instead of a local-bus round trip per request (docs/WEB.md "Performance"). A round
// trip wakes three threads in two processes; on the build machine's VM that cost more than
// the rest of the request.
//
// An answer is reused only while all of these hold, otherwise spd is asked again:
// - it is younger than kReadCacheMaxAge (kPeerReadCacheMaxAge for an answer about the peer);
// - the status board has not been republished since: spd republishes it every 100 ms and at
//   once when the role, health, faults, the peer or the configuration history change, so any
//   such change is seen by the next request;
// - no command other than a known read went through this client since it was asked (a
//   PATCH reads its own write back);
// - it is an OK answer, not a stale one (an unreachable peer is answered fresh each time);
// - for GetConfig: this SP is active. Every change is made on the active SP, which publishes
//   its new configuration history on the board before it acknowledges the change, so a
//   client that saw a change acknowledged sees it here too. A passive SP applies changes the
//   active sends it, without a republished board before the acknowledgement: it always asks.
// A hung spd stops the board, so nothing is reused for longer than kReadCacheMaxAge: spweb's
// answers then become 503 exactly as before (the degraded server's independence from spd).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "ipc/local_bus.hpp"
#include "platform/sp_types.hpp"

namespace dualsp::web {

// How much older a reused answer may be than one asked for now; its AgeMs says by how much.
inline constexpr std::chrono::milliseconds kReadCacheMaxAge{100};
// The same for an answer about the peer (forwarded over the peer link): shorter, so that a
// peer that just stopped answering is reported stale as soon as before, give or take 20 ms.
inline constexpr std::chrono::milliseconds kPeerReadCacheMaxAge{20};

class ReadCache final : public ipc::CommandClient {
 public:
  using Clock = std::chrono::steady_clock;
  // What the cache needs of the status board, read for each request.
  struct Board {
    int64_t updated_ms = 0;  // 0: not readable, nothing is reused
    bool active = false;     // this SP is the active one
  };
  using BoardStamp = std::function<Board()>;

  explicit ReadCache(ipc::CommandClient& bus, BoardStamp stamp,
                     std::function<Clock::time_point()> now = Clock::now);

  std::optional<proto::CommandResult> call(const proto::Command& command,
                                           std::chrono::milliseconds timeout) override;

  struct Stats {
    uint64_t reused = 0;
    uint64_t asked = 0;  // cacheable reads sent to spd
  };
  Stats stats() const;

 private:
  struct Entry {
    proto::CommandResult result;
    Clock::time_point at;
    int64_t stamp = 0;
    uint64_t generation = 0;
  };

  std::optional<proto::CommandResult> reuse(const std::string& key, int64_t stamp);
  static bool reusable(const proto::Command& command, const Board& board);

  ipc::CommandClient& bus_;
  BoardStamp stamp_;
  std::function<Clock::time_point()> now_;
  std::atomic<uint64_t> generation_{0};  // bumped by every command that may change state
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  Stats stats_;
};

// Whether a command only reads (the names in webserver/bus_command.hpp); anything else may
// change what the reads answer.
bool isReadCommand(const std::string& name);

}  // namespace dualsp::web
