// value_bench: the CLV figures on synthetic data drawn from the models themselves.
//   1. 1M customers' summaries drawn from BG/NBD (CDNOW's parameters) at day granularity (a
//      39-week calibration, first purchases over 13 weeks) with Gamma-Gamma spend; fit BG/NBD and
//      Gamma-Gamma (2 threads) and report the time and the recovered parameters.
//   2. Score 10M customers (P(alive), E[Y(52)], E[M], discounted CLV over 12 monthly steps) with
//      the fitted models through CustomerScorer: the 1M summaries scored 10 times over, 2 threads.
//   3. The same scoring without the scorer's cache (ScoreCustomer) on the 1M, for comparison.
// Prints one figure per line: `name value unit`. Usage: value_bench [customers] [score_customers]

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <thread>
#include <vector>

#include "value/bgnbd.h"
#include "value/clv.h"
#include "value/gamma_gamma.h"
#include "value/rfm.h"
#include "value/scorer.h"

using namespace cairn::value;

namespace {

// Process CPU seconds (all threads): the machine may be shared, so both are printed.
double Cpu() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<RfmSummary> Generate(size_t n, uint64_t seed) {
  const BgNbdParams truth{0.243, 4.414, 0.793, 2.426};
  const GammaGammaParams spend{6.25, 3.74, 15.44};
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> lambda_d(truth.r, 1 / truth.alpha), ga(truth.a, 1), gb(truth.b, 1);
  std::gamma_distribution<double> nu_d(spend.q, 1 / spend.gamma);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<RfmSummary> rows(n);
  for (auto& s : rows) {
    const int64_t first = static_cast<int64_t>(rng() % 91);  // days 0..90
    s.T = static_cast<double>(272 - first) / 7;
    const double lambda = lambda_d(rng) / 7;  // per day
    const double g1 = ga(rng), g2 = gb(rng), p = g1 / (g1 + g2);
    const double nu = nu_d(rng);
    std::gamma_distribution<double> z(spend.p, 1 / nu);
    double day = 0, total = 0;
    int64_t last = 0, prev_day = -1;
    while (lambda > 0) {
      day += std::exponential_distribution<double>(lambda)(rng);
      const int64_t d = static_cast<int64_t>(day);
      if (d > 272 - first) break;
      if (d != prev_day && d > 0) {  // same-day purchases merge; day 0 is the trial
        ++s.x;
        total += z(rng);
        last = d;
        prev_day = d;
      }
      if (u(rng) < p) break;
    }
    s.t_x = static_cast<double>(last) / 7;
    s.m_x = s.x > 0 ? total / static_cast<double>(s.x) : 0;
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const size_t score_n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10'000'000;
  auto t0 = std::chrono::steady_clock::now();
  const auto rows = Generate(n, 42);
  std::printf("value_generate_summaries %.3f s\n", Since(t0));

  // 1. Fit.
  double c0 = Cpu();
  t0 = std::chrono::steady_clock::now();
  const FitData data = CompressForFit(rows);
  const double compress_s = Since(t0), compress_cpu = Cpu() - c0;
  auto bg = FitBgNbd(data);
  const double bg_s = Since(t0), bg_cpu = Cpu() - c0;
  auto t1 = std::chrono::steady_clock::now();
  const double c1 = Cpu();
  const SpendData spend = SpendDataOf(rows);
  auto gg = FitGammaGamma(spend);
  const double gg_s = Since(t1), gg_cpu = Cpu() - c1;
  if (!bg.ok() || !gg.ok()) {
    std::fprintf(stderr, "fit failed: %s %s\n", bg.status().ToString().c_str(), gg.status().ToString().c_str());
    return 1;
  }
  std::printf("value_customers %zu count\n", n);
  std::printf("value_distinct_summary_rows %zu count\n", data.x.size());
  std::printf("value_compress %.3f s\n", compress_s);
  std::printf("value_compress_cpu %.3f s\n", compress_cpu);
  std::printf("value_bgnbd_fit_1m %.3f s\n", bg_s);
  std::printf("value_bgnbd_fit_1m_cpu %.3f s\n", bg_cpu);
  std::printf("value_bgnbd_evaluations %d count\n", bg->report.evaluations);
  std::printf("value_gamma_gamma_customers %zu count\n", spend.x.size());
  std::printf("value_gamma_gamma_fit_1m %.3f s\n", gg_s);
  std::printf("value_gamma_gamma_fit_1m_cpu %.3f s\n", gg_cpu);
  std::printf("value_gamma_gamma_evaluations %d count\n", gg->report.evaluations);
  std::printf("value_bgnbd_plus_gg_fit_1m %.3f s\n", bg_s + gg_s);
  std::printf("value_bgnbd_plus_gg_fit_1m_cpu %.3f s\n", Cpu() - c0);
  std::printf("value_fit_converged %d bool\n", bg->report.converged && gg->report.converged ? 1 : 0);
  std::printf("value_bgnbd_params r=%.4f alpha=%.4f a=%.4f b=%.4f (truth 0.243 4.414 0.793 2.426)\n", bg->params.r,
              bg->params.alpha, bg->params.a, bg->params.b);
  std::printf("value_gg_params p=%.4f q=%.4f gamma=%.4f (truth 6.25 3.74 15.44)\n", gg->params.p, gg->params.q,
              gg->params.gamma);

  // 2. Score score_n customers on 2 threads, everything the engine keeps per customer (P(alive),
  //    E[Y(52)], E[M], discounted CLV over 12 monthly steps), one CustomerScorer per thread.
  PurchaseModel model;
  model.bgnbd = bg->params;
  const GammaGammaParams g = gg->params;
  const ClvOptions clv;
  c0 = Cpu();
  t0 = std::chrono::steady_clock::now();
  double checksum[2] = {0, 0};
  size_t pairs[2] = {0, 0};
  auto worker = [&](int k) {
    CustomerScorer scorer(model, g, clv);
    double acc = 0;
    for (size_t i = static_cast<size_t>(k); i < score_n; i += 2) {
      const CustomerValue v = scorer.Score(rows[i % rows.size()]);
      acc += v.prob_alive + v.expected_purchases * v.expected_spend + v.clv;
    }
    checksum[k] = acc;
    pairs[k] = scorer.cached_pairs();
  };
  std::thread other(worker, 1);
  worker(0);
  other.join();
  const double score_s = Since(t0);
  std::printf("value_score_customers %zu count\n", score_n);
  std::printf("value_score_10m %.3f s\n", score_s);
  std::printf("value_score_10m_cpu %.3f s\n", Cpu() - c0);
  std::printf("value_score_rate %.0f customers/s\n", static_cast<double>(score_n) / score_s);
  std::printf("value_score_distinct_x_T %zu pairs\n", pairs[0]);
  std::printf("value_score_checksum %.6g sum\n", checksum[0] + checksum[1]);

  // 3. The same per customer without the cache (ScoreCustomer: a ₂F₁ series per step), on the n
  //    summaries, for comparison.
  c0 = Cpu();
  t0 = std::chrono::steady_clock::now();
  double total[2] = {0, 0};
  auto plain_worker = [&](int k) {
    for (size_t i = static_cast<size_t>(k); i < rows.size(); i += 2) total[k] += ScoreCustomer(model, g, rows[i], clv).clv;
  };
  std::thread other2(plain_worker, 1);
  plain_worker(0);
  other2.join();
  const double clv_s = Since(t0);
  std::printf("value_score_uncached_1m %.3f s\n", clv_s);
  std::printf("value_score_uncached_1m_cpu %.3f s\n", Cpu() - c0);
  std::printf("value_clv_mean %.3f usd\n", (total[0] + total[1]) / static_cast<double>(rows.size()));
  return 0;
}
