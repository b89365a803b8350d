#include "store/store.h"

#include <algorithm>
#include <fmt/format.h>

#include "base/logging.h"
#include "base/thread_name.h"
#include "store/compaction_policy.h"
#include "store/encoded_batch.h"
#include "store/segment_builder.h"
#include "store/segment_iterator.h"
#include "store/segment_reader.h"
#include "store/wal_committer.h"
#include "store/wal_recovery.h"

namespace cairn::store {
namespace {
std::string WalDir(const std::string& dir) { return io::JoinPath(dir, "wal"); }
std::string SegDir(const std::string& dir) { return io::JoinPath(dir, "seg"); }
std::string ManifestPath(const std::string& dir) { return io::JoinPath(dir, "MANIFEST"); }
// Writes a frozen memtable's rows (in segment order) to a new segment file and returns its meta
// (file_number left 0 for the caller).
Result<SegmentMeta> BuildSegmentFile(io::Env* env, const std::string& path,
                                     const std::vector<const Interaction*>& rows, const StoreOptions& store) {
  SegmentBuilderOptions options;
  options.bytes.codec = store.flush_codec;
  options.bytes.zstd_level = store.flush_zstd_level;
  // Message ids are random: only zstd's entropy coder shrinks them (ratio ~1.9, LZ4 ~1.05). A flush
  // that favours speed stores them raw (~5% of its CPU for ~18 bytes a row; compaction makes them
  // zstd); one that asks for zstd gets them at level 1 as before.
  options.message_id_codec =
      store.flush_codec == column::FrameCodec::kZstd ? column::FrameCodec::kZstd : column::FrameCodec::kRaw;
  ASSIGN_OR_RETURN(auto builder, SegmentBuilder::Create(env, path, options));
  SegmentMeta meta{0, rows.size(), rows.empty() ? 0 : UINT64_MAX, 0};
  // The rows lie scattered over the memtable's batches (they arrived in time order, are read in
  // customer order): asking for the row kAhead places on overlaps its cache misses with this one's
  // work instead of stalling on each in turn.
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i + kAhead < rows.size()) {
      const char* next = reinterpret_cast<const char*>(rows[i + kAhead]);
      for (size_t off = 0; off < sizeof(Interaction); off += 64) __builtin_prefetch(next + off);
    }
    const Interaction& r = *rows[i];
    meta.min_seq = std::min(meta.min_seq, r.seq);
    meta.max_seq = std::max(meta.max_seq, r.seq);
    RETURN_IF_ERROR(builder->AddStable(r));  // imm_ outlives the build
  }
  RETURN_IF_ERROR(builder->Finish());
  RETURN_IF_ERROR(env->SyncDir(io::DirName(path)));
  return meta;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Snapshot

Snapshot::~Snapshot() = default;

bool Snapshot::Hidden(CustomerId c) const {
  return hidden_ && std::binary_search(hidden_->begin(), hidden_->end(), c);
}

Result<std::vector<Interaction>> Snapshot::ReadCustomers(std::vector<CustomerId> customers) const {
  std::sort(customers.begin(), customers.end());
  customers.erase(std::unique(customers.begin(), customers.end()), customers.end());
  if (hidden_) std::erase_if(customers, [&](CustomerId c) { return Hidden(c); });
  if (customers.empty()) return std::vector<Interaction>{};
  std::vector<Interaction> out;
  // Segments hold only flushed rows, all below the seq of any snapshot that lists them.
  for (const auto& seg : segments_) RETURN_IF_ERROR(seg->ReadCustomers(customers, &out));
  if (imm_) imm_->ReadCustomers(customers, seq_, &out);
  if (mem_) mem_->ReadCustomers(customers, seq_, &out);
  std::sort(out.begin(), out.end(), [](const Interaction& a, const Interaction& b) {
    return a.timestamp_ms != b.timestamp_ms ? a.timestamp_ms < b.timestamp_ms : a.seq < b.seq;
  });
  return out;
}

Status Snapshot::ForEach(const std::function<bool(const Interaction&)>& fn, uint32_t columns) const {
  for (const auto& seg : segments_) {
    auto it = seg->NewIterator(columns & segment::kAllColumns);
    while (it->Valid()) {
      if (hidden_ && Hidden(it->customer())) {
        it->SkipCustomer();
        continue;
      }
      if (!fn(it->row())) return Status::Ok();
      it->Next();
    }
    RETURN_IF_ERROR(it->status());
  }
  for (const auto& m : {imm_, mem_}) {
    if (!m) continue;
    for (const auto& row : m->SortedRows(seq_))
      if (!Hidden(row.customer) && !fn(row)) return Status::Ok();
  }
  return Status::Ok();
}

std::vector<Interaction> Snapshot::MemTableRows() const {
  std::vector<Interaction> out;
  for (const auto& m : {imm_, mem_}) {
    if (!m) continue;
    auto rows = m->SortedRows(seq_);
    if (out.empty()) {
      out = std::move(rows);
    } else {
      out.insert(out.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
      std::sort(out.begin(), out.end(), SegmentOrder);
    }
  }
  if (hidden_) std::erase_if(out, [&](const Interaction& r) { return Hidden(r.customer); });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Store

Store::Store(io::Env* env, std::string dir, StoreOptions options, StoreListener listener)
    : env_(env), dir_(std::move(dir)), options_(std::move(options)), listener_(std::move(listener)),
      mem_(std::make_shared<MemTable>()) {
  auto* m = options_.metrics ? options_.metrics : metrics::Registry::Default();
  flushes_ = m->GetCounter("cairn_store_flushes_total", "Memtable flushes to segments");
  memtable_full_ = m->GetCounter("cairn_store_memtable_full_total",
                                 "Appends refused because the unflushed memtables reached memtable_max_bytes");
  memtable_max_bytes_ = options_.memtable_max_bytes != 0
                           ? options_.memtable_max_bytes
                           : std::max<size_t>(2 * options_.memtable_flush_bytes, size_t{16} << 20);
  compactions_ = m->GetCounter("cairn_store_compactions_total", "Segment compactions");
  m->AddCallbackGauge("cairn_store_segment_bytes", "Bytes in segment files",
                      [this] { return static_cast<double>(Stats().segment_bytes); }, this);
  m->AddCallbackGauge("cairn_store_segment_rows", "Interactions in segments",
                      [this] { return static_cast<double>(Stats().segment_rows); }, this);
  m->AddCallbackGauge("cairn_store_memtable_rows", "Interactions in the memtable",
                      [this] { return static_cast<double>(Stats().memtable_rows); }, this);
  m->AddCallbackGauge("cairn_store_memtable_bytes", "Approximate memtable bytes",
                      [this] { return static_cast<double>(Stats().memtable_bytes); }, this);
}

Result<std::unique_ptr<Store>> Store::Open(io::Env* env, const std::string& dir, StoreOptions options,
                                           StoreListener listener) {
  std::unique_ptr<Store> s(new Store(env, dir, std::move(options), std::move(listener)));
  RETURN_IF_ERROR(env->CreateDirIfMissing(dir));
  RETURN_IF_ERROR(env->CreateDirIfMissing(WalDir(dir)));
  RETURN_IF_ERROR(env->CreateDirIfMissing(SegDir(dir)));
  ASSIGN_OR_RETURN(s->lock_file_, env->LockFile(io::JoinPath(dir, "LOCK")));
  RETURN_IF_ERROR(s->Recover());
  if (s->options_.background_work) {
    s->background_ = std::thread([p = s.get()] {
      NameThisThread("store-flush");
      p->BackgroundLoop();
    });
    s->compactor_ = std::thread([p = s.get()] {
      NameThisThread("store-compact");
      p->CompactionLoop();
    });
  }
  return s;
}

Status Store::Recover() {
  auto loaded = Manifest::Load(env_, ManifestPath(dir_));
  if (loaded.ok()) {
    manifest_ = *loaded;
  } else if (loaded.status().code() == Code::kNotFound) {
    ASSIGN_OR_RETURN(auto names, env_->GetChildren(SegDir(dir_)));
    for (const auto& n : names)
      if (n.ends_with(".seg")) return Corruption(dir_ + ": segment files but no MANIFEST");
    RETURN_IF_ERROR(manifest_.Save(env_, ManifestPath(dir_)));
  } else {
    return loaded.status();
  }
  // Open live segments; delete leftovers of an interrupted flush or compaction.
  ASSIGN_OR_RETURN(auto names, env_->GetChildren(SegDir(dir_)));
  for (const auto& n : names) {
    bool live = std::any_of(manifest_.segments.begin(), manifest_.segments.end(),
                            [&](const SegmentMeta& m) { return SegmentFileName(m.file_number) == n; });
    if (!live) {
      LOG_WARN("store: removing {} (not in MANIFEST: left by an interrupted flush or compaction)", n);
      RETURN_IF_ERROR(env_->SecureRemoveFile(io::JoinPath(SegDir(dir_), n)));
    }
  }
  for (const auto& m : manifest_.segments) {
    ASSIGN_OR_RETURN(auto reader, SegmentReader::Open(env_, io::JoinPath(SegDir(dir_), SegmentFileName(m.file_number))));
    segments_.push_back(std::move(reader));
  }
  next_seq_ = manifest_.flushed_seq;
  visible_seq_ = manifest_.flushed_seq;

  // Replay the WAL: batches at or above the flush watermark go back into the memtable; every
  // batch goes to the listener (derived state decides what it still needs by seq).
  uint64_t flushed = manifest_.flushed_seq;
  size_t replayed = 0;
  ASSIGN_OR_RETURN(auto report, RecoverWal(env_, WalDir(dir_), [&](std::string_view payload, uint64_t) -> Status {
    ASSIGN_OR_RETURN(Batch b, DecodeBatch(payload));
    uint64_t end = b.first_seq + b.interactions.size();
    next_seq_ = std::max(next_seq_, end);
    if (listener_.on_commit) listener_.on_commit(b, /*recovered=*/true);
    if (end > flushed) {
      std::erase_if(b.interactions, [&](const Interaction& r) { return r.seq < flushed; });
      mem_->Add(std::move(b));
      ++replayed;
    }
    return Status::Ok();
  }));
  visible_seq_ = next_seq_;
  if (replayed) LOG_INFO("store: replayed {} WAL batches into the memtable ({} interactions)", replayed, mem_->rows());

  WalCommitterOptions wo;
  wo.max_file_bytes = options_.wal_file_bytes;
  wo.max_pending_bytes = options_.wal_max_pending_bytes;
  wo.metrics = options_.metrics;
  ASSIGN_OR_RETURN(wal_, WalCommitter::Open(env_, WalDir(dir_), wo, report));
  // WAL files before the one just started hold only recovered batches: they become obsolete once
  // the memtable is flushed (and derived state has persisted them).
  obsolete_wal_.emplace_back(report.next_file_number, next_seq_);
  return Status::Ok();
}

Store::~Store() { (void)Close(); }

Status Store::Append(Batch batch, std::function<void(Status)> done) {
  std::lock_guard append_lock(append_mu_);
  {
    std::lock_guard lock(mu_);
    if (closing_) return Unavailable("store is shutting down");
    // Back-pressure (StoreOptions::memtable_max_bytes): while a flush (or a compaction before it)
    // is behind, refuse rather than let the memtable grow with the load. Batches already in the
    // WAL queue still land; they are bounded by wal_max_pending_bytes.
    if (MemtableFullLocked()) {
      memtable_full_->Inc();
      cv_.notify_all();  // the background thread flushes now rather than at its next tick
      return Unavailable("memtable is full: a flush is behind");
    }
  }
  batch.first_seq = next_seq_;
  for (size_t i = 0; i < batch.interactions.size(); ++i) batch.interactions[i].seq = next_seq_ + i;
  uint64_t end = next_seq_ + batch.interactions.size();
  // The WAL record is written from the batch's own payload strings (EncodeBatchPieces), so the
  // batch and its encoding live in one heap object until the record is durable; then the batch
  // moves on to the memtable.
  struct Record {
    Batch batch;
    EncodedBatch encoded;
  };
  auto record = std::make_shared<Record>();
  record->batch = std::move(batch);
  EncodeBatchPieces(record->batch, &record->encoded);
  {
    std::lock_guard lock(mu_);
    ++pending_batches_;
  }
  std::vector<std::string_view> pieces = std::move(record->encoded.pieces);
  Status s = wal_->SubmitPieces(std::move(pieces), record, [this, record, done = std::move(done)](Status st) mutable {
    OnDurable(std::move(record->batch), st, done);
  });
  if (s.ok()) {
    next_seq_ = end;
  } else {
    std::lock_guard lock(mu_);
    --pending_batches_;
  }
  return s;
}

bool Store::MemtableFullLocked() const {
  return mem_->ApproximateBytes() + (imm_ ? imm_->ApproximateBytes() : 0) >= memtable_max_bytes_;
}

bool Store::WaitForRoom(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (closing_) return false;
  if (!MemtableFullLocked()) return true;
  cv_.notify_all();  // the background thread flushes now rather than at its next tick
  return cv_.wait_for(lock, timeout, [this] { return closing_ || !MemtableFullLocked(); }) && !closing_;
}

void Store::OnDurable(Batch&& batch, Status s, const std::function<void(Status)>& done) {
  // Runs on the WAL committer thread, in submission (= seq) order.
  if (s.ok() && listener_.on_commit) listener_.on_commit(batch, /*recovered=*/false);
  {
    std::lock_guard lock(mu_);
    if (s.ok()) {
      uint64_t end = batch.first_seq + batch.interactions.size();
      mem_->Add(std::move(batch));
      visible_seq_ = std::max(visible_seq_, end);
    }
    --pending_batches_;
  }
  cv_.notify_all();  // a flush may be waiting for pending_batches_ == 0, or for memtable size
  done(s);
}

std::shared_ptr<Snapshot> Store::GetSnapshot() const {
  auto snap = std::shared_ptr<Snapshot>(new Snapshot());
  std::lock_guard lock(mu_);
  snap->seq_ = visible_seq_;
  snap->mem_ = mem_;
  snap->imm_ = imm_;
  snap->segments_ = segments_;
  snap->hidden_ = hidden_;
  return snap;
}

Status Store::Flush() {
  std::lock_guard maintenance(maintenance_mu_);
  return FlushLocked();
}

Status Store::FlushLocked() {
  std::shared_ptr<MemTable> imm;
  uint64_t file_number = 0;
  {
    std::lock_guard lock(mu_);
    imm = imm_;  // a frozen memtable left by a failed flush is retried first
  }
  if (!imm) {
    // Freeze at a quiescent point: with append_mu_ held no batch can be submitted, and after
    // WaitIdle every submitted batch is durable (so in mem_) or failed. Then every WAL file before
    // the rolled one holds only seqs below `upto`, and mem_ holds every seq in [flushed, upto).
    std::lock_guard append_lock(append_mu_);
    ASSIGN_OR_RETURN(uint64_t wal_file, wal_->RollFile());
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return pending_batches_ == 0; });
    if (mem_->rows() == 0) {
      obsolete_wal_.emplace_back(wal_file, visible_seq_);
      return Status::Ok();
    }
    imm_ = imm = mem_;
    mem_ = std::make_shared<MemTable>();
    imm_upto_ = visible_seq_;
    imm_wal_file_ = wal_file;
  }
  {
    // Reserved now. Until this flush lands no compaction takes a number (CompactLocked waits on
    // flushing_): the merged segment goes before this one in the list, so it needs the lower one.
    std::lock_guard lock(mu_);
    file_number = manifest_.next_file++;
    flushing_ = true;
  }
  std::string path = io::JoinPath(SegDir(dir_), SegmentFileName(file_number));
  auto built = BuildSegmentFile(env_, path, imm->FrozenSortedRows(), options_);
  Status s = built.status();
  std::shared_ptr<SegmentReader> reader;
  if (s.ok()) {
    auto r = SegmentReader::Open(env_, path);
    if (r.ok()) reader = std::move(*r);
    else s = r.status();
  }
  if (s.ok()) {
    std::lock_guard lock(mu_);
    Manifest next = manifest_;  // next_file is already past file_number
    next.segments.push_back(*built);
    next.segments.back().file_number = file_number;
    next.flushed_seq = imm_upto_;
    s = next.Save(env_, ManifestPath(dir_));
    if (s.ok()) {
      manifest_ = std::move(next);
      segments_.push_back(std::move(reader));
      imm_.reset();
      obsolete_wal_.emplace_back(imm_wal_file_, imm_upto_);
      flushes_->Inc();
    }
  }
  {
    std::lock_guard lock(mu_);
    flushing_ = false;
  }
  cv_.notify_all();  // a compaction waiting for a file number; WaitForRoom: the memtable has room
  if (!s.ok()) {
    // The frozen memtable stays readable and in the WAL; the next Flush retries it.
    LOG_ERROR("store: flush failed (will retry): {}", s.ToString());
    (void)env_->SecureRemoveFile(path);  // may hold rows of a customer erased later
    return s;
  }
  DeleteObsoleteWal();
  return Status::Ok();
}

Result<SegmentMeta> Store::MergeSegments(const std::vector<std::shared_ptr<SegmentReader>>& inputs,
                                          const std::vector<CustomerId>& dropped, const std::string& path,
                                          uint64_t* rows_dropped, uint64_t* rows_filtered) {
  // A k-way merge of the inputs' row iterators in segment order, streamed into the builder:
  // memory is one page (SegmentReader::kIteratorPageRows rows) per input plus the block being
  // built, whatever the store's size (docs/reliability.md, "What bounds RSS"). Dropped customers
  // are skipped a whole customer at a time, their rows never materialised.
  std::vector<std::unique_ptr<SegmentIterator>> its;
  for (const auto& seg : inputs) its.push_back(seg->NewIterator(segment::kAllColumns, SegmentReader::kIteratorPageRows));
  auto greater = [&](size_t a, size_t b) { return SegmentOrder(its[b]->row(), its[a]->row()); };
  std::vector<size_t> heap;
  const auto& filter = options_.compaction_filter;
  auto settle = [&](size_t i) -> Status {
    while (its[i]->Valid()) {
      if (std::binary_search(dropped.begin(), dropped.end(), its[i]->customer())) {
        // Counted from the block's customer column: the skipped rows are never materialised.
        if (rows_dropped) {
          CustomerId c = its[i]->customer();
          while (its[i]->Valid() && its[i]->customer() == c) {
            ++*rows_dropped;
            its[i]->Next();
          }
        } else {
          its[i]->SkipCustomer();
        }
      } else if (filter && filter(its[i]->row())) {
        ++*rows_filtered;
        its[i]->Next();
      } else {
        break;
      }
    }
    RETURN_IF_ERROR(its[i]->status());
    if (its[i]->Valid()) {
      heap.push_back(i);
      std::push_heap(heap.begin(), heap.end(), greater);
    }
    return Status::Ok();
  };
  for (size_t i = 0; i < its.size(); ++i) RETURN_IF_ERROR(settle(i));
  SegmentBuilderOptions builder_options;
  builder_options.bytes.codec = column::FrameCodec::kZstd;  // what stays at rest: zstd's size
  builder_options.bytes.zstd_level = options_.compaction_zstd_level;
  ASSIGN_OR_RETURN(auto builder, SegmentBuilder::Create(env_, path, builder_options));
  SegmentMeta meta{0, 0, UINT64_MAX, 0};
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), greater);
    size_t i = heap.back();
    heap.pop_back();
    const Interaction& row = its[i]->row();
    RETURN_IF_ERROR(builder->Add(row));
    ++meta.rows;
    meta.min_seq = std::min(meta.min_seq, row.seq);
    meta.max_seq = std::max(meta.max_seq, row.seq);
    its[i]->Next();
    RETURN_IF_ERROR(settle(i));
  }
  RETURN_IF_ERROR(builder->Finish());
  RETURN_IF_ERROR(env_->SyncDir(SegDir(dir_)));
  if (meta.rows == 0) meta.min_seq = 0;
  return meta;
}

