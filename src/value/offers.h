#pragma once
// Next best offer (DOMAIN.md §9, docs/value.md "Next best offer"): item-to-item co-occurrence over
// customers' purchase histories (market-basket confidence and lift), configured complementary
// product sets, and feature-update guidance from a product-version trait. Every offer carries its
// reason in words. Pure functions over plain data, no I/O; consent is the caller's gate (the value
// engine asks its consent hook for the purpose `personalisation` before answering).
//
// Definitions, over N customers (a customer's "basket" is every distinct item they ever bought):
//   buyers(X)        customers who bought X
//   co(X, Y)         customers who bought both
//   confidence(X→Y)  co(X, Y) / buyers(X)          ("31% of buyers of X bought Y")
//   lift(X→Y)        confidence(X→Y) / (buyers(Y) / N)   (how much likelier than for anyone)

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace cairn::value {

// One purchase of one item by one customer (repeats are fine: baskets are sets).
struct ItemPurchase {
  uint64_t customer = 0;
  std::string item;   // product id / SKU
  int64_t day = 0;    // for choosing the most recent items of very large baskets
};

// How candidate items are ranked. On Online Retail's time-split holdout (docs/value.md) summed
// confidence beats the popularity baseline (hit@5 0.353 vs 0.222) while the max-lift ranking loses
// to it (0.131): lift favours rare items that few customers go on to buy.
enum class OfferScoring {
  kSumConfidence,     // Σ over owned X of confidence(X→Y), × margin(Y) — item-based vote (default)
  kLiftTimesMargin,   // max over owned X of lift(X→Y), × margin(Y)
};

struct OfferOptions {
  // A pair needs at least this many common buyers to be a rule (noise floor). Default 5.
  int64_t min_common_buyers = 5;
  // Rules kept per item (the strongest by lift). Default 100.
  size_t neighbours = 100;
  // Baskets larger than this count only their most recent items towards co-occurrence (bounds the
  // O(n²) pair work of a few wholesale buyers). Default 300.
  size_t max_basket = 300;
  OfferScoring scoring = OfferScoring::kSumConfidence;  // Default kSumConfidence.
  // Margin per item (any unit; only ratios matter); items not listed get default_margin. Default 1.
  std::unordered_map<std::string, double> margins;
  double default_margin = 1;
  // Complementary product sets (from the config): owning one member suggests the others first.
  std::vector<std::vector<std::string>> complements;
};
Status ValidateOfferOptions(const OfferOptions& options);

struct Offer {
  std::string kind;        // "complement", "co_purchase", "feature_update"
  std::string item;        // product id, or the version for "feature_update"
  double score = 0;        // ranking score within the kind (complements rank first)
  double confidence = 0;   // co_purchase: of the rule that gave the reason
  double lift = 0;
  std::string because;     // the owned item behind the offer ("" for feature_update)
  std::string reason;      // in words
};

class OfferModel {
 public:
  // Builds the co-occurrence rules. `names` (optional) maps items to display names for reasons.
  static Result<OfferModel> Build(std::span<const ItemPurchase> purchases, const OfferOptions& options,
                                  const std::unordered_map<std::string, std::string>* names = nullptr);

  // Up to k offers for a customer who owns `owned` (items never offered again), best first:
  // configured complements, then co-purchase rules. Unknown owned items are ignored.
  std::vector<Offer> Recommend(std::span<const std::string> owned, size_t k) const;
  // Baseline: the k items with the most buyers that the customer does not own.
  std::vector<std::string> Popular(std::span<const std::string> owned, size_t k) const;

  int64_t customers() const { return customers_; }
  size_t items() const { return item_names_.size(); }
  int64_t rules() const { return rules_; }

 private:
  struct Rule {
    uint32_t to;
    float confidence, lift;
  };
  double Margin(uint32_t item) const;
  std::string Display(uint32_t item) const;

  OfferOptions options_;
  int64_t customers_ = 0;
  int64_t rules_ = 0;
  std::vector<std::string> item_names_;          // id → item
  std::vector<std::string> display_;             // id → display name ("" = the item itself)
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<int64_t> buyers_;                  // id → buyers
  std::vector<std::vector<Rule>> rules_by_item_; // id → strongest rules X→Y
  std::vector<uint32_t> by_popularity_;          // ids, most buyers first
};

// Feature-update guidance: when `current` (a dotted version such as "2.4.1", from the product-
// version trait) is older than `latest`, an offer of kind "feature_update"; nullopt otherwise or
// when either is empty / not a dotted number.
std::optional<Offer> FeatureUpdateOffer(std::string_view current, std::string_view latest);

}  // namespace cairn::value
