#pragma once
// Store: the event store's one façade. Interactions arrive as Batches, become durable in the WAL
// (group commit), become visible in the memtable, are flushed in the background to immutable
// columnar segments clustered by customer then time, and are compacted. Readers get a snapshot:
// a consistent view of everything committed before it was taken, while ingest goes on.
//
// Durability contract: Append's `done(OK)` means the batch is in the WAL and fdatasync'd; only then
// is it visible to readers. After a crash, Open() recovers every batch whose done(OK) was called.
//
// Thread-safety: every public method is thread-safe. Append callers that need a total order
// between their own decisions and seq assignment (the identity resolver) serialise their calls.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "base/result.h"
#include "io/env.h"
#include "store/interaction.h"
#include "store/column_bytes.h"
#include "store/manifest.h"
#include "store/memtable.h"

namespace cairn::store {

class WalCommitter;
class SegmentReader;

struct StoreOptions {
  // Flush the memtable to a segment once it holds this many bytes. Default 64 MiB.
  size_t memtable_flush_bytes = 64u << 20;
  // Background compaction once there are more than this many segments: it merges the newest ones
  // in size tiers (compaction_policy.h), not everything. Default 12 (a customer's read costs a
  // block-index lookup per segment; more segments, fewer rewrites).
  size_t max_segments = 12;
  // How a flush compresses the payload column; its message ids are zstd level 1 when this is kZstd,
  // raw otherwise (LZ4 finds nothing in random ids; bench/README.md, session 16). A flush runs while
  // ingest goes on, its segments are soon merged: it favours speed; compaction rewrites with zstd at
  // compaction_zstd_level (ids at level 1), so data at rest keeps zstd's size. Default LZ4: zstd costs
  // ~1 us per flushed gen_events payload at any level worth keeping, LZ4 about half that for ~1.5x
  // the bytes (bench/README.md, "Flush: LZ4 frames", session 15).
  column::FrameCodec flush_codec = column::FrameCodec::kLz4;
  // zstd levels of the payload column: at flush when flush_codec is zstd, and at compaction.
  // Defaults 2 and 3. Flush at 2, not 1: on 16 KiB frames of gen_events lines zstd 1.5.4's level 2
  // is both faster (535 vs 469 MB per CPU-second) and smaller (ratio 4.78 vs 4.75) than level 1
  // (bench/README.md, "Background work per event"); the negative levels trade 25-40% more bytes
  // for 10-35% less CPU.
  int flush_zstd_level = 2;
  int compaction_zstd_level = 3;
  // WAL: roll to a new file past this size. Default 64 MiB.
  size_t wal_file_bytes = 64u << 20;
  // WAL: bytes queued but not yet synced beyond which Append answers Unavailable. Default 64 MiB.
  size_t wal_max_pending_bytes = 64u << 20;
  // Memtable back-pressure: once the memtables not yet flushed (the live one and one being
  // flushed) hold this many bytes (MemTable::ApproximateBytes), Append answers Unavailable
  // ("memtable is full") until a flush catches up — a flush or a long compaction must not let the
  // memtable grow with the offered load. 0 = automatic: 2 × memtable_flush_bytes, at least 16 MiB.
  // Default 0.
  size_t memtable_max_bytes = 0;
  // Run flush/compaction on a background thread. Tests may turn it off and call Flush().
  bool background_work = true;
  metrics::Registry* metrics = nullptr;  // default: metrics::Registry::Default()
  // "Drop this interaction?" during compaction (retention policy, docs/erasure.md): true drops the
  // row for good. Called for every row of every compaction (background merges, Compact(), `cairn
  // compact`) on the compaction thread, rows fully decoded; must be thread-safe, quick, and must
  // not call into the store. Rows of customers dropped by Compact(drop) are never passed to it.
  // Default: none (every row kept).
  std::function<bool(const Interaction& row)> compaction_filter;
  // With a compaction_filter, the background thread rewrites every segment this often (of uptime)
  // so the filter reaches old segments the tiered merges leave alone. 0 = never. Default 24 h.
  std::chrono::milliseconds full_compaction_interval = std::chrono::hours(24);
};

// The hooks the store calls; all optional.
struct StoreListener {
  // Called once per batch in seq order after it is durable (also for batches recovered from the
  // WAL at Open, with `recovered` = true), on the store's commit thread. Must be quick.
  std::function<void(const Batch& batch, bool recovered)> on_commit;
  // The lowest seq some derived state (profiles) has not yet persisted; WAL files holding any seq
  // at or above it are kept. Default: nothing beyond the flush watermark is needed.
  std::function<uint64_t()> retain_from_seq;
  // Called after a compaction that dropped rows through StoreOptions::compaction_filter (retention)
  // has put its segment in place: snapshots taken from now on no longer see those rows. On the
  // compaction's thread; must be quick and must not call into the store. For derived state that
  // counted the rows (the dashboard's daily totals).
  std::function<void()> on_rows_filtered;
};

// A consistent view of the store. Cheap to take; holds segments alive while it exists.
class Snapshot {
 public:
  ~Snapshot();
  uint64_t seq() const { return seq_; }  // sees exactly the interactions with seq < this
  // Every interaction of the given customer ids (e.g. a customer and those merged into it),
  // ordered by (timestamp, seq). Cost: O(log blocks) per segment + the rows returned.
  Result<std::vector<Interaction>> ReadCustomers(std::vector<CustomerId> customers) const;
  // The same rows as ReadCustomers, streamed to fn in (timestamp, seq) order with memory bounded
  // whatever the customers' size: a k-way merge over one source per (segment, customer) pair
  // holding rows of them and one per memtable (live, frozen), each holding at most
  // kVisitPageRows decoded rows at a time (a segment source also the customer column of one
  // block, 8 bytes a row). fn returns false to stop. `columns` as for ForEach (memtable rows come
  // whole). `stats` (optional) receives the sources merged and the most rows held at once.
  // Cost: the rows visited plus, per block of the customer, one decode of its customer column;
  // a memtable page costs a pass over the customers' memtable rows.
  struct VisitStats {
    size_t sources = 0;            // (segment, customer) pairs and memtables merged
    size_t max_buffered_rows = 0;  // the most decoded rows held at any one time
    uint64_t rows = 0;             // rows passed to fn
  };
  static constexpr uint32_t kVisitPageRows = 512;
  Status VisitCustomers(std::vector<CustomerId> customers, const std::function<bool(const Interaction&)>& fn,
                        uint32_t columns = ~0u, VisitStats* stats = nullptr) const;
  // Visits every interaction in segment order per source (segments, then memtable); fn returns
  // false to stop. For analytics and export. Rows of one customer from different sources are not
  // interleaved in time order: callers that need per-customer order use ReadCustomers.
  // `columns` (segment::Column bits) limits what is decoded from segments — fields outside it are
  // left default; memtable rows always come whole.
  Status ForEach(const std::function<bool(const Interaction&)>& fn, uint32_t columns = ~0u) const;

