// ValueEngine over an in-memory interaction list: purchases grouped per canonical customer (merges
// applied), the fit runs, customers are scored, the oracle answers, bad states are reported.

#include "value/value_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "base/clock.h"

namespace cairn::value {
namespace {

constexpr int64_t kDay = 86'400'000;

store::Interaction Order(store::CustomerId c, int64_t day, double revenue) {
  store::Interaction in;
  in.customer = c;
  in.type = store::MessageType::kTrack;
  in.event = "Order Completed";
  in.timestamp_ms = day * kDay + 3'600'000;
  in.revenue = revenue;
  return in;
}

class ValueEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // 3000 customers with BG/NBD-like behaviour over 300 days, plus page views that are not purchases.
    std::mt19937_64 rng(3);
    for (store::CustomerId c = 1; c <= 3000; ++c) {
      const double rate = std::gamma_distribution<double>(0.8, 1 / 40.0)(rng);  // purchases/day
      const double drop = std::uniform_real_distribution<double>(0.05, 0.6)(rng);
      int64_t day = static_cast<int64_t>(rng() % 120);
      const double spend = 10 + static_cast<double>(rng() % 50);
      interactions_.push_back(Order(c, day, spend));
      store::Interaction page;
      page.customer = c;
      page.type = store::MessageType::kPage;
      page.timestamp_ms = day * kDay;
      interactions_.push_back(page);
      while (true) {
        day += 1 + static_cast<int64_t>(std::exponential_distribution<double>(rate)(rng));
        if (day >= 300) break;
        interactions_.push_back(Order(c, day, spend * std::uniform_real_distribution<double>(0.5, 1.5)(rng)));
        if (std::uniform_real_distribution<double>(0, 1)(rng) < drop) break;
      }
    }
    clock_.Set(300 * kDay);
  }
  std::unique_ptr<ValueEngine> Make(ValueEngineOptions o = {}) {
    auto scan = [this](const std::function<bool(const store::Interaction&)>& fn) {
      for (const auto& in : interactions_)
        if (!fn(in)) break;
      return Status::Ok();
    };
    // Customer 2 was merged into customer 1.
    auto canonical = [](store::CustomerId c) { return c == 2 ? store::CustomerId{1} : c; };
    auto resolve = [](const std::string& s) -> Result<store::CustomerId> {
      if (s.rfind("c:", 0) == 0) return static_cast<store::CustomerId>(std::stoull(s.substr(2)));
      return NotFound("no customer " + s);
    };
    return std::make_unique<ValueEngine>(o, scan, canonical, resolve, &clock_);
  }
  std::vector<store::Interaction> interactions_;
  FakeClock clock_{0};
};

TEST_F(ValueEngineTest, FitsScoresAndAnswersTheOracle) {
  auto engine = Make();
  EXPECT_FALSE(engine->Summary().ok());  // nothing fitted yet
  EXPECT_FALSE(engine->ValueOf(5).has_value());
  auto fit = engine->Fit();
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_TRUE(fit->purchase_report.converged) << fit->purchase_report.message;
  EXPECT_TRUE(fit->spend_fitted) << fit->spend_report.message;
  EXPECT_EQ(fit->customers, 2999);  // customers 1 and 2 are one
  EXPECT_EQ(fit->calibration_end_day, 300);
  EXPECT_GT(fit->interactions_scanned, fit->purchases);

  auto v = engine->GetCustomer("c:7");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->modelled);
  EXPECT_GT(v->value.clv, 0);
  EXPECT_GE(v->value.prob_alive, 0);
  EXPECT_LE(v->value.prob_alive, 1);
  auto oracle = engine->ValueOf(7);
  ASSERT_TRUE(oracle.has_value());
  EXPECT_DOUBLE_EQ(oracle->clv, v->value.clv);
  // The merged id answers for its survivor, whose history includes both.
  auto merged = engine->GetCustomer("c:2");
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->customer, 1u);
  EXPECT_FALSE(engine->GetCustomer("nobody").ok());

  auto sum = engine->Summary();
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->prob_alive_bands.size(), 4u);
  int64_t banded = 0;
  for (auto b : sum->prob_alive_bands) banded += b;
  EXPECT_EQ(banded, 2999);
  EXPECT_NEAR(sum->clv_mean * 2999, sum->clv_total, 1e-6 * sum->clv_total);
  EXPECT_LE(sum->clv_quantiles.front().second, sum->clv_quantiles.back().second);
}

