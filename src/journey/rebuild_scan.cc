#include "journey/rebuild_scan.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <iterator>
#include <limits>
#include <thread>

#include "store/segment_reader.h"

namespace cairn::journey {

namespace {

namespace seg = store::segment;
using store::CustomerId;
using EventInfo = JourneyMap::EventInfo;

// What the fold reads of a row; message ids, sources, channels and receive times are never decoded.
constexpr seg::ColumnMask kColumns = seg::Bit(seg::Column::kCustomer) | seg::Bit(seg::Column::kTimestamp) |
                                     seg::Bit(seg::Column::kEvent) | seg::Bit(seg::Column::kType) |
                                     seg::Bit(seg::Column::kSeq) | seg::Bit(seg::Column::kRevenue);
constexpr CustomerId kNone = std::numeric_limits<CustomerId>::max();

// The map's entry of each message type other than track (indexed by MessageType value).
using TypeInfos = std::array<const EventInfo*, 8>;

// A cursor over one source's rows of customers in [lo, hi), in (customer, timestamp, seq) order:
// a segment (block by block, column by column) or the snapshot's memtable rows.
class Source {
 public:
  Source(const store::SegmentReader* reader, const JourneyMap& map, const TypeInfos& types, CustomerId lo, CustomerId hi)
      : reader_(reader), types_(types), hi_(hi) {
    // Segment event codes → map entries, once per segment instead of a name lookup per row.
    codes_.reserve(reader->events().size());
    for (const std::string& e : reader->events()) codes_.push_back(map.Lookup(store::MessageType::kTrack, e));
    const size_t n = reader->block_count();
    size_t b = 0, e = n;  // first block whose last customer is ≥ lo
    while (b < e) {
      size_t mid = (b + e) / 2;
      if (reader->block(mid).last_customer < lo) b = mid + 1;
      else e = mid;
    }
    block_ = b;
    lo_ = lo;
  }
  Source(const std::vector<store::Interaction>* mem, const JourneyMap& map, const TypeInfos& types, CustomerId lo, CustomerId hi)
      : mem_(mem), map_(&map), types_(types), hi_(hi) {
    auto key = [](const store::Interaction& r, CustomerId c) { return r.customer < c; };
    row_ = std::lower_bound(mem->begin(), mem->end(), lo, key) - mem->begin();
    end_ = std::lower_bound(mem->begin(), mem->end(), hi, key) - mem->begin();
  }

  // Positions on the first row (segments: reads the first block). Rows read go to *read.
  Status Start(std::atomic<uint64_t>* read) {
    read_ = read;
    if (mem_) {
      read_->fetch_add(end_ - row_, std::memory_order_relaxed);
      return Settle();
    }
    if (block_ >= reader_->block_count() || reader_->block(block_).first_customer >= hi_) {
      block_ = reader_->block_count();
      return Settle();
    }
    RETURN_IF_ERROR(LoadBlock());
    row_ = std::lower_bound(cols_.customer.begin(), cols_.customer.end(), lo_) - cols_.customer.begin();
    return Settle();
  }

  // The current row's customer; kNone past the end of the range.
  CustomerId customer() const { return customer_; }
  int64_t timestamp() const { return mem_ ? (*mem_)[row_].timestamp_ms : cols_.timestamp_ms[row_]; }
  uint64_t seq() const { return mem_ ? (*mem_)[row_].seq : cols_.seq[row_]; }

  // The current row as the deriver reads it (the payload decoded only when the map needs it).
  Status Row(RowView* out, const EventInfo** info) {
    if (mem_) {
      const store::Interaction& r = (*mem_)[row_];
      *info = map_->Lookup(r);
      out->timestamp_ms = r.timestamp_ms;
      out->seq = r.seq;
      out->revenue = r.revenue;
      out->type = r.type;
      out->payload = r.payload;
      out->payload_padded = r.payload.capacity() - r.payload.size() >= 64;
      return Status::Ok();
    }
    const auto type = static_cast<store::MessageType>(cols_.type[row_]);
    const EventInfo* in = type == store::MessageType::kTrack ? codes_[cols_.event[row_]] : types_[cols_.type[row_] & 7];
    *info = in;
    out->timestamp_ms = cols_.timestamp_ms[row_];
    out->seq = cols_.seq[row_];
    out->revenue = cols_.revenue[row_];
    out->type = type;
    out->payload = {};
    out->payload_padded = false;
    if (in && in->needs_payload) RETURN_IF_ERROR(Payload(out));
    return Status::Ok();
  }

