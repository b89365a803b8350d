#pragma once
// Exponential back-off with jitter: how long to wait before retrying something that failed (a
// webhook delivery, recording a delivered action's touch). Pure; the caller owns the random
// generator (one per thread).

#include <cstdint>
#include <random>

namespace cairn {

struct RetryPolicy {
  int max_attempts = 6;                 // attempts before giving up (>= 1); default 6
  int64_t initial_backoff_ms = 1000;    // delay after the first failure; default 1 s
  double multiplier = 2;                // growth per failure (>= 1); default 2
  int64_t max_backoff_ms = 300000;      // cap on the delay; default 5 min
};

// Delay before the next attempt after `failures` (>= 1) failed ones: d = min(max, initial ×
// multiplier^(failures−1)), then "equal jitter": uniform in [d/2, d], so retries of many actions
// that failed together spread out instead of hammering the receiver in step.
int64_t BackoffDelay(const RetryPolicy& policy, int failures, std::mt19937_64& rng);

}  // namespace cairn
