// value_rfm_bench: RFM summaries from 100M interactions held in memory in the store's column
// format (store::FixedColumns blocks of 65,536 rows, sorted by (customer, timestamp), event names
// as dictionary codes), the shape a compacted store's segments decode to.
//   Data: 100M rows over 2.86M customers (35 rows each on average, 1–69), 13 event names in a
//   realistic skew with "Order Completed" at ~4% of rows carrying revenue, spread over 2 years.
//   Timed: PurchaseColumns over every block (the purchase predicate per row), then the summaries
//   per customer (calibration = the last day). The same rows through the row predicate
//   (IsPurchase on a store::Interaction, as a ForEach scan hands them) are timed on the first 10M
//   for comparison.
// Prints one figure per line: `name value unit`. Usage: value_rfm_bench [rows=100000000] [threads=2]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/interaction.h"
#include "value/purchase_columns.h"
#include "value/rfm.h"

using namespace cairn;
using namespace cairn::value;

namespace {

double Cpu() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Block {
  std::vector<uint64_t> customer;
  std::vector<int64_t> timestamp_ms;
  std::vector<uint32_t> event;
  std::vector<uint8_t> type;
  std::vector<double> revenue;
  PurchaseBlock View() const { return {customer, timestamp_ms, event, type, revenue}; }
};

const std::vector<std::string> kEvents = {"Page Viewed", "Product Viewed", "Added To Cart", "Order Completed",
                                          "Email Opened", "Email Clicked", "Signed Up", "Feature Used",
                                          "Checkout Started", "Search", "Support Ticket Opened",
                                          "Subscription Renewed", "Survey Responded"};

std::vector<Block> Generate(uint64_t rows, uint64_t* customers) {
  std::mt19937_64 rng(7);
  std::discrete_distribution<int> pick({30, 18, 8, 4, 10, 4, 2, 10, 4, 6, 2, 1, 1});
  constexpr int64_t kStart = 1704067200000;  // 2024-01-01
  constexpr int64_t kSpan = 730LL * 86'400'000;
  std::vector<Block> blocks;
  uint64_t done = 0, c = 0;
  Block b;
  while (done < rows) {
    ++c;
    const uint64_t n = std::min<uint64_t>(rows - done, 1 + rng() % 69);
    int64_t t = kStart + static_cast<int64_t>(rng() % static_cast<uint64_t>(kSpan / 2));
    for (uint64_t i = 0; i < n; ++i) {
      t += static_cast<int64_t>(rng() % (86'400'000ULL * 10));
      const int e = pick(rng);
      b.customer.push_back(c);
      b.timestamp_ms.push_back(t);
      b.event.push_back(static_cast<uint32_t>(e));
      b.type.push_back(static_cast<uint8_t>(e == 0 ? store::MessageType::kPage : store::MessageType::kTrack));
      b.revenue.push_back(e == 3 ? 10.0 + static_cast<double>(rng() % 9000) / 100 : 0.0);
      if (b.customer.size() == 65'536) {
        blocks.push_back(std::move(b));
        b = Block{};
      }
    }
    done += n;
  }
  if (!b.customer.empty()) blocks.push_back(std::move(b));
  *customers = c;
  return blocks;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000'000;
  const unsigned threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 2;
  uint64_t customers = 0;
  auto g0 = std::chrono::steady_clock::now();
  const std::vector<Block> blocks = Generate(rows, &customers);
  std::printf("rfm_rows %llu rows\nrfm_customers %llu customers\nrfm_blocks %zu blocks\nrfm_generate_wall %.2f s\n",
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(customers), blocks.size(), Since(g0));
  PurchaseRule rule;  // Order Completed, or any revenue > 0
  RfmOptions opt;
  opt.calibration_end_day = opt.holdout_end_day = (1704067200000 + 800LL * 86'400'000) / 86'400'000;

  for (int rep = 0; rep < 3; ++rep) {
    const double c0 = Cpu();
    auto t0 = std::chrono::steady_clock::now();
    // The blocks are split into `threads` contiguous ranges, each scanned by its own collector;
    // the ranges' purchases are concatenated in order, so they stay in (customer, day) order.
    std::vector<PurchaseColumns> parts(threads, PurchaseColumns(rule));
    std::vector<std::thread> pool;
    for (unsigned k = 0; k < threads; ++k)
      pool.emplace_back([&, k] {
        parts[k].BeginSegment(kEvents);
        const size_t from = blocks.size() * k / threads, to = blocks.size() * (k + 1) / threads;
        for (size_t i = from; i < to; ++i) parts[k].Add(blocks[i].View());
      });
    for (auto& t : pool) t.join();
    const double scan = Since(t0);
    for (unsigned k = 1; k < threads; ++k) parts[0].Append(std::move(parts[k]));
    auto result = parts[0].Summaries(opt);
    const double wall = Since(t0), cpu = Cpu() - c0;
    std::printf("rfm_summary_100m_wall %.3f s\nrfm_summary_100m_cpu %.3f s\nrfm_scan_wall %.3f s\n"
                "rfm_purchases %lld rows\nrfm_summarised_customers %zu customers\n",
                wall, cpu, scan, static_cast<long long>(result.purchases), result.ids.size());
  }

  // The row path on the first 10M rows: every row as a store::Interaction through IsPurchase/DayOf.
  {
    const double c0 = Cpu();
    auto t0 = std::chrono::steady_clock::now();
    uint64_t n = 0, purchases = 0;
    store::Interaction in;
    for (const Block& b : blocks) {
      for (size_t i = 0; i < b.customer.size(); ++i) {
        in.customer = b.customer[i];
        in.timestamp_ms = b.timestamp_ms[i];
        in.event = kEvents[b.event[i]];
        in.type = static_cast<store::MessageType>(b.type[i]);
        in.revenue = b.revenue[i];
        if (IsPurchase(in, rule)) purchases += DayOf(in.timestamp_ms, rule) > 0;
      }
      if ((n += b.customer.size()) >= 10'000'000) break;
    }
    std::printf("rfm_row_predicate_10m_wall %.3f s\nrfm_row_predicate_10m_cpu %.3f s\n", Since(t0), Cpu() - c0);
    if (purchases == 0) std::printf("rfm_row_predicate_no_purchases 1 flag\n");
  }
  return 0;
}