void Store::DeleteObsoleteWal() {
  uint64_t retain = UINT64_MAX;
  if (listener_.retain_from_seq) retain = listener_.retain_from_seq();
  uint64_t delete_before = 0;
  {
    std::lock_guard lock(mu_);
    uint64_t safe = std::min(manifest_.flushed_seq, retain);
    while (!obsolete_wal_.empty() && obsolete_wal_.front().second <= safe) {
      delete_before = obsolete_wal_.front().first;
      obsolete_wal_.erase(obsolete_wal_.begin());
    }
  }
  if (delete_before) {
    Status s = wal_->DeleteFilesBefore(delete_before);
    if (!s.ok()) LOG_WARN("store: deleting obsolete WAL files: {}", s.ToString());
  }
}

Status Store::Compact(const std::vector<CustomerId>& drop, bool force) {
  std::lock_guard compact(compact_mu_);
  std::lock_guard maintenance(maintenance_mu_);
  return CompactLocked(drop, force, nullptr);
}

void Store::HideCustomers(const std::vector<CustomerId>& customers) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<std::vector<CustomerId>>(hidden_ ? *hidden_ : std::vector<CustomerId>{});
  next->insert(next->end(), customers.begin(), customers.end());
  std::sort(next->begin(), next->end());
  next->erase(std::unique(next->begin(), next->end()), next->end());
  hidden_ = std::move(next);
}