TEST_F(ValueEngineTest, PersonasPerCustomerStableAcrossRefits) {
  // Odd customers shop on mobile, even ones on the web: channel mix is a persona feature.
  for (auto& in : interactions_) in.channel = in.customer % 2 ? "mobile" : "web";
  ValueEngineOptions o;
  o.personas.seed = 3;
  auto engine = Make(o);
  EXPECT_FALSE(engine->PersonaOf(7).has_value());  // nothing fitted
  EXPECT_FALSE(engine->Personas().ok());
  ASSERT_TRUE(engine->Fit().ok());
  auto view = engine->Personas();
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(view->available) << view->reason;
  const auto& personas = view->model.personas;
  ASSERT_GE(personas.size(), 2u);
  int64_t members = 0;
  for (const auto& p : personas) {
    members += p.size;
    EXPECT_GT(p.mean_clv, 0);
    // Every customer is all-mobile or all-web, so every centroid leans to one of them.
    EXPECT_GT(p.centroid.channel_share[0] + p.centroid.channel_share[1], 0.99);
  }
  EXPECT_EQ(members, 2999);
  auto p7 = engine->PersonaOf(7);
  ASSERT_TRUE(p7.has_value());
  auto v7 = engine->GetCustomer("c:7");
  ASSERT_TRUE(v7->persona.has_value());
  EXPECT_EQ(v7->persona->id, p7->id);
  EXPECT_EQ(engine->PersonaOf(2)->id, engine->PersonaOf(1)->id);  // merged ids share the survivor's
  EXPECT_FALSE(engine->PersonaOf(999'999).has_value());
  // A refit on the same interactions keeps every customer's persona id.
  std::vector<int> before;
  for (store::CustomerId c = 1; c <= 3000; c += 37) before.push_back(engine->PersonaOf(c)->id);
  ASSERT_TRUE(engine->Fit().ok());
  std::vector<int> after;
  for (store::CustomerId c = 1; c <= 3000; c += 37) after.push_back(engine->PersonaOf(c)->id);
  EXPECT_EQ(before, after);
}

TEST_F(ValueEngineTest, RulePersonasWinAndTheSummaryGroupsClvByPersonaAndSegment) {
  // Odd customers shop on mobile, even ones on the web. Customers 10, 11, 12 state segment "gold"
  // and 13 "silver" (identify traits, read by the extractor); customer 5000 only looked around.
  for (auto& in : interactions_) in.channel = in.customer % 2 ? "mobile" : "web";
  for (store::CustomerId c : {10, 11, 12, 13}) {
    store::Interaction id;
    id.customer = c;
    id.type = store::MessageType::kIdentify;
    id.timestamp_ms = 200 * kDay;
    interactions_.push_back(id);
  }
  store::Interaction look;
  look.customer = 5000;
  look.type = store::MessageType::kPage;
  look.timestamp_ms = 290 * kDay;
  interactions_.push_back(look);
  auto engine = Make();
  engine->SetSegmentTrait("segment");
  engine->SetExtractor([](const store::Interaction& in, bool, ValueEngine::Extras* out) {
    if (in.type == store::MessageType::kIdentify) out->segment = in.customer == 13 ? "silver" : "gold";
  });
  // Rules as the journey map would judge them: staff by who they are (no value facts needed),
  // vip by CLV, prospect for 5000 without a fit. The facts handed over are the fit's.
  constexpr double kVip = 150;
  int64_t asked = 0, mobile_mismatch = 0;
  engine->SetRulePersonas([&](store::CustomerId c, const CustomerFacts* facts) -> std::optional<std::string> {
    ++asked;
    // (Customer 1 holds 2's interactions too: half mobile, half web.)
    if (facts && c != 1 && facts->behaviour.channel_share[1] != (c % 2 ? 1.0 : 0.0)) ++mobile_mismatch;
    if (c == 20) return "staff";
    if (c == 5000 && !facts) return "prospect";
    if (facts && facts->value.clv >= kVip) return "vip";
    return std::nullopt;
  });
  ASSERT_TRUE(engine->Fit().ok());
  EXPECT_EQ(asked, 2999);  // once per scored customer
  EXPECT_EQ(mobile_mismatch, 0);
  auto sum = engine->Summary();
  ASSERT_TRUE(sum.ok());
  ASSERT_TRUE(sum->personas.available) << sum->personas.reason;

  // Independently, from each customer's own answer: CLVs per final persona and per segment.
  std::map<std::string, std::vector<double>> by_persona, by_segment;
  int64_t from_rules = 0;
  for (store::CustomerId c = 1; c <= 3000; ++c) {
    if (c == 2) continue;  // merged into 1
    auto v = engine->GetCustomer("c:" + std::to_string(c));
    ASSERT_TRUE(v.ok() && v->modelled && v->persona);
    const std::string expected_rule = c == 20 ? "staff" : v->value.clv >= kVip ? "vip" : "";
    if (!expected_rule.empty()) {
      EXPECT_EQ(v->persona->source, "rule") << c;
      EXPECT_EQ(v->persona->name, expected_rule) << c;
      EXPECT_EQ(v->persona->id, 0);
      ++from_rules;
    } else {
      EXPECT_EQ(v->persona->source, "discovered") << c;
      EXPECT_GE(v->persona->id, 1);
    }
    auto oracle = engine->PersonaOf(c);
    ASSERT_TRUE(oracle);
    EXPECT_EQ(oracle->name, v->persona->name);
    by_persona[v->persona->source + ":" + v->persona->name].push_back(v->value.clv);
    by_segment[c >= 10 && c <= 12 ? "gold" : c == 13 ? "silver" : ""].push_back(v->value.clv);
  }
  EXPECT_GT(from_rules - 1, 10);  // some vips (and staff)
  auto check = [](const ClvGroup& g, std::vector<double> clvs) {
    SCOPED_TRACE(g.source + ":" + g.name);
    std::sort(clvs.begin(), clvs.end());
    double total = 0;
    for (double x : clvs) total += x;
    EXPECT_EQ(g.customers, static_cast<int64_t>(clvs.size()));
    EXPECT_NEAR(g.clv_total, total, 1e-6 * (1 + total));
    EXPECT_NEAR(g.clv_mean, total / static_cast<double>(clvs.size()), 1e-9 * (1 + total));
    EXPECT_DOUBLE_EQ(g.clv_median, clvs[(clvs.size() - 1) / 2]);
  };
  double total = 0;
  int64_t customers = 0;
  ASSERT_GE(sum->by_persona.size(), 4u);
  EXPECT_EQ(sum->by_persona[0].name, "staff");  // rule personas first, by name
  EXPECT_EQ(sum->by_persona[1].name, "vip");
  for (const ClvGroup& g : sum->by_persona) {
    check(g, by_persona[g.source + ":" + g.name]);
    total += g.clv_total;
    customers += g.customers;
  }
  EXPECT_EQ(customers, 2999);
  EXPECT_NEAR(total, sum->clv_total, 1e-6 * sum->clv_total);
  // Segments: gold (3), silver (1), then no segment (2995); gold's figures by hand from the three.
  ASSERT_EQ(sum->by_segment.size(), 3u);
  EXPECT_EQ(sum->segment_trait, "segment");
  EXPECT_EQ(sum->by_segment[0].name, "gold");
  EXPECT_EQ(sum->by_segment[1].name, "silver");
  EXPECT_EQ(sum->by_segment[2].source, "none");
  const double g10 = engine->GetCustomer("c:10")->value.clv, g11 = engine->GetCustomer("c:11")->value.clv,
               g12 = engine->GetCustomer("c:12")->value.clv;
  EXPECT_NEAR(sum->by_segment[0].clv_total, g10 + g11 + g12, 1e-9);
  EXPECT_NEAR(sum->by_segment[0].clv_mean, (g10 + g11 + g12) / 3, 1e-9);
  EXPECT_DOUBLE_EQ(sum->by_segment[0].clv_median, std::max(std::min(g10, g11), std::min(std::max(g10, g11), g12)));
  EXPECT_DOUBLE_EQ(sum->by_segment[1].clv_total, engine->GetCustomer("c:13")->value.clv);
  EXPECT_EQ(sum->by_segment[2].customers, 2995);
  for (const auto& g : sum->by_segment) check(g, by_segment[g.name]);
  // A customer the fit did not model still gets a rule persona that needs no value facts.
  auto look_v = engine->GetCustomer("c:5000");
  ASSERT_TRUE(look_v.ok());
  EXPECT_FALSE(look_v->modelled);
  ASSERT_TRUE(look_v->persona);
  EXPECT_EQ(look_v->persona->name, "prospect");
  EXPECT_FALSE(engine->FactsOf(5000));
  auto f7 = engine->FactsOf(7);
  ASSERT_TRUE(f7);
  EXPECT_DOUBLE_EQ(f7->value.clv, engine->ValueOf(7)->clv);
  EXPECT_DOUBLE_EQ(f7->behaviour.channel_share[1], 1.0);
}

TEST_F(ValueEngineTest, OffersWithReasonsBehindTheConsentHook) {
  auto engine = Make();
  // Every purchase of customer c bought "basket"; odd customers also "candle", customers ≡ 1 mod 4
  // also "matches". Customer 6 uses app version 1.2 (latest 2.0).
  engine->SetExtractor([](const store::Interaction& in, bool purchase, ValueEngine::Extras* out) {
    if (!purchase) return;
    out->items.push_back("basket");
    if (in.customer % 2) out->items.push_back("candle");
    if (in.customer % 4 == 1) out->items.push_back("matches");
    if (in.customer == 6) out->version = "1.2";
  });
  engine->SetPersonalisationConsent([](store::CustomerId c) -> Result<ValueEngine::ConsentAnswer> {
    if (c == 10) return ValueEngine::ConsentAnswer{false, "personalisation: denied (test)"};
    if (c == 12) return Unavailable("ledger down");
    return ValueEngine::ConsentAnswer{true, "personalisation: granted (test)"};
  });
  ASSERT_TRUE(engine->Fit().ok());
  // Customer 3 owns basket + candle: matches is the offer (half of candle buyers bought it).
  auto v3 = engine->GetCustomer("c:3");
  ASSERT_TRUE(v3.ok());
  ASSERT_FALSE(v3->offers.empty()) << v3->offers_withheld;
  EXPECT_EQ(v3->offers[0].item, "matches");
  EXPECT_EQ(v3->offers[0].kind, "co_purchase");
  EXPECT_NE(v3->offers[0].reason.find("of buyers of"), std::string::npos) << v3->offers[0].reason;
  EXPECT_EQ(v3->consent_evidence, "personalisation: granted (test)");
  for (const auto& o : v3->offers) EXPECT_TRUE(o.item != "basket" && o.item != "candle");
  // Denied: withheld, with the reason; unanswerable: withheld too (fail closed).
  auto v10 = engine->GetCustomer("c:10");
  EXPECT_TRUE(v10->offers.empty());
  EXPECT_EQ(v10->offers_withheld, "no consent for personalisation");
  auto v12 = engine->GetCustomer("c:12");
  EXPECT_TRUE(v12->offers.empty());
  EXPECT_NE(v12->offers_withheld.find("ledger down"), std::string::npos);
  // Without a latest version configured there is no feature update for customer 6.
  auto v6 = engine->GetCustomer("c:6");
  for (const auto& o : v6->offers) EXPECT_NE(o.kind, "feature_update");
  ValueEngineOptions o;
  o.latest_version = "2.0";
  auto engine2 = Make(o);
  engine2->SetExtractor([](const store::Interaction& in, bool purchase, ValueEngine::Extras* out) {
    if (purchase && in.customer == 6) out->version = "1.2";
  });
  ASSERT_TRUE(engine2->Fit().ok());
  auto u6 = engine2->GetCustomer("c:6");
  ASSERT_EQ(u6->offers.size(), 1u);
  EXPECT_EQ(u6->offers[0].kind, "feature_update");
  EXPECT_EQ(u6->consent_evidence, "not checked: no consent ledger wired");
}

TEST_F(ValueEngineTest, SubscriptionClvFromRenewals) {
  // 400 subscribers drawn from an sBG with α = 0.7, β = 1.2 (Fader & Hardie's regular cohort),
  // observed for up to 8 renewals; monthly fee 20.
  std::mt19937_64 rng(11);
  for (store::CustomerId c = 10'001; c <= 10'400; ++c) {
    const double theta = std::gamma_distribution<double>(0.7, 1)(rng);
    const double churn = theta / (theta + std::gamma_distribution<double>(1.2, 1)(rng));
    store::Interaction in;
    in.customer = c;
    in.type = store::MessageType::kTrack;
    in.event = "Subscription Started";
    in.revenue = 20;
    in.timestamp_ms = 10 * kDay;
    interactions_.push_back(in);
    for (int k = 1; k <= 8; ++k) {
      if (std::uniform_real_distribution<double>(0, 1)(rng) < churn) {
        in.event = "Subscription Cancelled";
        in.revenue = 0;
        in.timestamp_ms = (10 + 30 * k) * kDay;
        interactions_.push_back(in);
        break;
      }
      in.event = "Subscription Renewed";
      in.timestamp_ms = (10 + 30 * k) * kDay;
      interactions_.push_back(in);
    }
  }
  auto engine = Make();
  auto fit = engine->Fit();
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->subscribers, 400);
  ASSERT_TRUE(fit->subscription_fitted) << fit->subscription_reason;
  EXPECT_NEAR(fit->sbg.alpha, 0.7, 0.35);
  EXPECT_NEAR(fit->sbg.beta, 1.2, 0.8);
  // An active subscriber with more renewals is worth more, and the oracle gives that CLV.
  double best_long = 0, best_short = 0;
  for (store::CustomerId c = 10'001; c <= 10'400; ++c) {
    auto v = engine->GetCustomer("c:" + std::to_string(c));
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(v->subscription.has_value());
    const auto& s = *v->subscription;
    if (!s.active) {
      EXPECT_EQ(s.clv, 0);
      continue;
    }
    EXPECT_NEAR(s.clv, 20 * SbgDiscountedResidualLifetime(fit->sbg, s.renewals, 0.01), 1e-9);
    EXPECT_NEAR(engine->ValueOf(c)->clv, s.clv, 1e-9);
    if (s.renewals == 8) best_long = s.clv;
    if (s.renewals == 0) best_short = s.clv;
  }
  if (best_long > 0 && best_short > 0) {
    EXPECT_GT(best_long, best_short);
  }
  // Ordinary customers have no subscription block.
  EXPECT_FALSE(engine->GetCustomer("c:7")->subscription.has_value());
}

// The configured rule instead of the sBG: a constant renewal probability p, configured event
// names; CLV = fee × p(1+d)/(1+d−p) for every active subscriber whatever their tenure, 0 after a
// cancellation, and the oracle gives it.
TEST_F(ValueEngineTest, SubscriptionClvFromAConfiguredRenewalProbability) {
  for (store::CustomerId c = 20'001; c <= 20'040; ++c) {
    store::Interaction in;
    in.customer = c;
    in.type = store::MessageType::kTrack;
    in.event = "Plan Started";
    in.revenue = 30;
    in.timestamp_ms = 10 * kDay;
    interactions_.push_back(in);
    for (store::CustomerId k = 1; k <= c % 5; ++k) {
      in.event = "Plan Renewed";
      in.timestamp_ms = static_cast<int64_t>(10 + 30 * k) * kDay;
      interactions_.push_back(in);
    }
    if (c % 4 == 0) {
      in.event = "Plan Ended";
      in.revenue = 0;
      in.timestamp_ms = 200 * kDay;
      interactions_.push_back(in);
    }
  }
  ValueEngineOptions o;
  o.subscription_started = "Plan Started";
  o.subscription_renewed = "Plan Renewed";
  o.subscription_cancelled = "Plan Ended";
  o.subscription_discount_rate = 0.02;
  o.subscription_renewal_probability = 0.9;
  auto engine = Make(o);
  auto fit = engine->Fit();
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_EQ(fit->subscribers, 40);
  EXPECT_FALSE(fit->subscription_fitted);
  EXPECT_EQ(fit->subscription_renewal_probability, 0.9);
  EXPECT_NE(fit->subscription_reason.find("configured rule"), std::string::npos) << fit->subscription_reason;
  const double payments = 0.9 * 1.02 / (1.02 - 0.9);  // 7.65
  for (store::CustomerId c = 20'001; c <= 20'040; ++c) {
    auto v = engine->GetCustomer("c:" + std::to_string(c));
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(v->subscription.has_value()) << c;
    EXPECT_EQ(v->subscription->renewals, static_cast<int64_t>(c % 5));
    if (c % 4 == 0) {
      EXPECT_FALSE(v->subscription->active);
      EXPECT_EQ(v->subscription->clv, 0);
      continue;
    }
    EXPECT_EQ(v->subscription->retention_next, 0.9);
    EXPECT_NEAR(v->subscription->expected_payments, 7.65, 1e-12);
    EXPECT_NEAR(v->subscription->clv, 30 * payments, 1e-9);
    EXPECT_NEAR(engine->ValueOf(c)->clv, 30 * payments, 1e-9);
  }
}

TEST_F(ValueEngineTest, NoPurchasesIsAClearError) {
  interactions_.erase(std::remove_if(interactions_.begin(), interactions_.end(),
                                     [](const store::Interaction& in) { return in.event == "Order Completed"; }),
                      interactions_.end());
  auto engine = Make();
  auto fit = engine->Fit();
  ASSERT_FALSE(fit.ok());
  EXPECT_NE(fit.status().message().find("no purchases yet"), std::string_view::npos) << fit.status().ToString();
}

TEST_F(ValueEngineTest, ParetoNbdAndPeriodicRefit) {
  ValueEngineOptions o;
  o.model = PurchaseModelKind::kParetoNbd;
  o.refit_interval_s = 3600;
  // Pareto/NBD is the costlier likelihood (₂F₁ series or quadrature per row): a smaller population.
  interactions_.erase(std::remove_if(interactions_.begin(), interactions_.end(),
                                     [](const store::Interaction& in) { return in.customer > 800; }),
                      interactions_.end());
  auto engine = Make(o);
  engine->Start();  // the first fit runs at once on the refit thread
  for (int i = 0; i < 1800 && !engine->Summary().ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto sum = engine->Summary();
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->fit.model, PurchaseModelKind::kParetoNbd);
  EXPECT_TRUE(sum->fit.purchase_report.converged) << sum->fit.purchase_report.message;
  std::printf("pareto: %d evaluations, %lld rows, %.2fs: %s\n", sum->fit.purchase_report.evaluations,
              static_cast<long long>(sum->fit.purchase_report.rows), sum->fit.purchase_report.seconds,
              sum->fit.purchase_report.message.c_str());
  engine->Stop();
}

}  // namespace
}  // namespace cairn::value
