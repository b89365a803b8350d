#pragma once
// Helpers shared by the trends, lifecycle, stickiness and paths kernels (internal to exec/).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/exec/event_index.h"
#include "analytics/spec/time_bucket.h"

namespace cairn::analytics::internal {

// An event filter: any event, one event id, or an unknown name (matches nothing).
struct EventFilter {
  bool any = true;
  bool none = false;
  EventId id = 0;
  bool Matches(EventId e) const { return any || (!none && e == id); }
};

// Resolves `name` ("" = any). An unknown name matches nothing and adds a warning naming the
// field, as the API promises ("unknown event names are allowed, reported as a warning").
inline EventFilter ResolveEvent(const EventIndex& index, const std::string& name, const char* field,
                                std::vector<std::string>* warnings) {
  EventFilter f;
  if (name.empty()) return f;
  f.any = false;
  if (auto id = index.FindEvent(name)) {
    f.id = *id;
  } else {
    f.none = true;
    warnings->push_back(std::string(field) + ": no interaction has the event '" + name + "'");
  }
  return f;
}

// [from, to) of a spec; from = to = 0 means the index's whole time range (empty index: [0, 1)).
inline void ResolveRange(const EventIndex& index, int64_t from_ms, int64_t to_ms, int64_t* from, int64_t* to) {
  if (from_ms == 0 && to_ms == 0) {
    *from = index.row_count() ? index.min_timestamp_ms() : 0;
    *to = index.row_count() ? index.max_timestamp_ms() + 1 : 1;
  } else {
    *from = from_ms;
    *to = to_ms;
  }
}

// Most periods a query may list (hourly over ~5.7 years): bounds memory per worker.
inline constexpr int64_t kMaxPeriods = 50'000;

}  // namespace cairn::analytics::internal
