#pragma once
// Idempotent retries (docs/WEB.md "Idempotent retries"): a change (POST, PATCH, PUT, DELETE)
// may carry an Idempotency-Key. The active SP records the key with the change (atomically, in
// the replicated store) and then with its result, so a retry of the same request, also after a
// failover to the other SP, is answered with the first result instead of making the change
// twice. spd's half is sp/idempotency.hpp; the dispatcher drives this one.

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/local_bus.hpp"
#include "webserver/http_types.hpp"
#include "webserver/json.hpp"

namespace dualsp::web::idempotency {

inline constexpr std::string_view kHeader = "Idempotency-Key";
// On an answer that repeats (or reconstructs) the first answer to the key.
inline constexpr std::string_view kReplayedHeader = "Idempotent-Replayed";
inline constexpr size_t kMaxKeyLength = 255;
// A retry while the first attempt still runs on the active SP.
inline constexpr int kRetryAfterInProgressSeconds = 1;

inline constexpr std::string_view kIdempotencyCheck = "IdempotencyCheck";
inline constexpr std::string_view kIdempotencyRecord = "IdempotencyRecord";

// 1..255 printable ASCII characters (space to '~').
bool validKey(std::string_view key);
// Whether `request` is a change a key applies to (POST, PATCH, PUT, DELETE).
bool keyable(const Request& request);
// A body no route takes (not blank, not a JSON object): the handler refuses it with a 400 and
// changes nothing, so the key is neither checked nor recorded.
bool refusedBody(const Request& request);
// Hex BLAKE2b-256 of (user, key): keys are per account.
std::string requestId(std::string_view user, std::string_view key);
// Hex BLAKE2b-256 of (method, path, query, body): what the key was first used for.
std::string fingerprint(const Request& request);
// A fresh random attempt id (one client request).
std::string newAttempt();

// The request's bus, every command of the change marked with the key: spd records the key in
// the change that a mutating command makes (its router drops the marks from reads).
class KeyedBus final : public ipc::CommandClient {
 public:
  KeyedBus(ipc::CommandClient& inner, std::string id, std::string fp, std::string attempt)
      : inner_(inner), id_(std::move(id)), fp_(std::move(fp)), attempt_(std::move(attempt)) {}
  std::optional<proto::CommandResult> call(const proto::Command& command,
                                           std::chrono::milliseconds timeout) override;
  // spd refused a change of this request: another attempt with the key made it already.
  bool appliedElsewhere() const { return applied_elsewhere_.load(); }

 private:
  ipc::CommandClient& inner_;
  const std::string id_, fp_, attempt_;
  std::atomic<bool> applied_elsewhere_{false};
};

// What the active SP knows of the key.
struct CheckAnswer {
  enum class State { None, InProgress, Mismatch, Applied, Done, Failed };
  State state = State::Failed;
  std::optional<proto::CommandResult> failure;  // Failed: spd's answer (or none)
  int status = 0;                               // Done
  Json headers = Json::object();                // Done
  std::optional<std::string> body;              // Done: the body's text (absent: too large)
  std::string created;                          // the id of a created resource, if known
};
CheckAnswer check(ipc::CommandClient& bus, const proto::Caller& caller, const std::string& id,
                  const std::string& fp, const std::string& attempt);

// Ends the attempt on the active SP; a 2xx `res` is recorded as the key's result.
void record(ipc::CommandClient& bus, const proto::Caller& caller, const std::string& id,
            const std::string& fp, const std::string& attempt, const Response& res);

// Whether a recorded result can be replayed as it is: a 2xx with its body kept, a resource
// (or nothing, for a 204) whose Location names it, headers without CR, LF or NUL. Otherwise the
// retry is answered as for a change applied without its result.
bool replayable(const CheckAnswer& answer);
// A recorded result as a response (the saved headers, status and body).
void replay(const CheckAnswer& answer, Response& res);

}  // namespace dualsp::web::idempotency
