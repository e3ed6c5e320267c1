#pragma once
// When spctl's client retries a request (docs/SPCTL.md "Riding through a failover"): the
// decision alone, no I/O, so every case is unit-tested (tests/unit/spctl/retry_test.cpp).

#include <chrono>
#include <optional>
#include <string>

namespace dualsp::spctl {

using Millis = std::chrono::milliseconds;

// What one attempt came to.
struct Outcome {
  enum class Kind {
    Answered,     // an HTTP status (status, retry_after, body_says_unknown are set)
    Unreachable,  // no connection: refused, no route, connect timeout (nothing was sent)
    Cut,          // connected, then reset, closed or timed out (the request may have arrived)
    TlsRefused,   // the certificate is not trusted or not the pinned one: never retried
  };
  Kind kind = Kind::Answered;
  long status = 0;
  std::optional<Millis> retry_after;  // Retry-After of the answer
  // A 500 whose body says the outcome is unknown ("may have been applied", OperationTimeout).
  bool outcome_unknown = false;
};

// The request: may it be sent again without risk of doing it twice?
struct RequestKind {
  bool idempotent = true;  // GET, HEAD, PUT, DELETE
  bool keyed = false;      // carries an Idempotency-Key: the array makes it at most once
  bool safe() const { return idempotent || keyed; }
};

struct RetryPolicy {
  Millis first_backoff{50};
  Millis max_backoff{1000};
  Millis max_retry_after{2000};  // an answer's Retry-After is honoured up to this
};

struct Decision {
  bool retry = false;
  Millis wait{0};
  std::string why;  // for -v: "503", "connection refused", ...
};

// attempt: 1 for the first. remaining: time left before the deadline. jitter in [0, 1).
Decision decide(const Outcome& outcome, const RequestKind& request, int attempt, Millis remaining,
                double jitter, const RetryPolicy& policy = {});

// The backoff before attempt+1: first_backoff doubling, capped, scaled by 0.75 + jitter / 2.
Millis backoff(int attempt, double jitter, const RetryPolicy& policy = {});

// "Retry-After: 3" (seconds) as a duration; nullopt for anything else (HTTP dates are not
// sent by the array).
std::optional<Millis> parseRetryAfter(const std::string& value);

}  // namespace dualsp::spctl
