#include "value/purchase_columns.h"

#include <algorithm>
#include <numeric>

#include "store/interaction.h"

namespace cairn::value {

void PurchaseColumns::BeginSegment(std::span<const std::string> event_names) {
  is_purchase_code_.assign(event_names.size(), 0);
  for (size_t c = 0; c < event_names.size(); ++c)
    is_purchase_code_[c] = std::find(rule_.events.begin(), rule_.events.end(), event_names[c]) != rule_.events.end();
  offset_ms_ = int64_t{rule_.utc_offset_minutes} * 60'000;
}

void PurchaseColumns::Add(const PurchaseBlock& b) {
  const size_t n = b.customer.size();
  const uint8_t track = static_cast<uint8_t>(store::MessageType::kTrack);
  const bool by_revenue = rule_.any_positive_revenue;
  const uint8_t* codes = is_purchase_code_.data();
  const size_t ncodes = is_purchase_code_.size();
  constexpr int64_t kDay = 86'400'000;
  for (size_t i = 0; i < n; ++i) {
    // Same predicate as IsPurchase: revenue > 0 (when enabled), or a track of a purchase event.
    const bool purchase = (by_revenue && b.revenue[i] > 0) ||
                          (b.type[i] == track && b.event[i] < ncodes && codes[b.event[i]]);
    if (!purchase) continue;
    const int64_t local = b.timestamp_ms[i] + offset_ms_;
    customer_.push_back(b.customer[i]);
    day_.push_back(local >= 0 ? local / kDay : -((-local + kDay - 1) / kDay));  // DayOf
    value_.push_back(b.revenue[i]);
  }
}

void PurchaseColumns::Append(PurchaseColumns&& other) {
  customer_.insert(customer_.end(), other.customer_.begin(), other.customer_.end());
  day_.insert(day_.end(), other.day_.begin(), other.day_.end());
  value_.insert(value_.end(), other.value_.begin(), other.value_.end());
  other = PurchaseColumns(other.rule_);
}

PurchaseColumns::Result PurchaseColumns::Summaries(const RfmOptions& options,
                                                   const std::function<uint64_t(uint64_t)>& canonical) {
  Result out;
  const size_t n = customer_.size();
  out.purchases = static_cast<int64_t>(n);
  if (canonical) {
    for (size_t i = 0; i < n;) {
      const uint64_t id = customer_[i], to = canonical(id);
      for (; i < n && customer_[i] == id; ++i) customer_[i] = to;
    }
  }
  // A compacted store gives (customer, day) order already; several segments or merges do not.
  bool sorted = true;
  for (size_t i = 1; i < n && sorted; ++i)
    sorted = customer_[i - 1] < customer_[i] || (customer_[i - 1] == customer_[i] && day_[i - 1] <= day_[i]);
  std::vector<Purchase> p(n);
  std::vector<uint64_t> ids;
  if (sorted) {
    for (size_t i = 0; i < n; ++i) p[i] = {day_[i], value_[i]};
  } else {
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return customer_[a] != customer_[b] ? customer_[a] < customer_[b] : day_[a] < day_[b];
    });
    std::vector<uint64_t> c(n);
    for (size_t i = 0; i < n; ++i) {
      p[i] = {day_[order[i]], value_[order[i]]};
      c[i] = customer_[order[i]];
    }
    customer_.swap(c);
  }
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && customer_[j] == customer_[i]) ++j;
    if (auto s = SummarizeSorted(std::span<const Purchase>(p).subspan(i, j - i), options)) {
      out.ids.push_back(customer_[i]);
      out.rows.push_back(*s);
    }
    i = j;
  }
  return out;
}

}  // namespace cairn::value
