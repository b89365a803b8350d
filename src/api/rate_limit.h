#pragma once
// RateLimiter: token buckets by name ("key:12", "ip:10.0.0.7"), for the router's per-key and
// per-client-IP limits (docs/access.md "Rate limits").
//
// A bucket holds up to `burst` tokens and refills at `per_second`; each request takes one. An
// empty bucket answers with the seconds until a token is back (→ 429 + Retry-After). Buckets that
// have refilled completely carry no information and are dropped when the table grows past
// `max_buckets`, so memory stays bounded however many clients there are (a full table that
// cannot be swept refuses new names rather than grow: see Take).
//
// Thread-safe (one mutex; a request takes it twice for a few map operations).

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cairn::api {

struct RateLimitOptions {
  // Per key (or dashboard session's key) on every authenticated API route except ingest, which
  // back-pressure governs. 0 disables. Defaults: 200 requests/s, bursts of 1000.
  double key_per_second = 200;
  double key_burst = 1000;
  // Per client IP on every route except ingest and health (/healthz, /readyz), counted before
  // authentication, so that guessing keys is slow. 0 disables. Defaults: 500 requests/s, bursts of 2000.
  double ip_per_second = 500;
  double ip_burst = 2000;
  // Bound on remembered buckets per limiter. Default 100000.
  size_t max_buckets = 100'000;
};

class RateLimiter {
 public:
  // per_second <= 0 disables the limiter (Take always succeeds).
  RateLimiter(double per_second, double burst, size_t max_buckets);

  // Takes a token from bucket `name` at monotonic time `now_ns`. Returns 0 when allowed, else the
  // whole seconds (>= 1) until a token is available.
  int64_t Take(std::string_view name, int64_t now_ns);

  bool enabled() const { return per_second_ > 0; }
  size_t size() const;

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ns;
  };
  void SweepLocked(int64_t now_ns);

  const double per_second_;
  const double burst_;
  const size_t max_buckets_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace cairn::api