Status Store::Erase(const std::vector<CustomerId>& customers, uint64_t* rows_dropped) {
  std::lock_guard compact(compact_mu_);
  std::lock_guard maintenance(maintenance_mu_);
  // 1. Every batch acknowledged so far goes to a segment; the WAL rolls to a fresh file.
  RETURN_IF_ERROR(FlushLocked());
  uint64_t flushed;
  {
    std::lock_guard lock(mu_);
    flushed = manifest_.flushed_seq;
  }
  // 2. One segment without them (always rewritten: the old files are then zeroed and unlinked).
  RETURN_IF_ERROR(CompactLocked(customers, /*force=*/true, rows_dropped));
  // 3. WAL files before the flush hold only flushed rows: they go once derived state has them.
  DeleteObsoleteWal();
  uint64_t retain = listener_.retain_from_seq ? listener_.retain_from_seq() : UINT64_MAX;
  {
    std::lock_guard lock(mu_);
    if (!obsolete_wal_.empty() && obsolete_wal_.front().second <= flushed)
      return FailedPrecondition(fmt::format(
          "store: WAL files up to seq {} are still needed by derived state (persisted up to seq {})", flushed, retain));
  }
  return Status::Ok();
}

Status Store::CompactTiered() {
  // Not maintenance_mu_: flushes go on while this merges (they only append segments).
  std::lock_guard compact(compact_mu_);
  std::vector<uint64_t> rows;
  {
    std::lock_guard lock(mu_);
    for (const auto& seg : manifest_.segments) rows.push_back(seg.rows);
  }
  const size_t first = PickCompactionStart(rows, options_.max_segments);
  if (first >= rows.size()) return Status::Ok();
  return CompactLocked({}, /*force=*/false, nullptr, first);
}