  // Column-level access for analytics scans (src/analytics/exec/event_index.h). The segments
  // this snapshot holds (immutable, alive as long as the snapshot), in manifest order; every row
  // in them has seq < seq(). Scan them with SegmentReader::Scan / ReadBlock.
  const std::vector<std::shared_ptr<SegmentReader>>& segments() const { return segments_; }
  // The memtable rows this snapshot sees (seq < seq()), not yet in any segment, sorted by
  // (customer, timestamp, seq). A copy: the memtable keeps changing under the snapshot.
  std::vector<Interaction> MemTableRows() const;
  // Whether `c`'s rows are hidden from this snapshot (erased, not yet compacted away): column
  // scans of segments() must skip them themselves.
  bool Hidden(CustomerId c) const;
  bool HidesAny() const { return hidden_ && !hidden_->empty(); }
  // Whether both snapshots hide the same customers. Hiding does not advance seq(): a cache keyed
  // by seq must also compare this (analytics/exec/event_index.h IndexCache).
  bool HidesSameAs(const Snapshot& other) const { return hidden_ == other.hidden_; }

 private:
  friend class Store;
  uint64_t seq_ = 0;
  std::shared_ptr<const MemTable> mem_, imm_;
  std::vector<std::shared_ptr<SegmentReader>> segments_;
  std::shared_ptr<const std::vector<CustomerId>> hidden_;  // sorted; erased customers (may be null)
};

struct StoreStats {
  uint64_t next_seq = 0;
  uint64_t flushed_seq = 0;
  size_t memtable_rows = 0;
  size_t memtable_bytes = 0;
  size_t segments = 0;
  uint64_t segment_rows = 0;
  uint64_t segment_bytes = 0;
  uint64_t wal_bytes = 0;
};

class Store {
 public:
  // Opens (or creates) the store in `dir`, recovering the WAL. The listener's on_commit is called
  // for every recovered batch before Open returns.
  static Result<std::unique_ptr<Store>> Open(io::Env* env, const std::string& dir, StoreOptions options,
                                             StoreListener listener = {});
  ~Store();  // Close()s if needed

