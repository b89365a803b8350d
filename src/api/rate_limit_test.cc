#include "api/rate_limit.h"

#include <gtest/gtest.h>

namespace cairn::api {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(RateLimiterTest, BurstThenRefillAtTheRate) {
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3, 1000);
  int64_t t = 5 * kSecond;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("k", t), 0) << i;
  EXPECT_EQ(limiter.Take("k", t), 1);  // empty: one token back in 0.5 s → "1 s"
  EXPECT_EQ(limiter.Take("other", t), 0);  // buckets are independent
  t += kSecond / 2;
  EXPECT_EQ(limiter.Take("k", t), 0);
  EXPECT_EQ(limiter.Take("k", t), 1);
}

TEST(RateLimiterTest, RetryAfterGrowsWithTheDeficitAtLowRates) {
  RateLimiter limiter(/*per_second=*/0.1, /*burst=*/1, 1000);
  EXPECT_EQ(limiter.Take("k", 0), 0);
  EXPECT_EQ(limiter.Take("k", 0), 10);  // one token per 10 s
}

TEST(RateLimiterTest, DisabledAlwaysAllows) {
  RateLimiter limiter(0, 0, 1000);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(limiter.Take("k", 0), 0);
}

TEST(RateLimiterTest, MemoryIsBoundedAndIdleBucketsAreForgotten) {
  RateLimiter limiter(/*per_second=*/10, /*burst=*/5, /*max_buckets=*/16);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(limiter.Take("ip" + std::to_string(i), 0), 0);
  EXPECT_EQ(limiter.size(), 16u);
  EXPECT_EQ(limiter.Take("newcomer", 0), 1);  // every bucket in use: refused, not grown
  EXPECT_EQ(limiter.size(), 16u);
  // A second later every bucket has refilled: they are swept and the newcomer fits.
  EXPECT_EQ(limiter.Take("newcomer", kSecond), 0);
  EXPECT_EQ(limiter.size(), 1u);
}

}  // namespace
}  // namespace cairn::api
