#pragma once
// CustomerScorer: scores many customers with one fitted model — the same numbers as ScoreCustomer
// (clv.h), bit for bit, at a fraction of the cost. Under BG/NBD, E[Y(t) | x, t_x, T] is
// E[Y(t) | x, T, alive] × P(alive | x, t_x, T), and the first factor (a ₂F₁ series: the costly
// part, once per discounting step and once for the horizon) depends on (x, T) only. Summaries cut
// to whole days have a few thousand distinct (x, T) pairs however many customers there are, so the
// scorer computes those factors once per pair and keeps them. Pareto/NBD has no such split here:
// its customers are scored by ScoreCustomer itself.
//
// Not thread-safe (the cache): one scorer per thread. Memory: one small vector per distinct (x, T).

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "value/clv.h"

namespace cairn::value {

class CustomerScorer {
 public:
  // `options` must be valid (ValidateClvOptions).
  CustomerScorer(const PurchaseModel& purchases, const GammaGammaParams& spend, const ClvOptions& options);

  // Exactly ScoreCustomer(purchases, spend, summary, options).
  CustomerValue Score(const RfmSummary& summary);

  size_t cached_pairs() const { return cache_.size(); }

 private:
  struct Key {
    int64_t x;
    double T;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  // E[Y(t) | x, T, alive] at each discounting step's t, then at the horizon.
  const std::vector<double>& IfAlive(int64_t x, double T);

  PurchaseModel purchases_;
  GammaGammaParams spend_;
  ClvOptions options_;
  std::vector<double> step_times_;  // min(horizon, i·step), i = 1..⌈horizon/step⌉
  std::unordered_map<Key, std::vector<double>, KeyHash> cache_;
};

}  // namespace cairn::value