  Status Next() {
    ++row_;
    return Settle();
  }

  // Appends the customers of the rows ahead that are already decoded (the rest of a segment's
  // block; up to kMemAhead rows of the memtable), from the current row's, ascending.
  void Ahead(std::vector<CustomerId>* out) const {
    if (customer_ == kNone) return;
    const size_t begin = out->size();
    if (mem_) {
      for (size_t i = row_; i < end_ && i < row_ + kMemAhead; ++i)
        if (out->size() == begin || out->back() != (*mem_)[i].customer) out->push_back((*mem_)[i].customer);
      return;
    }
    for (size_t i = row_; i < cols_.rows && cols_.customer[i] < hi_; ++i)
      if (out->size() == begin || out->back() != cols_.customer[i]) out->push_back(cols_.customer[i]);
  }

 private:
  // The current row's payload, from its frame (decoded in place, padded for simdjson). A block's
  // payload column is read when one of its rows first needs a payload, and of it only the frames
  // (~16 KiB raw) holding such rows are decompressed, each once: rows come in block order, so
  // frames are visited in order too. No payload is copied.
  Status Payload(RowView* out) {
    if (!region_loaded_) {
      RETURN_IF_ERROR(reader_->ReadByteColumnRegion(block_, seg::Column::kPayload, &region_));
      region_loaded_ = true;
      frame_ = 0;
      frame_decoded_ = false;
    }
    const auto& frames = region_.frames;
    while (row_ >= frames[frame_].first_row + frames[frame_].rows) {
      ++frame_;
      frame_decoded_ = false;
    }
    if (!frame_decoded_) {
      RETURN_IF_ERROR(reader_->ReadFrame(region_, frame_, &frame_rows_));
      frame_decoded_ = true;
    }
    static_assert(store::column::kFramePadding >= 64, "RowView::payload_padded promises 64 bytes");
    out->payload = frame_rows_[row_ - frames[frame_].first_row];
    out->payload_padded = true;
    return Status::Ok();
  }

  Status LoadBlock() {
    RETURN_IF_ERROR(reader_->ReadBlock(block_, kColumns, &cols_));
    region_loaded_ = false;
    read_->fetch_add(cols_.rows, std::memory_order_relaxed);
    return Status::Ok();
  }
  // Moves past the end of a block to the next one, and sets customer_.
  Status Settle() {
    if (mem_) {
      customer_ = row_ < end_ ? (*mem_)[row_].customer : kNone;
      return Status::Ok();
    }
    while (block_ < reader_->block_count() && row_ >= cols_.rows) {
      if (++block_ >= reader_->block_count() || reader_->block(block_).first_customer >= hi_) {
        block_ = reader_->block_count();
        break;
      }
      RETURN_IF_ERROR(LoadBlock());
      row_ = 0;
    }
    customer_ = block_ < reader_->block_count() && cols_.customer[row_] < hi_ ? cols_.customer[row_] : kNone;
    return Status::Ok();
  }

  static constexpr size_t kMemAhead = 4096;

  const store::SegmentReader* reader_ = nullptr;
  const std::vector<store::Interaction>* mem_ = nullptr;
  const JourneyMap* map_ = nullptr;
  const TypeInfos& types_;
  std::vector<const EventInfo*> codes_;
  CustomerId lo_ = 0, hi_ = kNone, customer_ = kNone;
  size_t block_ = 0, row_ = 0, end_ = 0;
  store::FixedColumns cols_;
  store::ByteColumnRegion region_;          // the current block's payload column, once a row needs it
  store::column::DecodedFrame frame_rows_;  // frame frame_ of it, once decoded
  size_t frame_ = 0;
  bool region_loaded_ = false, frame_decoded_ = false;
  std::atomic<uint64_t>* read_ = nullptr;
};

struct Shard {
  CustomerId lo = 0, hi = kNone;
  std::vector<std::vector<DerivedState>> states;  // chunks of RebuildScanResult::kChunk
  std::vector<CustomerId> merged;
  Status status;

