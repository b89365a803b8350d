#include "journey/journey_value.h"

#include <algorithm>

namespace cairn::journey {

namespace {

// Orders so far → repeat bucket (1 → 0, 2 → 1, 3 → 2, 4 or more → 3). orders ≥ 1.
int Bucket(uint32_t orders) { return static_cast<int>(std::min<uint32_t>(orders, kRepeatBuckets)) - 1; }

}  // namespace

void ValueHistory::Add(const CustomerState& s) {
  for (int st = 0; st < kMaxStages; ++st) {
    if (s.entered[static_cast<int>(View::kFunnel)][st]) {
      ++reached_[st];
      bought_[st] += s.orders > 0;
    }
  }
  // A customer with `orders` orders went through every count below it: for j < orders they
  // reached j and placed another. For the last bucket ("4 or more") each order from the 4th on
  // counts once as reached and, but for the latest, as followed by another.
  for (uint32_t j = 1; j <= s.orders && j < static_cast<uint32_t>(kRepeatBuckets); ++j) {
    ++with_orders_[j - 1];
    with_more_[j - 1] += s.orders > j;
  }
  if (s.orders >= static_cast<uint32_t>(kRepeatBuckets)) {
    with_orders_[kRepeatBuckets - 1] += s.orders - kRepeatBuckets + 1;
    with_more_[kRepeatBuckets - 1] += s.orders - kRepeatBuckets;
  }
  revenue_ += s.revenue;
  orders_ += s.orders;
}

ValueRates ValueHistory::Rates(const ValueModel& vm) const {
  ValueRates r;
  const double m = static_cast<double>(std::max<int64_t>(vm.min_history, 1));
  for (int s = 0; s < kMaxStages; ++s) {
    r.stage[s] = (static_cast<double>(bought_[s]) + vm.conversion_prior[s] * m) / (static_cast<double>(reached_[s]) + m);
  }
  for (int j = 0; j < kRepeatBuckets; ++j) {
    r.repeat[j] = (static_cast<double>(with_more_[j]) + vm.repeat_prior * m) / (static_cast<double>(with_orders_[j]) + m);
  }
  r.aov = (revenue_ + vm.average_order_value * m) / (static_cast<double>(orders_) + m);
  return r;
}

std::string_view ValueBasisName(ValueBasis b) {
  switch (b) {
    case ValueBasis::kStageConversion: return "stage_conversion";
    case ValueBasis::kPredicted: return "predicted_purchases";
    case ValueBasis::kRepeatRate: return "repeat_rate";
  }
  return "?";
}

JourneyValueResult ComputeJourneyValue(const CustomerState& s, const ValueRates& rates, const ValueFacts* facts) {
  if (s.orders == 0) return {rates.stage[s.stage[static_cast<int>(View::kFunnel)]] * rates.aov, ValueBasis::kStageConversion};
  // A customer who bought: what the relationship is worth now is their next purchases. The value
  // module's fit of this customer knows them best (BG/NBD purchases over its horizon); without
  // one, the business's own repeat rate at their order count.
  if (facts != nullptr) {
    const double spend = facts->average_spend > 0 ? facts->average_spend : rates.aov;
    return {std::max(0.0, facts->expected_purchases) * spend, ValueBasis::kPredicted};
  }
  return {rates.repeat[Bucket(s.orders)] * rates.aov, ValueBasis::kRepeatRate};
}

}  // namespace cairn::journey
