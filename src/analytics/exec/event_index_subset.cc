// EventIndex::Subset (event_index.h): the segment filter's index. A copy of the kept customers'
// runs rather than a mask every kernel would have to honour: the six query kernels stay exactly
// as they are (one definition of each semantics), and the copy is paid once per (snapshot,
// segment) — Engine caches it.
#include <algorithm>

#include "analytics/exec/event_index.h"

namespace cairn::analytics {

std::shared_ptr<const EventIndex> EventIndex::Subset(const EventIndex& full, const std::vector<char>& keep) {
  std::shared_ptr<EventIndex> x(new EventIndex());
  x->snapshot_seq_ = full.snapshot_seq_;
  x->event_names_ = full.event_names_;
  x->event_ids_ = full.event_ids_;
  x->channel_names_ = full.channel_names_;
  x->excluded_ids_ = full.excluded_ids_;
  x->excluded_rows_ = full.excluded_rows_;
  const size_t n = std::min(keep.size(), full.customers_.size());
  size_t rows = 0, customers = 0;
  for (size_t c = 0; c < n; ++c)
    if (keep[c]) {
      rows += full.offsets_[c + 1] - full.offsets_[c];
      ++customers;
    }
  x->customers_.reserve(customers);
  x->offsets_.reserve(customers + 1);
  x->offsets_.push_back(0);
  x->ts_.resize(rows);
  x->event_.resize(rows);
  x->seq_.resize(rows);
  x->channel_.resize(rows);
  x->type_.resize(rows);
  x->revenue_.resize(rows);
  RowIndex out = 0;
  // Adjacent kept customers are copied as one range.
  for (size_t c = 0; c < n;) {
    if (!keep[c]) {
      ++c;
      continue;
    }
    size_t e = c;
    while (e < n && keep[e]) {
      x->customers_.push_back(full.customers_[e]);
      x->offsets_.push_back(out + (full.offsets_[e + 1] - full.offsets_[c]));
      ++e;
    }
    const RowIndex b = full.offsets_[c], end = full.offsets_[e];
    std::copy(full.ts_.begin() + b, full.ts_.begin() + end, x->ts_.begin() + out);
    std::copy(full.event_.begin() + b, full.event_.begin() + end, x->event_.begin() + out);
    std::copy(full.seq_.begin() + b, full.seq_.begin() + end, x->seq_.begin() + out);
    std::copy(full.channel_.begin() + b, full.channel_.begin() + end, x->channel_.begin() + out);
    std::copy(full.type_.begin() + b, full.type_.begin() + end, x->type_.begin() + out);
    std::copy(full.revenue_.begin() + b, full.revenue_.begin() + end, x->revenue_.begin() + out);
    out += end - b;
    c = e;
  }
  // The data range stays the whole index's: a query without from/to ("the whole data range")
  // then buckets a segment exactly as it buckets everyone, so the two line up (and an empty
  // segment still has the store's range, not the epoch).
  x->min_ts_ = full.min_ts_;
  x->max_ts_ = full.max_ts_;
  return x;
}

}  // namespace cairn::analytics
