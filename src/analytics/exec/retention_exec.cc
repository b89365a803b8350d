#include "analytics/exec/retention_exec.h"

#include <fmt/format.h>

#include <map>
#include <memory>

#include "analytics/exec/row_props.h"
#include "analytics/exec/who_collect.h"

namespace cairn::analytics {
namespace {

struct CohortAcc {
  uint64_t size = 0;
  std::vector<uint64_t> returned;
  std::vector<double> revenue;
};
using CohortKey = std::pair<std::string, int64_t>;  // (breakdown value, cohort period)

struct WorkerAcc {
  std::map<CohortKey, CohortAcc> cohorts;
  uint64_t customers = 0, rows = 0;
  std::vector<uint32_t> counts;      // returns per period 1..periods (index p-1)
  std::vector<double> revenue;
};

}  // namespace

Result<RetentionResult> RunRetention(const EventIndex& index, const store::Snapshot& snapshot,
                                     const RetentionSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateRetentionSpec(spec));
  RetentionResult result;
  const size_t np = spec.periods;
  // Event ids; an unknown start or return event matches nothing (a warning, not an error).
  constexpr EventId kAny = UINT32_MAX - 1, kNone = UINT32_MAX;
  EventId start_ev = kAny, ret_ev = kAny;
  if (!spec.start_event.empty()) {
    auto e = index.FindEvent(spec.start_event);
    start_ev = e ? *e : kNone;
    if (!e) result.warnings.push_back(fmt::format("start_event: no interaction named \"{}\"", spec.start_event));
  }
  if (!spec.return_event.empty()) {
    auto e = index.FindEvent(spec.return_event);
    ret_ev = e ? *e : kNone;
    if (!e) result.warnings.push_back(fmt::format("return_event: no interaction named \"{}\"", spec.return_event));
  }
  RowBits start_bits, ret_bits;
  const bool start_filtered = !spec.start_where.empty() && start_ev < kAny;
  const bool ret_filtered = !spec.return_where.empty() && ret_ev < kAny;
  if (start_filtered) RETURN_IF_ERROR(ComputeRowBits(index, snapshot, {start_ev}, spec.start_where, ctx, &start_bits));
  if (ret_filtered) RETURN_IF_ERROR(ComputeRowBits(index, snapshot, {ret_ev}, spec.return_where, ctx, &ret_bits));
  RowValues bvalues;
  if (spec.breakdown == RetentionSpec::BreakdownKind::kProperty && start_ev < kAny)
    RETURN_IF_ERROR(ComputeRowValues(index, snapshot, {start_ev}, spec.breakdown_property, ctx, &bvalues));

  const int64_t from = spec.from_ms.value_or(INT64_MIN), to = spec.to_ms.value_or(INT64_MAX);
  const unsigned workers = EventIndex::Workers(ctx);
  std::vector<std::unique_ptr<WorkerAcc>> accs;
  for (unsigned w = 0; w < workers; ++w) accs.push_back(std::make_unique<WorkerAcc>());
  const auto& ts = index.timestamps();
  const auto& ev = index.events();
  const auto& rev = index.revenues();
  const auto& offsets = index.offsets();
  const Period period = spec.period;
  // The who list: members of one cohort (by period and breakdown value), per spec/retention_spec.h.
  std::optional<internal::WhoCollector> who;
  int64_t who_cohort = 0;
  if (spec.who) {
    who.emplace(workers, spec.who->page);
    who_cohort = PeriodOf(spec.who->cohort_ms, period);
  }

