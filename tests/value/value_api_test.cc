// Customer value through the real `cairn serve`: purchases sent as Segment tracks, POST
// /v1/value/fit, then the summary and per-customer values, with the error answers around them.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "api/cairn_server.h"
#include "testutil/process.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

// The CLV rule's threshold: most buyers are below it, some above.
constexpr int kTopValue = 80;

class ValueApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("CAIRN_VALUE_REFIT_SECONDS", "0", 1);  // fits only on request: deterministic
    tmp_ = new TempDir;
    server_ = new CairnServer(tmp_->Sub("data"), tmp_->Sub("serve"));
    ASSERT_TRUE(server_->Start());
  }
  static void TearDownTestSuite() {
    EXPECT_TRUE(server_->Stop());
    delete server_;
    delete tmp_;
  }
  void SetUp() override {
    if (server_->port() == 0) GTEST_SKIP() << "server did not start";
    client_ = server_->Client();
  }
  static inline TempDir* tmp_ = nullptr;
  static inline CairnServer* server_ = nullptr;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ValueApiTest, FitThenReadValues) {
  // Before any fit: 409 with a message saying what to do.
  auto r = client_->Get("/v1/value/summary", AdminAuth());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 409u) << r->body;
  EXPECT_NE(r->body.find("POST /v1/value/fit"), std::string::npos) << r->body;
  // No purchases yet: the fit is refused, naming what counts as a purchase.
  r = client_->Post("/v1/value/fit", "", AdminAuth());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 409u) << r->body;
  EXPECT_NE(r->body.find("no purchases yet"), std::string::npos) << r->body;

  // Rule personas (docs/journey.md "Personas"): a stage rule and a CLV rule replace the default
  // map's rules; rule personas win over discovered ones.
  r = client_->Get("/v1/journey-map", AdminAuth());
  ASSERT_TRUE(r.ok());
  std::string yaml = r->body;
  const size_t from = yaml.find("\npersonas:\n"), to = yaml.find("\n# ---- Rescue paths");
  ASSERT_TRUE(from != std::string::npos && to != std::string::npos && from < to) << yaml;
  yaml.replace(from, to - from,
               "\npersonas:\n  default: casual_browser\n  rules:\n"
               "    - {name: window_shopper, when: {funnel: decision, orders: 0}}\n"
               "    - {name: top_value, when: {clv: {gte: " + std::to_string(kTopValue) + "}}}\n");
  r = client_->Request("PUT", "/v1/journey-map", AdminAuth(), yaml);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  // A bad rule is refused, naming the rule and the unknown stage.
  std::string bad = yaml;
  bad.replace(bad.find("funnel: decision"), 16, "funnel: decisoin");
  r = client_->Request("PUT", "/v1/journey-map", AdminAuth(), bad);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400u) << r->body;
  EXPECT_NE(r->body.find("personas.rules[0] (window_shopper).when.funnel: unknown funnel stage 'decisoin'"),
            std::string::npos) << r->body;

  // 300 customers buying over the last ~200 days; one more who only views pages.
  std::mt19937 rng(5);
  std::vector<std::string> messages;
  int orders = 0;
  for (int c = 0; c < 300; ++c) {
    // Exponential gaps around a per-customer mean, a drop-out chance after each purchase: the
    // BG/NBD story, so the fit has something to find.
    const double mean_gap = 5 + static_cast<double>(rng() % 60);
    const double drop = 0.05 + 0.45 * std::uniform_real_distribution<double>(0, 1)(rng);
    double day = 200 - static_cast<double>(rng() % 120);
    for (int k = 0; day > 0; ++k) {
      // Products (Segment e-commerce spec): everyone buys "starter", odd customers "refill",
      // every third customer "case" — co-purchase rules for next best offer.
      std::string products = "[{\"product_id\":\"starter\"}";
      if (c % 2 == 1) products += ",{\"product_id\":\"refill\"}";
      if (c % 3 == 0) products += ",{\"sku\":\"case\"}";
      products += "]";
      const std::string extra = "\"timestamp\":\"" + DaysAgo(static_cast<int>(day)) + "\",\"properties\":{\"revenue\":" +
                                std::to_string(10 + static_cast<int>(rng() % 50)) + ",\"products\":" + products + "}";
      messages.push_back(TrackJson("buyer" + std::to_string(c), "Order Completed",
                                   "o-" + std::to_string(c) + "-" + std::to_string(k), extra));
      ++orders;
      if (std::uniform_real_distribution<double>(0, 1)(rng) < drop) break;
      day -= 1 + std::exponential_distribution<double>(1 / mean_gap)(rng);
    }
  }
  messages.push_back(TrackJson("browser", "Product Viewed", "v-1"));
  // Segments (identify trait `segment`): buyer0 and buyer1 are gold, buyer2 silver.
  for (int c : {0, 1, 2})
    messages.push_back("{\"type\":\"identify\",\"userId\":\"buyer" + std::to_string(c) + "\",\"messageId\":\"seg-" +
                       std::to_string(c) + "\",\"traits\":{\"segment\":\"" + (c < 2 ? "gold" : "silver") + "\"}}");
  // buyer11 (starter + refill, would be offered "case") denies personalisation.
  messages.push_back(TrackJson("buyer11", "Consent Updated", "consent-11",
                               "\"properties\":{\"purpose\":\"personalisation\",\"state\":\"denied\"}"));
  r = client_->Post("/v1/batch", BatchJson(messages), WriteAuth());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;

  r = client_->Post("/v1/value/fit", "", AdminAuth());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  auto fit = ParseJson(r->body).as_object();
  EXPECT_EQ(fit.at("model").as_string(), "bgnbd");
  EXPECT_EQ(fit.at("customers").as_int64(), 300);
  EXPECT_EQ(fit.at("purchases").as_int64(), orders);
  EXPECT_TRUE(fit.at("diagnostics").as_object().at("converged").as_bool()) << r->body;
  for (const char* p : {"r", "alpha", "a", "b"}) EXPECT_GT(fit.at("params").as_object().at(p).to_number<double>(), 0) << p;

  r = client_->Get("/v1/customers/buyer7/value", AdminAuth());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  auto v = ParseJson(r->body).as_object();
  EXPECT_TRUE(v.at("modelled").as_bool());
  const double alive = v.at("probAlive").to_number<double>();
  EXPECT_GE(alive, 0);
  EXPECT_LE(alive, 1);
  EXPECT_GT(v.at("clv").to_number<double>(), 0);
  EXPECT_GT(v.at("expectedSpend").to_number<double>(), 0);
  EXPECT_TRUE(v.at("rfm").as_object().contains("tx"));
  // Its persona (300 buyers: personas are formed) and its offers: buyer7 owns starter + refill,
  // so "case" is offered, with the reason.
  ASSERT_TRUE(v.at("persona").is_object()) << r->body;
  EXPECT_FALSE(v.at("persona").as_object().at("name").as_string().empty());
  const auto& offers = v.at("offers").as_array();
  ASSERT_EQ(offers.size(), 1u) << r->body;
  EXPECT_EQ(offers[0].as_object().at("item").as_string(), "case");
  EXPECT_EQ(offers[0].as_object().at("kind").as_string(), "co_purchase");
  EXPECT_NE(std::string(offers[0].as_object().at("reason").as_string()).find("of buyers of"), std::string::npos) << r->body;
  // No consent statement for personalisation: allowed, and the answer says what was checked.
  EXPECT_FALSE(v.at("consent").as_string().empty()) << r->body;
  EXPECT_GT(v.at("expectedPurchases").to_number<double>(), 0) << r->body;
  // The journey engine sees the same CLV (value at stake = max(journey value, CLV), docs/journey.md).
  r = client_->Get("/v1/customers/buyer7/journey", AdminAuth());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  {
    const auto j = ParseJson(r->body).as_object();
    const auto& value = j.at("state").as_object().at("value").as_object();
    ASSERT_TRUE(value.contains("predictedClv")) << r->body;
    EXPECT_NEAR(value.at("predictedClv").to_number<double>(), v.at("clv").to_number<double>(), 0.0051) << r->body;
    EXPECT_GE(value.at("atStake").to_number<double>(), value.at("predictedClv").to_number<double>()) << r->body;
  }

  r = client_->Get("/v1/customers/buyer11/value", AdminAuth());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  auto denied = ParseJson(r->body).as_object();
  EXPECT_TRUE(denied.at("offers").as_array().empty()) << r->body;
  EXPECT_EQ(denied.at("offersWithheld").as_string(), "no consent for personalisation") << r->body;

  r = client_->Get("/v1/value/personas", AdminAuth());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  auto personas = ParseJson(r->body).as_object();
  ASSERT_TRUE(personas.at("available").as_bool()) << r->body;
  EXPECT_EQ(personas.at("chosenBy").as_string(), "silhouette");
  int64_t members = 0;
  std::set<int64_t> discovered_ids;
  for (const auto& p : personas.at("personas").as_array()) {
    members += p.as_object().at("size").as_int64();
    discovered_ids.insert(p.as_object().at("id").as_int64());
    EXPECT_FALSE(p.as_object().at("description").as_string().empty());
  }
  EXPECT_EQ(members, 300);  // clustering covers every buyer; the rules then take precedence

  // Every buyer's persona: top_value (a rule) exactly when CLV ≥ kTopValue, else a discovered one.
  // The CLV per persona and per segment, from these answers, must match the summary's.
  std::map<std::string, std::pair<int64_t, double>> by_persona, by_segment;
  std::vector<double> clvs;
  for (int c = 0; c < 300; ++c) {
    r = client_->Get("/v1/customers/buyer" + std::to_string(c) + "/value", AdminAuth());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200u) << r->body;
    auto cv = ParseJson(r->body).as_object();
    const double clv = cv.at("clv").to_number<double>();
    clvs.push_back(clv);
    ASSERT_TRUE(cv.at("persona").is_object()) << r->body;
    const auto& p = cv.at("persona").as_object();
    if (clv >= kTopValue) {
      EXPECT_EQ(p.at("name").as_string(), "top_value") << r->body;
      EXPECT_EQ(p.at("source").as_string(), "rule") << r->body;
    } else {
      EXPECT_EQ(p.at("source").as_string(), "discovered") << r->body;
      EXPECT_TRUE(discovered_ids.count(p.at("id").as_int64())) << r->body;
    }
    auto& g = by_persona[std::string(p.at("source").as_string()) + ":" + std::string(p.at("name").as_string())];
    ++g.first;
    g.second += clv;
    auto& s = by_segment[c < 2 ? "gold" : c == 2 ? "silver" : ""];
    ++s.first;
    s.second += clv;
  }
  std::sort(clvs.begin(), clvs.end());
  ASSERT_GT(by_persona["rule:top_value"].first, 0) << "no customer reached the CLV rule; lower kTopValue: CLV median "
                                                   << clvs[150] << ", 90% " << clvs[270] << ", max " << clvs.back();
  EXPECT_GT(by_persona["rule:top_value"].first, 3);
  EXPECT_LT(by_persona["rule:top_value"].first, 150);  // most buyers keep a discovered persona

  // A known customer without purchases is not modelled, but a stage rule can still name them.
  r = client_->Get("/v1/customers/browser/value", AdminAuth());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  auto browser = ParseJson(r->body).as_object();
  EXPECT_FALSE(browser.at("modelled").as_bool());
  ASSERT_TRUE(browser.at("persona").is_object()) << r->body;
  EXPECT_EQ(browser.at("persona").as_object().at("name").as_string(), "window_shopper") << r->body;
  r = client_->Get("/v1/customers/browser/journey", AdminAuth());
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->body.find("\"persona\":\"window_shopper\""), std::string::npos) << r->body;
  r = client_->Get("/v1/customers/nobody-at-all/value", AdminAuth());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404u) << r->body;

  r = client_->Get("/v1/value/summary", AdminAuth());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200u) << r->body;
  auto sum = ParseJson(r->body).as_object();
  EXPECT_GT(sum.at("clv").as_object().at("total").to_number<double>(), 0);
  int64_t banded = 0;
  for (const auto& b : sum.at("probAlive").as_object().at("bands").as_array()) banded += b.as_object().at("customers").as_int64();
  EXPECT_EQ(banded, 300);
  // CLV by persona and by segment agree with the per-customer answers.
  auto groups = [](const boost::json::array& a) {
    std::map<std::string, std::pair<int64_t, double>> out;
    for (const auto& g : a) {
      const auto& o = g.as_object();
      out[std::string(o.at("source").as_string()) + ":" + std::string(o.at("name").as_string())] = {
          o.at("customers").as_int64(), o.at("clvTotal").to_number<double>()};
    }
    return out;
  };
  auto persona_groups = groups(sum.at("byPersona").as_array());
  ASSERT_EQ(persona_groups.size(), by_persona.size()) << r->body;
  for (const auto& [key, expected] : by_persona) {
    ASSERT_TRUE(persona_groups.count(key)) << key << " missing in " << r->body;
    EXPECT_EQ(persona_groups[key].first, expected.first) << key;
    EXPECT_NEAR(persona_groups[key].second, expected.second, 1e-6 * (1 + expected.second)) << key;
  }
  EXPECT_EQ(sum.at("segmentTrait").as_string(), "segment");
  auto segment_groups = groups(sum.at("bySegment").as_array());
  ASSERT_EQ(segment_groups.size(), 3u) << r->body;
  EXPECT_EQ(segment_groups["trait:gold"].first, 2);
  EXPECT_NEAR(segment_groups["trait:gold"].second, by_segment["gold"].second, 1e-6);
  EXPECT_EQ(segment_groups["trait:silver"].first, 1);
  EXPECT_NEAR(segment_groups["trait:silver"].second, by_segment["silver"].second, 1e-6);
  EXPECT_EQ(segment_groups["none:"].first, 297);

  // The read API wants the admin key: a write key is 403, none is 401.
  r = client_->Get("/v1/value/summary", {{"Authorization", std::string("Bearer ") + kWriteKey}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403u);
  r = client_->Post("/v1/value/fit", "", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401u);
}

