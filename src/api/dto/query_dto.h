#pragma once
// Query DTOs: JSON ⇄ analytics specs/results for POST /v1/query/funnel and /v1/query/retention
// (and the `cairn query` CLI, which builds the same JSON from its flags). docs/analytics.md has
// every field with examples.
//
// Decoding is strict: an unknown field, a wrong type or a bad value is InvalidArgument naming the
// field ("steps[1].within: expected a duration like \"1d\""). Semantic checks (step counts,
// ranges) are the core's (ValidateFunnelSpec / ValidateRetentionSpec), also InvalidArgument.
//
// Durations: "500ms", "45s", "30m", "12h", "7d", "2w", or a number of seconds.
// Times (from/to): "2026-01-05", "2026-01-05T10:00:00Z", "2026-01-05T10:00:00.123Z", or ms since epoch.

#include <string>
#include <string_view>

#include "analytics/spec/funnel_spec.h"
#include "analytics/spec/retention_spec.h"
#include "base/result.h"

namespace cairn::api {

Result<int64_t> ParseDurationMs(std::string_view text, std::string_view field);
Result<int64_t> ParseTimeMs(std::string_view text, std::string_view field);

Result<analytics::FunnelSpec> DecodeFunnelSpec(std::string_view json);

// {"steps":[{"event","count","conversion","time_to_convert":{...}}],"breakdown":[...],
//  "over_time":[...],"who":{...},"warnings":[...],"stats":{...}}
std::string FunnelResultToJson(const analytics::FunnelSpec& spec, const analytics::FunnelResult& result,
                               double elapsed_ms);
// {"cohorts":[{"start","size","returned":[...],"revenue":[...]?,"breakdown"?}],"warnings":[...],"stats":{...}}
std::string RetentionResultToJson(const analytics::RetentionSpec& spec, const analytics::RetentionResult& result,
                                  bool with_revenue, double elapsed_ms);

// Whether the retention JSON asked for revenue ("revenue": true); decoded with the spec.
struct RetentionRequest {
  analytics::RetentionSpec spec;
  bool revenue = false;
};
Result<RetentionRequest> DecodeRetentionRequest(std::string_view json);

}  // namespace cairn::api
