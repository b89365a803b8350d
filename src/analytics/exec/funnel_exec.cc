#include "analytics/exec/funnel_exec.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "analytics/exec/funnel_kernel.h"
#include "analytics/exec/row_props.h"

namespace cairn::analytics {

__extension__ typedef __int128 Int128;  // GCC/Clang; __extension__: no -Wpedantic warning

DurationStats ComputeDurationStats(std::vector<int64_t>* d) {
  DurationStats st;
  st.histogram.assign(std::size(kDurationBucketsMs) + 1, 0);
  if (d->empty()) return st;
  const size_t n = d->size();
  st.count = n;
  Int128 sum = 0;  // exact (a long double sum was a slow x87 add per value)
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t v : *d) {
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    size_t b = 0;  // the number of bucket edges <= v (= upper_bound's index), without branches
    for (int64_t edge : kDurationBucketsMs) b += edge <= v;
    ++st.histogram[b];
  }
  st.min_ms = lo;
  st.max_ms = hi;
  st.avg_ms = static_cast<int64_t>(sum / static_cast<Int128>(n));
  // Nearest-rank percentiles: the smallest value with at least q of the data at or below it.
  // By counting, not by a selection per rank (~7 passes over the data for five ranks): one pass
  // counts the values' offsets from the minimum in at most 2^16 buckets; the running counts give
  // each rank's bucket and its rank inside it; a second pass gathers the values of those (at most
  // five) buckets, and the selection runs within them. At 1M customers a funnel has ~6M
  // durations, and the selections had cost more than half of the kernel.
  auto rank_of = [&](double q) {
    size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
    return std::clamp<size_t>(rank, 1, n) - 1;
  };
  const double qs[] = {0.25, 0.5, 0.75, 0.90, 0.99};
  int64_t* out[] = {&st.p25_ms, &st.median_ms, &st.p75_ms, &st.p90_ms, &st.p99_ms};
  constexpr size_t kRanks = std::size(qs);
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  const int shift = std::max(0, static_cast<int>(std::bit_width(span)) - 16);
  auto key = [&](int64_t v) { return static_cast<size_t>((static_cast<uint64_t>(v) - static_cast<uint64_t>(lo)) >> shift); };
  std::vector<size_t> counts(static_cast<size_t>(span >> shift) + 1, 0);
  for (int64_t v : *d) ++counts[key(v)];
  size_t rank[kRanks], bucket[kRanks], below[kRanks];  // ranks ascending, so buckets too
  std::vector<int8_t> group(counts.size(), -1);        // bucket -> index into `gathered`
  int groups = 0;
  for (size_t k = 0, b = 0, acc = 0; k < kRanks; ++k) {
    rank[k] = rank_of(qs[k]);
    while (acc + counts[b] <= rank[k]) acc += counts[b++];
    bucket[k] = b;
    below[k] = acc;
    if (group[b] < 0) group[b] = static_cast<int8_t>(groups++);
  }
  std::vector<int64_t> gathered[kRanks];
  for (int64_t v : *d)
    if (const int8_t g = group[key(v)]; g >= 0) gathered[g].push_back(v);
  for (size_t k = 0; k < kRanks; ++k) {
    auto& g = gathered[group[bucket[k]]];
    const auto nth = g.begin() + static_cast<std::ptrdiff_t>(rank[k] - below[k]);
    std::nth_element(g.begin(), nth, g.end());
    *out[k] = *nth;
  }
  return st;
}

namespace {

struct Matcher {
  // Per event id: steps matched without filters; steps that match subject to their filters.
  std::vector<uint32_t> plain, filtered, excl_plain, excl_filtered;
  std::vector<RowBits> step_bits;  // per step (only filtered steps are filled)
  std::vector<RowBits> excl_bits;
  bool has_filtered = false, has_excl = false;

  uint32_t StepMask(EventId e, RowIndex r) const {
    uint32_t m = plain[e];
    if (has_filtered) {
      for (uint32_t f = filtered[e]; f; f &= f - 1) {
        const int s = std::countr_zero(f);
        if (step_bits[s].Test(r)) m |= 1u << s;
      }
    }
    return m;
  }
  uint32_t ExclMask(EventId e, RowIndex r) const {
    uint32_t m = excl_plain[e];
    for (uint32_t f = excl_filtered[e]; f; f &= f - 1) {
      const int k = std::countr_zero(f);
      if (excl_bits[k].Test(r)) m |= 1u << k;
    }
    return m;
  }
};

// A FunnelSink calling `f(customer, outcome)`.
template <typename F>
class SinkOf final : public FunnelSink {
 public:
  explicit SinkOf(F f) : f_(std::move(f)) {}
  void Add(size_t customer, const FunnelOutcome& out) override { f_(customer, out); }

