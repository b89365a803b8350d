#pragma once
// Test helpers for segments: random rows in segment order, and building a segment from them.

#include <algorithm>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "io/env.h"
#include "store/interaction.h"
#include "store/segment_builder.h"

namespace cairn::store::testing {

struct RandomRowsOptions {
  size_t customers = 50;
  size_t max_rows_per_customer = 30;
  bool extremes = false;  // negative/huge timestamps and ids, empty and 60 KiB payloads, unicode
  // Every other customer's rows were imported: received within ten seconds of one moment, long
  // after they happened (the builder then stores that column raw, not as a difference).
  bool imported = false;
};

// Rows sorted by (customer, timestamp_ms, seq), with distinct seqs.
inline std::vector<Interaction> RandomRows(uint64_t seed, const RandomRowsOptions& o = {}) {
  std::mt19937_64 rng(seed);
  static const char* kEvents[] = {"Page Viewed", "Signed Up", "Order Completed", "", "Feature Used", "Émoji ✓ 😀"};
  static const char* kChannels[] = {"web", "email", "", "mobile"};
  std::vector<Interaction> rows;
  uint64_t customer = 1 + rng() % 1000;
  uint64_t seq = rng() % 1000;
  for (size_t c = 0; c < o.customers; ++c) {
    customer += 1 + rng() % (c % 7 == 0 ? 1'000'000 : 10);
    if (o.extremes && c + 1 == o.customers) customer = std::numeric_limits<uint64_t>::max();
    const size_t n = 1 + rng() % o.max_rows_per_customer;
    int64_t ts = static_cast<int64_t>(rng() % 4'000'000'000'000) - (o.extremes ? 2'000'000'000'000 : 0);
    for (size_t i = 0; i < n; ++i) {
      Interaction r;
      r.customer = customer;
      ts += static_cast<int64_t>(rng() % 3) == 0 ? 0 : static_cast<int64_t>(rng() % 200'000'000);
      r.timestamp_ms = ts;
      r.received_at_ms = o.imported && c % 2 == 0 ? int64_t{1'800'000'000'000} + static_cast<int64_t>(rng() % 10'000)
                                                  : ts + static_cast<int64_t>(rng() % 5000) - 100;
      r.seq = seq + rng() % 100000;
      r.type = static_cast<MessageType>(1 + rng() % 6);
      r.source = static_cast<uint32_t>(rng() % 3) * 1000;
      r.event = kEvents[rng() % 6];
      r.channel = kChannels[rng() % 4];
      r.message_id = "m-" + std::to_string(rng());
      r.revenue = rng() % 10 == 0 ? static_cast<double>(rng() % 100000) / 100 : 0.0;
      r.payload = R"({"type":"track","properties":{"v":)" + std::to_string(rng() % 100000) + "}}";
      if (o.extremes) {
        switch (rng() % 12) {
          case 0: r.payload.clear(); break;
          case 1: r.payload = std::string(60 << 10, static_cast<char>('a' + rng() % 26)); break;
          case 2: r.payload = "{\"name\":\"Zoë – 東京 🚀\"}"; break;
          case 3: r.revenue = -0.0; break;
          case 4: r.received_at_ms = std::numeric_limits<int64_t>::max(); break;
          case 5: r.seq = std::numeric_limits<uint64_t>::max() - rng() % 1000; break;
          default: break;
        }
      }
      rows.push_back(r);
    }
    if (o.extremes && c == 0) {
      // One customer with the most extreme timestamps.
      rows.back().timestamp_ms = std::numeric_limits<int64_t>::max();
      rows[rows.size() - n].timestamp_ms = std::numeric_limits<int64_t>::min();
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Interaction& a, const Interaction& b) {
    return std::tie(a.customer, a.timestamp_ms, a.seq) < std::tie(b.customer, b.timestamp_ms, b.seq);
  });
  // Make (customer, timestamp, seq) strictly increasing.
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const Interaction& a, const Interaction& b) {
                           return std::tie(a.customer, a.timestamp_ms, a.seq) == std::tie(b.customer, b.timestamp_ms, b.seq);
                         }),
             rows.end());
  return rows;
}

inline Status BuildSegment(io::Env* env, const std::string& path, const std::vector<Interaction>& rows,
                           const SegmentBuilderOptions& options = {}) {
  ASSIGN_OR_RETURN(auto builder, SegmentBuilder::Create(env, path, options));
  for (const auto& r : rows) RETURN_IF_ERROR(builder->Add(r));
  return builder->Finish();
}

}  // namespace cairn::store::testing
