#pragma once
// SegmentIterator: the rows of a segment as full Interactions, in (customer, timestamp_ms, seq)
// order, decoded one block at a time. Compaction merges segments with these and drops a customer
// (erasure) by calling SkipCustomer() when it meets one: the skipped rows are never materialised.
//
//   for (auto it = reader->NewIterator(); it->Valid(); ) {
//     if (erased.contains(it->customer())) { it->SkipCustomer(); continue; }
//     builder->Add(it->row()); it->Next();
//   }
//   RETURN_IF_ERROR(it->status());
//
// Errors: on a corrupt block the iterator becomes !Valid() and status() names the block; callers
// must check status() after the loop (an early end is otherwise indistinguishable from the end).
// Thread-compatible; the reader must outlive it.

#include <cstddef>

#include "store/segment_reader.h"

namespace cairn::store {

class SegmentIterator {
 public:
  bool Valid() const { return valid_; }
  // REQUIRES Valid(). The current row (columns not requested are default); valid until the next move.
  const Interaction& row() const { return row_; }
  CustomerId customer() const { return cols_.customer[index_]; }
  void Next();
  // Advances to the first row of the next customer (possibly in a later block).
  void SkipCustomer();
  // Positions at the first row whose customer is >= c (from anywhere, forwards or backwards).
  void Seek(CustomerId c);
  Status status() const { return status_; }

 private:
  friend class SegmentReader;
  SegmentIterator(const SegmentReader* reader, ColumnMask columns);
  // Loads block b (or ends the iteration) and positions at its row `index`.
  void Load(size_t b, size_t index);
  void Settle();  // moves past block ends and materialises the current row

  const SegmentReader* reader_;
  const ColumnMask columns_;
  size_t block_ = 0;
  size_t index_ = 0;
  bool valid_ = false;
  Status status_;
  FixedColumns cols_;
  Interaction row_;
};

}  // namespace cairn::store
