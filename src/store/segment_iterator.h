#pragma once
// SegmentIterator: the rows of a segment as full Interactions, in (customer, timestamp_ms, seq)
// order, decoded a page of rows at a time. Compaction merges segments with these and drops a
// customer (erasure) by calling SkipCustomer() when it meets one: the skipped rows are never
// materialised.
//
//   for (auto it = reader->NewIterator(); it->Valid(); ) {
//     if (erased.contains(it->customer())) { it->SkipCustomer(); continue; }
//     builder->Add(it->row()); it->Next();
//   }
//   RETURN_IF_ERROR(it->status());
//
// Memory: one page of decoded rows (`page_rows` of NewIterator, default
// SegmentReader::kIteratorPageRows = 512, at most a block), not a whole block: a merge holds one
// iterator per input segment, and a 4,096-row block of 1 KiB rows is 4 MiB per input
// (docs/reliability.md, "What bounds RSS"). Pages are read with SegmentReader::ReadBlockRows,
// which decodes only the byte-column frames holding the page's rows. The rows and their order do
// not depend on the page size.
//
// Errors: on a corrupt block the iterator becomes !Valid() and status() names the block; callers
// must check status() after the loop (an early end is otherwise indistinguishable from the end).
// Thread-compatible; the reader must outlive it.

#include <cstddef>
#include <cstdint>

#include "store/segment_reader.h"

namespace cairn::store {

class SegmentIterator {
 public:
  bool Valid() const { return valid_; }
  // REQUIRES Valid(). The current row (columns not requested are default); valid until the next move.
  const Interaction& row() const { return row_; }
  CustomerId customer() const { return page_.customer[pos_ - page_begin_]; }
  void Next();
  // Advances to the first row of the next customer (possibly in a later page or block).
  void SkipCustomer();
  // Positions at the first row whose customer is >= c (from anywhere, forwards or backwards).
  void Seek(CustomerId c);
  Status status() const { return status_; }

 private:
  friend class SegmentReader;
  // page_rows 0 is taken as 1.
  SegmentIterator(const SegmentReader* reader, ColumnMask columns, uint32_t page_rows);
  // Decodes the page of block b that starts at its row `begin` (< the block's rows).
  bool LoadPage(size_t b, uint32_t begin);
  bool InPage() const { return pos_ >= page_begin_ && pos_ < page_begin_ + page_.rows; }
  // Moves past block ends, loads the page holding pos_ and materialises the current row.
  void Settle();

  const SegmentReader* reader_;
  const ColumnMask columns_;
  const uint32_t page_rows_;
  size_t block_ = 0;         // block of the current row (block_count() at the end)
  uint32_t pos_ = 0;         // the current row, as a row of block_
  uint32_t page_begin_ = 0;  // block row of page_'s first row (page_ belongs to page_block_)
  size_t page_block_ = SIZE_MAX;
  bool valid_ = false;
  Status status_;
  FixedColumns page_;
  Interaction row_;
};

}  // namespace cairn::store
