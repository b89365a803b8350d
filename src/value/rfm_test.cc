#include "value/rfm.h"

#include <map>
#include <random>

#include "value/purchase_columns.h"
#include "value/rfm_stream.h"

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

// The column path gives exactly the summaries of the row path (IsPurchase, DayOf, Summarize per
// canonical customer): two segments with different dictionaries, the same customers in both (so
// the purchases arrive out of order), a merge, a business time zone, revenue-only purchases and
// purchases after the calibration end.
TEST(PurchaseColumns, SameSummariesAsTheRowPath) {
  PurchaseRule rule;
  rule.events = {"Order Completed", "Deal Won"};
  rule.utc_offset_minutes = -300;
  RfmOptions opt;
  opt.calibration_end_day = 20'100;
  opt.holdout_end_day = 20'130;
  const std::vector<std::string> dict_a = {"Page Viewed", "Order Completed", "Deal Won"};
  const std::vector<std::string> dict_b = {"Deal Won", "Email Opened", "Order Completed", "Refund"};
  auto canonical = [](uint64_t c) { return c == 7 ? uint64_t{3} : c; };  // 7 was merged into 3
  std::mt19937_64 rng(5);
  PurchaseColumns cols(rule);
  std::map<uint64_t, std::vector<Purchase>> by_customer;
  for (const auto* dict : {&dict_a, &dict_b}) {
    cols.BeginSegment(*dict);
    std::vector<uint64_t> customer;
    std::vector<int64_t> ts;
    std::vector<uint32_t> event;
    std::vector<uint8_t> type;
    std::vector<double> revenue;
    for (uint64_t c = 1; c <= 40; ++c) {  // sorted by (customer, time) within the segment
      int64_t t = 20'000LL * 86'400'000 + static_cast<int64_t>(rng() % (86'400'000ULL * 60));
      for (int k = 0, n = static_cast<int>(rng() % 6); k < n; ++k) {
        t += static_cast<int64_t>(rng() % (86'400'000ULL * 30));
        store::Interaction in;
        in.customer = c;
        in.timestamp_ms = t;
        const uint32_t code = static_cast<uint32_t>(rng() % dict->size());
        in.event = (*dict)[code];
        in.type = rng() % 5 ? store::MessageType::kTrack : store::MessageType::kPage;
        in.revenue = rng() % 3 ? 0.0 : static_cast<double>(rng() % 100);  // some revenue on any event
        customer.push_back(c);
        ts.push_back(t);
        event.push_back(code);
        type.push_back(static_cast<uint8_t>(in.type));
        revenue.push_back(in.revenue);
        if (IsPurchase(in, rule)) by_customer[canonical(c)].push_back({DayOf(t, rule), in.revenue});
      }
    }
    // Two blocks per segment.
    const size_t half = customer.size() / 2;
    auto block = [&](size_t from, size_t to) {
      return PurchaseBlock{std::span(customer).subspan(from, to - from), std::span(ts).subspan(from, to - from),
                           std::span(event).subspan(from, to - from), std::span(type).subspan(from, to - from),
                           std::span(revenue).subspan(from, to - from)};
    };
    cols.Add(block(0, half));
    cols.Add(block(half, customer.size()));
  }
  auto got = cols.Summaries(opt, canonical);
  std::vector<uint64_t> ids;
  std::vector<RfmSummary> rows;
  int64_t purchases = 0;
  for (const auto& [c, p] : by_customer) {
    purchases += static_cast<int64_t>(p.size());
    if (auto s = Summarize(p, opt)) {
      ids.push_back(c);
      rows.push_back(*s);
    }
  }
  EXPECT_EQ(got.purchases, purchases);
  ASSERT_EQ(got.ids, ids);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 7u), 0);
  ASSERT_GT(ids.size(), 20u);
  for (size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    EXPECT_EQ(got.rows[i].x, rows[i].x);
    EXPECT_DOUBLE_EQ(got.rows[i].t_x, rows[i].t_x);
    EXPECT_DOUBLE_EQ(got.rows[i].T, rows[i].T);
    EXPECT_DOUBLE_EQ(got.rows[i].m_x, rows[i].m_x);
    EXPECT_DOUBLE_EQ(got.rows[i].first_value, rows[i].first_value);
    EXPECT_EQ(got.rows[i].holdout_x, rows[i].holdout_x);
    EXPECT_DOUBLE_EQ(got.rows[i].holdout_value, rows[i].holdout_value);
  }
}