Status Store::CompactLocked(const std::vector<CustomerId>& drop, bool force, uint64_t* rows_dropped, size_t first) {
  std::vector<std::shared_ptr<SegmentReader>> inputs;
  Manifest before;
  uint64_t file_number = 0;
  {
    std::unique_lock lock(mu_);
    // A flush that already took its file number lands first: its segment holds newer rows than
    // any input, so it must also have a higher number than the merged segment.
    cv_.wait(lock, [this] { return !flushing_; });
    // Segments [first, end) now are the inputs. Only flushes may change the list before we
    // finish (compact_mu_ is held), and they only append after them.
    if (first > segments_.size()) return Internal("store: compaction start past the last segment");
    inputs.assign(segments_.begin() + static_cast<std::ptrdiff_t>(first), segments_.end());
    before = manifest_;
    if (inputs.empty() || (inputs.size() <= 1 && drop.empty() && !force)) return Status::Ok();
    // Reserved below any flush that lands while merging, so the list stays ascending.
    file_number = manifest_.next_file++;
  }
  std::vector<CustomerId> dropped(drop);
  std::sort(dropped.begin(), dropped.end());
  std::string path = io::JoinPath(SegDir(dir_), SegmentFileName(file_number));
  uint64_t filtered = 0;
  auto merged = MergeSegments(inputs, dropped, path, rows_dropped, &filtered);
  Status s = merged.status();
  std::shared_ptr<SegmentReader> reader;
  if (s.ok()) {
    auto r = SegmentReader::Open(env_, path);
    if (r.ok()) reader = std::move(*r);
    else s = r.status();
  }
  if (s.ok()) {
    std::lock_guard lock(mu_);
    // The inputs are replaced by one segment whose file number is above theirs and below any
    // flushed while merging (which stay after it): the list stays ascending by file number and by
    // seq range (compaction_policy.h).
    const auto at = static_cast<std::ptrdiff_t>(first), n = static_cast<std::ptrdiff_t>(inputs.size());
    Manifest next = manifest_;
    next.segments.erase(next.segments.begin() + at, next.segments.begin() + at + n);
    next.segments.insert(next.segments.begin() + at, *merged);
    next.segments[first].file_number = file_number;
    s = next.Save(env_, ManifestPath(dir_));
    if (s.ok()) {
      manifest_ = std::move(next);
      segments_.erase(segments_.begin() + at, segments_.begin() + at + n);
      segments_.insert(segments_.begin() + at, reader);
      compactions_->Inc();
    }
  }
  if (s.ok() && filtered > 0 && listener_.on_rows_filtered) listener_.on_rows_filtered();  // snapshots no longer see them
  if (!s.ok()) {
    LOG_ERROR("store: compaction failed: {}", s.ToString());
    (void)env_->SecureRemoveFile(path);  // may hold rows of a customer erased later
    return s;
  }
  // Old files go only after the manifest that drops them is durable, and only once no snapshot
  // reads them any more: they are zeroed before unlinking (erasure), which would corrupt the view
  // of a reader still holding them. Until then they are retired.
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < inputs.size(); ++i)
      retired_.emplace_back(std::move(inputs[i]),
                            io::JoinPath(SegDir(dir_), SegmentFileName(before.segments[first + i].file_number)));
  }
  inputs.clear();
  ReapRetired();
  return Status::Ok();
}

