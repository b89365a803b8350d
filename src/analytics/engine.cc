#include "analytics/engine.h"

#include "analytics/exec/funnel_exec.h"
#include "analytics/exec/retention_exec.h"

namespace cairn::analytics {

Engine::Engine(store::Store* store, Canonicalizer canonical, EngineOptions options)
    : options_(options), cache_(store, std::move(canonical), options_.excluded) {
  auto* m = options_.metrics ? options_.metrics : metrics::Registry::Default();
  queries_ = m->GetCounter("cairn_analytics_queries_total", "Analytics queries run");
  seconds_ = m->GetHistogram("cairn_analytics_query_seconds", "Analytics query latency, index build included",
                             metrics::ExponentialBounds(0.001, 2, 16));
}

Result<FunnelResult> Engine::Funnel(const FunnelSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateFunnelSpec(spec));
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  ASSIGN_OR_RETURN(auto entry, Index(ctx));
  auto r = RunFunnel(*entry.index, *entry.snapshot, spec, ctx);
  queries_->Inc();
  seconds_->Observe((ctx.clock()->MonotonicNanos() - t0) / 1e9);
  return r;
}

Result<RetentionResult> Engine::Retention(const RetentionSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateRetentionSpec(spec));
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  ASSIGN_OR_RETURN(auto entry, Index(ctx));
  auto r = RunRetention(*entry.index, *entry.snapshot, spec, ctx);
  queries_->Inc();
  seconds_->Observe((ctx.clock()->MonotonicNanos() - t0) / 1e9);
  return r;
}

}  // namespace cairn::analytics
