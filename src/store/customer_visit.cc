// Snapshot::VisitCustomers: a customer's timeline streamed in (timestamp, seq) order with bounded
// memory. ReadCustomers materialises every row of the customer at once, so a re-derivation of one
// very large customer (a bot, a shared anonymous id) held its whole history — tens of MiB — in
// memory. Here each source holds at most one block (or one memtable page) at a time and a k-way
// merge over the sources' current rows yields the timeline.
#include <algorithm>
#include <memory>
#include <queue>

#include "store/segment_reader.h"
#include "store/store.h"

namespace cairn::store {
namespace {

using Key = std::pair<int64_t, uint64_t>;

// One ordered run of rows of the merge.
class Source {
 public:
  virtual ~Source() = default;
  virtual bool Valid() const = 0;
  virtual const Interaction& row() const = 0;
  virtual void Next() = 0;
  virtual Status status() const { return Status::Ok(); }
  virtual size_t buffered_rows() const = 0;  // upper bound of the rows this source holds now
  Key key() const { return {row().timestamp_ms, row().seq}; }
};

// One customer's rows in one segment: block by block, each block's run of the customer decoded
// kVisitPageRows rows at a time, materialised one row at a time.
class SegmentSource final : public Source {
 public:
  SegmentSource(const SegmentReader* seg, CustomerId c, size_t first_block, size_t end_block, ColumnMask columns)
      : seg_(seg), c_(c), block_(first_block), end_block_(end_block), columns_(columns) {
    NextRun();
  }
  bool Valid() const override { return i_ < page_.rows; }
  const Interaction& row() const override { return row_; }
  void Next() override {
    if (++i_ < page_.rows) return Materialize();
    if (pos_ < run_end_) return LoadPage();
    ++block_;
    NextRun();
  }
  Status status() const override { return status_; }
  size_t buffered_rows() const override { return Valid() ? page_.rows : 0; }

 private:
  // Finds the customer's run in block_ (or a later block of the span) and loads its first page.
  void NextRun() {
    page_.rows = 0;
    i_ = 0;
    for (; status_.ok() && block_ < end_block_; ++block_) {
      const uint32_t rows = seg_->block(block_).rows;
      status_ = seg_->ReadBlockRows(block_, 0, rows, segment::Bit(segment::Column::kCustomer), &ids_);
      if (!status_.ok()) return;
      auto [lo, hi] = std::equal_range(ids_.customer.begin(), ids_.customer.begin() + ids_.rows, c_);
      if (lo == hi) continue;
      pos_ = static_cast<uint32_t>(lo - ids_.customer.begin());
      run_end_ = static_cast<uint32_t>(hi - ids_.customer.begin());
      return LoadPage();
    }
  }
  void LoadPage() {
    const uint32_t end = std::min<uint32_t>(run_end_, pos_ + Snapshot::kVisitPageRows);
    status_ = seg_->ReadBlockRows(block_, pos_, end, columns_, &page_);
    if (!status_.ok()) {
      page_.rows = 0;
      return;
    }
    pos_ = end;
    i_ = 0;
    Materialize();
  }
  void Materialize() {
    seg_->MaterializeRow(page_, i_, &row_);
    row_.customer = c_;  // (not decoded unless asked for)
  }

  const SegmentReader* seg_;
  const CustomerId c_;
  size_t block_;
  const size_t end_block_;
  const ColumnMask columns_;
  FixedColumns ids_;    // the customer column of block_ (finds the run)
  FixedColumns page_;   // the page being visited
  uint32_t pos_ = 0, run_end_ = 0;  // the rest of the run in block_ not yet paged in
  size_t i_ = 0;
  Interaction row_;
  Status status_;
};

// The rows of a memtable, paged kVisitPageRows at a time in (timestamp, seq) order.
class MemSource final : public Source {
 public:
  MemSource(const MemTable* mem, const std::vector<CustomerId>* customers, uint64_t max_seq)
      : mem_(mem), customers_(customers), max_seq_(max_seq) {
    Fill(nullptr);
  }
  bool Valid() const override { return i_ < page_.size(); }
  const Interaction& row() const override { return page_[i_]; }
  void Next() override {
    if (++i_ < page_.size()) return;
    if (page_.size() < Snapshot::kVisitPageRows) {  // that was the last page
      page_ = {};
      i_ = 0;
      return;
    }
    Key last{page_.back().timestamp_ms, page_.back().seq};
    Fill(&last);
  }
  size_t buffered_rows() const override { return page_.size(); }

 private:
  void Fill(const Key* after) {
    page_.clear();
    i_ = 0;
    mem_->ReadCustomersAfter(*customers_, max_seq_, after, Snapshot::kVisitPageRows, &page_);
  }
  const MemTable* mem_;
  const std::vector<CustomerId>* customers_;
  uint64_t max_seq_;
  std::vector<Interaction> page_;
  size_t i_ = 0;
};

}  // namespace

Status Snapshot::VisitCustomers(std::vector<CustomerId> customers, const std::function<bool(const Interaction&)>& fn,
                                uint32_t columns, VisitStats* stats) const {
  VisitStats local;
  VisitStats& st = stats ? *stats : local;
  st = {};
  std::sort(customers.begin(), customers.end());
  customers.erase(std::unique(customers.begin(), customers.end()), customers.end());
  if (hidden_) std::erase_if(customers, [&](CustomerId c) { return Hidden(c); });
  if (customers.empty()) return Status::Ok();
  const ColumnMask mask = columns & segment::kAllColumns;

  std::vector<std::unique_ptr<Source>> sources;
  for (const auto& seg : segments_) {
    const auto& blocks = seg->footer().blocks;
    for (CustomerId c : customers) {
      // Blocks [b, e) may hold c (ordered by customer; a customer may straddle block edges).
      auto b = std::partition_point(blocks.begin(), blocks.end(), [c](const auto& x) { return x.last_customer < c; });
      auto e = std::partition_point(b, blocks.end(), [c](const auto& x) { return x.first_customer <= c; });
      if (b == e) continue;
      auto src = std::make_unique<SegmentSource>(seg.get(), c, static_cast<size_t>(b - blocks.begin()),
                                                 static_cast<size_t>(e - blocks.begin()), mask);
      RETURN_IF_ERROR(src->status());
      if (src->Valid()) sources.push_back(std::move(src));
    }
  }
  for (const auto& m : {imm_, mem_}) {
    if (!m) continue;
    auto src = std::make_unique<MemSource>(m.get(), &customers, seq_);
    if (src->Valid()) sources.push_back(std::move(src));
  }
  st.sources = sources.size();

  auto later = [&](size_t a, size_t b) { return sources[a]->key() > sources[b]->key(); };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  size_t held = 0;
  for (size_t i = 0; i < sources.size(); ++i) {
    heap.push(i);
    held += sources[i]->buffered_rows();
  }
  st.max_buffered_rows = held;
  while (!heap.empty()) {
    const size_t i = heap.top();
    heap.pop();
    Source& s = *sources[i];
    ++st.rows;
    if (!fn(s.row())) return Status::Ok();
    const size_t before = s.buffered_rows();
    s.Next();
    RETURN_IF_ERROR(s.status());
    held = held - before + s.buffered_rows();
    st.max_buffered_rows = std::max(st.max_buffered_rows, held);
    if (s.Valid()) heap.push(i);
  }
  return Status::Ok();
}

}  // namespace cairn::store
