// Stickiness kernel: per customer, count distinct periods of matching rows in range (rows are
// time-ordered, so distinct periods are runs) and add one to that count's histogram bin.
#include "analytics/exec/stickiness.h"

#include <algorithm>

#include "analytics/exec/trends_util.h"
#include "analytics/exec/who_collect.h"

namespace cairn::analytics {

Status ValidateStickinessSpec(const StickinessSpec& spec) {
  if (spec.to_ms < spec.from_ms || (spec.to_ms == spec.from_ms && spec.from_ms != 0))
    return InvalidArgument("to: must be after from");
  if (spec.who) {
    if (spec.who->periods < 1) return InvalidArgument("who.periods: must be at least 1");
    if (spec.who->page.limit < 1 || spec.who->page.limit > 10000) return InvalidArgument("who.limit: must be 1..10000");
  }
  return Status::Ok();
}

Result<StickinessResult> RunStickiness(const EventIndex& index, const StickinessSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateStickinessSpec(spec));
  StickinessResult out;
  out.interval = spec.interval;
  const internal::EventFilter filter = internal::ResolveEvent(index, spec.event, "event", &out.warnings);
  int64_t from, to;
  internal::ResolveRange(index, spec.from_ms, spec.to_ms, &from, &to);
  const int64_t n64 = PeriodOf(to - 1, spec.interval) - PeriodOf(from, spec.interval) + 1;
  if (n64 > internal::kMaxPeriods) return InvalidArgument("interval: too many periods in the range");
  const size_t n = static_cast<size_t>(n64);
  if (spec.who && spec.who->periods > n)
    return InvalidArgument("who.periods: the range has " + std::to_string(n) + " periods; must be 1.." + std::to_string(n));
  const size_t who_k = spec.who ? spec.who->periods : 0;  // 0: no list
  internal::WhoCollector who(EventIndex::Workers(ctx), spec.who ? spec.who->page : WhoPage{});
  const auto& ids = index.customers();
  std::vector<std::vector<uint64_t>> accs(EventIndex::Workers(ctx), std::vector<uint64_t>(n + 1, 0));
  const auto& ts = index.timestamps();
  const auto& ev = index.events();
  const auto& off = index.offsets();
  RETURN_IF_ERROR(index.ParallelForCustomers(ctx, [&](size_t begin, size_t end, unsigned w) -> Status {
    std::vector<uint64_t>& a = accs[w];
    for (size_t c = begin; c < end; ++c) {
      const RowIndex r1 = off[c + 1];
      RowIndex r = static_cast<RowIndex>(std::lower_bound(ts.begin() + off[c], ts.begin() + r1, from) - ts.begin());
      int64_t prev = INT64_MIN;
      size_t k = 0;
      for (; r < r1 && ts[r] < to; ++r) {
        if (!filter.Matches(ev[r])) continue;
        const int64_t p = PeriodOf(ts[r], spec.interval);
        if (p != prev) ++k, prev = p;
      }
      if (k) ++a[k];
      if (k == who_k && k) who.Add(w, ids[c]);
    }
    return Status::Ok();
  }));
  out.periods = static_cast<uint32_t>(n);
  out.counts.assign(n, 0);
  double weighted = 0;
  for (const auto& a : accs)
    for (size_t k = 1; k <= n; ++k) out.counts[k - 1] += a[k];
  for (size_t k = 1; k <= n; ++k) {
    out.customers += out.counts[k - 1];
    weighted += static_cast<double>(k) * static_cast<double>(out.counts[k - 1]);
  }
  out.average = out.customers ? weighted / static_cast<double>(out.customers) : 0;
  if (spec.who) out.who = who.Finish();
  return out;
}

}  // namespace cairn::analytics
