#include "tools/spctl/client/retry.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp::spctl;

namespace {

const RequestKind kGet{.idempotent = true, .keyed = false};
const RequestKind kPost{.idempotent = false, .keyed = false};
const RequestKind kKeyedPost{.idempotent = false, .keyed = true};
const Millis kPlenty{60000};

Outcome answered(long status, std::optional<Millis> retry_after = {}, bool unknown = false) {
  Outcome o;
  o.status = status;
  o.retry_after = retry_after;
  o.outcome_unknown = unknown;
  return o;
}

Outcome failed(Outcome::Kind kind) {
  Outcome o;
  o.kind = kind;
  return o;
}

}  // namespace

TEST_GROUP(Retry){};

TEST(Retry, NothingSentIsSentAgainWhateverTheMethod) {
  CHECK_TRUE(decide(failed(Outcome::Kind::Unreachable), kPost, 1, kPlenty, 0.5).retry);
  CHECK_TRUE(decide(failed(Outcome::Kind::Unreachable), kGet, 1, kPlenty, 0.5).retry);
}

TEST(Retry, ACutExchangeIsRepeatedOnlyWhenRepeatingCannotDoItTwice) {
  CHECK_TRUE(decide(failed(Outcome::Kind::Cut), kGet, 1, kPlenty, 0.5).retry);
  CHECK_TRUE(decide(failed(Outcome::Kind::Cut), kKeyedPost, 1, kPlenty, 0.5).retry);
  CHECK_FALSE(decide(failed(Outcome::Kind::Cut), kPost, 1, kPlenty, 0.5).retry);
}

TEST(Retry, A503IsRetriedAndItsRetryAfterHonouredUpToTheCap) {
  Decision d = decide(answered(503, Millis{1000}), kPost, 1, kPlenty, 0.5);
  CHECK_TRUE(d.retry);
  LONGS_EQUAL(1000, d.wait.count());
  d = decide(answered(503, Millis{30000}), kPost, 1, kPlenty, 0.5);
  LONGS_EQUAL(RetryPolicy{}.max_retry_after.count(), d.wait.count());
}

TEST(Retry, AnUnknownOutcomeIsRetriedOnlyWithAKeyOrForAnIdempotentRequest) {
  CHECK_TRUE(decide(answered(500, {}, true), kKeyedPost, 1, kPlenty, 0.5).retry);
  CHECK_TRUE(decide(answered(500, {}, true), kGet, 1, kPlenty, 0.5).retry);
  CHECK_FALSE(decide(answered(500, {}, true), kPost, 1, kPlenty, 0.5).retry);
  CHECK_FALSE(decide(answered(500), kKeyedPost, 1, kPlenty, 0.5).retry);  // a plain failure
}

TEST(Retry, AKeyInProgressIsWaitedFor) {
  CHECK_TRUE(decide(answered(409, Millis{1000}), kKeyedPost, 1, kPlenty, 0.5).retry);
  CHECK_FALSE(decide(answered(409, Millis{1000}), kPost, 1, kPlenty, 0.5).retry);
  CHECK_FALSE(decide(answered(409), kKeyedPost, 1, kPlenty, 0.5).retry);  // a real conflict
}

TEST(Retry, AnswersAndRefusalsAreFinal) {
  for (long status : {200L, 201L, 204L, 400L, 401L, 403L, 404L, 412L, 422L, 501L})
    CHECK_FALSE(decide(answered(status), kKeyedPost, 1, kPlenty, 0.5).retry);
  CHECK_FALSE(decide(failed(Outcome::Kind::TlsRefused), kGet, 1, kPlenty, 0.5).retry);
}

TEST(Retry, NoRetryWhoseWaitReachesTheDeadline) {
  Decision d = decide(answered(503, Millis{1000}), kGet, 1, Millis{900}, 0.5);
  CHECK_FALSE(d.retry);
  STRCMP_CONTAINS("deadline", d.why.c_str());
  CHECK_TRUE(decide(answered(503), kGet, 1, Millis{900}, 0.5).retry);  // 50 ms fits
}

TEST(Retry, TheBackoffDoublesToItsCapWithJitter) {
  LONGS_EQUAL(50, backoff(1, 0.5).count());
  LONGS_EQUAL(100, backoff(2, 0.5).count());
  LONGS_EQUAL(200, backoff(3, 0.5).count());
  LONGS_EQUAL(1000, backoff(10, 0.5).count());
  LONGS_EQUAL(1000, backoff(1000, 0.5).count());
  LONGS_EQUAL(750, backoff(10, 0.0).count());
  LONGS_EQUAL(1250, backoff(10, 1.0).count());
}

TEST(Retry, RetryAfterIsSecondsOnly) {
  LONGS_EQUAL(3000, parseRetryAfter("3")->count());
  LONGS_EQUAL(0, parseRetryAfter("0")->count());
  CHECK_FALSE(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK_FALSE(parseRetryAfter("-1"));
  CHECK_FALSE(parseRetryAfter(""));
}
