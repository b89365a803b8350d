#include "base/backoff.h"

#include <algorithm>
#include <cmath>

namespace cairn {

int64_t BackoffDelay(const RetryPolicy& p, int failures, std::mt19937_64& rng) {
  double d = static_cast<double>(p.initial_backoff_ms) * std::pow(p.multiplier, std::max(0, failures - 1));
  d = std::min(d, static_cast<double>(p.max_backoff_ms));
  const int64_t full = std::max<int64_t>(1, static_cast<int64_t>(d));
  std::uniform_int_distribution<int64_t> jitter(full / 2, full);
  return jitter(rng);
}

}  // namespace cairn
