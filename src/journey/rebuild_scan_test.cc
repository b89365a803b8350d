// DeriveSnapshot (the rebuild's column scan): over a store of several segments and a memtable,
// with merges, identifies read by persona trait rules and payload conditions, every customer it
// derives equals the live state byte for byte, whatever the number of shards, and the customers
// with merged-in ids are the ones it hands back.
#include "journey/rebuild_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "journey/journey_test_util.h"

namespace cairn::journey {
namespace {

using testing::Harness;
using testing::kBase;

const char* kEvents[] = {"Signed Up",       "Product Viewed",  "Added To Cart",   "Order Completed",
                         "Survey Responded", "Complaint Filed", "Support Ticket Resolved",
                         "Competitor Considered", "Renewal Due", "Feature Used", "Deal Lost", "Email Opened"};

// Interactions in rising time per customer (so that live state needs no re-derivation), merges
// now and then, and identifies with the traits the default map's personas read. Customers are
// c<first> … c<first + customers - 1>.
void Workload(Harness* h, int first, int customers, int n, std::mt19937* rng, int64_t* now) {
  for (int i = 0; i < n; ++i) {
    std::string c = "c" + std::to_string(first + (*rng)() % customers);
    *now += 60000;
    if ((*rng)() % 10 == 0) {
      h->Send(c, store::MessageType::kIdentify, "", *now, (*rng)() % 2 ? R"({"plan":"pro"})" : R"({"company":"Acme"})");
      continue;
    }
    std::string ev = kEvents[(*rng)() % std::size(kEvents)];
    std::string props = "{\"nps\":" + std::to_string((*rng)() % 11) + ",\"satisfied\":" + ((*rng)() % 2 ? "true" : "false") +
                        ",\"reason\":\"competitor\"}";
    h->Track(c, ev, *now, props, ev == "Order Completed" ? 40 : 0);
    if ((*rng)() % 60 == 0) {
      std::string a = "c" + std::to_string(first + (*rng)() % customers);
      std::string b = "c" + std::to_string(first + (*rng)() % customers);
      if (h->Root(a) && h->Root(b) && h->Root(a) != h->Root(b)) h->Merge(a, b);
    }
  }
}

TEST(RebuildScanTest, EqualsLiveStateOverSegmentsAndMemtableForAnyShardCount) {
  Harness h(testing::DefaultMap());
  std::mt19937 rng(11);
  int64_t now = kBase;
  // Each flushed round brings 80 new customers (ids are given in order of first appearance), so the
  // segments start at different customers and the split has blocks to cut between: with one block
  // per segment all starting at customer 1, every range but one was empty and the threads never
  // derived at the same time. The memtable's rows then touch customers of every segment.
  for (int round = 0; round < 3; ++round) {
    Workload(&h, round * 80, 80, 250, &rng, &now);
    ASSERT_TRUE(h.store->Flush().ok());
  }
  Workload(&h, 0, 240, 300, &rng, &now);  // left in the memtable
  const store::StoreStats st = h.store->Stats();
  ASSERT_EQ(st.segments, 3u);
  ASSERT_GT(st.memtable_rows, 0u);

  std::map<store::CustomerId, std::pair<CustomerState, History>> live;
  for (auto& [s, hist] : h.engine->AllStates()) live[s.customer] = {s, hist};
  Deriver d(h.engine->map());
  ingest::IdentityResolver* identity = h.identity();
  for (int threads : {1, 2, 3, 16}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    RebuildScanOptions o;
    o.threads = threads;
    o.canonical = [identity](std::span<const store::CustomerId> ids, store::CustomerId* roots) {
      identity->FindMany(ids, roots);
    };
    uint64_t last_done = 0, reports = 0;
    o.progress = [&](uint64_t done, uint64_t total) {
      EXPECT_LE(done, total);
      EXPECT_GE(done, last_done);
      last_done = done;
      ++reports;
    };
    auto r = DeriveSnapshot(*h.store->GetSnapshot(), d, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(reports, 0u);
    EXPECT_EQ(last_done, st.segment_rows + st.memtable_rows);
    // Several threads really derive customers at once (what the determinism check is about).
    ASSERT_LE(r->customers_per_shard.size(), static_cast<size_t>(threads));  // fewer when blocks run out
    EXPECT_GE(std::count_if(r->customers_per_shard.begin(), r->customers_per_shard.end(), [](size_t n) { return n > 0; }),
              std::min(threads, 3));
    // The customers with merged-in ids: exactly the roots with more than one member.
    std::set<store::CustomerId> want_merged;
    for (const auto& [c, e] : live)
      if (identity->Members(c).size() > 1) want_merged.insert(c);
    ASSERT_FALSE(want_merged.empty());
    EXPECT_EQ(std::set<store::CustomerId>(r->merged.begin(), r->merged.end()), want_merged);
    size_t compared = 0;
    std::vector<const DerivedState*> all;
    for (const auto& shard : r->states)
      for (const DerivedState& x : shard) all.push_back(&x);
    for (size_t i = 0; i < all.size(); ++i) {
      const DerivedState& x = *all[i];
      if (i > 0) {
        EXPECT_LT(all[i - 1]->s.customer, x.s.customer);
      }
      if (want_merged.count(x.s.customer)) continue;
      auto it = live.find(x.s.customer);
      ASSERT_NE(it, live.end()) << "customer " << x.s.customer;
      EXPECT_EQ(0, std::memcmp(&it->second.first, &x.s, sizeof(CustomerState))) << "customer " << x.s.customer;
      EXPECT_TRUE(it->second.second == x.h) << "history of customer " << x.s.customer;
      ++compared;
    }
    EXPECT_EQ(compared + want_merged.size(), live.size());
  }
  // And the engine's rebuild (scan + merged customers folded from all their ids) equals live.
  h.ExpectRebuildEqual();
}

}  // namespace
}  // namespace cairn::journey
