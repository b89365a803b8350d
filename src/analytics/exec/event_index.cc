#include "analytics/exec/event_index.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <iterator>
#include <mutex>
#include <numeric>
#include <thread>

#include "store/segment_reader.h"

namespace cairn::analytics {

namespace seg = store::segment;

namespace {

// Runs fn(task, worker) for every task in [0, n) on min(workers, n) threads, the caller's among
// them (worker in [0, workers): index per-worker state with it); tasks are handed out in
// ascending order. Stops handing out tasks at the first error and returns it.
Status RunTasks(size_t n, unsigned workers, const std::function<Status(size_t task, unsigned worker)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  Status err;
  std::atomic<bool> failed{false};
  auto work = [&](unsigned w) {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t k = next.fetch_add(1);
      if (k >= n) return;
      Status s = fn(k, w);
      if (!s.ok()) {
        std::lock_guard l(err_mu);
        if (err.ok()) err = s;
        failed.store(true);
        return;
      }
    }
  };
  const unsigned threads = static_cast<unsigned>(std::min<size_t>(std::max(1u, workers), std::max<size_t>(1, n)));
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  return err;
}

}  // namespace

// Builds an EventIndex in two passes: (1) a column scan of every segment and the memtable into
// staging arrays in storage order, remapping dictionary codes and customer ids; (2) a counting
// scatter by canonical customer, then a per-customer (timestamp, seq) sort of any run that is
// not already in order (a run is already sorted when the customer lives in one source and was
// never merged — the common case — so the sort is mostly a linear check).
class EventIndexBuilder {
 public:
  EventIndexBuilder(const Canonicalizer& canonical, const CustomerFilter& excluded)
      : canonical_(canonical), excluded_(excluded), index_(new EventIndex()) {
    index_->channel_names_.push_back("");
    channel_ids_.emplace("", 0);
  }
  // For Extend: starts from prev's dictionaries, so prev's event / channel ids keep their values.
  EventIndexBuilder(const Canonicalizer& canonical, const CustomerFilter& excluded, const EventIndex& prev)
      : canonical_(canonical), excluded_(excluded), index_(new EventIndex()) {
    index_->event_names_ = prev.event_names_;
    index_->event_ids_ = prev.event_ids_;
    index_->channel_names_ = prev.channel_names_;
    for (size_t i = 0; i < prev.channel_names_.size(); ++i)
      channel_ids_.emplace(prev.channel_names_[i], static_cast<uint16_t>(i));
  }

  EventId EventIdFor(std::string_view name, uint8_t type) {
    std::string key;
    if (name.empty()) {
      key = "$";
      key += store::MessageTypeName(static_cast<store::MessageType>(type));
    } else {
      key = std::string(name);
    }
    auto [it, inserted] = index_->event_ids_.emplace(key, static_cast<EventId>(index_->event_names_.size()));
    if (inserted) index_->event_names_.push_back(std::move(key));
    return it->second;
  }
  uint16_t ChannelIdFor(std::string_view name) {
    auto it = channel_ids_.find(std::string(name));
    if (it != channel_ids_.end()) return it->second;
    // More than 65535 distinct channels is not a channel vocabulary: fold the rest into "".
    if (index_->channel_names_.size() >= 65535) return 0;
    uint16_t id = static_cast<uint16_t>(index_->channel_names_.size());
    index_->channel_names_.emplace_back(name);
    channel_ids_.emplace(std::string(name), id);
    return id;
  }
  store::CustomerId Canonical(store::CustomerId c) {
    if (c == last_in_) return last_out_;
    store::CustomerId r = canonical_ ? canonical_(c) : c;
    if (r == 0) r = c;
    last_in_ = c;
    last_out_ = r;
    return r;
  }

