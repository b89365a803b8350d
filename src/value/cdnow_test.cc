// Reproduces the published CDNOW results (Fader, Hardie & Lee 2005a/b; Fader & Hardie's notes)
// from the raw transaction files in ../shared/data/cdnow.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "value/bgnbd.h"
#include "value/cdnow.h"
#include "value/gamma_gamma.h"
#include "value/pareto_nbd.h"

namespace cairn::value {
namespace {

const std::string kDir = CAIRN_CDNOW_DIR;

// Rounds to three significant figures, as the papers print parameters.
double Sig3(double v) {
  const double scale = std::pow(10.0, 2 - std::floor(std::log10(std::abs(v))));
  return std::round(v * scale) / scale;
}

class CdnowSample : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kDir + "/CDNOW_sample.txt")) return;
    auto rows = ReadCdnowFile(kDir + "/CDNOW_sample.txt");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    rows_ = new std::vector<CdnowRow>(std::move(*rows));
    table_ = new SummaryTable(SummarizeCdnow(*rows_, CdnowRfmOptions()));
  }
  void SetUp() override {
    if (!rows_) GTEST_SKIP() << "CDNOW data not found in " << kDir;
  }
  static inline std::vector<CdnowRow>* rows_ = nullptr;
  static inline SummaryTable* table_ = nullptr;
};

TEST_F(CdnowSample, SummaryMatchesHardiesRawDataSheet) {
  EXPECT_EQ(rows_->size(), 6919u);
  ASSERT_EQ(table_->rows.size(), 2357u);
  int64_t zero = 0, sum_x = 0;
  for (const auto& r : table_->rows) {
    zero += r.x == 0;
    sum_x += r.x;
  }
  EXPECT_EQ(zero, 1411);
  EXPECT_EQ(sum_x, 2457);

  // cdnow_customers_summary_with_transactions.csv: ID,x,t_x,T,zbar rounded to 2 decimals, in
  // sample-id order, which is the order of the sample file (not of master ids).
  std::ifstream in(kDir + "/cdnow_customers_summary_with_transactions.csv");
  ASSERT_TRUE(in) << "missing summary csv";
  std::vector<uint64_t> order;  // master ids in sample order
  for (const auto& r : *rows_)
    if (order.empty() || order.back() != r.customer) order.push_back(r.customer);
  ASSERT_EQ(order.size(), 2357u);
  std::map<uint64_t, const RfmSummary*> by_id;
  for (size_t i = 0; i < table_->ids.size(); ++i) by_id[table_->ids[i]] = &table_->rows[i];
  std::string line;
  std::getline(in, line);  // header
  size_t n = 0, mismatches = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string f[5];
    for (auto& s : f) std::getline(ss, s, ',');
    const RfmSummary& s = *by_id.at(order.at(std::stoul(f[0]) - 1));
    const bool ok = s.x == std::stol(f[1]) && std::abs(s.t_x - std::stod(f[2])) <= 0.005 + 1e-9 &&
                    std::abs(s.T - std::stod(f[3])) <= 0.005 + 1e-9 && std::abs(s.m_x - std::stod(f[4])) <= 0.005 + 1e-9;
    if (!ok && ++mismatches < 5) ADD_FAILURE() << "sample customer " << f[0] << ": " << line << " vs x=" << s.x
                                               << " t_x=" << s.t_x << " T=" << s.T << " m_x=" << s.m_x;
    ++n;
  }
  EXPECT_EQ(n, 2357u);
  EXPECT_EQ(mismatches, 0u);
}

TEST_F(CdnowSample, HoldoutHas1882RepeatTransactions) {
  int64_t holdout = 0;
  for (const auto& r : table_->rows) holdout += r.holdout_x;
  EXPECT_EQ(holdout, 1882);
}

