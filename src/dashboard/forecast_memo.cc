#include "dashboard/forecast_memo.h"

#include <algorithm>
#include <cstring>

namespace cairn::dashboard {
namespace {
// Bit for bit: == would take 0.0 for -0.0, and the forecast must see exactly what was memoised.
bool SameBits(const double* a, const double* b, size_t n) { return n == 0 || std::memcmp(a, b, n * sizeof(double)) == 0; }
bool SameBits(double a, double b) { return SameBits(&a, &b, 1); }
}  // namespace

bool ForecastMemo::Matches(const Entry& e, const std::vector<double>& y, double remaining, int deadline_offset,
                           const ForecastOptions& options) const {
  const ForecastOptions& o = e.options;
  return e.deadline_offset == deadline_offset && SameBits(e.remaining, remaining) && e.y.size() == y.size() &&
         o.paths == options.paths && o.refits == options.refits && o.horizon_days == options.horizon_days &&
         SameBits(o.band_low, options.band_low) && SameBits(o.band_high, options.band_high) && o.seed == options.seed &&
         SameBits(e.y.data(), y.data(), y.size());
}

EtaForecast ForecastMemo::Get(const std::vector<double>& y, double remaining, int deadline_offset,
                              const ForecastOptions& options) {
  {
    std::lock_guard lock(mu_);
    for (Entry& e : entries_)
      if (Matches(e, y, remaining, deadline_offset, options)) {
        e.used = ++tick_;
        ++hits_;
        return e.answer;
      }
    ++misses_;
  }
  // Outside the lock: a forecast costs milliseconds and overviews of other filters run meanwhile.
  EtaForecast answer = ForecastEta(y, remaining, deadline_offset, options);
  std::lock_guard lock(mu_);
  if (capacity_ == 0) return answer;
  for (const Entry& e : entries_)
    if (Matches(e, y, remaining, deadline_offset, options)) return answer;  // another thread put it
  if (entries_.size() >= capacity_)
    entries_.erase(std::min_element(entries_.begin(), entries_.end(),
                                    [](const Entry& a, const Entry& b) { return a.used < b.used; }));
  entries_.push_back({y, remaining, deadline_offset, options, answer, ++tick_});
  return answer;
}

uint64_t ForecastMemo::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

uint64_t ForecastMemo::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace cairn::dashboard
