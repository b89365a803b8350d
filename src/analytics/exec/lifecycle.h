#pragma once
// Runs a LifecycleSpec (spec/lifecycle.h) over an EventIndex, parallel over customers.
#include "analytics/exec/event_index.h"
#include "analytics/exec/query_context.h"
#include "analytics/spec/lifecycle.h"
#include "base/result.h"

namespace cairn::analytics {
Result<LifecycleResult> RunLifecycle(const EventIndex& index, const LifecycleSpec& spec, const QueryContext& ctx);
}  // namespace cairn::analytics
