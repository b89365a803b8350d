#pragma once
// The dashboard's page-wide filters as query parameters (docs/dashboard-ui.md "Filters"):
//   ?from=YYYY-MM-DD&to=YYYY-MM-DD      a range of whole UTC days, both inclusive (either may be
//                                        left out)
//   &persona=…&lifecycle=…&channel=…    the segment (analytics/spec/segment.h, DecodeSegmentQuery)
// taken by GET /v1/dashboard, GET /v1/rescues and GET /v1/value/summary. Other parameters are
// left to the caller. A malformed or impossible day is InvalidArgument naming `from` or `to`;
// from after to too.
//
// The segment is resolved to its customers here, at the edge, by Services::segment_members (the
// analytics engine's segment, the same customers an analytics query with that segment counts), so
// the core call takes a plain set of canonical customer ids.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/spec/segment.h"
#include "api/services.h"
#include "base/result.h"

namespace cairn::api {

struct PageFilter {
  std::optional<int64_t> from_day, to_day;  // days since 1970-01-01
  analytics::Segment segment;
  // A cache key: equal keys, equal filters.
  std::string Key() const;
};

// `query`: the raw (still percent-encoded) query string.
Result<PageFilter> DecodePageFilter(std::string_view query);

// The segment's canonical customers, ascending; nullopt when the segment is empty (everyone).
// FailedPrecondition when a segment is given and the server has no segment resolver.
Result<std::optional<std::vector<uint64_t>>> SegmentMembers(const Services& services, const analytics::Segment& segment);

}  // namespace cairn::api
