#pragma once
// Idempotent retries (docs/WEB.md "Idempotent retries", docs/CONFIG-STORE.md "Idempotency
// records"): a client's change may carry an Idempotency-Key; spweb names it by `id` (a hash of
// the user and the key) and the request by `fp` (a hash of method, path, query and body).
//
// Record "idempotency/<id>" (JSON, private: never shown by GetConfig, written only by spd):
//   {"fp", "attempt", "at" (wall ms of the active SP), "state": "applied" | "done",
//    "created" (the id of a created resource, may be empty), and, once "done", the result:
//    "status", "headers" {name: value}, "body" (text, may be absent when too large)}
// "applied" is written by the change itself, atomically in the same replicated change
// (ConfigWriter, from ConfigWrite's IdempotencyMarker), so a change that committed is known
// as applied on the survivor of a failover. "done" follows when spweb has the answer
// (IdempotencyRecord). An "attempt" is one client request: a second attempt's change with the
// same id is refused by the writer (message_key kKeyApplied), so the change is made once even
// when two attempts race (an SP lost the role while its spweb still ran the first).
//
// IdempotencyService runs on the active SP (a passive forwards both commands to it):
//   IdempotencyCheck {id, fp, attempt}: "none" (go ahead; the attempt is now in progress),
//     "in_progress" (another attempt of this id runs on the active now), "mismatch" (the id is
//     recorded with another fp), "applied" or "done" (with the record).
//   IdempotencyRecord {id, fp, attempt, status, headers, body}: ends the attempt; a 2xx result
//     is written into the record (private, no event) unless another attempt owns it.
// Retention: on the active SP, records older than keep_ms or beyond max_records (oldest
// first) are removed, in batches of one change each.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "sp/command_registry.hpp"
#include "sp/config_store/config_store.hpp"

namespace dualsp::sp::idempotency {

inline constexpr const char* kPrefix = "idempotency/";
// The args spweb puts on every command of a keyed change (ConfigWrite, StorageWrite,
// AccountWrite...); the router removes them from commands that are not `mutating`.
inline constexpr const char* kArgId = "idempotency_id";
inline constexpr const char* kArgFp = "idempotency_fp";
inline constexpr const char* kArgAttempt = "idempotency_attempt";
inline constexpr const char* kArgCreated = "idempotency_created";
// CommandResult.message_key of a change refused because another attempt applied it already.
inline constexpr const char* kKeyApplied = "IdempotencyKeyApplied";

std::string recordKey(const std::string& id);
// The marker of a command's args (nullopt without idempotency_id).
std::optional<proto::IdempotencyMarker> markerOf(const proto::Command& command);
// Copies the idempotency args of `from` onto `to` (services that write through their own
// ConfigWrite pass them on to the one change that makes the client's request).
void passOn(const proto::Command& from, proto::Command& to);
void dropArgs(proto::Command& command);
// An id or fp as spweb sends them: 1..128 lowercase hex digits.
bool validHash(const std::string& text);

// The writer's part (ConfigWriter::stampChange): the record "applied" for `marker`, given the
// record the store holds (if any) and the keys the change writes. nullopt: another attempt
// applied it already (refuse the change).
std::optional<std::string> appliedValue(const proto::IdempotencyMarker& marker,
                                        const std::optional<ConfigRecord>& existing,
                                        const std::vector<std::string>& keys,
                                        const std::string& create_prefix, int64_t now_ms);

struct Options {
  std::chrono::milliseconds keep{24LL * 3600 * 1000};  // 24 h
  size_t max_records = 1000;                           // per array
  // An attempt in progress is forgotten after this (spweb died mid-request).
  std::chrono::milliseconds in_progress_bound{60000};
  size_t removals_per_change = 200;  // one retention change removes at most this many
  size_t max_body_bytes = 8 * 1024;  // a larger body is not kept (the replay reconstructs)
  std::chrono::milliseconds retention_every{10000};
};

class IdempotencyService {
 public:
  struct Dependencies {
    std::function<std::optional<ConfigRecord>(const std::string& key)> get;
    std::function<std::vector<ConfigRecord>(const std::string& prefix)> list;
    std::function<void(proto::Command, Reply)> write;  // ConfigService's ConfigWrite handler
    std::function<bool()> active;
    std::function<void(const proto::Command&, Reply)> forward_to_active;
    std::function<int64_t()> wall_ms;
    std::function<std::chrono::steady_clock::time_point()> now;
  };
  IdempotencyService(Dependencies deps, Options options = {});

  void registerCommands(CommandRegistry& registry);
  struct KeyArgs {
    std::string id, fp, attempt;
  };
  // The key's arguments of a check or a record on the active SP; nullopt when the command was
  // forwarded (a passive) or refused (reply used).
  std::optional<KeyArgs> keyArgs(const proto::Command& command, Reply& reply);
  void check(const proto::Command& command, Reply reply);
  void record(const proto::Command& command, Reply reply);
  // On the active SP, from spd's main loop: at most one retention change in flight.
  void tick();
  // The removals retention would make now (oldest first, at most removals_per_change).
  std::vector<std::string> expiredKeys() const;
  size_t inProgress() const;

 private:
  void release(const std::string& id, const std::string& attempt);
  Dependencies deps_;
  Options options_;
  mutable std::mutex mu_;
  struct Running {
    std::string attempt;
    std::chrono::steady_clock::time_point until;
  };
  std::map<std::string, Running> running_;  // (mu_) id -> the attempt in progress
  bool retention_busy_ = false;             // (mu_)
  std::chrono::steady_clock::time_point next_retention_{};
};

}  // namespace dualsp::sp::idempotency
