#include "store/segment_iterator.h"

#include <algorithm>

namespace cairn::store {

SegmentIterator::SegmentIterator(const SegmentReader* reader, ColumnMask columns, uint32_t page_rows)
    : reader_(reader),
      columns_(columns | segment::Bit(segment::Column::kCustomer)),
      page_rows_(std::max<uint32_t>(page_rows, 1)) {
  Settle();
}

bool SegmentIterator::LoadPage(size_t b, uint32_t begin) {
  const uint32_t end = std::min<uint32_t>(reader_->block(b).rows, begin + std::min(page_rows_, UINT32_MAX - begin));
  status_ = reader_->ReadBlockRows(b, begin, end, columns_, &page_);
  if (!status_.ok()) {
    valid_ = false;
    page_block_ = SIZE_MAX;
    return false;
  }
  page_block_ = b;
  page_begin_ = begin;
  return true;
}

void SegmentIterator::Settle() {
  valid_ = false;
  if (!status_.ok()) return;
  // Blocks are never empty, so at most one hop is needed per call chain; loop for safety.
  while (block_ < reader_->block_count() && pos_ >= reader_->block(block_).rows) {
    ++block_;
    pos_ = 0;
  }
  if (block_ >= reader_->block_count()) return;
  if ((page_block_ != block_ || !InPage()) && !LoadPage(block_, pos_)) return;
  valid_ = true;
  reader_->MaterializeRow(page_, pos_ - page_begin_, &row_);
}

void SegmentIterator::Next() {
  if (!valid_) return;
  ++pos_;
  Settle();
}

void SegmentIterator::SkipCustomer() {
  if (!valid_) return;
  const CustomerId c = customer();
  // Jump to the end of the customer's run in this page. If the run reaches the page's end it may
  // go on in the next page, and past the block's end in the next block(s); a block holding only
  // this customer is passed by its index entry without being read.
  while (true) {
    const auto first = page_.customer.begin();
    const auto end = std::upper_bound(first + (pos_ - page_begin_), first + static_cast<std::ptrdiff_t>(page_.rows), c);
    pos_ = page_begin_ + static_cast<uint32_t>(end - first);
    if (pos_ < page_begin_ + page_.rows) break;  // the next customer starts in this page
    if (pos_ < reader_->block(block_).rows) {
      if (!LoadPage(block_, pos_)) return;
      continue;
    }
    const size_t count = reader_->block_count();
    while (block_ + 1 < count && reader_->block(block_ + 1).first_customer == c &&
           reader_->block(block_ + 1).last_customer == c) {
      ++block_;
    }
    if (block_ + 1 >= count || reader_->block(block_ + 1).first_customer != c) {
      pos_ = reader_->block(block_).rows;  // the next customer starts the next block
      break;
    }
    ++block_;
    pos_ = 0;
    if (!LoadPage(block_, 0)) return;
  }
  Settle();
}

void SegmentIterator::Seek(CustomerId c) {
  if (!status_.ok()) return;
  const auto& blocks = reader_->footer().blocks;
  const size_t b = static_cast<size_t>(
      std::partition_point(blocks.begin(), blocks.end(), [c](const auto& e) { return e.last_customer < c; }) -
      blocks.begin());
  block_ = b;
  pos_ = 0;
  if (b < blocks.size() && blocks[b].first_customer < c) {
    // The row is inside the block: find it from the block's customer column alone.
    FixedColumns ids;
    status_ = reader_->ReadBlockRows(b, 0, blocks[b].rows, segment::Bit(segment::Column::kCustomer), &ids);
    if (!status_.ok()) {
      valid_ = false;
      return;
    }
    pos_ = static_cast<uint32_t>(std::lower_bound(ids.customer.begin(), ids.customer.begin() + ids.rows, c) -
                                 ids.customer.begin());
  }
  Settle();
}

}  // namespace cairn::store