  // Assigns seqs to the batch (interactions[i].seq = first_seq + i), writes it to the WAL and
  // calls done once it is durable and visible (or failed). Unavailable when the WAL is behind or
  // the store is closing — nothing was written then and done is NOT called.
  Status Append(Batch batch, std::function<void(Status)> done);
  // Blocks until the memtable has room, so that an Append now would not be refused for it (true),
  // or until `timeout` passes or the store closes (false). For in-process bulk loaders (`cairn
  // import`), which would otherwise resend and re-parse refused batches; clients over HTTP get
  // the refusal (429 + Retry-After) instead. Another appender may still take the room first.
  bool WaitForRoom(std::chrono::milliseconds timeout);

  std::shared_ptr<Snapshot> GetSnapshot() const;

  // Moves the memtable to a new segment now (tests, shutdown, import).
  Status Flush();
  // Merges every segment into one, dropping the rows of `drop` customers (erasure) and those the
  // compaction_filter drops; old files are securely removed (zeroed, fsync'd, unlinked) once no
  // snapshot reads them. Without `force` a single segment with nothing to drop is left alone;
  // with it, the segment is always rewritten (`cairn compact`, retention passes).
  Status Compact(const std::vector<CustomerId>& drop = {}, bool force = false);
  // The background compaction, run now: when there are more than max_segments segments, merges
  // the suffix PickCompactionStart chooses (the compaction thread calls it; tests with
  // background_work off call it to place a merge exactly between flushes). Holds only
  // compact_mu_ while it merges, so flushes go on; it waits for a flush that already took a file
  // number to land first.
  Status CompactTiered();

  // Erasure (docs/erasure.md). Hides the rows of `customers` from every snapshot taken from now on
  // (ReadCustomers, ForEach, MemTableRows; NOT the raw segments() list — Erase removes them from
  // there). In memory only: a restart forgets it, the caller re-hides what is still pending.
  void HideCustomers(const std::vector<CustomerId>& customers);
  // Physically removes `customers` from the store: flushes the memtable, rewrites every segment
  // without them (Compact(customers, force)), then drops every WAL file older than that flush.
  // FailedPrecondition when WAL files holding their rows must stay because derived state
  // (StoreListener::retain_from_seq) has not yet persisted them: persist it and call again.
  // Idempotent. `rows_dropped` (optional) is incremented by the segment rows removed (also when
  // the call then fails on the WAL: the rows are gone).
  Status Erase(const std::vector<CustomerId>& customers, uint64_t* rows_dropped = nullptr);

  // Drains pending commits, flushes nothing, stops background work. Idempotent.
  Status Close();

  StoreStats Stats() const;
  uint64_t next_seq() const;

  // Read-only check of every file of a (closed or open) store directory: manifest, every WAL
  // record and every segment block checksum. Returns a human-readable report; Corruption if any
  // file is damaged.
  static Result<std::string> Verify(io::Env* env, const std::string& dir);

