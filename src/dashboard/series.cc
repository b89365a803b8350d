#include "dashboard/series.h"

#include <algorithm>
#include <unordered_map>

#include "dashboard/revenue_sum.h"
#include "store/segment_format.h"

namespace cairn::dashboard {

namespace {
constexpr int64_t kDayMs = 86'400'000;
int64_t DayOf(int64_t ms) { return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs; }
}  // namespace

Result<DailySeries> ComputeSeries(const store::Snapshot& snapshot, const Canonicalizer& canonical,
                                  const std::vector<std::string>& extra_metrics, int64_t first_day, int64_t last_day,
                                  const SeriesOptions& o, const std::vector<uint64_t>* members) {
  DailySeries out;
  out.first_day = first_day;
  size_t n = static_cast<size_t>(std::max<int64_t>(0, last_day - first_day + 1));
  for (const char* m : {"revenue", "orders", "new_customers", "signups", "interactions", "touches", "complaints"})
    out.values[m].assign(n, 0.0);
  // Named events: event name → the series it adds to (several roles may share a name).
  std::unordered_map<std::string, std::vector<std::vector<double>*>> by_event;
  std::unordered_map<std::string, bool> is_order;
  for (const auto& e : o.order_events) by_event[e].push_back(&out.values["orders"]), is_order[e] = true;
  for (const auto& e : o.outbound_events) by_event[e].push_back(&out.values["touches"]);
  by_event[o.complaint_event].push_back(&out.values["complaints"]);
  by_event[o.signup_event].push_back(&out.values["signups"]);
  for (const auto& m : extra_metrics) {
    if (!m.starts_with("event:")) continue;
    auto& v = out.values[m];
    if (v.size() != n) {
      v.assign(n, 0.0);
      by_event[m.substr(6)].push_back(&v);
    }
  }
  // Revenue summed exactly (order-independent), so the incremental totals give the same bits.
  std::vector<RevenueSum> revenue(n);
  auto& interactions = out.values["interactions"];
  // First order day per canonical customer (over all time, so "new" means first ever).
  std::unordered_map<store::CustomerId, int64_t> first_order;
  int64_t first_data_day = INT64_MAX;
  store::CustomerId last_customer = 0;
  bool have_last = false, last_in = false;
  using store::segment::Bit;
  using store::segment::Column;
  uint32_t columns = Bit(Column::kCustomer) | Bit(Column::kTimestamp) | Bit(Column::kEvent) | Bit(Column::kRevenue);
  RETURN_IF_ERROR(snapshot.ForEach(
      [&](const store::Interaction& it) {
        if (members) {
          // Rows come clustered by stored customer: the membership of the last one is reused.
          if (!have_last || it.customer != last_customer) {
            have_last = true;
            last_customer = it.customer;
            store::CustomerId c = canonical ? canonical(it.customer) : it.customer;
            last_in = std::binary_search(members->begin(), members->end(), c);
          }
          if (!last_in) return true;
        }
        int64_t day = DayOf(it.timestamp_ms);
        first_data_day = std::min(first_data_day, day);
        auto ev = by_event.find(it.event);
        if (ev != by_event.end() && is_order.count(it.event)) {
          store::CustomerId c = canonical ? canonical(it.customer) : it.customer;
          auto [f, inserted] = first_order.try_emplace(c, day);
          if (!inserted && day < f->second) f->second = day;
        }
        if (day < first_day || day > last_day) return true;
        size_t i = static_cast<size_t>(day - first_day);
        interactions[i] += 1;
        revenue[i].Add(it.revenue);
        if (ev != by_event.end())
          for (auto* series : ev->second) (*series)[i] += 1;
        return true;
      },
      columns));
  auto& revenue_series = out.values["revenue"];
  for (size_t i = 0; i < n; ++i) revenue_series[i] = revenue[i].value();
  auto& fresh = out.values["new_customers"];
  for (const auto& [c, day] : first_order)
    if (day >= first_day && day <= last_day) fresh[static_cast<size_t>(day - first_day)] += 1;
  out.first_data_day = first_data_day == INT64_MAX ? -1 : first_data_day;
  return out;
}

}  // namespace cairn::dashboard