  // Build's scan: every block of every segment decoded on `workers` threads, each block into its
  // own row range of the staging columns (the rows of the blocks before it, in manifest order),
  // so staging order is storage order whatever the thread count, and `extra_rows` (the memtable)
  // can follow with AddRow. Event codes are staged as the segment's own codes and mapped to index
  // ids afterwards, segment by segment in order, so the dictionary gets exactly the ids of a
  // one-thread scan (a segment's named events, then the "$type" names of its unnamed rows in row
  // order). `canonical_` is called from every worker (once per run of a stored customer).
  Status ScanSegments(const std::vector<std::shared_ptr<store::SegmentReader>>& segs, size_t extra_rows,
                      const QueryContext& ctx, unsigned workers) {
    struct Task {
      uint32_t seg, block;
      size_t base;  // staging row of the block's first row
    };
    std::vector<Task> tasks;
    size_t rows = 0;
    for (uint32_t s = 0; s < segs.size(); ++s)
      for (uint32_t b = 0; b < segs[s]->block_count(); ++b) {
        tasks.push_back({s, b, rows});
        rows += segs[s]->block(b).rows;
      }
    Reserve(rows + extra_rows);
    Grow(rows);
    // Channel ids do not depend on rows: mapped up front, in the one-thread order.
    std::vector<std::vector<uint16_t>> ch_maps(segs.size());
    std::vector<uint32_t> unnamed(segs.size(), UINT32_MAX);  // the segment's code of "", if any
    for (size_t s = 0; s < segs.size(); ++s) {
      for (const auto& c : segs[s]->channels()) ch_maps[s].push_back(ChannelIdFor(c));
      for (size_t i = 0; i < segs[s]->events().size(); ++i)
        if (segs[s]->events()[i].empty()) unnamed[s] = static_cast<uint32_t>(i);
    }
    // Per block: the first row of each message type with an unnamed event (UINT32_MAX: none).
    constexpr size_t kTypes = 8;  // MessageType values are 1..6
    std::vector<std::array<uint32_t, kTypes>> first_unnamed(tasks.size());
    std::vector<store::FixedColumns> cols(workers);
    const auto kColumns = seg::Bit(seg::Column::kCustomer) | seg::Bit(seg::Column::kTimestamp) |
                          seg::Bit(seg::Column::kEvent) | seg::Bit(seg::Column::kType) |
                          seg::Bit(seg::Column::kChannel) | seg::Bit(seg::Column::kSeq) |
                          seg::Bit(seg::Column::kRevenue);
    RETURN_IF_ERROR(RunTasks(tasks.size(), workers, [&](size_t t, unsigned w) -> Status {
      RETURN_IF_ERROR(ctx.Check());
      const Task& task = tasks[t];
      const store::SegmentReader& reader = *segs[task.seg];
      store::FixedColumns& c = cols[w];
      RETURN_IF_ERROR(reader.ReadBlock(task.block, kColumns, &c));
      if (c.rows != reader.block(task.block).rows)
        return Corruption(reader.path() + ": block " + std::to_string(task.block) + " decoded " +
                          std::to_string(c.rows) + " rows, its index says " +
                          std::to_string(reader.block(task.block).rows));
      const auto& ch_map = ch_maps[task.seg];
      store::CustomerId last_in = 0, last_out = 0;  // this block's last canonicalised customer
      for (size_t i = 0, k = task.base; i < c.rows; ++i, ++k) {
        if (c.customer[i] != last_in || i == 0) {
          last_in = c.customer[i];
          last_out = canonical_ ? canonical_(last_in) : last_in;
          if (last_out == 0) last_out = last_in;
        }
        cust_[k] = last_out;
        ts_[k] = c.timestamp_ms[i];
        ev_[k] = c.event[i];
        type_[k] = c.type[i];
        ch_[k] = ch_map[c.channel[i]];
        seq_[k] = c.seq[i];
        rev_[k] = c.revenue[i];
      }
      auto& first = first_unnamed[t];
      first.fill(UINT32_MAX);
      if (const uint32_t u = unnamed[task.seg]; u != UINT32_MAX)
        for (size_t i = 0; i < c.rows; ++i)
          if (c.event[i] == u && c.type[i] < kTypes && first[c.type[i]] == UINT32_MAX)
            first[c.type[i]] = static_cast<uint32_t>(i);
      return Status::Ok();
    }));
    // The event dictionary, in one-thread order; then segment codes -> ids, block by block.
    std::vector<std::vector<EventId>> ev_maps(segs.size());
    std::vector<std::array<EventId, kTypes>> type_ids(segs.size());
    for (size_t s = 0, t = 0; s < segs.size(); ++s) {
      for (const auto& name : segs[s]->events()) ev_maps[s].push_back(name.empty() ? UINT32_MAX : EventIdFor(name, 0));
      std::vector<std::pair<size_t, uint8_t>> firsts;  // (staging row, type)
      for (; t < tasks.size() && tasks[t].seg == s; ++t)
        for (uint8_t ty = 0; ty < kTypes; ++ty)
          if (first_unnamed[t][ty] != UINT32_MAX) firsts.emplace_back(tasks[t].base + first_unnamed[t][ty], ty);
      std::sort(firsts.begin(), firsts.end());
      type_ids[s].fill(UINT32_MAX);
      for (const auto& [row, ty] : firsts)
        if (type_ids[s][ty] == UINT32_MAX) type_ids[s][ty] = EventIdFor("", ty);
    }
    return RunTasks(tasks.size(), workers, [&](size_t t, unsigned) -> Status {
      const Task& task = tasks[t];
      const auto& map = ev_maps[task.seg];
      const auto& by_type = type_ids[task.seg];
      const uint32_t u = unnamed[task.seg];
      const size_t end = task.base + segs[task.seg]->block(task.block).rows;
      for (size_t k = task.base; k < end; ++k) ev_[k] = ev_[k] == u ? by_type[type_[k]] : map[ev_[k]];
      return Status::Ok();
    });
  }