void Store::ReapRetired() {
  std::vector<std::string> remove;
  {
    std::lock_guard lock(mu_);
    // Retired readers are in no segment list, so no new reference can appear: a count of one
    // (ours) stays one.
    std::erase_if(retired_, [&](auto& r) {
      if (r.first.use_count() > 1) return false;
      remove.push_back(r.second);
      return true;
    });
  }
  for (const auto& path : remove) {
    Status rm = env_->SecureRemoveFile(path);
    if (!rm.ok()) LOG_WARN("store: removing compacted segment: {}", rm.ToString());
  }
}

void Store::BackgroundLoop() {
  std::unique_lock lock(mu_);
  while (!closing_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    if (closing_) break;
    bool flush = imm_ || mem_->ApproximateBytes() >= options_.memtable_flush_bytes;
    bool compact = segments_.size() > options_.max_segments;
    lock.unlock();
    if (flush) (void)Flush();
    if (compact) compact_cv_.notify_all();
    DeleteObsoleteWal();
    ReapRetired();
    lock.lock();
  }
}

void Store::CompactionLoop() {
  // Its own thread: a merge can take long, and flushes (so appends) must not wait for it.
  auto last_full = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!closing_) {
    compact_cv_.wait_for(lock, std::chrono::seconds(1));
    if (closing_) break;
    bool compact = segments_.size() > options_.max_segments;
    // Tiered merges seldom rewrite the oldest segments, which hold most expired rows: with a
    // compaction filter (retention), rewrite everything now and then so the policy is applied.
    bool full = options_.compaction_filter && options_.full_compaction_interval.count() > 0 &&
                std::chrono::steady_clock::now() - last_full >= options_.full_compaction_interval;
    lock.unlock();
    if (full) {
      if (Compact({}, /*force=*/true).ok()) last_full = std::chrono::steady_clock::now();
    } else if (compact) {
      (void)CompactTiered();
    }
    ReapRetired();
    lock.lock();
  }
}