TEST_F(CdnowSample, BgNbdReproducesFaderHardieLee2005) {
  const FitData data = CompressForFit(table_->rows);
  auto fit = FitBgNbd(data);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_TRUE(fit->report.converged) << fit->report.message;
  EXPECT_DOUBLE_EQ(Sig3(fit->params.r), 0.243);
  EXPECT_DOUBLE_EQ(Sig3(fit->params.alpha), 4.41);  // published 4.414
  EXPECT_DOUBLE_EQ(Sig3(fit->params.a), 0.793);
  EXPECT_DOUBLE_EQ(Sig3(fit->params.b), 2.43);  // published 2.426
  EXPECT_NEAR(fit->params.alpha, 4.414, 0.0005);
  EXPECT_NEAR(fit->params.b, 2.426, 0.0005);
  EXPECT_NEAR(fit->report.log_likelihood, -9582.4, 0.05);
  // The optimum: no published-parameter point beats it, and a second independent fit lands within 1e-3.
  EXPECT_GE(fit->report.log_likelihood, BgNbdLogLikelihood({0.243, 4.414, 0.793, 2.426}, data));
  FitOptions other;
  other.extra_starts = 7;
  auto fit2 = FitBgNbd(data, other);
  ASSERT_TRUE(fit2.ok());
  EXPECT_NEAR(fit2->report.log_likelihood, fit->report.log_likelihood, 1e-3);
  // Per-customer and compressed likelihoods agree.
  double direct = 0;
  for (const auto& r : table_->rows) direct += BgNbdLogLikelihood(fit->params, r.x, r.t_x, r.T);
  EXPECT_NEAR(direct, fit->report.log_likelihood, 1e-6);
}

TEST_F(CdnowSample, BgNbdConditionalExpectationAtRoundedParameters) {
  // Fader, Hardie & Lee (2005a) / bgnbd.xls: customer with x=2, t_x=30.43, T=38.86 → 1.226029.
  const BgNbdParams p{0.243, 4.414, 0.793, 2.426};
  // The exact value (mpmath, 40 digits) is 1.2260281747671445; the published 1.226029 is 8.3e-7
  // above it (the spreadsheet's own evaluation), so we match the exact value to 1e-12 and the
  // published figure to 1e-6.
  const double ey = BgNbdConditionalExpected(p, 39, 2, 30.43, 38.86);
  EXPECT_NEAR(ey, 1.2260281747671445, 1e-12);
  EXPECT_NEAR(ey, 1.226029, 1e-6);
  // Aggregate: the model's forecast of repeat transactions in weeks 40–78 is near the 1,882 observed.
  double forecast = 0;
  for (const auto& r : table_->rows) forecast += BgNbdConditionalExpected(p, 39, r.x, r.t_x, r.T);
  EXPECT_NEAR(forecast, 1882, 0.15 * 1882);
}

TEST_F(CdnowSample, ParetoNbdReproducesFaderHardieNote) {
  const FitData data = CompressForFit(table_->rows);
  auto fit = FitParetoNbd(data);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_TRUE(fit->report.converged) << fit->report.message;
  EXPECT_DOUBLE_EQ(Sig3(fit->params.r), 0.553);
  EXPECT_DOUBLE_EQ(Sig3(fit->params.alpha), 10.6);  // published 10.578
  EXPECT_DOUBLE_EQ(Sig3(fit->params.s), 0.606);
  EXPECT_DOUBLE_EQ(Sig3(fit->params.beta), 11.7);  // published 11.669
  EXPECT_NEAR(fit->params.alpha, 10.578, 0.0005);
  EXPECT_NEAR(fit->params.beta, 11.669, 0.0005);
  EXPECT_NEAR(fit->report.log_likelihood, -9595.0, 0.05);
  EXPECT_GE(fit->report.log_likelihood, ParetoNbdLogLikelihood({0.553, 10.578, 0.606, 11.669}, data));
  FitOptions other;
  other.extra_starts = 7;
  auto fit2 = FitParetoNbd(data, other);
  ASSERT_TRUE(fit2.ok());
  EXPECT_NEAR(fit2->report.log_likelihood, fit->report.log_likelihood, 1e-3);
}

