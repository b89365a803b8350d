#pragma once
// Per-row property data prepared before a parallel pass: which rows pass a list of filters, and
// the breakdown value of rows. Built from EventIndex::ForEachPayload, read-only afterwards.

#include <string>
#include <unordered_map>
#include <vector>

#include "analytics/exec/event_index.h"
#include "analytics/spec/property_filter.h"

namespace cairn::analytics {

// A bit per index row: set when the row's payload satisfies the filters (only rows of `events`
// are evaluated; every other row is clear).
class RowBits {
 public:
  void Resize(size_t rows) { bits_.assign((rows + 63) / 64, 0); }
  void Set(RowIndex r) { bits_[r >> 6] |= uint64_t{1} << (r & 63); }
  bool Test(RowIndex r) const { return (bits_[r >> 6] >> (r & 63)) & 1; }

 private:
  std::vector<uint64_t> bits_;
};

Status ComputeRowBits(const EventIndex& index, const store::Snapshot& snapshot, std::vector<EventId> events,
                      const std::vector<PropertyFilter>& filters, const QueryContext& ctx, RowBits* out);

// Value ids of a property for rows of `events` (absent property: no entry). values[id] is the text.
struct RowValues {
  std::unordered_map<RowIndex, uint32_t> by_row;
  std::vector<std::string> values;
  const std::string* Find(RowIndex r) const {
    auto it = by_row.find(r);
    return it == by_row.end() ? nullptr : &values[it->second];
  }
};
Status ComputeRowValues(const EventIndex& index, const store::Snapshot& snapshot, std::vector<EventId> events,
                        const std::string& property, const QueryContext& ctx, RowValues* out);

}  // namespace cairn::analytics
