#pragma once
// PurchaseColumns: the RFM summaries of every customer straight from column blocks, the shape the
// store's segments decode to (store::FixedColumns: rows sorted by (customer, timestamp) within a
// segment; event names as codes into the segment's dictionary). One pass over the rows picks the
// purchases (a per-code table and the revenue column: no string compare, no row object, no hash
// lookup per row), then each customer's purchases are summarised in place. Rows from several
// segments (the same customer in two of them) and merged identities are handled: the purchases are
// re-sorted only when they are not already in (customer, day) order.
//
// Not thread-safe; one collector per scan. docs/value.md "Benchmarks".

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "value/rfm.h"

namespace cairn::value {

// One block of rows, column by column (all spans the same length).
struct PurchaseBlock {
  std::span<const uint64_t> customer;
  std::span<const int64_t> timestamp_ms;
  std::span<const uint32_t> event;  // codes into the dictionary given to BeginSegment
  std::span<const uint8_t> type;    // store::MessageType values
  std::span<const double> revenue;
};

// Per event code of a dictionary, 1 when the code is one of `rule.events` (plus a trailing 0 for
// codes out of range): the table MarkPurchaseRows reads.
std::vector<uint8_t> PurchaseCodes(std::span<const std::string> event_names, const PurchaseRule& rule);
// The IsPurchase predicate over a block's columns, branch-free: revenue > 0 (when
// `rule.any_positive_revenue`) or a track whose code is marked in `codes` (from PurchaseCodes).
// Writes the purchase rows' indexes, ascending, to the front of *rows (resized to the block's
// length) and returns how many there are.
size_t MarkPurchaseRows(const PurchaseBlock& block, std::span<const uint8_t> codes, const PurchaseRule& rule,
                        std::vector<uint32_t>* rows);

class PurchaseColumns {
 public:
  explicit PurchaseColumns(PurchaseRule rule) : rule_(std::move(rule)) {}

  // The event dictionary of the blocks that follow (a segment's).
  void BeginSegment(std::span<const std::string> event_names);
  // Takes the purchases of a block (rows of one segment, in its order).
  void Add(const PurchaseBlock& block);

  struct Result {
    std::vector<uint64_t> ids;        // canonical customers, ascending
    std::vector<RfmSummary> rows;     // aligned with ids
    int64_t purchases = 0;            // purchase rows taken
  };
  // Summaries per canonical customer (`canonical` maps an id, e.g. through identity merges; called
  // once per run of equal ids, not per row). Customers with no purchase up to calibration_end_day
  // are left out (as Summarize does).
  Result Summaries(const RfmOptions& options, const std::function<uint64_t(uint64_t)>& canonical = {});

  // Appends `other`'s purchases after this one's (e.g. a scan split over threads by block ranges:
  // appending the ranges in order keeps a sorted store's purchases sorted).
  void Append(PurchaseColumns&& other);

  // The summaries of collectors that scanned consecutive ranges of a store, in range order (e.g.
  // one per thread): the same result as Append-ing them all into the first and calling Summaries,
  // without the copy, and summarised on up to `threads` threads. Parallel when the parts do not
  // interleave (every customer of a part is above the previous part's; a customer straddling two
  // consecutive parts is moved whole into the earlier one) and there is no `canonical` mapping
  // (which can reorder customers); otherwise appended and summarised as one. Consumes `parts`.
  static Result SummariesOf(std::vector<PurchaseColumns>& parts, const RfmOptions& options,
                            const std::function<uint64_t(uint64_t)>& canonical = {}, int threads = 2);

  size_t purchases() const { return customer_.size(); }

 private:
  PurchaseRule rule_;
  std::vector<uint8_t> is_purchase_code_;  // per event code of the current segment
  int64_t offset_ms_ = 0;
  // Purchases: customer, and (day, value) as Summarize takes them (no copy when already sorted).
  std::vector<uint64_t> customer_;
  std::vector<Purchase> purchase_;
};

}  // namespace cairn::value