Status Store::Close() {
  {
    std::lock_guard lock(mu_);
    if (closing_ && !wal_) return Status::Ok();
    closing_ = true;
  }
  cv_.notify_all();
  compact_cv_.notify_all();
  if (background_.joinable()) background_.join();
  if (compactor_.joinable()) compactor_.join();
  Status s;
  {
    // An Append that passed its closing_ check before we set it may still be encoding or
    // submitting (it holds append_mu_ throughout): wait for it, or it would use a freed WAL.
    std::lock_guard append_lock(append_mu_);
    if (wal_) {
      s = wal_->Close();
      wal_.reset();
    }
  }
  ReapRetired();  // files still held by a live snapshot are removed at the next Open
  auto* m = options_.metrics ? options_.metrics : metrics::Registry::Default();
  m->RemoveCallbacks(this);
  return s;
}

StoreStats Store::Stats() const {
  StoreStats st;
  std::lock_guard lock(mu_);
  st.next_seq = visible_seq_;
  st.flushed_seq = manifest_.flushed_seq;
  st.memtable_rows = mem_->rows() + (imm_ ? imm_->rows() : 0);
  st.memtable_bytes = mem_->ApproximateBytes() + (imm_ ? imm_->ApproximateBytes() : 0);
  st.segments = segments_.size();
  for (const auto& m : manifest_.segments) st.segment_rows += m.rows;
  for (const auto& m : manifest_.segments) {
    auto size = env_->GetFileSize(io::JoinPath(SegDir(dir_), SegmentFileName(m.file_number)));
    if (size.ok()) st.segment_bytes += *size;
  }
  return st;
}