  RETURN_IF_ERROR(index.ParallelForCustomers(ctx, [&](size_t cb, size_t ce, unsigned w) -> Status {
    WorkerAcc& a = *accs[w];
    a.counts.assign(np, 0);
    a.revenue.assign(np, 0);
    for (size_t c = cb; c < ce; ++c) {
      const RowIndex rb = offsets[c], re = offsets[c + 1];
      a.customers++;
      a.rows += re - rb;
      // Cohort: the first start row.
      RowIndex sr = kNoRow;
      if (start_ev == kAny) {
        sr = rb;
      } else if (start_ev != kNone) {
        for (RowIndex r = rb; r < re; ++r)
          if (ev[r] == start_ev && (!start_filtered || start_bits.Test(r))) {
            sr = r;
            break;
          }
      }
      if (sr == kNoRow) continue;
      const int64_t cohort = PeriodOf(ts[sr], period);
      const int64_t cohort_ms = PeriodStartMs(cohort, period);
      if (cohort_ms < from || cohort_ms >= to) continue;
      std::string key;
      if (spec.breakdown == RetentionSpec::BreakdownKind::kChannel) {
        key = index.channel_names()[index.channels()[sr]];
        if (key.empty()) key = "(none)";
      } else if (spec.breakdown == RetentionSpec::BreakdownKind::kProperty) {
        const std::string* v = bvalues.Find(sr);
        key = v ? *v : "(none)";
      }
      // Returns: periods are nondecreasing along the run; count each period's run.
      std::fill(a.counts.begin(), a.counts.end(), 0);
      std::fill(a.revenue.begin(), a.revenue.end(), 0.0);
      int64_t last_qualifying = 0;  // highest period p >= 1 with >= min_returns returns
      int64_t run_p = 0;
      uint32_t run_n = 0;
      if (ret_ev != kNone) {
        // Rows at or before the start row are in period <= 0: start after it.
        for (RowIndex r = sr + 1; r < re; ++r) {
          if (ret_ev != kAny && (ev[r] != ret_ev || (ret_filtered && !ret_bits.Test(r)))) continue;
          const int64_t p = PeriodOf(ts[r], period) - cohort;
          if (p < 1) continue;
          if (p != run_p) {
            if (run_n >= spec.min_returns) last_qualifying = run_p;
            run_p = p;
            run_n = 0;
          }
          ++run_n;
          if (p <= static_cast<int64_t>(np)) {
            a.counts[p - 1]++;
            a.revenue[p - 1] += rev[r];
          } else if (!spec.on_or_after) {
            break;  // nothing later can count
          }
        }
        if (run_n >= spec.min_returns) last_qualifying = run_p;
      }
      CohortAcc& acc = a.cohorts[{key, cohort}];
      if (acc.returned.empty()) {
        acc.returned.assign(np, 0);
        acc.revenue.assign(np, 0);
      }
      acc.size++;
      // Whether this customer counts in returned[k-1] (the one definition the counts and the who
      // list share).
      auto returned = [&](size_t k) {
        return spec.on_or_after ? last_qualifying >= static_cast<int64_t>(k) : a.counts[k - 1] >= spec.min_returns;
      };
      for (size_t k = 1; k <= np; ++k) {
        if (returned(k)) acc.returned[k - 1]++;
        acc.revenue[k - 1] += a.revenue[k - 1];
      }
      if (who && cohort == who_cohort && key == spec.who->breakdown) {
        const size_t k = spec.who->period;
        if (k == 0 || returned(k) == spec.who->returned) who->Add(w, index.customers()[c]);
      }
    }
    return Status::Ok();
  }));

  std::map<CohortKey, CohortAcc> merged;
  for (auto& a : accs) {
    result.customers_scanned += a->customers;
    result.rows_scanned += a->rows;
    for (auto& [k, v] : a->cohorts) {
      auto& dst = merged[k];
      if (dst.returned.empty()) {
        dst.returned.assign(np, 0);
        dst.revenue.assign(np, 0);
      }
      dst.size += v.size;
      for (size_t i = 0; i < np; ++i) {
        dst.returned[i] += v.returned[i];
        dst.revenue[i] += v.revenue[i];
      }
    }
  }
  if (who) result.who = who->Finish();
  for (auto& [k, v] : merged)
    result.cohorts.push_back({PeriodLabel(k.second, period), k.first, v.size, std::move(v.returned), std::move(v.revenue)});
  return result;
}

}  // namespace cairn::analytics