 private:
  Store(io::Env* env, std::string dir, StoreOptions options, StoreListener listener);
  Status Recover();
  void OnDurable(Batch&& batch, Status s, const std::function<void(Status)>& done);
  void BackgroundLoop();
  void CompactionLoop();
  Result<SegmentMeta> MergeSegments(const std::vector<std::shared_ptr<SegmentReader>>& inputs,
                                    const std::vector<CustomerId>& dropped, const std::string& path,
                                    uint64_t* rows_dropped, uint64_t* rows_filtered);
  // Merges segments [first, end), as they are when it starts, into one (every segment with
  // first = 0: Compact, Erase). Needs compact_mu_; with maintenance_mu_ too, nothing lands meanwhile.
  Status CompactLocked(const std::vector<CustomerId>& drop, bool force, uint64_t* rows_dropped, size_t first = 0);
  Status FlushLocked();
  void DeleteObsoleteWal();
  // Securely removes retired segment files no snapshot references any more.
  void ReapRetired();

  io::Env* const env_;
  const std::string dir_;
  const StoreOptions options_;
  const StoreListener listener_;
  std::unique_ptr<io::FileLock> lock_file_;
  std::unique_ptr<WalCommitter> wal_;

  // Lock order: compact_mu_, then maintenance_mu_, then append_mu_, then mu_.
  // compact_mu_ serialises compactions. The background tiered one holds only it, so flushes go on
  // while it merges (a flush only appends a segment after its inputs); forced compactions
  // (Compact, Erase) hold maintenance_mu_ too.
  std::mutex compact_mu_;
  // maintenance_mu_ serialises flushes with each other and with forced compactions.
  std::mutex maintenance_mu_;
  // append_mu_ serialises seq assignment with WAL submission.
  std::mutex append_mu_;
  uint64_t next_seq_ = 0;  // guarded by append_mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Manifest manifest_;                                  // guarded by mu_
  std::shared_ptr<MemTable> mem_;                      // guarded by mu_
  std::shared_ptr<MemTable> imm_;                      // guarded by mu_; frozen, being flushed
  uint64_t imm_upto_ = 0;                              // guarded by mu_; imm_ holds every seq below this not yet in segments
  uint64_t imm_wal_file_ = 0;                          // guarded by mu_; WAL files before this hold only seqs below imm_upto_
  std::vector<std::shared_ptr<SegmentReader>> segments_;  // guarded by mu_; same order as manifest_
  // Segments replaced by a compaction, with their paths, until the last snapshot lets go.
  std::vector<std::pair<std::shared_ptr<SegmentReader>, std::string>> retired_;  // guarded by mu_
  std::vector<std::pair<uint64_t, uint64_t>> obsolete_wal_;  // (wal file number, seq): files below the number hold only seqs below seq
  uint64_t visible_seq_ = 0;                           // guarded by mu_; all seqs below are in mem_/imm_/segments_
  std::shared_ptr<const std::vector<CustomerId>> hidden_;  // guarded by mu_; sorted, see HideCustomers
  bool closing_ = false;                               // guarded by mu_
  size_t pending_batches_ = 0;                         // guarded by mu_: submitted, not yet durable or failed
  bool flushing_ = false;                              // guarded by mu_: a flush holds a file number it has not installed
  std::condition_variable compact_cv_;  // with mu_: wakes the compaction thread
  std::thread background_;  // flushes, WAL and retired-file clean-up
  std::thread compactor_;   // tiered and periodic full compactions

  metrics::Counter* flushes_ = nullptr;
  bool MemtableFullLocked() const;  // mem_ + imm_ at memtable_max_bytes_ (mu_ held)
  metrics::Counter* memtable_full_ = nullptr;  // Appends refused by memtable_max_bytes
  size_t memtable_max_bytes_ = 0;              // StoreOptions::memtable_max_bytes in force (automatic resolved)
  metrics::Counter* compactions_ = nullptr;
};

}  // namespace cairn::store
