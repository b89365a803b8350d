// Engine's trends / lifecycle / stickiness / paths: the same shape as Funnel and Retention
// (engine.cc) — validate, take the cached index of the current snapshot, run the kernel, count it
// (Engine::Counted).
#include "analytics/engine.h"
#include "analytics/exec/lifecycle.h"
#include "analytics/exec/paths.h"
#include "analytics/exec/stickiness.h"
#include "analytics/exec/trends.h"

namespace cairn::analytics {

Result<TrendsResult> Engine::Trends(const TrendsSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateTrendsSpec(spec));
  return Counted(ctx, [&]() -> Result<TrendsResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunTrends(*entry.index, spec, ctx);
  });
}

Result<LifecycleResult> Engine::Lifecycle(const LifecycleSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateLifecycleSpec(spec));
  return Counted(ctx, [&]() -> Result<LifecycleResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunLifecycle(*entry.index, spec, ctx);
  });
}

Result<StickinessResult> Engine::Stickiness(const StickinessSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidateStickinessSpec(spec));
  return Counted(ctx, [&]() -> Result<StickinessResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunStickiness(*entry.index, spec, ctx);
  });
}

Result<PathsResult> Engine::Paths(const PathsSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidatePathsSpec(spec));
  return Counted(ctx, [&]() -> Result<PathsResult> {
    ASSIGN_OR_RETURN(auto entry, IndexFor(spec.segment, ctx));
    return RunPaths(*entry.index, spec, ctx);
  });
}

}  // namespace cairn::analytics