TEST_F(CdnowSample, GammaGammaReproducesFaderHardieLee2005b) {
  const SpendData spend = SpendDataOf(table_->rows);
  EXPECT_EQ(spend.x.size(), 946u);
  auto fit = FitGammaGamma(spend);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  EXPECT_TRUE(fit->report.converged) << fit->report.message;
  EXPECT_DOUBLE_EQ(Sig3(fit->params.p), 6.25);
  EXPECT_DOUBLE_EQ(Sig3(fit->params.q), 3.74);
  EXPECT_DOUBLE_EQ(Sig3(fit->params.gamma), 15.4);  // published 15.44
  EXPECT_NEAR(fit->params.gamma, 15.44, 0.005);
  EXPECT_GE(fit->report.log_likelihood, GammaGammaLogLikelihood({6.25, 3.74, 15.44}, spend));
}

TEST(CdnowMaster, FitsTheWholeCohortInSeconds) {
  const std::string path = kDir + "/CDNOW_master.txt";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  const auto t0 = std::chrono::steady_clock::now();
  auto rows = ReadCdnowFile(path);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 69659u);
  const SummaryTable table = SummarizeCdnow(*rows, CdnowRfmOptions());
  EXPECT_EQ(table.rows.size(), 23570u);
  const FitData data = CompressForFit(table.rows);
  auto bg = FitBgNbd(data);
  auto pn = FitParetoNbd(data);
  auto gg = FitGammaGamma(SpendDataOf(table.rows));
  ASSERT_TRUE(bg.ok() && pn.ok() && gg.ok());
  EXPECT_TRUE(bg->report.converged) << bg->report.message;
  EXPECT_TRUE(pn->report.converged) << pn->report.message;
  EXPECT_TRUE(gg->report.converged) << gg->report.message;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The master cohort behaves like the 1/10 sample: the same parameters to about 10%.
  EXPECT_NEAR(bg->params.r, 0.243, 0.03);
  EXPECT_NEAR(bg->params.a, 0.793, 0.1);
  EXPECT_NEAR(pn->params.r, 0.553, 0.08);
  std::printf("master: %zu customers, %zu distinct rows; BG/NBD r=%.4f α=%.4f a=%.4f b=%.4f LL=%.3f (%.2fs); "
              "Pareto/NBD r=%.4f α=%.4f s=%.4f β=%.4f LL=%.3f (%.2fs); GG p=%.3f q=%.3f γ=%.3f (%.2fs); total %.2fs\n",
              table.rows.size(), data.x.size(), bg->params.r, bg->params.alpha, bg->params.a, bg->params.b,
              bg->report.log_likelihood, bg->report.seconds, pn->params.r, pn->params.alpha, pn->params.s,
              pn->params.beta, pn->report.log_likelihood, pn->report.seconds, gg->params.p, gg->params.q,
              gg->params.gamma, gg->report.seconds, seconds);
  EXPECT_LT(seconds, 120);  // a Debug+ASan build on a shared machine; release: docs/value.md
}

TEST(CdnowParse, RejectsMalformedLinesNamingTheField) {
  auto r = ParseCdnow(" 00001 19970101  1   11.77\r\n 00002 1997013x  1   5.00\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2: date"), std::string_view::npos) << r.status().ToString();
  r = ParseCdnow("1 19970101 1\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected 4 fields"), std::string_view::npos);
  r = ParseCdnow("1 19970101 1 -3\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("dollar value"), std::string_view::npos);
  r = ParseCdnow("masterid,sampleid,date,cds,sales\n4,1,19970101,2,29.33\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].customer, 4u);
  EXPECT_EQ((*r)[0].day, 1);
  EXPECT_DOUBLE_EQ((*r)[0].dollars, 29.33);
  EXPECT_FALSE(ParseCdnow("").ok());
  r = ParseCdnow("7 19970930 1 1\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].day, 273);  // the calibration cut
}

}  // namespace
}  // namespace cairn::value
