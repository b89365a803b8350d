#pragma once
// CompactionPolicy: which segments a background compaction merges.
//
// Merging every segment into one each time there are too many (the store's first policy) rewrites
// every stored row at every compaction: loading N rows in flushes of F rows costs O(N²/F) row
// writes, which made a 10M-interaction import spend most of its time re-merging old data. Instead a
// background compaction merges a *suffix* of the segment list (the newest segments), the one that
// removes segments at the lowest cost per segment removed: rows(suffix) / (length − 1). Equal-sized
// flushes then merge together, and older, larger segments are rewritten only when the newer ones
// have grown comparable to them — each row is rewritten about log(N/F) times (size tiers).
//
// Only suffixes: the segment list is in manifest order (ascending file numbers, which is also
// ascending seq ranges), and the merged segment gets the next file number, so it must go at the
// end to keep both orders. Explicit compactions (erasure, retention, `cairn compact`) still merge
// everything.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cairn::store {

// Given the row counts of the live segments in manifest order, the index of the first segment of
// the suffix to merge, or `rows.size()` for "nothing to do" (at most `max_segments` segments).
// The suffix has at least two segments. Ties go to the suffix with fewer rows.
size_t PickCompactionStart(const std::vector<uint64_t>& rows, size_t max_segments);

}  // namespace cairn::store
