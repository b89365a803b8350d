#pragma once
// PropertyFilter: a condition on one property of an interaction's message, used by funnel steps,
// exclusions and retention events ("where").
//
// Property paths: "plan" means properties.plan; a path whose first segment is "properties",
// "context", "traits" or a top-level message field ("event", "type", "userId", ...) is resolved from
// the message root, e.g. "context.campaign.source". Dots separate object keys.
//
// Operators (value is a JSON string or number; is_set / is_not_set take none):
//   eq, neq        — equal / not equal. A number value compares numerically (a numeric string
//                    property counts as its number); a string value compares the property's text
//                    (true/false/null as "true"/"false"/"null"; numbers as written in the message).
//                    neq is true when the property is absent.
//   gt, gte, lt, lte — numeric comparison; false when the property is absent or not a number.
//   contains       — substring of the property's text; false when absent.
//   is_set, is_not_set — property present (any value, including null) / absent.
// Several filters on one step are AND-ed.

#include <cstdint>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

namespace cairn::analytics {

struct PropertyFilter {
  enum class Op : uint8_t { kEq, kNeq, kGt, kGte, kLt, kLte, kContains, kIsSet, kIsNotSet };
  std::string property;       // path, see above (required, non-empty)
  Op op = Op::kEq;
  bool value_is_number = false;
  std::string value_text;     // the value as text (string values, and numbers as written)
  double value_number = 0;    // when value_is_number

  bool operator==(const PropertyFilter&) const = default;
};

inline bool ParsePropertyOp(std::string_view s, PropertyFilter::Op* out) {
  using Op = PropertyFilter::Op;
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"eq", Op::kEq},   {"neq", Op::kNeq}, {"gt", Op::kGt},         {"gte", Op::kGte},        {"lt", Op::kLt},
      {"lte", Op::kLte}, {"contains", Op::kContains}, {"is_set", Op::kIsSet}, {"is_not_set", Op::kIsNotSet}};
  for (const auto& [name, op] : kOps)
    if (name == s) {
      *out = op;
      return true;
    }
  return false;
}
inline bool PropertyOpTakesValue(PropertyFilter::Op op) {
  return op != PropertyFilter::Op::kIsSet && op != PropertyFilter::Op::kIsNotSet;
}

}  // namespace cairn::analytics
