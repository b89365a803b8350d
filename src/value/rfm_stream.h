#pragma once
// RfmStream: the RFM summaries of a store computed while its columns stream by, for stores whose
// rows come in customer order (a compacted store: each segment sorted by (customer, timestamp),
// segments covering disjoint customer ranges). A customer's purchases are held only until the next
// customer starts, then summarised straight into their slot of a SummarySlab: no list of the whole
// store's purchases is built, and the summaries are written once, where they stay.
//
// Several streams fill one slab side by side (e.g. one per thread over consecutive segment ranges;
// SummarySlab::Close then closes the gaps). A store whose segments overlap in customers (fresh
// flushes before compaction, merged identities) is for PurchaseColumns, which sorts.
//
// Not thread-safe; one stream per thread. docs/value.md "Benchmarks".

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "value/purchase_columns.h"
#include "value/rfm.h"

namespace cairn::value {

// Storage for up to `capacity` summaries (ids and rows), allocated once and never grown. Pages are
// only touched where a summary is written, so sizing by an upper bound of the customer count (e.g.
// from a segment's block index) costs address space, not memory; the buffers are marked for
// transparent huge pages where the OS has them (a fresh 4 KiB page costs ~8 µs of kernel time to
// fault in on a VM: a 2M-customer table is ~35,000 of them).
class SummarySlab {
 public:
  explicit SummarySlab(size_t capacity);
  ~SummarySlab();
  SummarySlab(const SummarySlab&) = delete;
  SummarySlab& operator=(const SummarySlab&) = delete;

  size_t capacity() const { return capacity_; }
  uint64_t* ids() { return ids_; }
  RfmSummary* rows() { return rows_; }

  // After streams filled slices [offset, offset + count) (ascending, disjoint): moves them together
  // at the front, in order, and sets size() to the total.
  struct Slice {
    size_t offset = 0, count = 0;
  };
  void Close(std::span<const Slice> slices);

  size_t size() const { return size_; }
  std::span<const uint64_t> id_span() const { return {ids_, size_}; }
  std::span<const RfmSummary> row_span() const { return {rows_, size_}; }

 private:
  size_t capacity_ = 0, size_ = 0;
  uint64_t* ids_ = nullptr;
  RfmSummary* rows_ = nullptr;
};

class RfmStream {
 public:
  // Summaries go to ids[0..capacity) / rows[0..capacity) (e.g. a slice of a SummarySlab).
  RfmStream(PurchaseRule rule, RfmOptions options, uint64_t* ids, RfmSummary* rows, size_t capacity);

  // The event dictionary of the blocks that follow (a segment's).
  void BeginSegment(std::span<const std::string> event_names);
  // Takes a block of rows. Customers must not decrease from one row to the next across all calls
  // (a customer may continue over blocks and segments; their purchases need not be in time order):
  // FailedPrecondition otherwise, and ResourceExhausted past `capacity` customers. After an error
  // the stream's output is unspecified.
  Status Add(const PurchaseBlock& block);
  // Summarises the last customer. Call once, after the last Add.
  Status Finish();

  size_t size() const { return size_; }          // summaries written
  int64_t purchases() const { return purchases_; }  // purchase rows taken

 private:
  Status Flush();  // summarises the current customer's purchases (if any)

  const PurchaseRule rule_;
  const RfmOptions options_;
  uint64_t* const ids_;
  RfmSummary* const rows_;
  const size_t capacity_;
  size_t size_ = 0;
  int64_t purchases_ = 0;
  std::vector<uint8_t> is_purchase_code_;  // per event code of the current segment (+ a 0)
  std::vector<uint32_t> marked_;           // purchase rows of the current block
  bool have_current_ = false;
  uint64_t current_ = 0;                   // the customer whose purchases are in `buffer_`
  std::vector<Purchase> buffer_;
};

}  // namespace cairn::value
