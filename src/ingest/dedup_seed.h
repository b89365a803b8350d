#pragma once
// NewestMessageKeys: the de-duplication keys (MessageKey(source, message_id)) of the newest
// stored interactions by seq, for seeding the DedupTable at start (IngestPipeline::SeedFromStore).
//
// Why a column scan that looks at seqs first: the table holds only the newest `count` keys (4M by
// default), while a store holds many times that (100M at the size). Reading every row's
// message id to keep 4% of them cost ~5 s of a 100M start on one thread (every row materialised,
// its id copied). Here a block's seq column (fixed width, cheap) is decoded first, and its
// source and message_id columns only for the rows [first, last] whose seq is in range — a segment
// written before the newest `count` arrivals costs one seq decode per block and no message id.

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace cairn::ingest {

// The keys of every interaction `snapshot` sees (erased customers' rows excluded, as
// Snapshot::ForEach excludes them) with seq ≥ snapshot.seq() − count (all of them when the
// snapshot's seq is below count), ordered by seq ascending. Errors are the store's (a corrupt
// block is Corruption naming its segment). Memory: 16 bytes per returned key while it sorts.
Result<std::vector<uint64_t>> NewestMessageKeys(const store::Snapshot& snapshot, uint64_t count);

}  // namespace cairn::ingest
