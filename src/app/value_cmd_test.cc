// The `value:` config section and the payload extractor of the live value engine.

#include "app/value_cmd.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

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
                        Case{"purchase_events: Order", "value.purchase_events"}}) {
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

}  // namespace
}  // namespace cairn::app
