#pragma once
// DeriveSnapshot: every customer's journey state derived from one store snapshot — the scan behind
// JourneyEngine::Rebuild (docs/journey.md "Rebuild").
//
// It reads the store on the column path: each segment block's customer, timestamp, event, type,
// seq and revenue columns (a block's payloads only once a row of it needs one: a map rule with
// `where` conditions, or an identify read by persona trait rules; then only the frames holding
// such rows are decompressed, and parsed in place), plus the memtable's rows. The
// sources are each ordered by (customer, timestamp, seq), so a k-way merge over them by customer
// yields each customer's timeline in order with no grouping or sorting: the state is folded row by
// row as the scan passes and nothing but the finished states is kept. Customers are split into
// `threads` ranges of about equal rows, each derived on its own thread.
//
// The result is exactly what folding each customer's interactions in (timestamp, seq) order with
// Deriver::Apply gives (the same function, fed RowViews), so a rebuild stays byte-identical to
// the live state.
//
// Thread-safety: reads the snapshot and the deriver (both immutable) from several threads; the
// `canonical` hook is called from all of them.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/result.h"
#include "journey/state.h"
#include "store/store.h"

namespace cairn::journey {

// One customer's derived state and history.
struct DerivedState {
  CustomerState s;
  History h;
};

struct RebuildScanOptions {
  // Customer ranges derived in parallel, one thread each (without `progress` the caller's thread
  // runs one). Default 2.
  int threads = 2;
  // The canonical customers of raw ids (identity merges): roots[i] for ids[i] (ascending, unique).
  // Called with the customers ahead of the scan, a block of them at a time, from every shard
  // thread, so it must be thread-safe. Unset: every id is its own customer.
  std::function<void(std::span<const store::CustomerId> ids, store::CustomerId* roots)> canonical;
  // Called every 100 ms or so, on the caller's thread only, with the rows read so far and the total.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct RebuildScanResult {
  // Customers whose rows all sit under their own id, in chunks of at most kChunk, ascending by
  // customer across the chunks (a state is never moved while the scan grows its list).
  static constexpr size_t kChunk = 4096;
  std::vector<std::vector<DerivedState>> states;
  // Canonical customers with rows under an id merged into them (ascending, unique). The scan does
  // not fold these: their timelines interleave several ids, which the caller reads with
  // Snapshot::VisitCustomers. Such a customer may also be in `states`, derived from its own rows
  // only: that entry is to be replaced.
  std::vector<store::CustomerId> merged;
  // Customers each thread derived into `states`, one entry per customer range (the split's
  // balance; a range can be empty when few blocks make the split coarse).
  std::vector<size_t> customers_per_shard;
};

// Corruption or I/O errors of a segment are returned as they are (no partial result).
Result<RebuildScanResult> DeriveSnapshot(const store::Snapshot& snapshot, const Deriver& deriver,
                                         const RebuildScanOptions& options);

}  // namespace cairn::journey
