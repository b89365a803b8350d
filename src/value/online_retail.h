#pragma once
// Reader for the UCI "Online Retail" file (../shared/data/online-retail, README there) and the
// time-split holdout evaluation of next best offer against a popularity baseline
// (docs/value.md "Next best offer"). Cleaning choices, each counted:
//   - rows without a CustomerID are dropped (no one to recommend to);
//   - cancellations (InvoiceNo starting with 'C') and rows with Quantity ≤ 0 are dropped;
//   - rows with UnitPrice ≤ 0 are dropped (adjustments, free samples);
//   - non-product stock codes are dropped: a product code starts with five digits (85123A, 22423);
//     POST, D, M, DOT, C2, BANK CHARGES, AMAZONFEE, CRUK, PADS, gift_0001_* … do not.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "value/offers.h"

namespace cairn::value {

struct OnlineRetailData {
  std::vector<ItemPurchase> lines;                         // day = days since 1970-01-01
  std::unordered_map<std::string, std::string> names;      // stock code → first description seen
  int64_t rows = 0;
  int64_t dropped_no_customer = 0, dropped_cancelled = 0, dropped_price = 0, dropped_non_product = 0;
};

// Reads the gzip'd (or plain) CSV. InvalidArgument naming the line and field on malformed rows;
// NotFound when the file is missing.
Result<OnlineRetailData> ReadOnlineRetail(const std::string& path);

struct HoldoutResult {
  int64_t customers = 0;         // evaluated: bought before the split and something new after
  double hit_rate = 0;           // share of them with ≥1 of the k offers bought in the holdout
  double precision = 0;          // mean over them of (offers bought) / k
  double baseline_hit_rate = 0;  // the same for the k most popular unowned items
  double baseline_precision = 0;
  double build_seconds = 0;      // building the co-occurrence model on the training period
  int64_t rules = 0;
};

// Trains on purchases with day < split_day, recommends k items per customer (excluding what they
// bought before the split) and checks them against the items they first bought in
// [split_day, end_day].
Result<HoldoutResult> EvaluateOffersOnHoldout(const std::vector<ItemPurchase>& purchases, int64_t split_day,
                                              int64_t end_day, size_t k, const OfferOptions& options);

}  // namespace cairn::value
