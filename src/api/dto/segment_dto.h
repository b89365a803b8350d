#pragma once
// The segment filter (analytics/spec/segment.h) as JSON — `"segment":{"persona","lifecycle",
// "channel"}` in every analytics query body — and as query parameters
// (`?persona=&lifecycle=&channel=`, GET /v1/journey/overview). Strict like every decoder here: an
// unknown field or a non-string value is InvalidArgument naming it ("segment.colour: unknown
// field"). Values are names (at most 200 bytes); an unknown name is not an error: nobody has it.

#include <string_view>

#include <boost/json/fwd.hpp>

#include "analytics/spec/segment.h"
#include "base/result.h"

namespace cairn::api {

// `v` is the value of the body's "segment" field (null = no segment).
Result<analytics::Segment> DecodeSegment(const boost::json::value& v);
// The raw (still percent-encoded) query string; other parameters are ignored.
Result<analytics::Segment> DecodeSegmentQuery(std::string_view query);

}  // namespace cairn::api