// Parts scanned from consecutive ranges (cut inside a customer's rows, one part empty) summarise
// in parallel to exactly what one collector gives; parts that interleave (given out of order)
// fall back to the single path and still agree.
TEST(PurchaseColumns, SummariesOfPartsEqualOneCollector) {
  PurchaseRule rule;
  RfmOptions opt;
  opt.calibration_end_day = opt.holdout_end_day = 20'100;
  const std::vector<std::string> dict = {"Page Viewed", "Order Completed"};
  std::mt19937_64 rng(9);
  std::vector<uint64_t> customer;
  std::vector<int64_t> ts;
  std::vector<uint32_t> event;
  std::vector<uint8_t> type;
  std::vector<double> revenue;
  for (uint64_t c = 1; c <= 300; ++c) {
    int64_t t = 19'900LL * 86'400'000 + static_cast<int64_t>(rng() % (86'400'000ULL * 60));
    for (int k = 0, n = 1 + static_cast<int>(rng() % 12); k < n; ++k) {
      t += static_cast<int64_t>(rng() % (86'400'000ULL * 10));
      const uint32_t code = static_cast<uint32_t>(rng() % 2);
      customer.push_back(c);
      ts.push_back(t);
      event.push_back(code);
      type.push_back(static_cast<uint8_t>(store::MessageType::kTrack));
      revenue.push_back(code == 1 ? static_cast<double>(1 + rng() % 50) : 0.0);
    }
  }
  auto block = [&](size_t from, size_t to) {
    return PurchaseBlock{std::span(customer).subspan(from, to - from), std::span(ts).subspan(from, to - from),
                         std::span(event).subspan(from, to - from), std::span(type).subspan(from, to - from),
                         std::span(revenue).subspan(from, to - from)};
  };
  PurchaseColumns one(rule);
  one.BeginSegment(dict);
  one.Add(block(0, customer.size()));
  const auto want = one.Summaries(opt);
  ASSERT_GT(want.ids.size(), 200u);

  // Cuts inside a customer's run of purchases: that customer straddles two parts.
  size_t cut1 = customer.size() / 3, cut2 = 2 * customer.size() / 3;
  while (!(customer[cut1] == customer[cut1 - 1] && event[cut1] == 1 && event[cut1 - 1] == 1)) ++cut1;
  while (customer[cut2] != customer[cut2 - 1]) ++cut2;
  auto check = [&](const std::vector<std::pair<size_t, size_t>>& ranges, int threads) {
    std::vector<PurchaseColumns> parts(ranges.size(), PurchaseColumns(rule));
    for (size_t k = 0; k < ranges.size(); ++k) {
      parts[k].BeginSegment(dict);
      if (ranges[k].first < ranges[k].second) parts[k].Add(block(ranges[k].first, ranges[k].second));
    }
    const auto got = PurchaseColumns::SummariesOf(parts, opt, {}, threads);
    EXPECT_EQ(got.purchases, want.purchases);
    ASSERT_EQ(got.ids, want.ids);
    for (size_t i = 0; i < want.ids.size(); ++i) {
      SCOPED_TRACE(want.ids[i]);
      EXPECT_EQ(got.rows[i].x, want.rows[i].x);
      EXPECT_DOUBLE_EQ(got.rows[i].t_x, want.rows[i].t_x);
      EXPECT_DOUBLE_EQ(got.rows[i].T, want.rows[i].T);
      EXPECT_DOUBLE_EQ(got.rows[i].m_x, want.rows[i].m_x);
      EXPECT_DOUBLE_EQ(got.rows[i].first_value, want.rows[i].first_value);
    }
  };
  check({{0, cut1}, {cut1, cut2}, {cut2, cut2}, {cut2, customer.size()}}, 2);
  check({{0, cut1}, {cut1, cut2}, {cut2, customer.size()}}, 3);
  check({{cut2, customer.size()}, {0, cut1}, {cut1, cut2}}, 2);  // out of order: the single path
  check({{0, cut1}, {cut1, customer.size()}}, 1);
}

