// Trends kernel. Two passes when a breakdown has more groups than top_n: the first totals every
// group (to pick the top N by the requested measure), the second maps the rest onto "$other" —
// recomputing rather than adding because distinct customers do not add up across groups.
#include "analytics/exec/trends.h"

#include <algorithm>
#include <numeric>

#include "analytics/exec/trends_util.h"

namespace cairn::analytics {

const char* TrendsMeasureName(TrendsSpec::Measure m) {
  switch (m) {
    case TrendsSpec::Measure::kCount: return "count";
    case TrendsSpec::Measure::kUniques: return "uniques";
    case TrendsSpec::Measure::kSum: return "sum";
    case TrendsSpec::Measure::kAvg: return "avg";
  }
  return "count";
}
const char* TrendsBreakdownName(TrendsSpec::Breakdown b) {
  switch (b) {
    case TrendsSpec::Breakdown::kNone: return "none";
    case TrendsSpec::Breakdown::kChannel: return "channel";
    case TrendsSpec::Breakdown::kEvent: return "event";
  }
  return "none";
}

Status ValidateTrendsSpec(const TrendsSpec& spec) {
  if (spec.to_ms < spec.from_ms || (spec.to_ms == spec.from_ms && spec.from_ms != 0))
    return InvalidArgument("to: must be after from");
  if (spec.top_n < 1 || spec.top_n > 100) return InvalidArgument("top_n: must be 1..100");
  if ((spec.measure == TrendsSpec::Measure::kSum || spec.measure == TrendsSpec::Measure::kAvg) &&
      spec.property != "revenue")
    return InvalidArgument("property: only \"revenue\" is a numeric property for sum/avg");
  if (spec.from_ms != 0 || spec.to_ms != 0) {
    const int64_t n = PeriodOf(spec.to_ms - 1, spec.interval) - PeriodOf(spec.from_ms, spec.interval) + 1;
    if (n > internal::kMaxPeriods) return InvalidArgument("interval: too many periods in the range (max 50000)");
  }
  return Status::Ok();
}

namespace {

struct Acc {
  // [slot * buckets + bucket]
  std::vector<uint64_t> count, uniq;
  std::vector<double> sum;
  std::vector<uint64_t> total_count, total_uniq;
  std::vector<double> total_sum;
  // per slot: the customer (index) and bucket last counted for uniques
  std::vector<size_t> seen_customer, seen_customer_total;
  std::vector<int64_t> seen_bucket;
  void Init(size_t slots, size_t buckets) {
    count.assign(slots * buckets, 0);
    uniq.assign(slots * buckets, 0);
    sum.assign(slots * buckets, 0);
    total_count.assign(slots, 0);
    total_uniq.assign(slots, 0);
    total_sum.assign(slots, 0);
    seen_customer.assign(slots, SIZE_MAX);
    seen_customer_total.assign(slots, SIZE_MAX);
    seen_bucket.assign(slots, -1);
  }
  void Merge(const Acc& o) {
    for (size_t i = 0; i < count.size(); ++i) count[i] += o.count[i], uniq[i] += o.uniq[i], sum[i] += o.sum[i];
    for (size_t i = 0; i < total_count.size(); ++i)
      total_count[i] += o.total_count[i], total_uniq[i] += o.total_uniq[i], total_sum[i] += o.total_sum[i];
  }
};

// One aggregation over [from, to). `slot_of_group[g]` maps a breakdown group to its output slot.
Result<Acc> Aggregate(const EventIndex& index, const internal::EventFilter& filter, TrendsSpec::Breakdown breakdown,
                      Period interval, int64_t from, int64_t to, const std::vector<uint32_t>& slot_of_group,
                      size_t slots, const QueryContext& ctx) {
  const int64_t first_bucket = PeriodOf(from, interval);
  const size_t buckets = static_cast<size_t>(PeriodOf(to - 1, interval) - first_bucket + 1);
  const unsigned nworkers = EventIndex::Workers(ctx);
  std::vector<Acc> accs(nworkers);
  for (Acc& a : accs) a.Init(slots, buckets);
  const auto& ts = index.timestamps();
  const auto& ev = index.events();
  const auto& ch = index.channels();
  const auto& rev = index.revenues();
  const auto& off = index.offsets();
  const bool every_row = filter.any && breakdown == TrendsSpec::Breakdown::kNone;
  Status s = index.ParallelForCustomers(ctx, [&](size_t begin, size_t end, unsigned w) -> Status {
    Acc& a = accs[w];
    for (size_t c = begin; c < end; ++c) {
      // rows are time-ordered: skip to the range with a binary search
      const RowIndex r0 = off[c], r1 = off[c + 1];
      RowIndex r = static_cast<RowIndex>(std::lower_bound(ts.begin() + r0, ts.begin() + r1, from) - ts.begin());
      if (every_row) {
        // Every row counts into one slot: a customer's rows of one bucket are contiguous (time
        // order), so the bucket is computed once per run of rows, not per row; the sums are added
        // row by row in the same order as below (identical floating-point results).
        const uint32_t slot = slot_of_group[0];
        const RowIndex first = r;
        while (r < r1 && ts[r] < to) {
          const int64_t period = PeriodOf(ts[r], interval);
          const int64_t end_ms = std::min(to, PeriodStartMs(period + 1, interval));
          const size_t i = slot * buckets + static_cast<size_t>(period - first_bucket);
          const RowIndex run = r;
          for (; r < r1 && ts[r] < end_ms; ++r) {
            a.sum[i] += rev[r];
            a.total_sum[slot] += rev[r];
          }
          a.count[i] += r - run;
          a.total_count[slot] += r - run;
          ++a.uniq[i];
        }
        if (r != first) ++a.total_uniq[slot];
        continue;
      }
      for (; r < r1 && ts[r] < to; ++r) {
        if (!filter.Matches(ev[r])) continue;
        const uint32_t g = breakdown == TrendsSpec::Breakdown::kChannel ? ch[r]
                           : breakdown == TrendsSpec::Breakdown::kEvent ? ev[r]
                                                                         : 0;
        const uint32_t slot = slot_of_group[g];
        const int64_t b = PeriodOf(ts[r], interval) - first_bucket;
        const size_t i = slot * buckets + static_cast<size_t>(b);
        ++a.count[i];
        a.sum[i] += rev[r];
        ++a.total_count[slot];
        a.total_sum[slot] += rev[r];
        if (a.seen_customer[slot] != c || a.seen_bucket[slot] != b) {
          a.seen_customer[slot] = c;
          a.seen_bucket[slot] = b;
          ++a.uniq[i];
        }
        if (a.seen_customer_total[slot] != c) {
          a.seen_customer_total[slot] = c;
          ++a.total_uniq[slot];
        }
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  for (unsigned w = 1; w < nworkers; ++w) accs[0].Merge(accs[w]);
  return std::move(accs[0]);
}

double Value(const Acc& a, TrendsSpec::Measure m, size_t i) {
  switch (m) {
    case TrendsSpec::Measure::kCount: return static_cast<double>(a.count[i]);
    case TrendsSpec::Measure::kUniques: return static_cast<double>(a.uniq[i]);
    case TrendsSpec::Measure::kSum: return a.sum[i];
    case TrendsSpec::Measure::kAvg: return a.count[i] ? a.sum[i] / static_cast<double>(a.count[i]) : 0;
  }
  return 0;
}
double Total(const Acc& a, TrendsSpec::Measure m, size_t slot) {
  switch (m) {
    case TrendsSpec::Measure::kCount: return static_cast<double>(a.total_count[slot]);
    case TrendsSpec::Measure::kUniques: return static_cast<double>(a.total_uniq[slot]);
    case TrendsSpec::Measure::kSum: return a.total_sum[slot];
    case TrendsSpec::Measure::kAvg:
      return a.total_count[slot] ? a.total_sum[slot] / static_cast<double>(a.total_count[slot]) : 0;
  }
  return 0;
}

TrendsPeriod MakePeriod(const Acc& a, TrendsSpec::Measure m, Period interval, int64_t from, int64_t to,
                        const std::vector<std::string>& slot_labels) {
  TrendsPeriod p;
  const int64_t first = PeriodOf(from, interval), last = PeriodOf(to - 1, interval);
  const size_t buckets = static_cast<size_t>(last - first + 1);
  for (int64_t b = first; b <= last; ++b) {
    p.bucket_starts_ms.push_back(PeriodStartMs(b, interval));
    p.labels.push_back(PeriodLabel(b, interval));
  }
  for (size_t slot = 0; slot < slot_labels.size(); ++slot) {
    TrendsSeries s;
    s.label = slot_labels[slot];
    for (size_t b = 0; b < buckets; ++b) s.values.push_back(Value(a, m, slot * buckets + b));
    s.total = Total(a, m, slot);
    p.series.push_back(std::move(s));
  }
  return p;
}

}  // namespace

Result<TrendsResult> RunTrends(const EventIndex& index, const TrendsSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateTrendsSpec(spec));
  TrendsResult out;
  out.interval = spec.interval;
  const internal::EventFilter filter = internal::ResolveEvent(index, spec.event, "event", &out.warnings);
  internal::ResolveRange(index, spec.from_ms, spec.to_ms, &out.from_ms, &out.to_ms);
  const int64_t span = out.to_ms - out.from_ms;
  if (PeriodOf(out.to_ms - 1, spec.interval) - PeriodOf(out.from_ms, spec.interval) + 1 > internal::kMaxPeriods)
    return InvalidArgument("interval: too many periods in the data's time range (max 50000); give from/to");

  // Groups of the breakdown and their names.
  std::vector<std::string> group_names;
  if (spec.breakdown == TrendsSpec::Breakdown::kChannel) {
    group_names = index.channel_names();
  } else if (spec.breakdown == TrendsSpec::Breakdown::kEvent) {
    for (EventId e = 0; e < index.event_count(); ++e) group_names.push_back(index.event_name(e));
  } else {
    group_names.push_back(spec.event.empty() ? "$all" : spec.event);
  }
  const size_t groups = std::max<size_t>(1, group_names.size());
  std::vector<uint32_t> identity(groups);
  std::iota(identity.begin(), identity.end(), 0u);
  ASSIGN_OR_RETURN(Acc acc, Aggregate(index, filter, spec.breakdown, spec.interval, out.from_ms, out.to_ms, identity,
                                      groups, ctx));

  std::vector<uint32_t> slot_of_group = identity;
  std::vector<std::string> slot_labels = group_names;
  if (spec.breakdown != TrendsSpec::Breakdown::kNone) {
    // Groups with at least one matching row, ranked by the measure's total.
    std::vector<uint32_t> present;
    for (uint32_t g = 0; g < groups; ++g)
      if (acc.total_count[g] > 0) present.push_back(g);
    std::sort(present.begin(), present.end(), [&](uint32_t a, uint32_t b) {
      const double ta = Total(acc, spec.measure, a), tb = Total(acc, spec.measure, b);
      if (ta != tb) return ta > tb;
      return group_names[a] < group_names[b];
    });
    const bool other = present.size() > spec.top_n;
    const size_t kept = std::min<size_t>(present.size(), spec.top_n);
    const uint32_t kDrop = static_cast<uint32_t>(kept + (other ? 1 : 0));  // slot for absent groups
    slot_of_group.assign(groups, kDrop);
    slot_labels.clear();
    for (size_t i = 0; i < kept; ++i) {
      slot_of_group[present[i]] = static_cast<uint32_t>(i);
      slot_labels.push_back(group_names[present[i]]);
    }
    for (size_t i = kept; i < present.size(); ++i) slot_of_group[present[i]] = static_cast<uint32_t>(kept);
    if (other) slot_labels.push_back("$other");
    // Second pass into the final slots (+1 slot that absorbs groups with no rows in range: they
    // can still have rows in the previous period, which is not listed under any label).
    ASSIGN_OR_RETURN(acc, Aggregate(index, filter, spec.breakdown, spec.interval, out.from_ms, out.to_ms,
                                    slot_of_group, slot_labels.size() + 1, ctx));
  }
  out.current = MakePeriod(acc, spec.measure, spec.interval, out.from_ms, out.to_ms, slot_labels);
  if (spec.compare_previous) {
    out.has_previous = true;
    const size_t slots = spec.breakdown == TrendsSpec::Breakdown::kNone ? slot_labels.size() : slot_labels.size() + 1;
    ASSIGN_OR_RETURN(Acc prev, Aggregate(index, filter, spec.breakdown, spec.interval, out.from_ms - span,
                                         out.from_ms, slot_of_group, slots, ctx));
    out.previous = MakePeriod(prev, spec.measure, spec.interval, out.from_ms - span, out.from_ms, slot_labels);
  }
  return out;
}

}  // namespace cairn::analytics
