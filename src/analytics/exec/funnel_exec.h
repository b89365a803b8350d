#pragma once
// RunFunnel: executes a FunnelSpec (spec/funnel_spec.h) over an EventIndex, in parallel over
// customers. Property filters and property breakdowns read payloads (EventIndex::ForEachPayload)
// only for rows of the events involved, before the parallel pass.
//
// Errors: InvalidArgument naming the spec field; the QueryContext's cancellation / time limit;
// Corruption from a segment read. Unknown event names are not errors: they match nothing and are
// reported in FunnelResult::warnings.

#include "analytics/exec/event_index.h"
#include "analytics/exec/query_context.h"
#include "analytics/spec/funnel_spec.h"
#include "store/store.h"

namespace cairn::analytics {

Result<FunnelResult> RunFunnel(const EventIndex& index, const store::Snapshot& snapshot, const FunnelSpec& spec,
                               const QueryContext& ctx);

// Percentiles and histogram of a set of durations (reordered in place, not sorted). Exposed for tests.
DurationStats ComputeDurationStats(std::vector<int64_t>* durations);

}  // namespace cairn::analytics
