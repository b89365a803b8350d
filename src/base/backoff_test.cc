// BackoffDelay: exponential growth to the cap, with equal jitter that really spreads.
#include "base/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace cairn {
namespace {

TEST(BackoffTest, ExponentialWithEqualJitterAndCap) {
  RetryPolicy p;
  p.initial_backoff_ms = 1000;
  p.multiplier = 2;
  p.max_backoff_ms = 10000;
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    for (int failures = 1; failures <= 8; ++failures) {
      int64_t full = std::min<int64_t>(10000, 1000LL << (failures - 1));
      int64_t d = BackoffDelay(p, failures, rng);
      ASSERT_GE(d, full / 2) << failures;
      ASSERT_LE(d, full) << failures;
    }
  }
  // Jitter actually spreads: 50 delays after the 3rd failure are not all equal.
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(BackoffDelay(p, 3, rng));
  EXPECT_GT(seen.size(), 10u);
}

TEST(BackoffTest, TinyInitialDelayIsAtLeastOneMillisecond) {
  RetryPolicy p;
  p.initial_backoff_ms = 0;
  std::mt19937_64 rng(1);
  for (int failures = 1; failures <= 4; ++failures) {
    const int64_t d = BackoffDelay(p, failures, rng);
    EXPECT_GE(d, 0);
    EXPECT_LE(d, 1);
  }
}

}  // namespace
}  // namespace cairn
