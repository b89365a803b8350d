#pragma once
// Runs a TrendsSpec (spec/trends.h) over an EventIndex, parallel over customers.
#include "analytics/exec/event_index.h"
#include "analytics/exec/query_context.h"
#include "analytics/spec/trends.h"
#include "base/result.h"

namespace cairn::analytics {
// InvalidArgument (naming the field) for a bad spec; ctx errors when cancelled / over time.
Result<TrendsResult> RunTrends(const EventIndex& index, const TrendsSpec& spec, const QueryContext& ctx);
}  // namespace cairn::analytics
