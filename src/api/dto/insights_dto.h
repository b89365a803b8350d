#pragma once
// JSON ⇄ specs/results of POST /v1/query/{trends,lifecycle,stickiness,paths} (docs/api/insights.md).
//
// Request shapes (every field optional unless marked; unknown fields are rejected by name):
//   trends:     {"event": "" (= every interaction), "measure": "count"|"uniques"|"sum"|"avg",
//                "property": "revenue", "interval": "hour"|"day"|"week"|"month", "from", "to",
//                "breakdown": "none"|"channel"|"event", "top_n": 1..100, "compare": bool}
//   lifecycle:  {"event", "period": "day"|"week"|"month", "from", "to",
//                "who": {"period": "2026-01-05" | ms, "status": "new"|"returning"|"resurrecting"|"dormant"}}
//   stickiness: {"event", "interval", "from", "to", "who": {"periods": n}}
//   paths:      {"anchor" (required), "direction": "next"|"previous", "depth": 1..5, "from", "to",
//                "window": "30m"|"12h"|"7d"|ms, "exclude": [event], "collapse_repeats": bool,
//                "max_nodes_per_step": 1..50,
//                "who": {"node": "2:Home", "status": "reached"|"dropped"} | {"source": "1:A", "target": "2:B"}}
//   Every "who" also takes "limit" and "after" (api/dto/who_dto.h); the answer then carries
//   "who": {"customers": ["c:1", ...], "next": "c:9" | null} (lifecycle adds "period", its label).
// Times: "YYYY-MM-DD" (UTC midnight), "YYYY-MM-DDTHH:MM:SS[.mmm]Z", or ms since the epoch;
// "from" inclusive, "to" exclusive; both absent = the data's whole time range.
// Errors: InvalidArgument "<field>: <what is wrong>", which the handler answers with 400.

#include <string>
#include <string_view>

#include "analytics/spec/lifecycle.h"
#include "analytics/spec/paths.h"
#include "analytics/spec/stickiness.h"
#include "analytics/spec/trends.h"
#include "base/result.h"

namespace cairn::api {

Result<analytics::TrendsSpec> ParseTrendsSpec(std::string_view json);
Result<analytics::LifecycleSpec> ParseLifecycleSpec(std::string_view json);
Result<analytics::StickinessSpec> ParseStickinessSpec(std::string_view json);
Result<analytics::PathsSpec> ParsePathsSpec(std::string_view json);

// {"interval","from","to","buckets":[label],"series":[{"label","values":[n],"total"}],
//  "previous":{"buckets","series"} (with compare), "warnings":[text]}
std::string TrendsToJson(const analytics::TrendsResult& r);
// {"period","rows":[{"start","new","returning","resurrecting","dormant"}],"warnings"}
std::string LifecycleToJson(const analytics::LifecycleResult& r);
// {"interval","periods","customers","average","counts":[n for k = 1..periods],"warnings"}
std::string StickinessToJson(const analytics::StickinessResult& r);
// {"customers","nodes":[{"id","step","event","count","dropoff"}],"links":[{"source","target","count"}],"warnings"}
std::string PathsToJson(const analytics::PathsResult& r);

// Helpers shared with tests: the time and duration forms above.
Result<int64_t> ParseQueryTime(std::string_view field, const std::string& text);
Result<int64_t> ParseQueryDuration(std::string_view field, const std::string& text);

}  // namespace cairn::api
