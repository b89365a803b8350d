#pragma once
// `cairn query funnel|retention|trends|lifecycle|stickiness|paths --data DIR ...`: runs an
// analytics query on a stopped data dir (opened through Hub, so identity merges are applied exactly
// as the server would) and prints a table, or with --json the same JSON as POST /v1/query/*
// (plus "ms"). Flags build that JSON spec, so the CLI and the API share one decoder
// (api/dto/query_dto.h, api/dto/insights_dto.h); --spec takes a whole JSON spec instead.
// Registered on the CLI by main; each runs from its CLI11 callback and signals failure by throwing
// CLI::RuntimeError (exit 1; 2 for an invalid spec).

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "analytics/engine.h"

namespace cairn::app {

class Hub;

void AddQueryCommands(CLI::App* cli);

// The analytics engine over an open hub's store, canonicalising customers through its identity
// resolver. The hub must outlive it.
std::unique_ptr<analytics::Engine> MakeAnalyticsEngine(Hub* hub);

// The customers of a page filter's segment (api/dto/page_filter.h, Services::segment_members):
// canonical ids, ascending, the customers a query with that segment counts. A persona and/or
// lifecycle segment comes from the journey engine's member list (JourneyEngine::Members, one pass
// over its states) less the customers who denied analytics consent, as `engine`'s segment index
// keeps them; a segment with an acquisition channel needs the event index (the channel of each
// customer's first row), so it is `engine`'s segment index. `time_limit_ms` bounds that index's
// build (0 = none). The hub and the engine must outlive the function.
std::function<Result<std::vector<uint64_t>>(const analytics::Segment&)> MakeSegmentMembers(Hub* hub, analytics::Engine* engine,
                                                                                          int64_t time_limit_ms);

}  // namespace cairn::app
