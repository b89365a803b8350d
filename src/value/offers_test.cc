// Next best offer: rules, reasons, exclusions, complements, feature updates, and the time-split
// holdout on the real Online Retail data against a popularity baseline (docs/value.md).

#include "value/offers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "value/online_retail.h"

#ifndef CAIRN_ONLINE_RETAIL_DIR
#define CAIRN_ONLINE_RETAIL_DIR ""
#endif

namespace cairn::value {
namespace {

// 94 customers (ids 45, 55, …, 95 buy nothing): 40 bought "tent", 35 "pegs" (30 of them tent
// buyers), 80 "mug", 10 "lamp".
std::vector<ItemPurchase> Camping() {
  std::vector<ItemPurchase> p;
  for (uint64_t c = 0; c < 100; ++c) {
    if (c < 40) p.push_back({c, "tent", 1});
    if (c < 30) p.push_back({c, "pegs", 2});
    if (c >= 40 && c < 45) p.push_back({c, "pegs", 2});
    if (c % 5 != 0) p.push_back({c, "mug", 3});
    if (c % 10 == 0) p.push_back({c, "lamp", 3});
  }
  return p;
}

TEST(OffersTest, RulesHaveConfidenceLiftAndAReason) {
  OfferOptions o;
  o.min_common_buyers = 3;
  o.scoring = OfferScoring::kLiftTimesMargin;
  auto m = OfferModel::Build(Camping(), o, nullptr);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->customers(), 94);
  EXPECT_EQ(m->items(), 4u);
  const std::vector<std::string> owned = {"tent"};
  auto offers = m->Recommend(owned, 3);
  ASSERT_FALSE(offers.empty());
  EXPECT_EQ(offers[0].item, "pegs");
  EXPECT_EQ(offers[0].kind, "co_purchase");
  EXPECT_EQ(offers[0].because, "tent");
  EXPECT_NEAR(offers[0].confidence, 30.0 / 40, 1e-6);
  EXPECT_NEAR(offers[0].lift, (30.0 / 40) / (35.0 / 94), 1e-5);
  EXPECT_EQ(offers[0].reason, "bought tent; 75% of buyers of tent bought pegs (2.0× the usual rate)");
  for (const auto& off : offers) EXPECT_NE(off.item, "tent");  // never what they own
  // Popularity baseline: the most-bought unowned item.
  EXPECT_EQ(m->Popular(owned, 1), std::vector<std::string>{"mug"});
  // An owner of everything gets nothing; an unknown item is ignored.
  const std::vector<std::string> all = {"tent", "pegs", "mug", "lamp"};
  EXPECT_TRUE(m->Recommend(all, 5).empty());
  const std::vector<std::string> unknown = {"kayak"};
  EXPECT_TRUE(m->Recommend(unknown, 5).empty());
  // Margins reweigh: a rule to a high-margin item ranks above a stronger one to a cheap item.
  o.margins["mug"] = 100;
  auto m2 = OfferModel::Build(Camping(), o, nullptr);
  auto o2 = m2->Recommend(owned, 3);
  ASSERT_GE(o2.size(), 2u);
  EXPECT_EQ(o2[0].item, "mug");
  // Summed confidence (the default): mug (80% of tent buyers) outranks pegs (75%), though its lift
  // is below 1.
  OfferOptions sum;
  sum.min_common_buyers = 3;
  auto m3 = OfferModel::Build(Camping(), sum, nullptr);
  auto o3 = m3->Recommend(owned, 3);
  ASSERT_EQ(o3.size(), 3u);
  EXPECT_EQ(o3[0].item, "mug");
  EXPECT_NEAR(o3[0].score, 32.0 / 40, 1e-6);
  EXPECT_EQ(o3[1].item, "pegs");
  EXPECT_EQ(o3[2].item, "lamp");
}

TEST(OffersTest, ComplementsFirstDisplayNamesAndValidation) {
  OfferOptions o;
  o.min_common_buyers = 3;
  o.scoring = OfferScoring::kLiftTimesMargin;
  o.complements = {{"tent", "groundsheet"}};
  std::unordered_map<std::string, std::string> names = {{"tent", "Two-person tent"}, {"pegs", "Steel pegs"}};
  auto m = OfferModel::Build(Camping(), o, &names);
  const std::vector<std::string> owned = {"tent"};
  auto offers = m->Recommend(owned, 2);
  ASSERT_EQ(offers.size(), 2u);
  EXPECT_EQ(offers[0].kind, "complement");
  EXPECT_EQ(offers[0].item, "groundsheet");
  EXPECT_EQ(offers[0].reason, "bought Two-person tent; groundsheet complements it");
  EXPECT_EQ(offers[1].reason,
            "bought Two-person tent; 75% of buyers of Two-person tent bought Steel pegs (2.0× the usual rate)");
  o.min_common_buyers = 0;
  EXPECT_TRUE(OfferModel::Build(Camping(), o).status().Is(Code::kInvalidArgument));
  o.min_common_buyers = 1;
  o.margins["x"] = -1;
  EXPECT_TRUE(OfferModel::Build(Camping(), o).status().Is(Code::kInvalidArgument));
}

TEST(OffersTest, FeatureUpdateFromAVersionTrait) {
  auto o = FeatureUpdateOffer("2.4.1", "3.0");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->kind, "feature_update");
  EXPECT_EQ(o->reason, "uses version 2.4.1; version 3.0 is available");
  EXPECT_FALSE(FeatureUpdateOffer("3.0", "3.0.0").has_value());
  EXPECT_FALSE(FeatureUpdateOffer("3.1", "3.0").has_value());
  EXPECT_TRUE(FeatureUpdateOffer("v2.10", "2.11").has_value());
  EXPECT_TRUE(FeatureUpdateOffer("2.9", "2.10").has_value());
  EXPECT_FALSE(FeatureUpdateOffer("", "3.0").has_value());
  EXPECT_FALSE(FeatureUpdateOffer("beta", "3.0").has_value());
}

