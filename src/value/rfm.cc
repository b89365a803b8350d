#include "value/rfm.h"

#include <algorithm>
#include <cmath>
#include <compare>
#include <tuple>

#include "base/status.h"

namespace cairn::value {

Status ValidateRfmOptions(const RfmOptions& o) {
  if (!(o.days_per_unit > 0) || !std::isfinite(o.days_per_unit))
    return InvalidArgument("days_per_unit: must be a positive number of days");
  if (o.holdout_end_day < o.calibration_end_day)
    return InvalidArgument("holdout_end_day: must not be before calibration_end_day");
  return Status::Ok();
}

std::optional<RfmSummary> Summarize(std::span<const Purchase> purchases, const RfmOptions& o) {
  // Merge same-day purchases: sort by day, then walk runs of equal days.
  std::vector<Purchase> p(purchases.begin(), purchases.end());
  std::sort(p.begin(), p.end(), [](const Purchase& a, const Purchase& b) { return a.day < b.day; });
  return SummarizeSorted(p, o);
}

std::optional<RfmSummary> SummarizeSorted(std::span<const Purchase> p, const RfmOptions& o) {
  if (p.empty() || p.front().day > o.calibration_end_day) return std::nullopt;

  RfmSummary s;
  s.first_day = p.front().day;
  int64_t last_day = s.first_day;
  double repeat_value = 0;
  for (size_t i = 0; i < p.size();) {
    const int64_t day = p[i].day;
    double value = 0;
    for (; i < p.size() && p[i].day == day; ++i) value += p[i].value;
    if (day == s.first_day) {
      s.first_value = value;
    } else if (day <= o.calibration_end_day) {
      ++s.x;
      repeat_value += value;
      last_day = day;
    } else if (day <= o.holdout_end_day) {
      ++s.holdout_x;
      s.holdout_value += value;
    }
  }
  s.t_x = static_cast<double>(last_day - s.first_day) / o.days_per_unit;
  s.T = static_cast<double>(o.calibration_end_day - s.first_day) / o.days_per_unit;
  s.m_x = s.x > 0 ? repeat_value / static_cast<double>(s.x) : 0;
  return s;
}

bool IsPurchase(const store::Interaction& in, const PurchaseRule& rule) {
  if (rule.any_positive_revenue && in.revenue > 0) return true;
  if (in.type != store::MessageType::kTrack) return false;
  return std::find(rule.events.begin(), rule.events.end(), in.event) != rule.events.end();
}

int64_t DayOf(int64_t timestamp_ms, const PurchaseRule& rule) {
  const int64_t local = timestamp_ms + int64_t{rule.utc_offset_minutes} * 60'000;
  constexpr int64_t kDay = 86'400'000;
  return local >= 0 ? local / kDay : -((-local + kDay - 1) / kDay);  // floor division
}

std::vector<Purchase> PurchasesOf(std::span<const store::Interaction> interactions,
                                  const PurchaseRule& rule) {
  std::vector<Purchase> out;
  for (const auto& in : interactions)
    if (IsPurchase(in, rule)) out.push_back({DayOf(in.timestamp_ms, rule), in.revenue});
  return out;
}

FitData CompressForFit(std::span<const RfmSummary> rows) {
  // Sort (x, t_x, T) keys, then count runs of equal keys.
  struct Key {
    int64_t x;
    double t_x, T;
    auto operator<=>(const Key&) const = default;
  };
  std::vector<Key> keys;
  keys.reserve(rows.size());
  for (const auto& r : rows) keys.push_back({r.x, r.t_x, r.T});
  std::sort(keys.begin(), keys.end());
  FitData d;
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    d.x.push_back(static_cast<double>(keys[i].x));
    d.t_x.push_back(keys[i].t_x);
    d.T.push_back(keys[i].T);
    d.weight.push_back(static_cast<double>(j - i));
    d.max_x = std::max(d.max_x, keys[i].x);
    i = j;
  }
  d.customers = static_cast<double>(rows.size());
  IndexFitData(d);
  return d;
}

void IndexFitData(FitData& d) {
  d.ages.clear();
  d.ages.reserve(2 * d.x.size());
  d.ages.insert(d.ages.end(), d.t_x.begin(), d.t_x.end());
  d.ages.insert(d.ages.end(), d.T.begin(), d.T.end());
  std::sort(d.ages.begin(), d.ages.end());
  d.ages.erase(std::unique(d.ages.begin(), d.ages.end()), d.ages.end());
  d.ages.shrink_to_fit();
  auto position = [&](double v) {
    return static_cast<uint32_t>(std::lower_bound(d.ages.begin(), d.ages.end(), v) - d.ages.begin());
  };
  d.t_x_age.resize(d.x.size());
  d.T_age.resize(d.x.size());
  d.max_x = 0;
  for (double x : d.x) d.max_x = std::max(d.max_x, static_cast<int64_t>(x));
  d.weight_by_x.assign(static_cast<size_t>(d.max_x) + 1, 0.0);
  for (size_t i = 0; i < d.x.size(); ++i) {
    d.t_x_age[i] = position(d.t_x[i]);
    d.T_age[i] = position(d.T[i]);
    d.weight_by_x[static_cast<size_t>(d.x[i])] += d.weight[i];
  }
}

}  // namespace cairn::value