  // Extend's scan of one segment: stages its rows with seq >= min_seq, counting the others in
  // *below. One thread (the delta of an extension is small).
  Status ScanSegment(const store::SegmentReader& reader, const QueryContext& ctx, uint64_t min_seq,
                     uint64_t* below) {
    // Remap tables for this segment's dictionaries. Empty names depend on the row's type.
    std::vector<EventId> ev_map(reader.events().size(), UINT32_MAX);
    for (size_t i = 0; i < reader.events().size(); ++i)
      if (!reader.events()[i].empty()) ev_map[i] = EventIdFor(reader.events()[i], 0);
    std::vector<uint16_t> ch_map(reader.channels().size());
    for (size_t i = 0; i < reader.channels().size(); ++i) ch_map[i] = ChannelIdFor(reader.channels()[i]);
    store::ScanOptions opt;
    opt.columns = seg::Bit(seg::Column::kCustomer) | seg::Bit(seg::Column::kTimestamp) |
                  seg::Bit(seg::Column::kEvent) | seg::Bit(seg::Column::kType) | seg::Bit(seg::Column::kChannel) |
                  seg::Bit(seg::Column::kSeq) | seg::Bit(seg::Column::kRevenue);
    return reader.Scan(opt, [&](const store::FixedColumns& cols) -> Status {
      RETURN_IF_ERROR(ctx.Check());
      for (size_t i = 0; i < cols.rows; ++i) {
        if (cols.seq[i] < min_seq) {
          ++*below;
          continue;
        }
        const size_t k = cust_.size();
        Grow(k + 1);
        cust_[k] = Canonical(cols.customer[i]);
        ts_[k] = cols.timestamp_ms[i];
        EventId e = ev_map[cols.event[i]];
        if (e == UINT32_MAX) e = EventIdFor("", cols.type[i]);
        ev_[k] = e;
        type_[k] = cols.type[i];
        ch_[k] = ch_map[cols.channel[i]];
        seq_[k] = cols.seq[i];
        rev_[k] = cols.revenue[i];
      }
      return Status::Ok();
    });
  }

  void AddRow(const store::Interaction& r) {
    const size_t i = cust_.size();
    Grow(i + 1);
    cust_[i] = Canonical(r.customer);
    ts_[i] = r.timestamp_ms;
    ev_[i] = EventIdFor(r.event, static_cast<uint8_t>(r.type));
    type_[i] = static_cast<uint8_t>(r.type);
    ch_[i] = ChannelIdFor(r.channel);
    seq_[i] = r.seq;
    rev_[i] = r.revenue;
  }