uint64_t Store::next_seq() const {
  std::lock_guard lock(mu_);
  return visible_seq_;
}

Result<std::string> Store::Verify(io::Env* env, const std::string& dir) {
  std::string report;
  ASSIGN_OR_RETURN(Manifest m, Manifest::Load(env, ManifestPath(dir)));
  report += fmt::format("MANIFEST: ok ({} segments, flushed_seq {})\n", m.segments.size(), m.flushed_seq);
  Status first_error;
  for (const auto& meta : m.segments) {
    std::string path = io::JoinPath(SegDir(dir), SegmentFileName(meta.file_number));
    auto reader = SegmentReader::Open(env, path);
    Status s = reader.ok() ? (*reader)->Verify() : reader.status();
    report += fmt::format("{}: {}\n", SegmentFileName(meta.file_number), s.ok() ? "ok" : s.ToString());
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  auto wal = VerifyWal(env, WalDir(dir));
  if (wal.ok()) {
    report += fmt::format("wal: ok ({} files, {} records, {} payload bytes{})\n", wal->files, wal->records,
                          wal->payload_bytes,
                          wal->bytes_truncated ? fmt::format(", a torn tail of {} bytes that recovery will cut", wal->bytes_truncated) : "");
  } else {
    report += fmt::format("wal: {}\n", wal.status().ToString());
    if (first_error.ok()) first_error = wal.status();
  }
  if (!first_error.ok()) return Status(first_error.code(), report);
  return report;
}

}  // namespace cairn::store
