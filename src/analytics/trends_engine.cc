// Engine's trends / lifecycle / stickiness / paths: the same shape as Funnel and Retention
// (engine.cc) — validate, take the cached index of the current snapshot, run the kernel, count it.
#include "analytics/engine.h"
#include "analytics/exec/lifecycle.h"
#include "analytics/exec/paths.h"
#include "analytics/exec/stickiness.h"
#include "analytics/exec/trends.h"

namespace cairn::analytics {

namespace {
template <typename Fn>
auto Timed(metrics::Counter* queries, metrics::Histogram* seconds, const QueryContext& ctx, Fn&& fn) {
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  auto r = fn();
  queries->Inc();
  seconds->Observe(static_cast<double>(ctx.clock()->MonotonicNanos() - t0) / 1e9);
  return r;
}
}  // namespace

Result<TrendsResult> Engine::Trends(const TrendsSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateTrendsSpec(spec));
  return Timed(queries_, seconds_, ctx, [&]() -> Result<TrendsResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunTrends(*entry.index, spec, ctx);
  });
}

Result<LifecycleResult> Engine::Lifecycle(const LifecycleSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateLifecycleSpec(spec));
  return Timed(queries_, seconds_, ctx, [&]() -> Result<LifecycleResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunLifecycle(*entry.index, spec, ctx);
  });
}

Result<StickinessResult> Engine::Stickiness(const StickinessSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateStickinessSpec(spec));
  return Timed(queries_, seconds_, ctx, [&]() -> Result<StickinessResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunStickiness(*entry.index, spec, ctx);
  });
}

Result<PathsResult> Engine::Paths(const PathsSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidatePathsSpec(spec));
  return Timed(queries_, seconds_, ctx, [&]() -> Result<PathsResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunPaths(*entry.index, spec, ctx);
  });
}

}  // namespace cairn::analytics