int64_t Day(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days(std::chrono::year_month_day{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)})
      .time_since_epoch()
      .count();
}

// Train on 2010-12-01 … 2011-08-31, hold out 2011-09-01 … 2011-12-09: the co-purchase offers must
// beat the popularity baseline (the figures are in docs/value.md).
TEST(OnlineRetail, OffersBeatPopularityOnATimeSplitHoldout) {
  const std::string path = std::string(CAIRN_ONLINE_RETAIL_DIR) + "/online_retail.csv.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  auto data = ReadOnlineRetail(path);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->rows, 541'909);
  EXPECT_EQ(data->dropped_no_customer, 135'080);
  std::printf("online retail: %lld rows; dropped %lld without customer, %lld cancelled/non-positive, %lld price<=0, "
              "%lld non-product; %zu purchase lines, %zu products\n",
              static_cast<long long>(data->rows), static_cast<long long>(data->dropped_no_customer),
              static_cast<long long>(data->dropped_cancelled), static_cast<long long>(data->dropped_price),
              static_cast<long long>(data->dropped_non_product), data->lines.size(), data->names.size());
  OfferOptions o;  // defaults: summed confidence
  for (auto [scoring, k] : {std::pair{OfferScoring::kSumConfidence, size_t{5}}, std::pair{OfferScoring::kSumConfidence, size_t{10}},
                            std::pair{OfferScoring::kLiftTimesMargin, size_t{5}}}) {
    o.scoring = scoring;
    auto r = EvaluateOffersOnHoldout(data->lines, Day(2011, 9, 1), Day(2011, 12, 9), k, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::printf("%s k=%zu: %lld customers, hit rate %.3f (popularity %.3f), precision@k %.4f (popularity %.4f); "
                "%lld rules built in %.2fs\n",
                scoring == OfferScoring::kLiftTimesMargin ? "max-lift" : "sum-confidence", k,
                static_cast<long long>(r->customers), r->hit_rate, r->baseline_hit_rate, r->precision,
                r->baseline_precision, static_cast<long long>(r->rules), r->build_seconds);
    EXPECT_EQ(r->customers, 1886);
    if (scoring == OfferScoring::kSumConfidence) {
      // Measured (docs/value.md): k=5 hit 0.353 vs 0.222, precision 0.112 vs 0.054. Floors leave room
      // for tie-order changes, not for losing to the baseline.
      EXPECT_GT(r->hit_rate, 0.30);
      EXPECT_GT(r->hit_rate, 1.3 * r->baseline_hit_rate);
      EXPECT_GT(r->precision, 1.6 * r->baseline_precision);
    }
  }
}

}  // namespace
}  // namespace cairn::value
