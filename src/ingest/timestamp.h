#pragma once
// Event-time parsing for ingest: ISO-8601 / RFC 3339 text and epoch-millisecond numbers.

#include <cstdint>
#include <string_view>

namespace cairn::ingest {

// Parses an ISO-8601 date-time into milliseconds since the Unix epoch (UTC). Accepted:
//   YYYY-MM-DD                               midnight UTC
//   YYYY-MM-DD(T|t| )HH:MM[:SS[(.|,)F...]][zone]
//   zone: Z | z | +HH:MM | +HHMM | +HH | -... ; absent zone means UTC
// Fractions of any length are accepted and truncated to milliseconds (toward the past);
// second 60 (leap second) is accepted. Years 0000..9999. Returns false for anything else.
bool ParseIso8601Ms(std::string_view text, int64_t* ms);

// Formats `ms` as "YYYY-MM-DDTHH:MM:SS.mmmZ" (for messages and tests).
std::string_view FormatIso8601Ms(int64_t ms, char (&buf)[32]);

// Earliest and latest instants Cairn accepts in any time field: 0000-01-01 and 9999-12-31T23:59:59.999Z.
inline constexpr int64_t kMinTimeMs = -62167219200000;
inline constexpr int64_t kMaxTimeMs = 253402300799999;

}  // namespace cairn::ingest
