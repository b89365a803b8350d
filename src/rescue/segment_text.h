#pragma once
// Pieces of the Segment messages rescue/ writes by hand (prompts, answers, Action Sent touches):
// a JSON-quoted string and an ISO-8601 UTC time with milliseconds.

#include <date/date.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/json_string.h"

namespace cairn::rescue {

// `s` as a JSON string literal, quotes included.
inline std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

// Unix milliseconds → "2026-01-01T00:00:00.000Z".
inline std::string IsoMillis(int64_t ms) {
  return date::format("%FT%TZ", date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
}

}  // namespace cairn::rescue
