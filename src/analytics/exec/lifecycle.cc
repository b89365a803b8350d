// Lifecycle kernel: one pass per customer over their (time-ordered) rows of the event; the
// distinct active periods come out ascending, so each period is classified by comparing it with
// the previous active one (see spec/lifecycle.h).
#include "analytics/exec/lifecycle.h"

#include <algorithm>

#include "analytics/exec/trends_util.h"
#include "analytics/exec/who_collect.h"

namespace cairn::analytics {

Status ValidateLifecycleSpec(const LifecycleSpec& spec) {
  if (spec.to_ms < spec.from_ms || (spec.to_ms == spec.from_ms && spec.from_ms != 0))
    return InvalidArgument("to: must be after from");
  if (spec.period == Period::kHour) return InvalidArgument("period: must be day, week or month");
  if (spec.who && (spec.who->page.limit < 1 || spec.who->page.limit > 10000))
    return InvalidArgument("who.limit: must be 1..10000");
  return Status::Ok();
}

Result<LifecycleResult> RunLifecycle(const EventIndex& index, const LifecycleSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateLifecycleSpec(spec));
  LifecycleResult out;
  out.period = spec.period;
  const internal::EventFilter filter = internal::ResolveEvent(index, spec.event, "event", &out.warnings);
  int64_t from, to;
  internal::ResolveRange(index, spec.from_ms, spec.to_ms, &from, &to);
  const int64_t p0 = PeriodOf(from, spec.period), p1 = PeriodOf(to - 1, spec.period);
  if (p1 - p0 + 1 > internal::kMaxPeriods) return InvalidArgument("period: too many periods in the range");
  const size_t n = static_cast<size_t>(p1 - p0 + 1);
  // The cell listed by `who`: (period, kind) with kind as in the accumulators below; -1 = none.
  int64_t who_p = INT64_MIN;
  int who_kind = -1;
  if (spec.who) {
    who_p = PeriodOf(spec.who->period_ms, spec.period);
    if (who_p < p0 || who_p > p1)
      return InvalidArgument("who.period: " + PeriodLabel(who_p, spec.period) + " is not a period of the range (" +
                             PeriodLabel(p0, spec.period) + " .. " + PeriodLabel(p1, spec.period) + ")");
    switch (spec.who->status) {
      case LifecycleStatus::kNew: who_kind = 0; break;
      case LifecycleStatus::kReturning: who_kind = 1; break;
      case LifecycleStatus::kResurrecting: who_kind = 2; break;
      case LifecycleStatus::kDormant: who_kind = 3; break;
    }
    out.who_period = PeriodLabel(who_p, spec.period);
  }
  internal::WhoCollector who(EventIndex::Workers(ctx), spec.who ? spec.who->page : WhoPage{});
  const auto& ids = index.customers();
  // per worker: [period][0..3] = new, returning, resurrecting, dormant
  std::vector<std::vector<uint64_t>> accs(EventIndex::Workers(ctx), std::vector<uint64_t>(n * 4, 0));
  const auto& ts = index.timestamps();
  const auto& ev = index.events();
  const auto& off = index.offsets();
  const Period per = spec.period;
  // A customer lands in a given (period, kind) cell at most once, so the list has no repeats.
  auto add = [&](std::vector<uint64_t>& a, int64_t p, int kind, unsigned w, size_t c) {
    if (p >= p0 && p <= p1) ++a[static_cast<size_t>(p - p0) * 4 + kind];
    if (p == who_p && kind == who_kind) who.Add(w, ids[c]);
  };
  RETURN_IF_ERROR(index.ParallelForCustomers(ctx, [&](size_t begin, size_t end, unsigned w) -> Status {
    std::vector<uint64_t>& a = accs[w];
    for (size_t c = begin; c < end; ++c) {
      int64_t prev = INT64_MIN;  // previous active period of this customer
      for (RowIndex r = off[c]; r < off[c + 1]; ++r) {
        if (!filter.Matches(ev[r])) continue;
        const int64_t p = PeriodOf(ts[r], per);
        if (p == prev) continue;
        if (prev > p1) break;  // nothing later can land in the range
        if (prev == INT64_MIN) {
          add(a, p, 0, w, c);
        } else if (p == prev + 1) {
          add(a, p, 1, w, c);
        } else {
          add(a, prev + 1, 3, w, c);  // went dormant the period after prev
          add(a, p, 2, w, c);
        }
        prev = p;
      }
      if (prev != INT64_MIN) add(a, prev + 1, 3, w, c);
    }
    return Status::Ok();
  }));
  for (size_t w = 1; w < accs.size(); ++w)
    for (size_t i = 0; i < accs[0].size(); ++i) accs[0][i] += accs[w][i];
  const auto& a = accs[0];
  for (size_t i = 0; i < n; ++i) {
    LifecycleRow row;
    const int64_t p = p0 + static_cast<int64_t>(i);
    row.start_ms = PeriodStartMs(p, per);
    row.start = PeriodLabel(p, per);
    row.new_customers = a[i * 4], row.returning = a[i * 4 + 1], row.resurrecting = a[i * 4 + 2],
    row.dormant = a[i * 4 + 3];
    out.rows.push_back(std::move(row));
  }
  if (spec.who) out.who = who.Finish();
  return out;
}

}  // namespace cairn::analytics
