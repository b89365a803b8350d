#include "ingest/dedup_seed.h"

#include <algorithm>
#include <utility>

#include "ingest/dedup_table.h"
#include "store/segment_format.h"
#include "store/segment_reader.h"

namespace cairn::ingest {

Result<std::vector<uint64_t>> NewestMessageKeys(const store::Snapshot& snapshot, uint64_t count) {
  using store::segment::Bit;
  using store::segment::Column;
  const uint64_t from = snapshot.seq() > count ? snapshot.seq() - count : 0;
  const bool hides = snapshot.HidesAny();
  const store::segment::ColumnMask wanted = Bit(Column::kSeq) | Bit(Column::kSource) | Bit(Column::kMessageId) |
                                            (hides ? Bit(Column::kCustomer) : 0);
  std::vector<std::pair<uint64_t, uint64_t>> recent;  // (seq, key) of rows with seq >= from
  auto keep = [&](uint64_t seq, store::CustomerId customer, uint32_t source, std::string_view message_id) {
    if (seq >= from && !(hides && snapshot.Hidden(customer))) recent.emplace_back(seq, MessageKey(source, message_id));
  };

  store::FixedColumns seqs, rows;
  for (const auto& seg : snapshot.segments()) {
    for (size_t b = 0; b < seg->block_count(); ++b) {
      // The rows of this block worth a message id: [lo, hi). Segments are ordered by customer,
      // not seq, so the range is found from the seq column; from = 0 takes every row unread.
      uint32_t lo = 0, hi = seg->block(b).rows;
      if (from > 0) {
        RETURN_IF_ERROR(seg->ReadBlock(b, Bit(Column::kSeq), &seqs));
        const auto& s = seqs.seq;
        const auto in = [&](uint64_t v) { return v >= from; };
        auto first = std::find_if(s.begin(), s.end(), in);
        if (first == s.end()) continue;
        auto last = std::find_if(s.rbegin(), s.rend(), in).base();
        lo = static_cast<uint32_t>(first - s.begin());
        hi = static_cast<uint32_t>(last - s.begin());
      }
      RETURN_IF_ERROR(seg->ReadBlockRows(b, lo, hi, wanted, &rows));
      for (size_t i = 0; i < rows.rows; ++i)
        keep(rows.seq[i], hides ? rows.customer[i] : 0, rows.source[i], rows.message_id[i]);
    }
  }
  for (const auto& r : snapshot.MemTableRows()) keep(r.seq, r.customer, r.source, r.message_id);  // hidden ones are gone

  std::sort(recent.begin(), recent.end());
  std::vector<uint64_t> keys;
  keys.reserve(recent.size());
  for (const auto& [seq, key] : recent) keys.push_back(key);
  return keys;
}

}  // namespace cairn::ingest
