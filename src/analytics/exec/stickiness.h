#pragma once
// Runs a StickinessSpec (spec/stickiness.h) over an EventIndex, parallel over customers.
#include "analytics/exec/event_index.h"
#include "analytics/exec/query_context.h"
#include "analytics/spec/stickiness.h"
#include "base/result.h"

namespace cairn::analytics {
Result<StickinessResult> RunStickiness(const EventIndex& index, const StickinessSpec& spec, const QueryContext& ctx);
}  // namespace cairn::analytics
