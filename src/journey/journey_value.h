#pragma once
// Journey value (DOMAIN.md §4, docs/journey.md "Value"): the expected revenue of a customer at the
// stage they are in, from the business's own history blended with the journey map's priors.
//
//   before a first purchase   P(purchase | funnel stage) × AOV
//   after one (repeat stages) with a value fit:    E[purchases over the CLV horizon] × average spend
//                             without one:         P(another purchase | orders so far) × AOV
//
// P comes from what the business's customers did: of the n customers who reached a funnel stage,
// the k who bought; of the n customers with j orders (j = 1, 2, 3, 4 or more), the k who placed
// another. Each rate is (k + prior·m) / (n + m), m = value.min_history, so a young business starts
// at the map's prior and its own numbers take over as customers accumulate; AOV likewise.
//
// Pure functions of their inputs; ValueRates is a value type (copy it under the owner's lock).

#include <cstdint>

#include "journey/journey_map.h"
#include "journey/state.h"

namespace cairn::journey {

// Order-count buckets for the repeat rate: customers with 1, 2, 3, and 4 or more orders.
inline constexpr int kRepeatBuckets = 4;

struct ValueRates {
  double stage[kMaxStages] = {};        // P(a purchase | reached funnel stage s)
  double repeat[kRepeatBuckets] = {};   // P(another purchase | j+1 orders so far; the last: 4 or more)
  double aov = 0;                       // average order value
};

// Counts the business's history, one customer at a time, then blends it with the priors.
class ValueHistory {
 public:
  void Add(const CustomerState& s);
  ValueRates Rates(const ValueModel& model) const;
  // The map's priors alone (no history yet).
  static ValueRates Priors(const ValueModel& model) { return ValueHistory().Rates(model); }

 private:
  uint64_t reached_[kMaxStages] = {}, bought_[kMaxStages] = {};
  uint64_t with_orders_[kRepeatBuckets] = {}, with_more_[kRepeatBuckets] = {};
  double revenue_ = 0;
  uint64_t orders_ = 0;
};

// Where a customer's journey value comes from (shown with it, so the number is explained).
enum class ValueBasis : uint8_t {
  kStageConversion,  // no purchase yet: P(purchase | funnel stage) × AOV
  kPredicted,        // bought, value fit present: expected purchases × average spend
  kRepeatRate,       // bought, no value fit: P(another purchase | orders) × AOV
};
std::string_view ValueBasisName(ValueBasis b);

struct JourneyValueResult {
  double value = 0;
  ValueBasis basis = ValueBasis::kStageConversion;
};

// `facts`: the value module's last fit of the customer (null when it has not modelled them). A
// fit's average spend of 0 (no priced purchase) falls back to AOV.
JourneyValueResult ComputeJourneyValue(const CustomerState& s, const ValueRates& rates, const ValueFacts* facts);

}  // namespace cairn::journey