  DerivedState& Add() {
    if (states.empty() || states.back().size() == RebuildScanResult::kChunk) {
      states.emplace_back();
      states.back().reserve(RebuildScanResult::kChunk);
    }
    return states.back().emplace_back();
  }
};

// The canonical ids of the customers the scan reaches, resolved a batch at a time: the customers
// of every source's decoded rows ahead, in one call (one lock of the identity resolver, which both
// shard threads and live ingest take) instead of one call per customer.
class Roots {
 public:
  explicit Roots(const RebuildScanOptions& o) : o_(o) {}
  // The root of c, the smallest current customer of `sources`; c never decreases between calls.
  CustomerId Of(CustomerId c, const std::vector<Source>& sources) {
    if (!o_.canonical) return c;
    while (pos_ < ids_.size() && ids_[pos_] < c) ++pos_;
    if (pos_ == ids_.size() || ids_[pos_] != c) {
      ids_.clear();
      for (const Source& s : sources) s.Ahead(&ids_);  // c is the first customer of one of them
      std::sort(ids_.begin(), ids_.end());
      ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
      roots_.resize(ids_.size());
      o_.canonical(ids_, roots_.data());
      pos_ = std::lower_bound(ids_.begin(), ids_.end(), c) - ids_.begin();
    }
    return roots_[pos_];
  }

