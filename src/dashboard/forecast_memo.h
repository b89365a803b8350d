#pragma once
// ForecastMemo: the last ForecastEta answers, remembered by their whole input, so that an overview
// recomputed every few seconds (the 5 s cache) does not refit a forecast whose input has not
// changed. A goal's forecast reads complete days only (today is excluded), so between two
// overviews of the same filter its input changes only when a late interaction lands on a past day,
// a day ends, or the goal is edited.
//
// Exact: ForecastEta is deterministic (a fixed seed), and a hit needs the same series bit for bit,
// the same remaining target, deadline offset and options — so Get answers exactly what
// ForecastEta would. Thread-safe; two threads missing on the same input both compute (the answers
// are equal). Memory: at most `capacity` entries of one history each (≤ 182 days: ~1.5 KiB).

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "dashboard/forecast.h"

namespace cairn::dashboard {

class ForecastMemo {
 public:
  // `capacity`: entries kept; the least recently used goes first. Default 64 (8 filters × 4 goals
  // × 2 forecasts: the overview cache's own bound).
  explicit ForecastMemo(size_t capacity = 64) : capacity_(capacity) {}

  // ForecastEta(y, remaining, deadline_offset, options), from the memo when the same input was
  // forecast before.
  EtaForecast Get(const std::vector<double>& y, double remaining, int deadline_offset, const ForecastOptions& options);

  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Entry {
    std::vector<double> y;
    double remaining = 0;
    int deadline_offset = 0;
    ForecastOptions options;
    EtaForecast answer;
    uint64_t used = 0;  // tick of the last hit or insert
  };
  bool Matches(const Entry& e, const std::vector<double>& y, double remaining, int deadline_offset,
               const ForecastOptions& options) const;

  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;  // guarded by mu_
  uint64_t tick_ = 0;           // guarded by mu_
  uint64_t hits_ = 0, misses_ = 0;  // guarded by mu_
};

}  // namespace cairn::dashboard