 private:
  F f_;
};

struct WorkerAcc {
  std::vector<uint64_t> counts;
  std::vector<std::vector<int64_t>> from_prev, from_first;
  std::map<std::string, std::vector<uint64_t>> breakdown;
  std::map<int64_t, std::vector<uint64_t>> over_time;
  std::vector<uint64_t> who;
  uint64_t customers = 0, rows = 0;
  // Scratch
  std::vector<int64_t> ts;
  std::vector<uint32_t> mask, excl;
  std::vector<RowIndex> row_of_pos;
  FunnelScratch scratch;
};

}  // namespace

Result<FunnelResult> RunFunnel(const EventIndex& index, const store::Snapshot& snapshot, const FunnelSpec& spec,
                               const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateFunnelSpec(spec));
  const size_t n = spec.steps.size();
  const FunnelPlan plan = FunnelPlan::From(spec);
  FunnelResult result;

  // Event resolution; unknown names match nothing.
  Matcher mt;
  const size_t ne = index.event_count();
  mt.plain.assign(ne, 0);
  mt.filtered.assign(ne, 0);
  mt.excl_plain.assign(ne, 0);
  mt.excl_filtered.assign(ne, 0);
  mt.step_bits.resize(n);
  mt.excl_bits.resize(spec.exclusions.size());
  std::vector<std::optional<EventId>> step_event(n);
  for (size_t s = 0; s < n; ++s) {
    const auto& st = spec.steps[s];
    step_event[s] = index.FindEvent(st.event);
    if (!step_event[s]) {
      result.warnings.push_back(fmt::format("steps[{}].event: no interaction named \"{}\" (counts are 0)", s, st.event));
      continue;
    }
    if (st.where.empty()) {
      mt.plain[*step_event[s]] |= 1u << s;
    } else {
      mt.filtered[*step_event[s]] |= 1u << s;
      mt.has_filtered = true;
      RETURN_IF_ERROR(ComputeRowBits(index, snapshot, {*step_event[s]}, st.where, ctx, &mt.step_bits[s]));
    }
  }
  for (size_t k = 0; k < spec.exclusions.size(); ++k) {
    const auto& ex = spec.exclusions[k];
    auto e = index.FindEvent(ex.event);
    if (!e) {
      result.warnings.push_back(fmt::format("exclusions[{}].event: no interaction named \"{}\"", k, ex.event));
      continue;
    }
    mt.has_excl = true;
    if (ex.where.empty()) {
      mt.excl_plain[*e] |= 1u << k;
    } else {
      mt.excl_filtered[*e] |= 1u << k;
      RETURN_IF_ERROR(ComputeRowBits(index, snapshot, {*e}, ex.where, ctx, &mt.excl_bits[k]));
    }
  }

  // Breakdown values by row.
  const auto& bd = spec.breakdown;
  RowValues bvalues;
  if (bd.kind == FunnelBreakdown::Kind::kProperty) {
    std::vector<EventId> evs;
    for (size_t s = 0; s < n; ++s)
      if (step_event[s]) evs.push_back(*step_event[s]);
    RETURN_IF_ERROR(ComputeRowValues(index, snapshot, evs, bd.property, ctx, &bvalues));
  }
  const bool need_chain_steps = bd.kind != FunnelBreakdown::Kind::kNone && bd.attribution == Attribution::kStep;
  const bool use_fast = plan.fast && !need_chain_steps;

  // Date range → per-customer row range by binary search (runs are time-ordered).
  const int64_t from = spec.from_ms.value_or(INT64_MIN);
  const int64_t to = spec.to_ms.value_or(INT64_MAX);

  const unsigned workers = EventIndex::Workers(ctx);
  std::vector<std::unique_ptr<WorkerAcc>> accs;
  for (unsigned w = 0; w < workers; ++w) {
    auto a = std::make_unique<WorkerAcc>();
    a->counts.assign(n, 0);
    a->from_prev.resize(n);
    a->from_first.resize(n);
    accs.push_back(std::move(a));
  }
  const auto& ts_col = index.timestamps();
  const auto& ev_col = index.events();
  const auto& offsets = index.offsets();
  const bool keep_all_rows = spec.order == FunnelOrder::kStrict;

  // Everything but the step counts, from a customer's outcome (positions → rows via row_of).
  auto record = [&](WorkerAcc& a, const FunnelOutcome& out, size_t c, auto row_of) {
    if (spec.order != FunnelOrder::kAny) {
      for (uint32_t m = out.reached & ~1u; m; m &= m - 1) {
        const int s = std::countr_zero(m);
        a.from_prev[s].push_back(out.from_previous[s]);
        a.from_first[s].push_back(out.from_first[s]);
      }
    }
    // Breakdown by the attributed row of the reported chain.
    if (bd.kind != FunnelBreakdown::Kind::kNone) {
      int32_t pos = -1;
      switch (bd.attribution) {
        case Attribution::kFirstTouch: pos = out.chain[0]; break;
        case Attribution::kLastTouch: pos = out.chain[out.level - 1]; break;
        case Attribution::kStep: pos = out.chain[bd.attribution_step]; break;
      }
      std::string key = "(none)";
      if (pos >= 0) {
        const RowIndex r = row_of(pos);
        if (bd.kind == FunnelBreakdown::Kind::kChannel) {
          const auto& ch = index.channel_names()[index.channels()[r]];
          if (!ch.empty()) key = ch;
        } else if (const std::string* v = bvalues.Find(r)) {
          key = *v;
        }
      }
      auto& row = a.breakdown[key];
      row.resize(n, 0);
      for (uint32_t m = out.reached; m; m &= m - 1) row[std::countr_zero(m)]++;
    }
    if (spec.over_time) {
      auto& row = a.over_time[PeriodOf(out.chain_start_ms, *spec.over_time)];
      row.resize(n, 0);
      for (uint32_t m = out.reached; m; m &= m - 1) row[std::countr_zero(m)]++;
    }
    if (spec.who) {
      const auto& who = *spec.who;
      const store::CustomerId id = index.customers()[c];
      const bool at = (out.reached >> who.step) & 1u;
      const bool later = (out.reached >> who.step) > 1u;
      if (at && (!who.dropped || !later) && id > who.after) a.who.push_back(id);
    }
  };

  const bool direct = use_fast && !mt.has_filtered && !mt.has_excl && spec.order == FunnelOrder::kOrdered &&
                      spec.counting == FunnelCounting::kUniques;
  const StepEventFilter row_filter = StepEventFilter::From(mt.plain.data(), mt.plain.size());
  RETURN_IF_ERROR(index.ParallelForCustomers(ctx, [&](size_t cb, size_t ce, unsigned w) -> Status {
    WorkerAcc& a = *accs[w];
    if (direct && from == INT64_MIN && to == INT64_MAX) {
      // Hot path: the one-pass kernel over the whole part's index columns at once (no per-customer
      // set-up); it reports only the customers who reached step 1.
      for (size_t c = cb; c < ce; ++c) a.customers += offsets[c + 1] > offsets[c];
      a.rows += offsets[ce] - offsets[cb];
      SinkOf sink([&](size_t c, const FunnelOutcome& out) {
        for (uint32_t m = out.reached; m; m &= m - 1) a.counts[std::countr_zero(m)]++;
        record(a, out, c, [rb = offsets[c]](int32_t pos) { return rb + static_cast<RowIndex>(pos); });
      });
      EvaluateFastEventsBatch(plan, ts_col.data(), ev_col.data(), offsets.data(), cb, ce, mt.plain.data(), row_filter,
                              &sink);
      return Status::Ok();
    }
    FunnelOutcome out;
    for (size_t c = cb; c < ce; ++c) {
      RowIndex rb = offsets[c], re = offsets[c + 1];
      if (from != INT64_MIN)
        rb = static_cast<RowIndex>(std::lower_bound(ts_col.begin() + rb, ts_col.begin() + re, from) - ts_col.begin());
      if (to != INT64_MAX)
        re = static_cast<RowIndex>(std::lower_bound(ts_col.begin() + rb, ts_col.begin() + re, to) - ts_col.begin());
      if (rb >= re) continue;
      a.customers++;
      a.rows += re - rb;
      if (direct) {
        // The one-pass kernel straight over the index columns, no per-row copies (a date range:
        // each customer's rows within it).
        EvaluateFastEvents(plan, std::span<const int64_t>(ts_col.data() + rb, re - rb),
                           std::span<const uint32_t>(ev_col.data() + rb, re - rb), mt.plain.data(), row_filter,
                           &out);
        if (out.reached == 0) continue;
        for (uint32_t m = out.reached; m; m &= m - 1) a.counts[std::countr_zero(m)]++;
        record(a, out, c, [rb](int32_t pos) { return rb + static_cast<RowIndex>(pos); });
        continue;
      }
      // Rows of interest, compacted (strict keeps every row: "nothing in between" counts all).
      a.ts.clear();
      a.mask.clear();
      a.excl.clear();
      a.row_of_pos.clear();
      for (RowIndex r = rb; r < re; ++r) {
        const EventId e = ev_col[r];
        const uint32_t m = mt.StepMask(e, r);
        const uint32_t x = mt.has_excl ? mt.ExclMask(e, r) : 0;
        if (m == 0 && x == 0 && !keep_all_rows) continue;
        a.ts.push_back(ts_col[r]);
        a.mask.push_back(m);
        if (mt.has_excl) a.excl.push_back(x);
        a.row_of_pos.push_back(r);
      }
      if (a.ts.empty()) continue;
      FunnelRows rows{a.ts, a.mask, a.excl};
      if (spec.order == FunnelOrder::kAny) {
        EvaluateAnyOrder(plan, rows, &out);
      } else if (use_fast) {
        EvaluateFast(plan, rows, &out);
      } else {
        EvaluateGeneral(plan, rows, -1, &a.scratch, &out);
      }
      if (out.reached == 0) continue;
      // Counts.
      if (spec.counting == FunnelCounting::kUniques) {
        for (uint32_t m = out.reached; m; m &= m - 1) a.counts[std::countr_zero(m)]++;
      } else {
        FunnelOutcome attempt;
        for (size_t p = 0; p < a.mask.size(); ++p) {
          if (!(a.mask[p] & 1u)) continue;
          EvaluateGeneral(plan, rows, static_cast<int32_t>(p), &a.scratch, &attempt);
          for (uint32_t m = attempt.reached; m; m &= m - 1) a.counts[std::countr_zero(m)]++;
        }
      }
      record(a, out, c, [&a](int32_t pos) { return a.row_of_pos[pos]; });
    }
    return Status::Ok();
  }));

  // Merge.
  result.steps.resize(n);
  std::map<std::string, std::vector<uint64_t>> breakdown;
  std::map<int64_t, std::vector<uint64_t>> over_time;
  std::vector<uint64_t> who;
  for (auto& a : accs) {
    for (size_t s = 0; s < n; ++s) result.steps[s].count += a->counts[s];
    for (auto& [k, v] : a->breakdown) {
      auto& dst = breakdown[k];
      dst.resize(n, 0);
      for (size_t s = 0; s < n; ++s) dst[s] += v[s];
    }
    for (auto& [k, v] : a->over_time) {
      auto& dst = over_time[k];
      dst.resize(n, 0);
      for (size_t s = 0; s < n; ++s) dst[s] += v[s];
    }
    who.insert(who.end(), a->who.begin(), a->who.end());
    result.customers_scanned += a->customers;
    result.rows_scanned += a->rows;
  }
  for (size_t s = 0; s < n; ++s) result.steps[s].event = spec.steps[s].event;
  // Time-to-convert: 2 x steps independent statistics (a histogram pass and up to five selections
  // over one value per customer reaching the step), at 1M customers the largest cost after the
  // kernel, so they run on the query's workers; each task gathers its values from every worker.
  const size_t tasks = 2 * n;
  std::atomic<size_t> next_task{0};
  auto stats_work = [&] {
    std::vector<int64_t> values;
    for (size_t k; (k = next_task.fetch_add(1)) < tasks;) {
      const size_t s = k / 2;
      const bool prev = k % 2 == 0;
      values.clear();
      for (const auto& a : accs) {
        const auto& v = prev ? a->from_prev[s] : a->from_first[s];
        values.insert(values.end(), v.begin(), v.end());
      }
      (prev ? result.steps[s].from_previous : result.steps[s].from_first) = ComputeDurationStats(&values);
    }
  };
  {
    std::vector<std::thread> helpers;
    for (unsigned w = 1; w < std::min<size_t>(workers, tasks); ++w) helpers.emplace_back(stats_work);
    stats_work();
    for (auto& t : helpers) t.join();
  }
  if (bd.kind != FunnelBreakdown::Kind::kNone) {
    std::vector<FunnelRow> rows;
    for (auto& [k, v] : breakdown) rows.push_back({k, v});
    std::stable_sort(rows.begin(), rows.end(), [](const FunnelRow& l, const FunnelRow& r) {
      return l.counts[0] != r.counts[0] ? l.counts[0] > r.counts[0] : l.key < r.key;
    });
    if (rows.size() > bd.limit) {
      FunnelRow other{"(other)", std::vector<uint64_t>(n, 0)};
      for (size_t i = bd.limit; i < rows.size(); ++i)
        for (size_t s = 0; s < n; ++s) other.counts[s] += rows[i].counts[s];
      rows.resize(bd.limit);
      rows.push_back(std::move(other));
    }
    result.breakdown = std::move(rows);
  }
  if (spec.over_time)
    for (auto& [k, v] : over_time) result.over_time.push_back({PeriodLabel(k, *spec.over_time), v});
  if (spec.who) {
    std::sort(who.begin(), who.end());
    if (who.size() > spec.who->limit) {
      who.resize(spec.who->limit);
      result.who_next = who.back();
    }
    result.who = std::move(who);
  }
  return result;
}

}  // namespace cairn::analytics