// `cairn value cdnow FILE --json` prints exactly the issue's shape — {"bgnbd":{r,alpha,a,b,ll},
// "pareto_nbd":{r,alpha,s,beta,ll},"gamma_gamma":{p,q,gamma,ll}} — with the published CDNOW
// sample figures; a malformed file is exit 1 naming the line and field.
TEST(ValueCli, CdnowJsonHasTheIssuesShapeAndThePublishedFigures) {
  const std::string file = CAIRN_CDNOW_DIR "/CDNOW_sample.txt";
  if (ReadFileOrEmpty(file).empty()) GTEST_SKIP() << file << " not found (../shared/data/cdnow)";
  TempDir tmp;
  auto r = RunToCompletion({CAIRN_BINARY, "value", "cdnow", file, "--json"}, tmp.Sub("cdnow"), std::chrono::seconds(300));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->status.ExitedWith(0)) << r->status.ToString() << r->err;
  const auto doc = ParseJson(r->out).as_object();
  const std::map<std::string, std::vector<std::string>> shape = {
      {"bgnbd", {"r", "alpha", "a", "b", "ll"}},
      {"pareto_nbd", {"r", "alpha", "s", "beta", "ll"}},
      {"gamma_gamma", {"p", "q", "gamma", "ll"}}};
  ASSERT_EQ(doc.size(), shape.size()) << r->out;
  for (const auto& [model, keys] : shape) {
    ASSERT_TRUE(doc.contains(model)) << r->out;
    const auto& o = doc.at(model).as_object();
    std::vector<std::string> got;
    for (const auto& kv : o) got.emplace_back(kv.key());
    EXPECT_EQ(got, keys) << model;
  }
  auto at = [&](const char* model, const char* key) { return doc.at(model).as_object().at(key).to_number<double>(); };
  // Published: BG/NBD 0.243 4.414 0.793 2.426 (LL -9582.4); Pareto/NBD 0.553 10.578 0.606 11.669
  // (LL -9595.0); Gamma-Gamma 6.25 3.74 15.44 — to their printed digits.
  EXPECT_NEAR(at("bgnbd", "r"), 0.243, 5e-4);
  EXPECT_NEAR(at("bgnbd", "alpha"), 4.414, 5e-4);
  EXPECT_NEAR(at("bgnbd", "a"), 0.793, 5e-4);
  EXPECT_NEAR(at("bgnbd", "b"), 2.426, 5e-4);
  EXPECT_NEAR(at("bgnbd", "ll"), -9582.4, 0.05);
  EXPECT_NEAR(at("pareto_nbd", "r"), 0.553, 5e-4);
  EXPECT_NEAR(at("pareto_nbd", "alpha"), 10.578, 5e-4);
  EXPECT_NEAR(at("pareto_nbd", "s"), 0.606, 5e-4);
  EXPECT_NEAR(at("pareto_nbd", "beta"), 11.669, 5e-4);
  EXPECT_NEAR(at("pareto_nbd", "ll"), -9595.0, 0.05);
  EXPECT_NEAR(at("gamma_gamma", "p"), 6.25, 5e-3);
  EXPECT_NEAR(at("gamma_gamma", "q"), 3.74, 5e-3);
  EXPECT_NEAR(at("gamma_gamma", "gamma"), 15.44, 5e-3);
  EXPECT_LT(at("gamma_gamma", "ll"), 0);

  const std::string bad = tmp.Sub("bad.txt");
  {
    std::FILE* f = std::fopen(bad.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("00001 19970101 1 29.33\n00001 1997O118 2 29.73\n", f);
    std::fclose(f);
  }
  r = RunToCompletion({CAIRN_BINARY, "value", "cdnow", bad, "--json"}, tmp.Sub("cdnow-bad"), std::chrono::seconds(60));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->status.ExitedWith(1)) << r->status.ToString();
  EXPECT_NE(r->err.find("line 2"), std::string::npos) << r->err;
  EXPECT_TRUE(r->out.empty()) << r->out;
}

