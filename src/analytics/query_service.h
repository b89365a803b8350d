#pragma once
// QueryService: the analytics queries the HTTP edge and the CLI call (api/services.h holds an
// optional pointer). Specs and results are plain structs (spec/*.h); validation errors are
// InvalidArgument naming the field. Implementations are thread-safe: queries run concurrently,
// each on an immutable snapshot, without blocking ingest.

#include "analytics/exec/query_context.h"
#include "analytics/spec/funnel_spec.h"
#include "analytics/spec/retention_spec.h"
#include "analytics/spec/lifecycle.h"
#include "analytics/spec/paths.h"
#include "analytics/spec/stickiness.h"
#include "analytics/spec/trends.h"
#include "base/result.h"

namespace cairn::analytics {

class QueryService {
 public:
  virtual ~QueryService() = default;
  virtual Result<FunnelResult> Funnel(const FunnelSpec& spec, const QueryContext& ctx) = 0;
  virtual Result<RetentionResult> Retention(const RetentionSpec& spec, const QueryContext& ctx) = 0;
  // Other query kinds (paths, trends, lifecycle, stickiness) are added here with their specs.
  // Semantics: spec/{trends,lifecycle,stickiness,paths}.h. Default: FailedPrecondition (an
  // implementation without them); Engine implements all four (trends_engine.cc).
  virtual Result<TrendsResult> Trends(const TrendsSpec&, const QueryContext&) { return NotOffered("trends"); }
  virtual Result<LifecycleResult> Lifecycle(const LifecycleSpec&, const QueryContext&) { return NotOffered("lifecycle"); }
  virtual Result<StickinessResult> Stickiness(const StickinessSpec&, const QueryContext&) {
    return NotOffered("stickiness");
  }
  virtual Result<PathsResult> Paths(const PathsSpec&, const QueryContext&) { return NotOffered("paths"); }

 private:
  static Status NotOffered(const char* kind) {
    return Status(Code::kFailedPrecondition, std::string(kind) + " queries are not offered by this service");
  }
};

}  // namespace cairn::analytics
