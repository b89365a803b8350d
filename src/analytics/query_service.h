#pragma once
// QueryService: the analytics queries the HTTP edge and the CLI call (api/services.h holds an
// optional pointer). Specs and results are plain structs (spec/*.h); validation errors are
// InvalidArgument naming the field. Implementations are thread-safe: queries run concurrently,
// each on an immutable snapshot, without blocking ingest.

#include "analytics/exec/query_context.h"
#include "analytics/spec/funnel_spec.h"
#include "analytics/spec/retention_spec.h"
#include "base/result.h"

namespace cairn::analytics {

class QueryService {
 public:
  virtual ~QueryService() = default;
  virtual Result<FunnelResult> Funnel(const FunnelSpec& spec, const QueryContext& ctx) = 0;
  virtual Result<RetentionResult> Retention(const RetentionSpec& spec, const QueryContext& ctx) = 0;
  // Other query kinds (paths, trends, lifecycle, stickiness) are added here with their specs.
};

}  // namespace cairn::analytics
