#include "store/segment_iterator.h"

#include <algorithm>

namespace cairn::store {

SegmentIterator::SegmentIterator(const SegmentReader* reader, ColumnMask columns)
    : reader_(reader), columns_(columns | segment::Bit(segment::Column::kCustomer)) {
  Load(0, 0);
}

void SegmentIterator::Load(size_t b, size_t index) {
  valid_ = false;
  block_ = b;
  index_ = index;
  if (!status_.ok() || b >= reader_->block_count()) return;
  status_ = reader_->ReadBlock(b, columns_, &cols_);
  if (!status_.ok()) return;
  Settle();
}

void SegmentIterator::Settle() {
  // Blocks are never empty, so at most one hop is needed per call chain; loop for safety.
  while (index_ >= cols_.rows) {
    if (block_ + 1 >= reader_->block_count()) {
      valid_ = false;
      return;
    }
    ++block_;
    index_ = 0;
    status_ = reader_->ReadBlock(block_, columns_, &cols_);
    if (!status_.ok()) {
      valid_ = false;
      return;
    }
  }
  valid_ = true;
  reader_->MaterializeRow(cols_, index_, &row_);
}

void SegmentIterator::Next() {
  if (!valid_) return;
  ++index_;
  Settle();
}

void SegmentIterator::SkipCustomer() {
  if (!valid_) return;
  const CustomerId c = customer();
  // Jump to the end of the run in this block; if the run reaches the block's end, the customer
  // may continue in the next block(s): skip those rows too.
  while (true) {
    auto end = std::upper_bound(cols_.customer.begin() + index_, cols_.customer.begin() + cols_.rows, c);
    index_ = static_cast<size_t>(end - cols_.customer.begin());
    if (index_ < cols_.rows) break;
    if (block_ + 1 >= reader_->block_count() || reader_->block(block_ + 1).first_customer != c) break;
    Load(block_ + 1, 0);
    if (!status_.ok()) return;
    index_ = 0;
  }
  Settle();
}

void SegmentIterator::Seek(CustomerId c) {
  if (!status_.ok()) return;
  const auto& blocks = reader_->footer().blocks;
  const size_t b = static_cast<size_t>(
      std::partition_point(blocks.begin(), blocks.end(), [c](const auto& e) { return e.last_customer < c; }) -
      blocks.begin());
  if (b >= blocks.size()) {
    valid_ = false;
    block_ = blocks.size();
    return;
  }
  if (b != block_ || cols_.rows == 0 || cols_.block != b) {
    status_ = reader_->ReadBlock(b, columns_, &cols_);
    block_ = b;
    if (!status_.ok()) {
      valid_ = false;
      return;
    }
  }
  index_ = static_cast<size_t>(std::lower_bound(cols_.customer.begin(), cols_.customer.begin() + cols_.rows, c) -
                               cols_.customer.begin());
  Settle();
}

}  // namespace cairn::store