// `cairn value fit --data DIR --json` on a stopped data dir made by `cairn import`: the summary's
// fit with its diagnostics (converged, starts agreeing, gradient), counts and the CLV distribution;
// a data dir without purchases is exit 3 saying so.
TEST(ValueCli, FitOnADataDirPrintsTheFitWithItsDiagnostics) {
  TempDir tmp;
  std::mt19937 rng(8);
  std::string jsonl;
  int orders = 0;
  for (int c = 0; c < 200; ++c) {
    double day = 180 - static_cast<double>(rng() % 100);
    const double mean_gap = 5 + static_cast<double>(rng() % 40);
    // A drop-out chance of each customer's own (heterogeneous, or BG/NBD's beta degenerates).
    const double drop = 0.05 + 0.45 * std::uniform_real_distribution<double>(0, 1)(rng);
    for (int k = 0; day > 0; ++k) {
      jsonl += TrackJson("cli" + std::to_string(c), "Order Completed", "cli-" + std::to_string(c) + "-" + std::to_string(k),
                         "\"timestamp\":\"" + DaysAgo(static_cast<int>(day)) + "\",\"properties\":{\"revenue\":" +
                             std::to_string(10 + static_cast<int>(rng() % 40)) + "}") + "\n";
      ++orders;
      if (std::uniform_real_distribution<double>(0, 1)(rng) < drop) break;
      day -= 1 + std::exponential_distribution<double>(1 / mean_gap)(rng);
    }
  }
  const std::string file = tmp.Sub("orders.jsonl"), data = tmp.Sub("data");
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(jsonl.c_str(), f);
    std::fclose(f);
  }
  auto r = RunToCompletion({CAIRN_BINARY, "import", "--data", data, file}, tmp.Sub("import"), std::chrono::seconds(300));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->status.ExitedWith(0)) << r->status.ToString() << r->err;
  r = RunToCompletion({CAIRN_BINARY, "value", "fit", "--data", data, "--json"}, tmp.Sub("fit"), std::chrono::seconds(300));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->status.ExitedWith(0)) << r->status.ToString() << r->err;
  const auto sum = ParseJson(r->out).as_object();
  const auto& fit = sum.at("fit").as_object();
  EXPECT_EQ(fit.at("customers").as_int64(), 200) << r->out;
  EXPECT_EQ(fit.at("purchases").as_int64(), orders) << r->out;
  const auto& diag = fit.at("diagnostics").as_object();
  EXPECT_TRUE(diag.at("converged").as_bool()) << r->out;
  EXPECT_GE(diag.at("startsAgreeing").as_int64(), 2) << r->out;
  EXPECT_LT(diag.at("gradientNorm").to_number<double>(), 1e-2) << r->out;
  EXPECT_GT(sum.at("clv").as_object().at("total").to_number<double>(), 0) << r->out;

  // Page views only: nothing to fit.
  const std::string views = tmp.Sub("views.jsonl"), empty = tmp.Sub("empty");
  {
    std::FILE* f = std::fopen(views.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs((TrackJson("v1", "Product Viewed", "view-1") + "\n").c_str(), f);
    std::fclose(f);
  }
  r = RunToCompletion({CAIRN_BINARY, "import", "--data", empty, views}, tmp.Sub("import-views"), std::chrono::seconds(300));
  ASSERT_TRUE(r.ok() && r->status.ExitedWith(0));
  r = RunToCompletion({CAIRN_BINARY, "value", "fit", "--data", empty}, tmp.Sub("fit-views"), std::chrono::seconds(300));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->status.ExitedWith(3)) << r->status.ToString() << r->err;
  EXPECT_NE(r->err.find("no purchases yet"), std::string::npos) << r->err;
}

}  // namespace
}  // namespace cairn::testutil