 private:
  const RebuildScanOptions& o_;
  std::vector<CustomerId> ids_, roots_;  // ascending ids and their roots
  size_t pos_ = 0;
};

// Derives every customer of [shard->lo, shard->hi).
Status DeriveShard(const store::Snapshot& snap, const std::vector<store::Interaction>& mem, const Deriver& d,
                   const RebuildScanOptions& o, std::atomic<uint64_t>* read, Shard* shard) {
  const JourneyMap& m = d.map();
  TypeInfos types{};
  for (int t = 1; t < 8; ++t)
    if (t != static_cast<int>(store::MessageType::kTrack)) types[t] = m.Lookup(static_cast<store::MessageType>(t), "");
  std::vector<Source> sources;
  sources.reserve(snap.segments().size() + 1);
  for (const auto& segment : snap.segments()) sources.emplace_back(segment.get(), m, types, shard->lo, shard->hi);
  if (!mem.empty()) sources.emplace_back(&mem, m, types, shard->lo, shard->hi);
  for (Source& s : sources) RETURN_IF_ERROR(s.Start(read));

  std::vector<Source*> live;
  Roots roots(o);
  RowView row;
  const EventInfo* info = nullptr;
  // Each customer's history is folded into this one (its vectors keep their capacity from customer
  // to customer) and then copied out at its exact size: one allocation per vector and customer
  // instead of growing 4, 8, 16, ... (and no capacity left unused in the result).
  History scratch;
  auto keep_history = [&scratch](DerivedState* out) {
    out->h.transitions.assign(scratch.transitions.begin(), scratch.transitions.end());
    out->h.emotion.assign(scratch.emotion.begin(), scratch.emotion.end());
    scratch.transitions.clear();
    scratch.emotion.clear();
  };
  while (true) {
    CustomerId c = kNone;
    for (const Source& s : sources) c = std::min(c, s.customer());
    if (c == kNone) break;
    live.clear();
    for (Source& s : sources)
      if (s.customer() == c) live.push_back(&s);
    const CustomerId root = roots.Of(c, sources);
    if (root != c || snap.Hidden(c)) {
      // Erased (not yet compacted away), or merged into another customer: that one's timeline
      // interleaves several ids, and the caller folds it from all of them.
      if (root != c && !snap.Hidden(c)) shard->merged.push_back(root);
      for (Source* s : live)
        while (s->customer() == c) RETURN_IF_ERROR(s->Next());
      continue;
    }
    DerivedState& out = shard->Add();
    if (live.size() == 1) {  // the common case: the customer's rows are in one source, in order
      Source& s = *live[0];
      out.s = d.Initial(c, s.timestamp());
      while (s.customer() == c) {
        RETURN_IF_ERROR(s.Row(&row, &info));
        d.Apply(&out.s, &scratch, row, info);
        RETURN_IF_ERROR(s.Next());
      }
      keep_history(&out);
      continue;
    }
    // Several sources (segments not yet compacted together, the memtable): merge by (timestamp, seq).
    bool first = true;
    while (true) {
      Source* next = nullptr;
      for (Source* s : live)
        if (s->customer() == c && (!next || s->timestamp() < next->timestamp() ||
                                   (s->timestamp() == next->timestamp() && s->seq() < next->seq())))
          next = s;
      if (!next) break;
      if (first) out.s = d.Initial(c, next->timestamp());
      first = false;
      RETURN_IF_ERROR(next->Row(&row, &info));
      d.Apply(&out.s, &scratch, row, info);
      RETURN_IF_ERROR(next->Next());
    }
    keep_history(&out);
  }
  return Status::Ok();
}

// Customer ids splitting the rows into `n` ranges of about equal size, from the block index and
// a sample of the memtable (no data read).
std::vector<CustomerId> SplitPoints(const store::Snapshot& snap, const std::vector<store::Interaction>& mem, int n) {
  std::vector<std::pair<CustomerId, uint64_t>> weights;
  uint64_t total = 0;
  for (const auto& segment : snap.segments())
    for (size_t b = 0; b < segment->block_count(); ++b) {
      weights.emplace_back(segment->block(b).first_customer, segment->block(b).rows);
      total += segment->block(b).rows;
    }
  constexpr size_t kMemSample = 64;
  for (size_t i = 0; i < mem.size(); i += kMemSample) {
    weights.emplace_back(mem[i].customer, std::min(kMemSample, mem.size() - i));
    total += std::min(kMemSample, mem.size() - i);
  }
  std::sort(weights.begin(), weights.end());
  std::vector<CustomerId> splits;
  uint64_t acc = 0;
  for (const auto& [c, w] : weights) {
    if (splits.size() + 1 >= static_cast<size_t>(n)) break;
    if (acc >= total * (splits.size() + 1) / n && c > (splits.empty() ? 0 : splits.back())) splits.push_back(c);
    acc += w;
  }
  return splits;
}

}  // namespace

Result<RebuildScanResult> DeriveSnapshot(const store::Snapshot& snapshot, const Deriver& deriver,
                                         const RebuildScanOptions& options) {
  const std::vector<store::Interaction> mem = snapshot.MemTableRows();  // hidden rows already left out
  uint64_t total = mem.size();
  for (const auto& segment : snapshot.segments()) total += segment->stats().rows;

  std::vector<CustomerId> splits = SplitPoints(snapshot, mem, std::max(1, options.threads));
  std::vector<Shard> shards(splits.size() + 1);
  for (size_t i = 0; i < shards.size(); ++i) {
    shards[i].lo = i == 0 ? 0 : splits[i - 1];
    shards[i].hi = i < splits.size() ? splits[i] : kNone;
  }
  std::atomic<uint64_t> read{0};
  std::atomic<size_t> running{shards.size()};
  auto run = [&](Shard* shard) {
    shard->status = DeriveShard(snapshot, mem, deriver, options, &read, shard);
    running.fetch_sub(1, std::memory_order_release);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < shards.size(); ++i) threads.emplace_back(run, &shards[i]);
  if (options.progress) {
    // The caller's thread only reports (the callback may not be thread-safe); every shard runs on
    // its own thread.
    std::thread first([&] { run(&shards[0]); });
    while (running.load(std::memory_order_acquire) > 0) {
      options.progress(std::min(read.load(std::memory_order_relaxed), total), total);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    first.join();
  } else {
    run(&shards[0]);
  }
  for (auto& t : threads) t.join();

  RebuildScanResult result;
  for (Shard& s : shards) {
    RETURN_IF_ERROR(s.status);
    size_t customers = 0;
    for (const auto& chunk : s.states) customers += chunk.size();
    result.customers_per_shard.push_back(customers);
    std::move(s.states.begin(), s.states.end(), std::back_inserter(result.states));
    result.merged.insert(result.merged.end(), s.merged.begin(), s.merged.end());
  }
  std::sort(result.merged.begin(), result.merged.end());
  result.merged.erase(std::unique(result.merged.begin(), result.merged.end()), result.merged.end());
  if (options.progress) options.progress(total, total);
  return result;
}

}  // namespace cairn::journey
