#include "tools/spctl/client/retry.hpp"

#include <algorithm>
#include <charconv>

namespace dualsp::spctl {

Millis backoff(int attempt, double jitter, const RetryPolicy& policy) {
  Millis wait = policy.first_backoff;
  for (int i = 1; i < attempt && wait < policy.max_backoff; ++i) wait *= 2;
  wait = std::min(wait, policy.max_backoff);
  const double scale = 0.75 + std::clamp(jitter, 0.0, 1.0) / 2;
  return Millis{static_cast<Millis::rep>(static_cast<double>(wait.count()) * scale)};
}

std::optional<Millis> parseRetryAfter(const std::string& value) {
  long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return Millis{seconds * 1000};
}

Decision decide(const Outcome& outcome, const RequestKind& request, int attempt, Millis remaining,
                double jitter, const RetryPolicy& policy) {
  Decision d;
  switch (outcome.kind) {
    case Outcome::Kind::TlsRefused:
      return d;  // a wrong certificate does not become right by asking again
    case Outcome::Kind::Unreachable:
      d.why = "no connection";  // nothing was sent: any request may go again
      d.retry = true;
      break;
    case Outcome::Kind::Cut:
      d.why = "connection cut";
      d.retry = request.safe();
      break;
    case Outcome::Kind::Answered:
      if (outcome.status == 503) {
        d.why = "503";
        d.retry = true;  // refused, nothing done (docs/WEB.md): whatever the method
      } else if (outcome.status == 500 && outcome.outcome_unknown) {
        d.why = "500, outcome unknown";
        d.retry = request.safe();
      } else if (outcome.status == 409 && request.keyed && outcome.retry_after) {
        d.why = "409, the same key in progress";
        d.retry = true;
      }
      break;
  }
  if (!d.retry) return d;
  Millis wait = backoff(attempt, jitter, policy);
  if (outcome.kind == Outcome::Kind::Answered && outcome.retry_after)
    wait = std::max(wait, std::min(*outcome.retry_after, policy.max_retry_after));
  if (wait >= remaining) {
    d.retry = false;
    d.why += ", deadline reached";
    return d;
  }
  d.wait = wait;
  return d;
}

}  // namespace dualsp::spctl
