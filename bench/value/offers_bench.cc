// Next best offer and personas: co-occurrence rules over Online Retail's 540k lines (issue 6 target
// ≤ 1 s) and personas (k chosen by silhouette) over synthetic customers. One figure per line.
//   value_offers_bench [online_retail.csv.gz] [persona_customers=100000]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

#include "value/online_retail.h"
#include "value/personas.h"

namespace {

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double Cpu() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn::value;
  const std::string path = argc > 1 ? argv[1] : "../shared/data/online-retail/online_retail.csv.gz";
  const size_t persona_n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100'000;

  auto t0 = std::chrono::steady_clock::now();
  auto data = ReadOnlineRetail(path);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  std::printf("value_online_retail_read %.3f s\n", Since(t0));
  std::printf("value_online_retail_lines %zu count\n", data->lines.size());
  double c0 = Cpu();
  t0 = std::chrono::steady_clock::now();
  auto model = OfferModel::Build(data->lines, OfferOptions{});
  const double build_s = Since(t0);
  if (!model.ok()) return 1;
  std::printf("value_offers_build %.3f s\n", build_s);
  std::printf("value_offers_build_cpu %.3f s\n", Cpu() - c0);
  std::printf("value_offers_rules %lld count\n", static_cast<long long>(model->rules()));

  std::mt19937_64 rng(1);
  std::normal_distribution<double> z(0, 1);
  std::vector<PersonaInput> inputs(persona_n);
  for (size_t i = 0; i < persona_n; ++i) {
    const int kind = static_cast<int>(i % 4);
    PersonaInput& p = inputs[i];
    p.purchases = std::max(1.0, (kind + 1) * 3 + 2 * z(rng));
    p.average_order = 20 * (kind + 1) * std::exp(0.3 * z(rng));
    p.recency_days = std::max(0.0, 30 * (4 - kind) + 10 * z(rng));
    p.tenure_days = 200 + 50 * z(rng);
    p.channel_share[kind % 3] = 1;
  }
  c0 = Cpu();
  t0 = std::chrono::steady_clock::now();
  auto personas = DiscoverPersonas(inputs, PersonaOptions{});
  if (!personas.ok()) return 1;
  std::printf("value_personas_%zu %.3f s\n", persona_n, Since(t0));
  std::printf("value_personas_cpu %.3f s\n", Cpu() - c0);
  std::printf("value_personas_k %d count\n", personas->k);
  return 0;
}
