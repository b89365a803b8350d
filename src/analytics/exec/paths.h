#pragma once
// Runs a PathsSpec (spec/paths.h) over an EventIndex, parallel over customers.
#include "analytics/exec/event_index.h"
#include "analytics/exec/query_context.h"
#include "analytics/spec/paths.h"
#include "base/result.h"

namespace cairn::analytics {
Result<PathsResult> RunPaths(const EventIndex& index, const PathsSpec& spec, const QueryContext& ctx);
}  // namespace cairn::analytics
