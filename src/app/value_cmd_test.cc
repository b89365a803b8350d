// The `value:` config section and the payload extractor of the live value engine.

#include "app/value_cmd.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <future>
#include <random>

#include "api/dto/value_dto.h"
#include "base/clock.h"
#include "io/env.h"
#include "store/segment_format.h"
#include "store/store.h"
#include "testutil/temp_dir.h"

namespace cairn::app {
namespace {

Status Apply(const std::string& yaml, ValueSettings* s) { return ApplyValueSection(YAML::Load(yaml), s); }

TEST(ValueSettingsTest, ReadsEveryKey) {
  ValueSettings s;
  EXPECT_EQ(s.engine.refit_interval_s, 3600);
  ASSERT_TRUE(Apply(R"(
model: pareto_nbd
time_unit_days: 1
horizon: 365
discount_rate: 0.001
discount_step: 30
refit_interval_seconds: 0
purchase_events: [Order Completed, Deal Won]
any_positive_revenue: false
utc_offset_minutes: 60
personas: {k: 4, seed: 9}
offers:
  per_customer: 3
  min_common_buyers: 2
  scoring: max_lift
  margins: {sku1: 0.5}
  complements: [[tent, pegs]]
  latest_version: "3.0"
  version_trait: app_version
  enabled: false
subscriptions:
  started: Plan Started
  renewed: Plan Renewed
  cancelled: Plan Ended
  discount_rate: 0.02
  renewal_probability: 0.85
)", &s).ok());
  EXPECT_EQ(s.engine.model, value::PurchaseModelKind::kParetoNbd);
  EXPECT_EQ(s.engine.days_per_unit, 1);
  EXPECT_EQ(s.engine.clv.horizon, 365);
  EXPECT_EQ(s.engine.clv.discount_rate, 0.001);
  EXPECT_EQ(s.engine.clv.step, 30);
  EXPECT_EQ(s.engine.refit_interval_s, 0);
  EXPECT_EQ(s.engine.purchases.events, (std::vector<std::string>{"Order Completed", "Deal Won"}));
  EXPECT_FALSE(s.engine.purchases.any_positive_revenue);
  EXPECT_EQ(s.engine.purchases.utc_offset_minutes, 60);
  EXPECT_EQ(s.engine.personas.k, 4);
  EXPECT_EQ(s.engine.personas.seed, 9u);
  EXPECT_EQ(s.engine.offers_per_customer, 3u);
  EXPECT_EQ(s.engine.offers.min_common_buyers, 2);
  EXPECT_EQ(s.engine.offers.scoring, value::OfferScoring::kLiftTimesMargin);
  EXPECT_EQ(s.engine.offers.margins.at("sku1"), 0.5);
  ASSERT_EQ(s.engine.offers.complements.size(), 1u);
  EXPECT_EQ(s.engine.latest_version, "3.0");
  EXPECT_EQ(s.version_trait, "app_version");
  EXPECT_FALSE(s.offers);
  EXPECT_EQ(s.engine.subscription_started, "Plan Started");
  EXPECT_EQ(s.engine.subscription_renewed, "Plan Renewed");
  EXPECT_EQ(s.engine.subscription_cancelled, "Plan Ended");
  EXPECT_EQ(s.engine.subscription_discount_rate, 0.02);
  EXPECT_EQ(s.engine.subscription_renewal_probability, 0.85);
}

TEST(ValueSettingsTest, BadValuesNameTheKey) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  for (const Case& c : {Case{"model: arima", "value.model"}, Case{"horizon: -1", "value"},
                        Case{"time_unit_days: 0", "value.time_unit_days"}, Case{"refit_interval_seconds: -5", "value.refit_interval_seconds"},
                        Case{"personas: {k: -2}", "value.personas"}, Case{"offers: {scoring: best}", "value.offers.scoring"},
                        Case{"offers: {margins: {a: 0}}", "value.offers"}, Case{"horizn: 3", "value.horizn"},
                        Case{"purchase_events: Order", "value.purchase_events"},
                        Case{"subscriptions: {renewal_probability: 1}", "value.subscriptions.renewal_probability"},
                        Case{"subscriptions: {discount_rate: -0.1}", "value.subscriptions.discount_rate"},
                        Case{"subscriptions: {renewed: \"\"}", "value.subscriptions.renewed"},
                        Case{"subscriptions: {churned: X}", "value.subscriptions.churned"}}) {
    ValueSettings s;
    Status st = Apply(c.yaml, &s);
    ASSERT_FALSE(st.ok()) << c.yaml;
    EXPECT_NE(st.message().find("config " + std::string(c.key)), std::string_view::npos) << st.ToString();
    EXPECT_NE(st.message().find("line "), std::string_view::npos) << st.ToString();
  }
}

TEST(ValueExtrasTest, ProductsFromPurchasesAndVersionFromTraits) {
  store::Interaction in;
  in.type = store::MessageType::kTrack;
  in.payload = R"({"event":"Order Completed","properties":{"products":[{"product_id":"p1"},{"sku":"s2"},{"id":7},{"name":"x"}]}})";
  value::ValueEngine::Extras e;
  ExtractValueExtras(in, true, "product_version", &e);
  EXPECT_EQ(e.items, (std::vector<std::string>{"p1", "s2", "7"}));
  e = {};
  in.payload = R"({"properties":{"product_id":"solo"}})";
  ExtractValueExtras(in, true, "product_version", &e);
  EXPECT_EQ(e.items, std::vector<std::string>{"solo"});
  e = {};
  ExtractValueExtras(in, false, "product_version", &e);  // not a purchase: nothing
  EXPECT_TRUE(e.items.empty());
  in.type = store::MessageType::kIdentify;
  in.payload = R"({"traits":{"product_version":"2.4.1"}})";
  ExtractValueExtras(in, false, "product_version", &e);
  EXPECT_EQ(e.version, "2.4.1");
  e = {};
  in.payload = "not json";
  ExtractValueExtras(in, false, "product_version", &e);
  EXPECT_TRUE(e.version.empty());
}

// The live engine's column path (ScanValueColumns → InteractionSink::Block) gives every answer the
// row path (Snapshot::ForEach → Row) gives, over a real store on disk: two overlapping flushed
// segments plus memtable rows, a merge, an erased (hidden) customer and one skipped for consent,
// purchases by event and by revenue only, products in payloads, identify traits (segment, product
// version), channels of every group and subscriptions. Compared: the fit and summary (JSON, timings
// zeroed) and every customer's answer (JSON).
TEST(ValueColumnPathTest, SameAnswersAsTheRowPathOverARealStore) {
  testutil::TempDir dir;
  store::StoreOptions so;
  so.background_work = false;
  auto st = store::Store::Open(io::Env::Posix(), dir.Sub("store"), so);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  constexpr int64_t kDay = 86'400'000;
  constexpr int64_t kNow = 20'400 * kDay;
  constexpr uint64_t kCustomers = 600;
  const char* channels[] = {"web", "mobile", "email", "store", "sms", ""};
  const char* products[] = {"tent", "pegs", "lamp", "stove", "mat", "rope"};
  std::mt19937_64 rng(17);
  auto append = [&](std::vector<store::Interaction> rows) {
    store::Batch batch;
    batch.interactions = std::move(rows);
    std::promise<Status> done;
    ASSERT_TRUE((*st)->Append(std::move(batch), [&](Status s) { done.set_value(s); }).ok());
    ASSERT_TRUE(done.get_future().get().ok());
  };
  // Three waves over the same customers: two flushed into segments, the last left in the memtable.
  // Each customer stops buying for good after an order with their own drop-out chance (the BG/NBD
  // story, so that the purchase model has something to fit).
  std::vector<double> drop(kCustomers + 1);
  std::vector<bool> dropped(kCustomers + 1, false);
  for (auto& d : drop) d = std::uniform_real_distribution<double>(0.05, 0.6)(rng);
  for (int wave = 0; wave < 3; ++wave) {
    std::vector<store::Interaction> rows;
    for (uint64_t c = 1; c <= kCustomers; ++c) {
      const double rate = std::gamma_distribution<double>(0.8, 1 / 30.0)(rng);
      int64_t day = 20'000 + wave * 130 + static_cast<int64_t>(rng() % 60);
      for (int k = 0; k < 12 && day < 20'400; ++k) {
        store::Interaction in;
        in.customer = c;
        in.timestamp_ms = day * kDay + static_cast<int64_t>(rng() % kDay);
        in.channel = channels[rng() % 6];
        int kind = static_cast<int>(rng() % 10);
        if (kind <= 4 && dropped[c]) kind = 7;  // no more purchases
        if (kind < 4) {
          dropped[c] = std::uniform_real_distribution<double>(0, 1)(rng) < drop[c];
          in.type = store::MessageType::kTrack;
          in.event = "Order Completed";
          in.revenue = 5 + static_cast<double>(rng() % 80);
          in.payload = R"({"properties":{"products":[{"product_id":")" + std::string(products[rng() % 6]) +
                       R"("},{"sku":")" + products[(c + static_cast<uint64_t>(k)) % 6] + R"("}]}})";
        } else if (kind == 4) {
          in.type = store::MessageType::kTrack;
          in.event = "Refund Reversed";
          in.revenue = 12.5;  // a purchase by revenue only
        } else if (kind == 5) {
          in.type = store::MessageType::kIdentify;
          in.payload = R"({"traits":{"segment":")" + std::string(c % 3 ? "retail" : "trade") +
                       R"(","product_version":")" + std::to_string(1 + rng() % 3) + R"(.0"}})";
        } else if (kind == 6 && c % 5 == 0) {
          in.type = store::MessageType::kTrack;
          in.event = k == 0 ? "Subscription Started" : rng() % 6 ? "Subscription Renewed" : "Subscription Cancelled";
          in.revenue = in.event == "Subscription Cancelled" ? 0 : 20;
        } else {
          in.type = kind == 7 ? store::MessageType::kPage : store::MessageType::kTrack;
          in.event = kind == 7 ? "" : "Product Viewed";
        }
        rows.push_back(std::move(in));
        day += 1 + static_cast<int64_t>(std::exponential_distribution<double>(rate)(rng));
      }
    }
    append(std::move(rows));
    if (wave < 2) ASSERT_TRUE((*st)->Flush().ok());
  }
  (*st)->HideCustomers({9});                          // erased, not yet compacted away
  auto skip = [](store::CustomerId c) { return c == 11; };  // e.g. analytics consent denied
  auto canonical = [](store::CustomerId c) { return c == 2 ? store::CustomerId{1} : c; };  // 2 merged into 1
  auto resolve = [](const std::string& s) -> Result<store::CustomerId> {
    return static_cast<store::CustomerId>(std::stoull(s));
  };
  value::ValueEngineOptions o;
  o.latest_version = "3.0";
  o.subscription_started = "Subscription Started";
  FakeClock clock(kNow);
  store::Store* store = st->get();
  value::ValueEngine::ScanFn rows = [&](const std::function<bool(const store::Interaction&)>& fn) {
    using store::segment::Bit;
    using store::segment::Column;
    const uint32_t columns = Bit(Column::kCustomer) | Bit(Column::kTimestamp) | Bit(Column::kEvent) |
                             Bit(Column::kType) | Bit(Column::kChannel) | Bit(Column::kRevenue) | Bit(Column::kPayload);
    return store->GetSnapshot()->ForEach([&](const store::Interaction& r) { return skip(r.customer) ? true : fn(r); },
                                         columns);
  };
  value::ValueEngine::ColumnScanFn columns = [&](value::InteractionSink& sink) {
    return ScanValueColumns(*store->GetSnapshot(), true, skip, sink);
  };
  auto extract = [](const store::Interaction& in, bool purchase, value::ValueEngine::Extras* out) {
    ExtractValueExtras(in, purchase, "product_version", out, "segment");
  };
  value::ValueEngine by_rows(o, rows, canonical, resolve, &clock);
  value::ValueEngine by_columns(o, columns, canonical, resolve, &clock);
  for (value::ValueEngine* e : {&by_rows, &by_columns}) {
    e->SetExtractor(extract);
    e->SetSegmentTrait("segment");
    auto fit = e->Fit();
    ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  }
  auto summary = [](value::ValueEngine& e) {
    auto s = e.Summary();
    EXPECT_TRUE(s.ok());
    value::FitOutcome& f = s->fit;
    f.scan_seconds = f.fit_seconds = f.score_seconds = 0;
    f.purchase_report.seconds = f.spend_report.seconds = f.subscription_report.seconds = 0;
    return api::ValueSummaryToJson(*s);
  };
  const std::string want = summary(by_rows);
  EXPECT_EQ(summary(by_columns), want);
  auto sum = by_rows.Summary();
  ASSERT_TRUE(sum.ok());
  EXPECT_GT(sum->fit.purchases, 1000);
  EXPECT_GT(sum->fit.subscribers, 20);
  EXPECT_NE(want.find("\"trade\""), std::string::npos) << want;  // segments were read from identifies
  int modelled = 0, offered = 0;
  for (uint64_t c = 1; c <= kCustomers; ++c) {
    auto a = by_rows.GetCustomer(std::to_string(c));
    auto b = by_columns.GetCustomer(std::to_string(c));
    ASSERT_EQ(a.ok(), b.ok()) << c;
    if (!a.ok()) continue;
    ASSERT_EQ(api::CustomerValueToJson(*b), api::CustomerValueToJson(*a)) << "customer " << c;
    modelled += a->modelled;
    offered += !a->offers.empty();
    if (c == 9 || c == 11) {
      EXPECT_FALSE(a->modelled) << c;  // erased / skipped
    }
    if (c == 2) {
      EXPECT_EQ(a->customer, 1u);
    }
  }
  EXPECT_GT(modelled, 400);
  EXPECT_GT(offered, 100);
  ASSERT_TRUE((*st)->Close().ok());
}

}  // namespace
}  // namespace cairn::app