// The streaming path gives exactly the row path's summaries: two "segments" with different
// dictionaries over consecutive customer ranges, a customer continued from the first segment into
// the second with earlier purchases there (time order is restored), customers without a purchase
// or without one before the calibration end (no slot), a business time zone, revenue-only
// purchases. Two streams fill one slab side by side and Close moves them together. Customers out of
// order and more customers than the slab was sized for are errors, not wrong answers.
TEST(RfmStream, SameSummariesAsTheRowPathIntoOneSlab) {
  PurchaseRule rule;
  rule.events = {"Order Completed", "Deal Won"};
  rule.utc_offset_minutes = 120;
  RfmOptions opt;
  opt.calibration_end_day = 20'100;
  opt.holdout_end_day = 20'130;
  const std::vector<std::string> dict_a = {"Page Viewed", "Order Completed", "Deal Won"};
  const std::vector<std::string> dict_b = {"Deal Won", "Email Opened", "Order Completed", "Refund"};
  std::mt19937_64 rng(11);
  struct Segment {
    const std::vector<std::string>* dict;
    std::vector<uint64_t> customer;
    std::vector<int64_t> ts;
    std::vector<uint32_t> event;
    std::vector<uint8_t> type;
    std::vector<double> revenue;
    PurchaseBlock Block(size_t from, size_t to) const {
      return PurchaseBlock{std::span(customer).subspan(from, to - from), std::span(ts).subspan(from, to - from),
                           std::span(event).subspan(from, to - from), std::span(type).subspan(from, to - from),
                           std::span(revenue).subspan(from, to - from)};
    }
  };
  std::map<uint64_t, std::vector<Purchase>> by_customer;
  auto fill = [&](Segment* seg, uint64_t from, uint64_t to, int64_t start_day) {
    for (uint64_t c = from; c <= to; ++c) {
      int64_t t = start_day * 86'400'000 + static_cast<int64_t>(rng() % (86'400'000ULL * 60));
      for (int k = 0, n = static_cast<int>(rng() % 7); k < n; ++k) {
        t += static_cast<int64_t>(rng() % (86'400'000ULL * 25));
        store::Interaction in;
        in.customer = c;
        in.timestamp_ms = t;
        const uint32_t code = static_cast<uint32_t>(rng() % seg->dict->size());
        in.event = (*seg->dict)[code];
        in.type = rng() % 5 ? store::MessageType::kTrack : store::MessageType::kPage;
        in.revenue = rng() % 3 ? 0.0 : static_cast<double>(rng() % 100);
        seg->customer.push_back(c);
        seg->ts.push_back(t);
        seg->event.push_back(code);
        seg->type.push_back(static_cast<uint8_t>(in.type));
        seg->revenue.push_back(in.revenue);
        if (IsPurchase(in, rule)) by_customer[c].push_back({DayOf(t, rule), in.revenue});
      }
    }
  };
  Segment a, b, c;
  a.dict = c.dict = &dict_a;
  b.dict = &dict_b;
  fill(&a, 1, 60, 20'000);
  fill(&b, 60, 110, 19'950);  // customer 60 goes on here, from earlier days
  fill(&c, 111, 170, 20'000);
  ASSERT_TRUE(std::count(b.customer.begin(), b.customer.end(), 60u) > 0);
  std::vector<uint64_t> want_ids;
  std::vector<RfmSummary> want_rows;
  for (const auto& [id, p] : by_customer)
    if (auto s = Summarize(p, opt)) {
      want_ids.push_back(id);
      want_rows.push_back(*s);
    }
  ASSERT_GT(want_ids.size(), 80u);
  ASSERT_LT(want_ids.size(), 170u);  // some customers have no slot

  // Stream 1: segments a and b; stream 2: segment c, with room for 170 customers each.
  SummarySlab slab(340);
  std::vector<SummarySlab::Slice> slices = {{0, 0}, {170, 0}};
  RfmStream first(rule, opt, slab.ids(), slab.rows(), 170);
  first.BeginSegment(dict_a);
  ASSERT_TRUE(first.Add(a.Block(0, a.customer.size() / 2)).ok());
  ASSERT_TRUE(first.Add(a.Block(a.customer.size() / 2, a.customer.size())).ok());
  first.BeginSegment(dict_b);
  ASSERT_TRUE(first.Add(b.Block(0, b.customer.size())).ok());
  ASSERT_TRUE(first.Finish().ok());
  RfmStream second(rule, opt, slab.ids() + 170, slab.rows() + 170, 170);
  second.BeginSegment(dict_a);
  ASSERT_TRUE(second.Add(c.Block(0, c.customer.size())).ok());
  ASSERT_TRUE(second.Finish().ok());
  slices[0].count = first.size();
  slices[1].count = second.size();
  slab.Close(slices);
  int64_t purchases = 0;
  for (const auto& [id, p] : by_customer) purchases += static_cast<int64_t>(p.size());
  EXPECT_EQ(first.purchases() + second.purchases(), purchases);
  ASSERT_EQ(std::vector<uint64_t>(slab.id_span().begin(), slab.id_span().end()), want_ids);
  for (size_t i = 0; i < want_ids.size(); ++i) {
    SCOPED_TRACE(want_ids[i]);
    const RfmSummary& got = slab.row_span()[i];
    EXPECT_EQ(got.x, want_rows[i].x);
    EXPECT_EQ(got.t_x, want_rows[i].t_x);
    EXPECT_EQ(got.T, want_rows[i].T);
    EXPECT_EQ(got.m_x, want_rows[i].m_x);
    EXPECT_EQ(got.first_value, want_rows[i].first_value);
    EXPECT_EQ(got.first_day, want_rows[i].first_day);
    EXPECT_EQ(got.holdout_x, want_rows[i].holdout_x);
    EXPECT_EQ(got.holdout_value, want_rows[i].holdout_value);
  }

  // Segment b before a: customers go backwards.
  SummarySlab small(200);
  RfmStream backwards(rule, opt, small.ids(), small.rows(), 200);
  backwards.BeginSegment(dict_b);
  ASSERT_TRUE(backwards.Add(b.Block(0, b.customer.size())).ok());
  backwards.BeginSegment(dict_a);
  const Status out_of_order = backwards.Add(a.Block(0, a.customer.size()));
  EXPECT_TRUE(out_of_order.Is(Code::kFailedPrecondition)) << out_of_order.ToString();
  EXPECT_NE(out_of_order.message().find("not in customer order"), std::string_view::npos);
  // Room for 10 customers only.
  RfmStream tight(rule, opt, small.ids(), small.rows(), 10);
  tight.BeginSegment(dict_a);
  Status s = tight.Add(a.Block(0, a.customer.size()));
  if (s.ok()) s = tight.Finish();
  EXPECT_TRUE(s.Is(Code::kResourceExhausted)) << s.ToString();
}

}  // namespace
}  // namespace cairn::value
