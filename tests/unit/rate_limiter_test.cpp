// GCRA rate limiting on a clock the test moves.
#include "banyan/security/rate_limiter.hpp"

#include <gtest/gtest.h>

#include "banyan/errors.hpp"

namespace banyan::security {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

const RateLimit kTenPerSecondBurstFive{10, 1000ms, 5};

TEST(RateLimiter, AllowsTheBurstThenRefusesUntilTheNextEmissionInterval) {
  RateLimiter limiter;
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) {
    const auto d = limiter.take("k", kTenPerSecondBurstFive, t0);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, static_cast<std::size_t>(4 - i));
  }
  const auto refused = limiter.take("k", kTenPerSecondBurstFive, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  EXPECT_EQ(refused.retry_after, 100ms) << "one more every 100 ms at 10 per second";
  EXPECT_EQ(refused.reset, 500ms) << "five used, back to full in 500 ms";
  EXPECT_FALSE(limiter.take("k", kTenPerSecondBurstFive, t0 + 99ms).allowed);
  EXPECT_TRUE(limiter.take("k", kTenPerSecondBurstFive, t0 + 100ms).allowed);
  EXPECT_FALSE(limiter.take("k", kTenPerSecondBurstFive, t0 + 100ms).allowed);
}

TEST(RateLimiter, ASustainedRateAtTheLimitIsAlwaysAllowed) {
  RateLimiter limiter;
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(limiter.take("k", kTenPerSecondBurstFive, t0 + i * 100ms).allowed) << i;
  int allowed = 0;
  for (int i = 0; i < 1000; ++i)
    allowed += limiter.take("fast", kTenPerSecondBurstFive, t0 + i * 50ms).allowed;
  // Events at 0, 50, ..., 49,950 ms: the burst, then one per 100 ms of the 49.95 s.
  EXPECT_EQ(allowed, 5 + 499) << "at twice the rate: the burst, then one per interval";
}

TEST(RateLimiter, KeysAreIndependentAndPeekingCountsNothing) {
  RateLimiter limiter;
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.take("a", kTenPerSecondBurstFive, t0).allowed);
  EXPECT_FALSE(limiter.peek("a", kTenPerSecondBurstFive, t0).allowed);
  EXPECT_TRUE(limiter.take("b", kTenPerSecondBurstFive, t0).allowed);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.peek("c", kTenPerSecondBurstFive, t0).allowed);
  EXPECT_EQ(limiter.take("c", kTenPerSecondBurstFive, t0).remaining, 4u);
}

TEST(RateLimiter, ARefusedEventDoesNotPushTheNextOneFurtherAway) {
  RateLimiter limiter;
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.take("k", kTenPerSecondBurstFive, t0).allowed);
  for (int i = 0; i < 100; ++i)  // hammering
    EXPECT_FALSE(limiter.take("k", kTenPerSecondBurstFive, t0 + 50ms).allowed);
  EXPECT_TRUE(limiter.take("k", kTenPerSecondBurstFive, t0 + 100ms).allowed);
}

TEST(RateLimiter, MemoryIsBoundedAndIdleKeysComeBackAtAFullBurst) {
  RateLimiter limiter(160);
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 10000; ++i)
    EXPECT_TRUE(limiter.take("key" + std::to_string(i), kTenPerSecondBurstFive, t0).allowed);
  EXPECT_LE(limiter.tracked_keys(), 160u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.take("idle", kTenPerSecondBurstFive, t0).allowed);
  EXPECT_EQ(limiter.take("idle", kTenPerSecondBurstFive, t0 + 10s).remaining, 4u);
}

TEST(RateLimiter, AWeightedEventTakesItsCostAtOnceOrNotAtAll) {
  RateLimiter limiter;
  const auto t0 = Clock::time_point{} + 1h;
  EXPECT_EQ(limiter.take("k", kTenPerSecondBurstFive, t0, 3).remaining, 2u);
  EXPECT_FALSE(limiter.take("k", kTenPerSecondBurstFive, t0, 3).allowed);
  EXPECT_TRUE(limiter.take("k", kTenPerSecondBurstFive, t0, 2).allowed);
  EXPECT_FALSE(limiter.take("k", kTenPerSecondBurstFive, t0, 1).allowed);
}

TEST(RateLimiter, BadLimitsAreValidationErrors) {
  EXPECT_THROW((RateLimit{0, 1000ms, 5}.validate()), ValidationError);
  EXPECT_THROW((RateLimit{10, 0ms, 5}.validate()), ValidationError);
  EXPECT_THROW((RateLimit{10, 1000ms, 0.5}.validate()), ValidationError);
  EXPECT_NO_THROW(kTenPerSecondBurstFive.validate());
}

}  // namespace
}  // namespace banyan::security
