#include "api/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace cairn::api {

RateLimiter::RateLimiter(double per_second, double burst, size_t max_buckets)
    : per_second_(per_second), burst_(std::max(1.0, burst)), max_buckets_(std::max<size_t>(16, max_buckets)) {}

size_t RateLimiter::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

void RateLimiter::SweepLocked(int64_t now_ns) {
  // A bucket that would be full now is indistinguishable from a new one: forget it.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double refilled = it->second.tokens + per_second_ * static_cast<double>(now_ns - it->second.updated_ns) / 1e9;
    it = refilled >= burst_ ? buckets_.erase(it) : std::next(it);
  }
}

int64_t RateLimiter::Take(std::string_view name, int64_t now_ns) {
  if (per_second_ <= 0) return 0;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(name));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_buckets_) SweepLocked(now_ns);
    // Still full: every bucket is in use right now. Refusing the newcomer (rather than growing
    // without bound) is what a flood from many addresses deserves; a second's wait frees some.
    if (buckets_.size() >= max_buckets_) return 1;
    buckets_.emplace(std::string(name), Bucket{burst_ - 1, now_ns});
    return 0;
  }
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + per_second_ * static_cast<double>(now_ns - b.updated_ns) / 1e9);
  b.updated_ns = now_ns;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - b.tokens) / per_second_)));
}

}  // namespace cairn::api
