#pragma once
// RunRetention: executes a RetentionSpec (spec/retention_spec.h) over an EventIndex, in parallel
// over customers: one linear pass over each customer's rows (they are time-ordered, so the first
// start row is the cohort and return periods arrive in nondecreasing order).

#include "analytics/exec/event_index.h"
#include "analytics/exec/query_context.h"
#include "analytics/spec/retention_spec.h"
#include "store/store.h"

namespace cairn::analytics {

Result<RetentionResult> RunRetention(const EventIndex& index, const store::Snapshot& snapshot,
                                     const RetentionSpec& spec, const QueryContext& ctx);

}  // namespace cairn::analytics
