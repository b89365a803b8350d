#include "value/rfm.h"

#include <gtest/gtest.h>

namespace cairn::value {
namespace {

RfmOptions Weekly(int64_t cal_end, int64_t holdout_end) {
  RfmOptions o;
  o.days_per_unit = 7;
  o.calibration_end_day = cal_end;
  o.holdout_end_day = holdout_end;
  return o;
}

TEST(Rfm, MergesSameDayPurchasesAndKeepsTheTrialOut) {
  // Trial on day 1 (two rows), repeats on days 15 (two rows) and 29, a holdout purchase on 300.
  std::vector<Purchase> p{{29, 5}, {1, 10}, {15, 3}, {1, 2}, {15, 4}, {300, 8}, {400, 1}};
  auto s = Summarize(p, Weekly(273, 350));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->x, 2);                      // days 15 and 29, not 4 rows
  EXPECT_DOUBLE_EQ(s->t_x, 28.0 / 7);      // (29 − 1) / 7
  EXPECT_DOUBLE_EQ(s->T, 272.0 / 7);       // 38.857 for a first purchase on day 1
  EXPECT_DOUBLE_EQ(s->m_x, (7 + 5) / 2.0); // repeat value per repeat day; the trial's 12 excluded
  EXPECT_DOUBLE_EQ(s->first_value, 12);
  EXPECT_EQ(s->holdout_x, 1);              // day 400 is past the holdout end
  EXPECT_DOUBLE_EQ(s->holdout_value, 8);
}

TEST(Rfm, OneTimeBuyerAndCustomersOutsideTheCohort) {
  std::vector<Purchase> once{{100, 9.5}};
  auto s = Summarize(once, Weekly(273, 273));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->x, 0);
  EXPECT_EQ(s->t_x, 0);
  EXPECT_DOUBLE_EQ(s->T, 173.0 / 7);
  EXPECT_EQ(s->m_x, 0);
  std::vector<Purchase> late{{280, 1}};
  EXPECT_FALSE(Summarize(late, Weekly(273, 546)).has_value());
  EXPECT_FALSE(Summarize({}, Weekly(273, 546)).has_value());
}

TEST(Rfm, ZeroValueDaysStillCountAndTimeUnitIsConfigurable) {
  std::vector<Purchase> p{{10, 0}, {12, 0}, {20, 6}};
  RfmOptions daily = Weekly(30, 30);
  daily.days_per_unit = 1;
  auto s = Summarize(p, daily);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->x, 2);
  EXPECT_DOUBLE_EQ(s->t_x, 10);
  EXPECT_DOUBLE_EQ(s->T, 20);
  EXPECT_DOUBLE_EQ(s->m_x, 3);
}

TEST(Rfm, OptionsAreValidatedNamingTheField) {
  RfmOptions o = Weekly(10, 5);
  auto st = ValidateRfmOptions(o);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("holdout_end_day"), std::string_view::npos);
  o = Weekly(10, 10);
  o.days_per_unit = 0;
  st = ValidateRfmOptions(o);
  EXPECT_NE(st.message().find("days_per_unit"), std::string_view::npos);
}

TEST(Rfm, InteractionsToPurchases) {
  PurchaseRule rule;
  store::Interaction order;
  order.type = store::MessageType::kTrack;
  order.event = "Order Completed";
  order.timestamp_ms = 86'400'000LL * 3 + 5;  // day 3
  order.revenue = 0;                          // a zero-value order is still a purchase
  store::Interaction paid;
  paid.type = store::MessageType::kTrack;
  paid.event = "Subscription Renewed";
  paid.timestamp_ms = 86'400'000LL * 4;
  paid.revenue = 12.5;
  store::Interaction page;
  page.type = store::MessageType::kPage;
  page.event = "Order Completed";
  page.timestamp_ms = 1;
  std::vector<store::Interaction> all{order, paid, page};
  auto p = PurchasesOf(all, rule);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].day, 3);
  EXPECT_EQ(p[1].day, 4);
  EXPECT_DOUBLE_EQ(p[1].value, 12.5);
  rule.any_positive_revenue = false;
  EXPECT_EQ(PurchasesOf(all, rule).size(), 1u);
  // Days are cut in the business's time zone, with floor division before 1970.
  EXPECT_EQ(DayOf(-1, PurchaseRule{}), -1);
  PurchaseRule tokyo;
  tokyo.utc_offset_minutes = 9 * 60;
  EXPECT_EQ(DayOf(86'400'000LL - 3'600'000, tokyo), 1);  // 23:00 UTC is the next day in Tokyo
}

TEST(Rfm, CompressionMergesIdenticalRows) {
  std::vector<RfmSummary> rows(5);
  rows[0].x = 1; rows[0].t_x = 2; rows[0].T = 3;
  rows[1] = rows[0];
  rows[2].x = 0; rows[2].T = 3;
  rows[3] = rows[2];
  rows[4].x = 4; rows[4].t_x = 1; rows[4].T = 3;
  auto d = CompressForFit(rows);
  ASSERT_EQ(d.x.size(), 3u);
  EXPECT_EQ(d.customers, 5);
  EXPECT_EQ(d.max_x, 4);
  double w = 0;
  for (double v : d.weight) w += v;
  EXPECT_EQ(w, 5);
}

}  // namespace
}  // namespace cairn::value
