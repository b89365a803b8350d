#include "value/scorer.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cairn::value {

size_t CustomerScorer::KeyHash::operator()(const Key& k) const {
  const uint64_t h = static_cast<uint64_t>(k.x) * 0x9E3779B97F4A7C15ull ^ std::bit_cast<uint64_t>(k.T + 0.0);  // + 0.0: -0 hashes as 0
  return static_cast<size_t>(h ^ (h >> 29));
}

CustomerScorer::CustomerScorer(const PurchaseModel& purchases, const GammaGammaParams& spend, const ClvOptions& options)
    : purchases_(purchases), spend_(spend), options_(options) {
  // The same step count and times as DiscountedClv.
  const int steps = static_cast<int>(std::ceil(options_.horizon / options_.step - 1e-9));
  for (int i = 1; i <= steps; ++i) step_times_.push_back(std::min(options_.horizon, i * options_.step));
}

const std::vector<double>& CustomerScorer::IfAlive(int64_t x, double T) {
  auto [it, inserted] = cache_.try_emplace(Key{x, T});
  if (inserted) {
    it->second.reserve(step_times_.size() + 1);
    for (double t : step_times_) it->second.push_back(BgNbdExpectedIfAlive(purchases_.bgnbd, t, x, T));
    it->second.push_back(BgNbdExpectedIfAlive(purchases_.bgnbd, options_.horizon, x, T));
  }
  return it->second;
}

CustomerValue CustomerScorer::Score(const RfmSummary& s) {
  if (purchases_.kind != PurchaseModelKind::kBgNbd) return ScoreCustomer(purchases_, spend_, s, options_);
  // The operations of ScoreCustomer / DiscountedClv / BgNbdConditionalExpected, in their order,
  // with the (x, T) factors looked up: the results are identical.
  const std::vector<double>& if_alive = IfAlive(s.x, s.T);
  CustomerValue v;
  v.prob_alive = BgNbdProbAlive(purchases_.bgnbd, s.x, s.t_x, s.T);
  v.expected_purchases = if_alive.back() * v.prob_alive;
  v.expected_spend = GammaGammaExpectedSpend(spend_, s.x, s.m_x);
  double prev = 0, total = 0, discount = 1;
  for (size_t i = 0; i < step_times_.size(); ++i) {
    const double cum = if_alive[i] * v.prob_alive;
    discount /= (1 + options_.discount_rate);
    total += (cum - prev) * discount;
    prev = cum;
  }
  v.clv = v.expected_spend * total;
  return v;
}

}  // namespace cairn::value
