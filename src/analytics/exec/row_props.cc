#include "analytics/exec/row_props.h"

#include "analytics/exec/payload_props.h"

namespace cairn::analytics {

Status ComputeRowBits(const EventIndex& index, const store::Snapshot& snapshot, std::vector<EventId> events,
                      const std::vector<PropertyFilter>& filters, const QueryContext& ctx, RowBits* out) {
  out->Resize(index.row_count());
  PayloadReader reader;
  return index.ForEachPayload(snapshot, events, ctx, [&](RowIndex r, std::string_view payload) {
    if (reader.Matches(payload, filters)) out->Set(r);
  });
}

Status ComputeRowValues(const EventIndex& index, const store::Snapshot& snapshot, std::vector<EventId> events,
                        const std::string& property, const QueryContext& ctx, RowValues* out) {
  PayloadReader reader;
  std::unordered_map<std::string, uint32_t> ids;
  return index.ForEachPayload(snapshot, events, ctx, [&](RowIndex r, std::string_view payload) {
    auto v = reader.Get(payload, property);
    if (!v) return;
    auto [it, inserted] = ids.emplace(*v, static_cast<uint32_t>(out->values.size()));
    if (inserted) out->values.push_back(*v);
    out->by_row[r] = it->second;
  });
}

}  // namespace cairn::analytics
