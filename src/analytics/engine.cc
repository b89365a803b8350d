#include "analytics/engine.h"

#include <algorithm>

#include "analytics/exec/funnel_exec.h"
#include "analytics/exec/retention_exec.h"
#include "base/logging.h"

namespace cairn::analytics {

Engine::Engine(store::Store* store, Canonicalizer canonical, EngineOptions options)
    : options_(options), cache_(store, std::move(canonical), options_.excluded) {
  auto* m = options_.metrics ? options_.metrics : metrics::Registry::Default();
  queries_ = m->GetCounter("cairn_analytics_queries_total", "Analytics queries run");
  cancelled_ = m->GetCounter("cairn_analytics_queries_cancelled_total",
                             "Analytics queries stopped because their client went away");
  timed_out_ = m->GetCounter("cairn_analytics_queries_timed_out_total",
                             "Analytics queries stopped at their time limit");
  seconds_ = m->GetHistogram("cairn_analytics_query_seconds", "Analytics query latency, index build included",
                             metrics::ExponentialBounds(0.001, 2, 16));
  index_rows_ = m->GetGauge("cairn_analytics_index_rows",
                            "Interactions in the analytics index queries run on (0 until it is first built)");
}

Result<IndexCache::Entry> Engine::Index(const QueryContext& ctx) {
  if (options_.excluded_changed && options_.excluded_changed()) cache_.Invalidate();
  ASSIGN_OR_RETURN(IndexCache::Entry entry, cache_.Get(ctx));
  index_rows_->Set(static_cast<double>(entry.index->row_count()));
  return entry;
}

Status Engine::Warm(const QueryContext& ctx) {
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  ASSIGN_OR_RETURN(IndexCache::Entry entry, Index(ctx));
  LOG_INFO("analytics: index of {} interactions, {} customers ready in {} ms", entry.index->row_count(),
           entry.index->customer_count(), (ctx.clock()->MonotonicNanos() - t0) / 1'000'000);
  return Status::Ok();
}

void Engine::Count(const QueryContext& ctx, int64_t t0_nanos, const Status& status) {
  queries_->Inc();
  seconds_->Observe(static_cast<double>(ctx.clock()->MonotonicNanos() - t0_nanos) / 1e9);
  if (status.ok()) return;
  if (ctx.cancelled()) cancelled_->Inc();
  else if (status.code() == Code::kResourceExhausted && status.message().starts_with("deadline exceeded")) timed_out_->Inc();
}

Result<FunnelResult> Engine::Funnel(const FunnelSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateFunnelSpec(spec));
  return Counted(ctx, [&]() -> Result<FunnelResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunFunnel(*entry.index, *entry.snapshot, spec, ctx);
  });
}

Result<RetentionResult> Engine::Retention(const RetentionSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateRetentionSpec(spec));
  return Counted(ctx, [&]() -> Result<RetentionResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunRetention(*entry.index, *entry.snapshot, spec, ctx);
  });
}

Result<IndexCache::Entry> Engine::IndexFor(const Segment& segment, const QueryContext& ctx) {
  ASSIGN_OR_RETURN(IndexCache::Entry full, Index(ctx));
  if (segment.empty()) return full;
  const std::string key = segment.Key();
  const int64_t now = ctx.clock()->MonotonicNanos() / 1'000'000;
  {
    std::lock_guard lock(segments_mu_);
    for (const SegmentEntry& s : segments_)
      if (s.key == key && s.entry.snapshot == full.snapshot &&
          now - s.made_ms < options_.segment_ttl_ms)
        return s.entry;
  }
  const EventIndex& index = *full.index;
  std::vector<char> keep(index.customer_count(), 1);
  if (!segment.persona.empty() || !segment.lifecycle.empty()) {
    if (!options_.segment_members)
      return Status(Code::kFailedPrecondition, "segment: persona and lifecycle need the journey engine");
    ASSIGN_OR_RETURN(std::vector<store::CustomerId> members, options_.segment_members(segment));
    std::sort(members.begin(), members.end());
    const auto& ids = index.customers();
    for (size_t c = 0; c < ids.size(); ++c) keep[c] = std::binary_search(members.begin(), members.end(), ids[c]);
  }
  if (!segment.channel.empty()) {
    // The acquisition channel: the channel of the customer's first row (runs are in (ts, seq)
    // order). A channel no interaction has matches nobody.
    const auto& names = index.channel_names();
    const auto it = std::find(names.begin(), names.end(), segment.channel);
    const uint16_t id = static_cast<uint16_t>(it - names.begin());
    const bool known = it != names.end();
    for (size_t c = 0; c < keep.size(); ++c)
      keep[c] = keep[c] && known && index.channels()[index.offsets()[c]] == id;
  }
  RETURN_IF_ERROR(ctx.Check());
  IndexCache::Entry sub{full.snapshot, EventIndex::Subset(index, keep)};
  std::lock_guard lock(segments_mu_);
  std::erase_if(segments_, [&](const SegmentEntry& s) {
    return s.key == key || s.entry.snapshot != full.snapshot ||
           now - s.made_ms >= options_.segment_ttl_ms;
  });
  if (segments_.size() >= 8) segments_.erase(segments_.begin());
  segments_.push_back({key, now, sub});
  return sub;
}

}  // namespace cairn::analytics