  // Groups the staged rows by canonical customer on `workers` threads. The staging columns are
  // runs of one customer (a source is ordered by customer); each run is copied whole to its
  // customer's next free rows, runs in staging order (stable: rows of one source keep their
  // (ts, seq) order), then each customer's rows are sorted unless already in order.
  Result<std::shared_ptr<const EventIndex>> Finish(uint64_t snapshot_seq, const QueryContext& ctx, unsigned workers) {
    EventIndex& x = *index_;
    x.snapshot_seq_ = snapshot_seq;
    const size_t n = cust_.size();
    if (n >= kNoRow) return ResourceExhausted("analytics index: more than 2^32-1 interactions");
    struct Run {
      RowIndex src, len;  // staging rows [src, src + len)
      RowIndex dst;       // index row of its first row
      uint32_t c;         // dense customer index; UINT32_MAX: excluded
      store::CustomerId id;
    };
    // Runs, found chunk by chunk (a run crossing a chunk boundary becomes two: harmless).
    const size_t chunks = std::max<size_t>(1, std::min<size_t>(n / (1 << 16), size_t{workers} * 8));
    std::vector<std::vector<Run>> chunk_runs(chunks);
    RETURN_IF_ERROR(RunTasks(chunks, workers, [&](size_t k, unsigned) -> Status {
      const size_t b = n * k / chunks, e = n * (k + 1) / chunks;
      for (size_t i = b; i < e;) {
        size_t j = i + 1;
        while (j < e && cust_[j] == cust_[i]) ++j;
        chunk_runs[k].push_back({static_cast<RowIndex>(i), static_cast<RowIndex>(j - i), 0, 0, cust_[i]});
        i = j;
      }
      return Status::Ok();
    }));
    Column<store::CustomerId>().swap(cust_);
    std::vector<Run> runs;
    {
      size_t total = 0;
      for (const auto& r : chunk_runs) total += r.size();
      runs.reserve(total);
      for (auto& r : chunk_runs) {
        runs.insert(runs.end(), r.begin(), r.end());
        std::vector<Run>().swap(r);
      }
    }
    // Distinct canonical customers, ascending.
    std::vector<store::CustomerId> ids;
    ids.reserve(runs.size());
    for (const Run& r : runs)
      if (ids.empty() || ids.back() != r.id) ids.push_back(r.id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    // Excluded customers leave `ids`; their runs are not copied.
    if (excluded_) {
      std::vector<store::CustomerId> kept_ids;
      kept_ids.reserve(ids.size());
      for (store::CustomerId c : ids) {
        if (excluded_(c)) x.excluded_ids_.push_back(c);
        else kept_ids.push_back(c);
      }
      ids.swap(kept_ids);
    }
    RETURN_IF_ERROR(ctx.Check());
    std::vector<RowIndex> count(ids.size() + 1, 0);
    for (Run& r : runs) {
      const auto it = std::lower_bound(ids.begin(), ids.end(), r.id);
      if (it == ids.end() || *it != r.id) {
        r.c = UINT32_MAX;
        x.excluded_rows_ += r.len;
        continue;
      }
      r.c = static_cast<uint32_t>(it - ids.begin());
      count[r.c + 1] += r.len;
    }
    for (size_t c = 1; c < count.size(); ++c) count[c] += count[c - 1];
    {
      std::vector<RowIndex> next(count.begin(), count.end() - 1);
      for (Run& r : runs)
        if (r.c != UINT32_MAX) {
          r.dst = next[r.c];
          next[r.c] += r.len;
        }
    }
    const size_t kept = count.back();
    x.offsets_ = std::move(count);
    x.customers_ = std::move(ids);
    const size_t run_tasks = std::max<size_t>(1, std::min<size_t>(runs.size() / 1024, size_t{workers} * 8));
    auto scatter = [&](auto* src, auto* dst) -> Status {
      dst->resize(kept);
      RETURN_IF_ERROR(RunTasks(run_tasks, workers, [&](size_t k, unsigned) -> Status {
        for (size_t i = runs.size() * k / run_tasks, e = runs.size() * (k + 1) / run_tasks; i < e; ++i)
          if (runs[i].c != UINT32_MAX)
            std::copy_n(src->begin() + runs[i].src, runs[i].len, dst->begin() + runs[i].dst);
        return Status::Ok();
      }));
      std::remove_reference_t<decltype(*src)>().swap(*src);
      return Status::Ok();
    };
    RETURN_IF_ERROR(scatter(&ts_, &x.ts_));
    RETURN_IF_ERROR(scatter(&ev_, &x.event_));
    RETURN_IF_ERROR(scatter(&seq_, &x.seq_));
    RETURN_IF_ERROR(scatter(&ch_, &x.channel_));
    RETURN_IF_ERROR(scatter(&type_, &x.type_));
    RETURN_IF_ERROR(scatter(&rev_, &x.revenue_));
    std::vector<Run>().swap(runs);
    RETURN_IF_ERROR(ctx.Check());
    // Per customer: order by (ts, seq) when the run is not already; and the time range
    // (seq -> row is built lazily: RowOfSeqTable).
    const size_t nc = x.customers_.size();
    const size_t sort_tasks = std::max<size_t>(1, std::min<size_t>(nc / 1024, size_t{workers} * 8));
    std::vector<std::vector<RowIndex>> perms(workers);
    std::vector<std::pair<int64_t, int64_t>> ranges(sort_tasks, {INT64_MAX, INT64_MIN});
    RETURN_IF_ERROR(RunTasks(sort_tasks, workers, [&](size_t k, unsigned w) -> Status {
      const size_t cb = nc * k / sort_tasks, ce = nc * (k + 1) / sort_tasks;
      for (size_t c = cb; c < ce; ++c) SortRun(x.offsets_[c], x.offsets_[c + 1], &perms[w]);
      if (x.offsets_[ce] > x.offsets_[cb]) {
        auto [lo, hi] = std::minmax_element(x.ts_.begin() + x.offsets_[cb], x.ts_.begin() + x.offsets_[ce]);
        ranges[k] = {*lo, *hi};
      }
      return Status::Ok();
    }));
    if (kept > 0) {
      x.min_ts_ = INT64_MAX;
      x.max_ts_ = INT64_MIN;
      for (const auto& [lo, hi] : ranges) {
        x.min_ts_ = std::min(x.min_ts_, lo);
        x.max_ts_ = std::max(x.max_ts_, hi);
      }
    }
    return std::shared_ptr<const EventIndex>(std::move(index_));
  }

  // Extend: merges the staged rows (seq >= prev's seq) into prev's runs. Old customers go
  // through canonical_ again (a merge since prev moves a whole run). Untouched customers are
  // copied in coalesced ranges; a customer with new rows or several old runs gets its run
  // written source by source and sorted when that left it out of (ts, seq) order (new rows
  // usually come last, so mostly a linear check).
  Result<std::shared_ptr<const EventIndex>> FinishExtend(const EventIndex& prev, uint64_t snapshot_seq,
                                                        const QueryContext& ctx, EventIndex* spare) {
    EventIndex& x = *index_;
    x.snapshot_seq_ = snapshot_seq;
    const size_t nd = cust_.size();
    const size_t total = prev.row_count() + nd;
    if (total >= kNoRow) return ResourceExhausted("analytics index: more than 2^32-1 interactions");
    // Delta rows by (customer, ts, seq).
    std::vector<uint32_t> dperm(nd);
    std::iota(dperm.begin(), dperm.end(), 0u);
    std::sort(dperm.begin(), dperm.end(), [&](uint32_t l, uint32_t r) {
      if (cust_[l] != cust_[r]) return cust_[l] < cust_[r];
      return ts_[l] != ts_[r] ? ts_[l] < ts_[r] : seq_[l] < seq_[r];
    });
    std::vector<store::CustomerId> dids;
    for (uint32_t i : dperm)
      if (dids.empty() || dids.back() != cust_[i]) dids.push_back(cust_[i]);
    // Old customers, re-canonicalised.
    const auto& oc = prev.customers_;
    std::vector<store::CustomerId> remap(oc.size());
    bool moved = false;
    for (size_t i = 0; i < oc.size(); ++i) {
      store::CustomerId r = canonical_ ? canonical_(oc[i]) : oc[i];
      if (r == 0) r = oc[i];
      remap[i] = r;
      moved |= r != oc[i];
    }
    RETURN_IF_ERROR(ctx.Check());
    std::vector<store::CustomerId> ids;
    ids.reserve(oc.size() + dids.size());
    if (!moved) {
      std::set_union(oc.begin(), oc.end(), dids.begin(), dids.end(), std::back_inserter(ids));
    } else {
      ids = remap;
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      std::vector<store::CustomerId> u;
      u.reserve(ids.size() + dids.size());
      std::set_union(ids.begin(), ids.end(), dids.begin(), dids.end(), std::back_inserter(u));
      ids.swap(u);
    }
    // (new customer, old customer) pairs in new order; old runs of one new customer stay in old
    // order (they are concatenated, then sorted).
    std::vector<std::pair<uint32_t, uint32_t>> olds(oc.size());
    if (!moved) {
      size_t k = 0;
      for (size_t i = 0; i < oc.size(); ++i) {
        while (ids[k] != oc[i]) ++k;
        olds[i] = {static_cast<uint32_t>(k), static_cast<uint32_t>(i)};
      }
    } else {
      for (size_t i = 0; i < oc.size(); ++i)
        olds[i] = {static_cast<uint32_t>(std::lower_bound(ids.begin(), ids.end(), remap[i]) - ids.begin()),
                   static_cast<uint32_t>(i)};
      std::sort(olds.begin(), olds.end());
    }
    std::vector<store::CustomerId>().swap(remap);
    RETURN_IF_ERROR(ctx.Check());
    // Fill, appending in new order, into the spare index's columns when there is one (their
    // pages are mapped already: no page faults), else fresh ones with 1/16 room to grow, so the
    // next extensions can reuse them.
    auto take = [&](auto& dst, auto& from) {
      if (spare != nullptr && from.capacity() >= total) {
        dst.swap(from);
        dst.clear();
      } else {
        dst.reserve(total + total / 16);
      }
    };
    take(x.ts_, spare ? spare->ts_ : x.ts_);
    take(x.event_, spare ? spare->event_ : x.event_);
    take(x.seq_, spare ? spare->seq_ : x.seq_);
    take(x.channel_, spare ? spare->channel_ : x.channel_);
    take(x.type_, spare ? spare->type_ : x.type_);
    take(x.revenue_, spare ? spare->revenue_ : x.revenue_);
    x.offsets_.reserve(ids.size() + 1);
    x.offsets_.push_back(0);
    RowIndex pend_b = 0, pend_e = 0;  // old rows to copy as one range
    auto flush = [&] {
      if (pend_e > pend_b) {
        x.ts_.insert(x.ts_.end(), prev.ts_.begin() + pend_b, prev.ts_.begin() + pend_e);
        x.event_.insert(x.event_.end(), prev.event_.begin() + pend_b, prev.event_.begin() + pend_e);
        x.seq_.insert(x.seq_.end(), prev.seq_.begin() + pend_b, prev.seq_.begin() + pend_e);
        x.channel_.insert(x.channel_.end(), prev.channel_.begin() + pend_b, prev.channel_.begin() + pend_e);
        x.type_.insert(x.type_.end(), prev.type_.begin() + pend_b, prev.type_.begin() + pend_e);
        x.revenue_.insert(x.revenue_.end(), prev.revenue_.begin() + pend_b, prev.revenue_.begin() + pend_e);
      }
      pend_b = pend_e = 0;
    };
    std::vector<RowIndex> perm;
    std::vector<store::CustomerId> kept_ids, newly_excluded;
    kept_ids.reserve(ids.size());
    x.excluded_rows_ = prev.excluded_rows_;
    size_t oi = 0, di = 0;
    for (size_t k = 0; k < ids.size(); ++k) {
      const size_t o_begin = oi;
      while (oi < olds.size() && olds[oi].first == k) ++oi;
      const size_t d_begin = di;
      while (di < nd && cust_[dperm[di]] == ids[k]) ++di;
      const size_t sources = (oi - o_begin) + (di > d_begin ? 1 : 0);
      // A customer with new rows, or merged since prev, is asked again whether it is excluded;
      // one exactly as in prev keeps prev's answer (a changed answer needs Invalidate()).
      const bool unchanged = sources == 1 && di == d_begin && oc[olds[o_begin].second] == ids[k];
      if (!unchanged && excluded_ && excluded_(ids[k])) {
        for (size_t j = o_begin; j < oi; ++j)
          x.excluded_rows_ += prev.offsets_[olds[j].second + 1] - prev.offsets_[olds[j].second];
        x.excluded_rows_ += di - d_begin;
        newly_excluded.push_back(ids[k]);
        continue;
      }
      kept_ids.push_back(ids[k]);
      if (sources == 1 && di == d_begin) {
        // One old run, nothing new: extend the pending copy when contiguous.
        const uint32_t o = olds[o_begin].second;
        const RowIndex b = prev.offsets_[o], e = prev.offsets_[o + 1];
        if (pend_e != b || pend_e == pend_b) {
          flush();
          pend_b = b;
        }
        pend_e = e;
        x.offsets_.push_back(x.offsets_.back() + (e - b));
        continue;
      }
      flush();
      const RowIndex run_b = static_cast<RowIndex>(x.ts_.size());
      for (size_t j = o_begin; j < oi; ++j) {
        const uint32_t o = olds[j].second;
        pend_b = prev.offsets_[o];
        pend_e = prev.offsets_[o + 1];
        flush();
      }
      for (size_t j = d_begin; j < di; ++j) {
        const uint32_t r = dperm[j];
        x.ts_.push_back(ts_[r]);
        x.event_.push_back(ev_[r]);
        x.seq_.push_back(seq_[r]);
        x.channel_.push_back(ch_[r]);
        x.type_.push_back(type_[r]);
        x.revenue_.push_back(rev_[r]);
      }
      const RowIndex run_e = static_cast<RowIndex>(x.ts_.size());
      x.offsets_.push_back(run_e);
      if (sources > 1) SortRun(run_b, run_e, &perm);
      if ((k & 0xffff) == 0) RETURN_IF_ERROR(ctx.Check());
    }
    flush();
    x.customers_ = std::move(kept_ids);
    std::set_union(prev.excluded_ids_.begin(), prev.excluded_ids_.end(), newly_excluded.begin(), newly_excluded.end(),
                   std::back_inserter(x.excluded_ids_));
    if (!newly_excluded.empty()) {
      // Rows left the index: min/max from what is there.
      if (!x.ts_.empty()) {
        auto [lo, hi] = std::minmax_element(x.ts_.begin(), x.ts_.end());
        x.min_ts_ = *lo;
        x.max_ts_ = *hi;
      }
    } else if (total > 0) {
      int64_t lo = prev.row_count() ? prev.min_ts_ : INT64_MAX, hi = prev.row_count() ? prev.max_ts_ : INT64_MIN;
      for (size_t i = 0; i < nd; ++i) {
        lo = std::min(lo, ts_[i]);
        hi = std::max(hi, ts_[i]);
      }
      x.min_ts_ = lo;
      x.max_ts_ = hi;
    }
    return std::shared_ptr<const EventIndex>(std::move(index_));
  }

  // Orders rows [b, e) of the index being built by (ts, seq) unless they already are.
  void SortRun(RowIndex b, RowIndex e, std::vector<RowIndex>* perm) {
    EventIndex& x = *index_;
    bool sorted = true;
    for (RowIndex r = b + 1; r < e && sorted; ++r)
      sorted = x.ts_[r - 1] < x.ts_[r] || (x.ts_[r - 1] == x.ts_[r] && x.seq_[r - 1] < x.seq_[r]);
    if (sorted) return;
    perm->resize(e - b);
    std::iota(perm->begin(), perm->end(), b);
    std::sort(perm->begin(), perm->end(), [&](RowIndex l, RowIndex r) {
      return x.ts_[l] != x.ts_[r] ? x.ts_[l] < x.ts_[r] : x.seq_[l] < x.seq_[r];
    });
    Permute(*perm, b, &x.ts_);
    Permute(*perm, b, &x.event_);
    Permute(*perm, b, &x.seq_);
    Permute(*perm, b, &x.channel_);
    Permute(*perm, b, &x.type_);
    Permute(*perm, b, &x.revenue_);
  }

 public:
  void Reserve(size_t n) {
    cust_.reserve(n);
    ts_.reserve(n);
    ev_.reserve(n);
    type_.reserve(n);
    ch_.reserve(n);
    seq_.reserve(n);
    rev_.reserve(n);
  }

 private:
  void Grow(size_t n) {
    cust_.resize(n);
    ts_.resize(n);
    ev_.resize(n);
    type_.resize(n);
    ch_.resize(n);
    seq_.resize(n);
    rev_.resize(n);
  }
  template <typename T>
  static void Permute(const std::vector<RowIndex>& perm, RowIndex base, Column<T>* v) {
    std::vector<T> tmp(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) tmp[i] = (*v)[perm[i]];
    std::copy(tmp.begin(), tmp.end(), v->begin() + base);
  }

  const Canonicalizer& canonical_;
  const CustomerFilter& excluded_;
  std::unique_ptr<EventIndex> index_;
  std::unordered_map<std::string, uint16_t> channel_ids_;
  store::CustomerId last_in_ = 0, last_out_ = 0;
  Column<store::CustomerId> cust_;
  Column<int64_t> ts_;
  Column<EventId> ev_;
  Column<uint8_t> type_;
  Column<uint16_t> ch_;
  Column<uint64_t> seq_;
  Column<double> rev_;
};

namespace {

// The filter an index of `snapshot` applies: `excluded`, and the customers the snapshot hides
// (erased, not yet compacted away: the identity map no longer knows them, so their rows keep
// their stored id as the canonical one, which is the id the snapshot hides). Both arguments must
// outlive the result.
CustomerFilter WithHidden(const store::Snapshot& snapshot, const CustomerFilter& excluded) {
  if (!snapshot.HidesAny()) return excluded;
  return [&snapshot, &excluded](store::CustomerId c) { return snapshot.Hidden(c) || (excluded && excluded(c)); };
}

}  // namespace

Result<std::shared_ptr<const EventIndex>> EventIndex::Build(const store::Snapshot& snapshot,
                                                            const Canonicalizer& canonical, const QueryContext& ctx,
                                                            const CustomerFilter& excluded) {
  const CustomerFilter filter = WithHidden(snapshot, excluded);
  EventIndexBuilder b(canonical, filter);
  const unsigned workers = Workers(ctx);
  const auto mem_rows = snapshot.MemTableRows();
  RETURN_IF_ERROR(b.ScanSegments(snapshot.segments(), mem_rows.size(), ctx, workers));
  for (const auto& r : mem_rows) b.AddRow(r);
  return b.Finish(snapshot.seq(), ctx, workers);
}

Result<std::shared_ptr<const EventIndex>> EventIndex::Extend(const EventIndex& prev,
                                                             const store::Snapshot& prev_snapshot,
                                                             const store::Snapshot& snapshot,
                                                             const Canonicalizer& canonical, const QueryContext& ctx,
                                                             const CustomerFilter& excluded, EventIndex* spare) {
  const uint64_t s0 = prev.snapshot_seq();
  if (snapshot.seq() < s0 || prev_snapshot.seq() != s0) return std::shared_ptr<const EventIndex>();
  // Customers hidden since (an erasure in progress) are in prev: rebuild without them.
  if (!snapshot.HidesSameAs(prev_snapshot)) return std::shared_ptr<const EventIndex>();
  // An excluded customer merged into another since: its rows (not in prev) would now belong to
  // someone in the index. Rare; rebuild.
  for (store::CustomerId c : prev.excluded_ids_) {
    store::CustomerId r = canonical ? canonical(c) : c;
    if (r != 0 && r != c) return std::shared_ptr<const EventIndex>();
  }
  const CustomerFilter filter = WithHidden(snapshot, excluded);
  EventIndexBuilder b(canonical, filter, prev);
  // Rows below s0 seen in `snapshot`; they must be exactly prev's rows (the store never adds
  // rows below a seq it has made visible, so equal counts mean equal sets).
  uint64_t below = 0;
  std::vector<const store::SegmentReader*> known;
  for (const auto& s : prev_snapshot.segments()) known.push_back(s.get());
  std::sort(known.begin(), known.end());
  for (const auto& s : snapshot.segments()) {
    if (std::binary_search(known.begin(), known.end(), s.get())) {
      below += s->stats().rows;  // unchanged segment: all of it is in prev
      continue;
    }
    RETURN_IF_ERROR(b.ScanSegment(*s, ctx, s0, &below));
  }
  for (const auto& r : snapshot.MemTableRows()) {
    if (r.seq < s0) {
      ++below;
      continue;
    }
    b.AddRow(r);
  }
  if (below != prev.row_count() + prev.excluded_rows_) return std::shared_ptr<const EventIndex>();
  return b.FinishExtend(prev, snapshot.seq(), ctx, spare);
}

const Column<RowIndex>& EventIndex::RowOfSeqTable() const {
  std::call_once(row_of_seq_once_, [this] {
    row_of_seq_.assign(snapshot_seq_, kNoRow);
    for (size_t r = 0; r < seq_.size(); ++r)
      if (seq_[r] < snapshot_seq_) row_of_seq_[seq_[r]] = static_cast<RowIndex>(r);
  });
  return row_of_seq_;
}

std::optional<size_t> EventIndex::FindCustomer(store::CustomerId canonical) const {
  auto it = std::lower_bound(customers_.begin(), customers_.end(), canonical);
  if (it == customers_.end() || *it != canonical) return std::nullopt;
  return static_cast<size_t>(it - customers_.begin());
}

std::optional<EventId> EventIndex::FindEvent(std::string_view name) const {
  auto it = event_ids_.find(std::string(name));
  if (it == event_ids_.end()) return std::nullopt;
  return it->second;
}

Status EventIndex::ForEachPayload(const store::Snapshot& snapshot, std::span<const EventId> events,
                                  const QueryContext& ctx,
                                  const std::function<void(RowIndex row, std::string_view payload)>& fn) const {
  if (events.empty()) return Status::Ok();
  RowOfSeqTable();  // built once, before the scans
  std::vector<char> wanted(event_names_.size(), 0);
  std::vector<std::string> names;
  for (EventId e : events) {
    if (e >= event_names_.size() || wanted[e]) continue;
    wanted[e] = 1;
    // "$type" events are stored with an empty name.
    names.push_back(event_names_[e].starts_with("$") ? std::string() : event_names_[e]);
  }
  for (const auto& s : snapshot.segments()) {
    store::ScanOptions opt;
    opt.events = names;
    opt.columns = seg::Bit(seg::Column::kSeq) | seg::Bit(seg::Column::kPayload);
    RETURN_IF_ERROR(s->Scan(opt, [&](const store::FixedColumns& cols) -> Status {
      RETURN_IF_ERROR(ctx.Check());
      for (size_t i = 0; i < cols.rows; ++i) {
        const RowIndex r = RowOfSeq(cols.seq[i]);
        if (r != kNoRow && wanted[event_[r]]) fn(r, cols.payload[i]);
      }
      return Status::Ok();
    }));
  }
  for (const auto& row : snapshot.MemTableRows()) {
    const RowIndex r = RowOfSeq(row.seq);
    if (r != kNoRow && wanted[event_[r]]) fn(r, row.payload);
  }
  return Status::Ok();
}

unsigned EventIndex::Workers(const QueryContext& ctx) { return std::max(1u, ctx.threads()); }

Status EventIndex::ParallelForCustomers(const QueryContext& ctx,
                                        const std::function<Status(size_t, size_t, unsigned)>& fn) const {
  const size_t n = customers_.size();
  const unsigned workers = static_cast<unsigned>(std::min<size_t>(Workers(ctx), std::max<size_t>(1, n / 1024)));
  // Chunks of ~64k rows keep cancellation latency low and balance skewed customers.
  constexpr size_t kChunkRows = 1 << 16;
  std::vector<size_t> bounds{0};
  for (size_t c = 0; c < n;) {
    size_t e = std::upper_bound(offsets_.begin() + c + 1, offsets_.end(), offsets_[c] + kChunkRows) - offsets_.begin() - 1;
    e = std::max(e, c + 1);
    e = std::min(e, n);
    bounds.push_back(e);
    c = e;
  }
  return RunTasks(bounds.size() - 1, workers, [&](size_t k, unsigned w) -> Status {
    RETURN_IF_ERROR(ctx.Check());
    return fn(bounds[k], bounds[k + 1], w);
  });
}

Result<IndexCache::Entry> IndexCache::Get(const QueryContext& ctx) {
  std::lock_guard lock(mu_);
  auto snap = store_->GetSnapshot();
  // Hiding customers (an erasure) changes what a snapshot shows without advancing its seq.
  const bool same_hidden = current_.snapshot && current_.snapshot->HidesSameAs(*snap);
  if (!invalid_ && same_hidden && current_.index->snapshot_seq() == snap->seq()) {
    ++stats_.reuses;
    return current_;
  }
  const int64_t t0 = ctx.clock()->MonotonicNanos();
  if (!invalid_ && current_.index && snap->seq() > current_.index->snapshot_seq()) {
    // The index before the current one, if no query holds it any more (use_count 1: only
    // spare_; nobody can obtain it again), lends its column memory to the new one.
    EventIndex* spare = spare_ && spare_.use_count() == 1 ? const_cast<EventIndex*>(spare_.get()) : nullptr;
    ASSIGN_OR_RETURN(auto ext, EventIndex::Extend(*current_.index, *current_.snapshot, *snap, canonical_, ctx,
                                                  excluded_, spare));
    spare_.reset();
    if (ext) {
      spare_ = current_.index;
      stats_.last_delta_rows = (ext->row_count() + ext->excluded_rows()) -
                               (current_.index->row_count() + current_.index->excluded_rows());
      current_ = Entry{std::move(snap), std::move(ext)};
      ++stats_.extends;
      stats_.last_was_extend = true;
      stats_.last_build_ms = static_cast<double>(ctx.clock()->MonotonicNanos() - t0) / 1e6;
      return current_;
    }
  }
  spare_.reset();
  ASSIGN_OR_RETURN(auto index, EventIndex::Build(*snap, canonical_, ctx, excluded_));
  current_ = Entry{std::move(snap), std::move(index)};
  invalid_ = false;
  ++stats_.full_builds;
  stats_.last_was_extend = false;
  stats_.last_delta_rows = 0;
  stats_.last_build_ms = static_cast<double>(ctx.clock()->MonotonicNanos() - t0) / 1e6;
  return current_;
}

void IndexCache::Invalidate() {
  std::lock_guard lock(mu_);
  current_ = Entry{};  // releases the snapshot now (erasure: its retired segments can go)
  spare_.reset();
  invalid_ = true;
}

IndexCache::Stats IndexCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace cairn::analytics
