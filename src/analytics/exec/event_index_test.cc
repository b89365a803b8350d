// EventIndex::Extend / IndexCache: after every round of random ingest (late events, flushes,
// compactions, identity merges, erasures), the index the cache hands out must equal a full Build
// of the same snapshot, row for row; and the cache must have extended, not rebuilt, where it can.

#include "analytics/exec/event_index.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <random>
#include <tuple>

#include "analytics/engine.h"
#include "io/mem_env.h"
#include "store/segment_reader.h"
#include "store/store.h"

namespace cairn::analytics {
namespace {

// A union-find the test merges into (merges only join, like IdentityResolver).
struct Identities {
  std::map<store::CustomerId, store::CustomerId> parent;
  store::CustomerId Find(store::CustomerId c) const {
    for (auto it = parent.find(c); it != parent.end() && it->second != c; it = parent.find(c)) c = it->second;
    return c;
  }
  void Merge(store::CustomerId from, store::CustomerId into) {
    from = Find(from);
    into = Find(into);
    if (from != into) parent[from] = into;
  }
};

void ExpectSame(const EventIndex& got, const EventIndex& want, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_EQ(got.snapshot_seq(), want.snapshot_seq());
  ASSERT_EQ(got.customers(), want.customers());
  ASSERT_EQ(got.offsets(), want.offsets());
  ASSERT_EQ(got.row_count(), want.row_count());
  EXPECT_EQ(got.timestamps(), want.timestamps());
  EXPECT_EQ(got.seqs(), want.seqs());
  EXPECT_EQ(got.types(), want.types());
  EXPECT_EQ(got.revenues(), want.revenues());
  for (size_t r = 0; r < got.row_count(); ++r) {
    ASSERT_EQ(got.event_name(got.events()[r]), want.event_name(want.events()[r])) << "row " << r;
    ASSERT_EQ(got.channel_names()[got.channels()[r]], want.channel_names()[want.channels()[r]]) << "row " << r;
  }
  if (want.row_count() > 0) {
    EXPECT_EQ(got.min_timestamp_ms(), want.min_timestamp_ms());
    EXPECT_EQ(got.max_timestamp_ms(), want.max_timestamp_ms());
  }
  for (uint64_t s = 0; s < want.snapshot_seq(); ++s) ASSERT_EQ(got.RowOfSeq(s), want.RowOfSeq(s)) << "seq " << s;
  for (const auto& name : want.channel_names()) EXPECT_TRUE(std::count(got.channel_names().begin(), got.channel_names().end(), name));
  for (size_t e = 0; e < want.event_count(); ++e) EXPECT_TRUE(got.FindEvent(want.event_name(e))) << want.event_name(e);
}

class EventIndexExtendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions so;
    so.background_work = false;
    so.memtable_flush_bytes = size_t{1} << 30;
    if (store_) ASSERT_TRUE(store_->Close().ok());
    auto st = store::Store::Open(&env_, "/db" + std::to_string(++dirs_), so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
  }
  void Append(std::vector<store::Interaction> rows) {
    store::Batch b;
    b.interactions = std::move(rows);
    std::promise<Status> p;
    auto f = p.get_future();
    ASSERT_TRUE(store_->Append(std::move(b), [&p](Status s) { p.set_value(s); }).ok());
    ASSERT_TRUE(f.get().ok());
  }
  std::vector<store::Interaction> RandomRows(std::mt19937_64& rng, size_t n, int customers) {
    static const char* kEvents[] = {"Signed Up", "Product Viewed", "Added To Cart", "Order Completed", "", "Login"};
    static const char* kChannels[] = {"", "web", "email", "ads"};
    std::vector<store::Interaction> rows(n);
    for (auto& r : rows) {
      r.customer = 1 + rng() % customers;
      // Late events on purpose: timestamps anywhere in a small range, ties likely.
      r.timestamp_ms = 1'767'571'200'000 + static_cast<int64_t>(rng() % 500) * 1000;
      r.event = kEvents[rng() % std::size(kEvents)];
      r.type = r.event.empty() ? (rng() % 2 ? store::MessageType::kIdentify : store::MessageType::kPage)
                               : store::MessageType::kTrack;
      r.channel = kChannels[rng() % std::size(kChannels)];
      // A brand-new event / channel name now and then: ids of the old ones must not move.
      if (rng() % 50 == 0) r.event = "New " + std::to_string(rng() % 7);
      if (rng() % 60 == 0) r.channel = "ch" + std::to_string(rng() % 5);
      r.revenue = static_cast<double>(rng() % 4);
      r.payload = "{}";
    }
    return rows;
  }

  io::MemEnv env_;
  int dirs_ = 0;
  std::unique_ptr<store::Store> store_;
};

TEST_F(EventIndexExtendTest, ExtendedIndexEqualsFullBuildThroughIngestFlushMergeAndErase) {
  QueryContext ctx(0, 2);
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    SetUp();
    std::mt19937_64 rng(seed);
    Identities ids;
    const int customers = 40;
    Canonicalizer canon = [&ids](store::CustomerId c) { return ids.Find(c); };
    // Odd seeds: customers whose canonical id is 3 mod 7 are excluded (consent denied), so merges
    // move rows into and out of excluded customers.
    CustomerFilter excluded;
    if (seed % 2) excluded = [](store::CustomerId c) { return c % 7 == 3; };
    IndexCache cache(store_.get(), canon, excluded);
    for (int round = 0; round < 25; ++round) {
      const std::string where = "seed " + std::to_string(seed) + " round " + std::to_string(round);
      const size_t n = rng() % 4 == 0 ? 0 : 1 + rng() % 120;
      if (n > 0) Append(RandomRows(rng, n, customers));
      const unsigned op = rng() % 10;
      if (op == 0) ASSERT_TRUE(store_->Flush().ok());
      if (op == 1) ASSERT_TRUE(store_->Compact({}, /*force=*/true).ok());
      if (op == 2 || op == 3) ids.Merge(1 + rng() % customers, 1 + rng() % customers);
      if (op == 4 && round > 5) ASSERT_TRUE(store_->Compact({1 + rng() % customers}, true).ok());  // erasure
      if (ids.parent.size() > 0 && n == 0 && op >= 2 && op <= 3) {
        // A merge with no new batch does not move the seq; the resolver's merges come with a
        // batch in the real pipeline, so add one.
        Append(RandomRows(rng, 1, customers));
      }
      auto got = cache.Get(ctx);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      auto want = EventIndex::Build(*got->snapshot, canon, ctx, excluded);
      ASSERT_TRUE(want.ok());
      ExpectSame(*got->index, **want, where);
      if (HasFatalFailure()) return;
      EXPECT_EQ(got->index->excluded_customers(), (*want)->excluded_customers()) << where;
      EXPECT_EQ(got->index->excluded_rows(), (*want)->excluded_rows()) << where;
      if (excluded) {
        for (store::CustomerId c : got->index->customers()) ASSERT_NE(c % 7, 3u) << where;
        // Every row below the seq is either in the index or counted as excluded.
        uint64_t visible = 0;
        ASSERT_TRUE(got->snapshot->ForEach([&](const store::Interaction&) { return ++visible, true; }, 0).ok());
        EXPECT_EQ(got->index->row_count() + got->index->excluded_rows(), visible) << where;
      }
    }
    const auto st = cache.stats();
    EXPECT_GT(st.extends, 10u) << "seed " << seed;
    EXPECT_GE(st.full_builds, 1u);
  }
}

TEST_F(EventIndexExtendTest, ErasedRowsForceAFullBuild) {
  QueryContext ctx(0, 1);
  std::mt19937_64 rng(7);
  IndexCache cache(store_.get(), nullptr);
  Append(RandomRows(rng, 300, 10));
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(cache.Get(ctx).ok());
  Append(RandomRows(rng, 50, 10));
  auto a = cache.Get(ctx);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(cache.stats().full_builds, 1u);
  EXPECT_EQ(cache.stats().extends, 1u);
  EXPECT_EQ(cache.stats().last_delta_rows, 50u);
  EXPECT_EQ(a->index->row_count(), 350u);
  // Customer 3 erased (its segment rows dropped), plus one new row: the rows below the cached
  // seq changed, so the cache must rebuild and customer 3 must be gone.
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->Compact({3}, true).ok());
  Append(RandomRows(rng, 1, 2));
  auto b = cache.Get(ctx);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(cache.stats().full_builds, 2u);
  EXPECT_FALSE(b->index->FindCustomer(3));
  // Same seq: reused, not rebuilt.
  ASSERT_TRUE(cache.Get(ctx).ok());
  EXPECT_EQ(cache.stats().reuses, 1u);
  cache.Invalidate();
  ASSERT_TRUE(cache.Get(ctx).ok());
  EXPECT_EQ(cache.stats().full_builds, 3u);
}

// An erasure hides its customers at once (Store::HideCustomers) and removes their rows later.
// Hiding does not advance the seq, so a cache keyed by seq alone would go on counting them: the
// index must drop them at the next query — the cached one, its extensions and an engine's
// per-segment indexes alike.
TEST_F(EventIndexExtendTest, HiddenCustomersLeaveTheIndexAtTheNextQuery) {
  QueryContext ctx(0, 2);
  std::mt19937_64 rng(5);
  // Customers 3 and 4 arrive through the web channel (their first row), then random rows.
  std::vector<store::Interaction> first(2);
  for (store::CustomerId c : {3, 4}) {
    first[c - 3].customer = c;
    first[c - 3].timestamp_ms = 1'700'000'000'000;
    first[c - 3].event = "Signed Up";
    first[c - 3].channel = "web";
    first[c - 3].payload = "{}";
  }
  Append(std::move(first));
  Append(RandomRows(rng, 400, 10));
  ASSERT_TRUE(store_->Flush().ok());
  Append(RandomRows(rng, 60, 10));  // memtable rows too
  IndexCache cache(store_.get(), nullptr);
  Engine engine(store_.get(), nullptr);
  Segment web;
  web.channel = "web";
  auto rows_of_others = [](const store::Snapshot& snap, store::CustomerId skip) {
    uint64_t n = 0;
    EXPECT_TRUE(snap.ForEach([&](const store::Interaction& r) { return n += r.customer != skip, true; }, 0).ok());
    return n;
  };
  {
    auto before = cache.Get(ctx);
    ASSERT_TRUE(before.ok());
    ASSERT_TRUE(before->index->FindCustomer(3));
    auto seg = engine.IndexFor(web, ctx);
    ASSERT_TRUE(seg.ok());
    ASSERT_TRUE(seg->index->FindCustomer(3));
  }
  const uint64_t rows_without_3 = rows_of_others(*store_->GetSnapshot(), 3);
  const auto mem = store_->GetSnapshot()->MemTableRows();
  const auto mem_rows_of_3 = std::count_if(mem.begin(), mem.end(), [](const auto& r) { return r.customer == 3; });
  store_->HideCustomers({3});
  auto after = cache.Get(ctx);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(cache.stats().full_builds, 2u);
  EXPECT_FALSE(after->index->FindCustomer(3));
  EXPECT_EQ(after->index->row_count(), rows_without_3);
  // The snapshot's own row scans hide 3 too. 3's rows in segments count as excluded (Extend
  // expects every segment row below the seq in the index or excluded); the snapshot's memtable
  // rows come without them.
  EXPECT_EQ(after->index->row_count(), rows_of_others(*after->snapshot, 0));
  EXPECT_EQ(after->index->excluded_rows(), 2 + 400 + 60 - rows_without_3 - mem_rows_of_3);
  auto want = EventIndex::Build(*after->snapshot, nullptr, ctx);
  ASSERT_TRUE(want.ok());
  ExpectSame(*after->index, **want, "after hiding 3");
  // An engine's per-segment index is derived from the new index, not reused from before.
  auto seg = engine.IndexFor(web, ctx);
  ASSERT_TRUE(seg.ok());
  EXPECT_FALSE(seg->index->FindCustomer(3));
  EXPECT_TRUE(seg->index->FindCustomer(4));
  // New rows of others (an erased customer's identities are gone, so its id gets no new rows):
  // the cache extends, and 3 stays out.
  Append(RandomRows(rng, 30, 2));
  auto extended = cache.Get(ctx);
  ASSERT_TRUE(extended.ok());
  EXPECT_TRUE(cache.stats().last_was_extend);
  EXPECT_FALSE(extended->index->FindCustomer(3));
  want = EventIndex::Build(*extended->snapshot, nullptr, ctx);
  ASSERT_TRUE(want.ok());
  ExpectSame(*extended->index, **want, "extended after hiding 3");
}

// Build decodes segment blocks on ctx.threads() threads, each block into its own row range, and
// groups rows by customer in parallel. Whatever the thread count, the index must be the rows of
// Snapshot::ForEach grouped by canonical customer (merged identities, excluded customers left
// out) and ordered by (timestamp, seq) within each — and have the same event and channel ids as
// a one-thread build (the dictionary's first-seen order, "$type" names of unnamed rows included).
TEST_F(EventIndexExtendTest, BuildOnManyThreadsEqualsTheRowsGroupedByCustomer) {
  std::mt19937_64 rng(11);
  Identities ids;
  const int customers = 300;
  // Several segments of several 4096-row blocks each, plus memtable rows; customers in every
  // segment, so a customer's rows come from many blocks and threads.
  for (int flush = 0; flush < 4; ++flush) {
    for (int batch = 0; batch < 3; ++batch) Append(RandomRows(rng, 3000, customers));
    ASSERT_TRUE(store_->Flush().ok());
  }
  Append(RandomRows(rng, 500, customers));
  for (int i = 0; i < 40; ++i) ids.Merge(1 + rng() % customers, 1 + rng() % customers);
  Canonicalizer canon = [&ids](store::CustomerId c) { return ids.Find(c); };
  CustomerFilter excluded = [](store::CustomerId c) { return c % 7 == 3; };
  auto snap = store_->GetSnapshot();
  ASSERT_GE(snap->segments().size(), 4u);
  size_t blocks = 0;
  for (const auto& s : snap->segments()) blocks += s->block_count();
  ASSERT_GE(blocks, 8u);

  struct Row {
    store::CustomerId c;
    int64_t ts;
    uint64_t seq;
    std::string event, channel;
    uint8_t type;
    double revenue;
  };
  std::vector<Row> want;
  uint64_t want_excluded = 0;
  ASSERT_TRUE(snap->ForEach([&](const store::Interaction& r) {
                    const store::CustomerId c = ids.Find(r.customer);
                    if (c % 7 == 3) return ++want_excluded, true;
                    std::string event = r.event.empty() ? "$" + std::string(store::MessageTypeName(r.type)) : r.event;
                    want.push_back({c, r.timestamp_ms, r.seq, event, r.channel, static_cast<uint8_t>(r.type), r.revenue});
                    return true;
                  }).ok());
  std::sort(want.begin(), want.end(), [](const Row& a, const Row& b) {
    return std::tie(a.c, a.ts, a.seq) < std::tie(b.c, b.ts, b.seq);
  });

  std::shared_ptr<const EventIndex> one;
  for (unsigned threads : {1u, 3u, 7u}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    auto got = EventIndex::Build(*snap, canon, QueryContext(0, threads), excluded);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const EventIndex& x = **got;
    ASSERT_EQ(x.row_count(), want.size());
    EXPECT_EQ(x.excluded_rows(), want_excluded);
    std::vector<store::CustomerId> want_customers;
    for (const Row& r : want)
      if (want_customers.empty() || want_customers.back() != r.c) want_customers.push_back(r.c);
    ASSERT_EQ(x.customers(), want_customers);
    for (size_t c = 0; c < x.customer_count(); ++c)
      for (RowIndex r = x.offsets()[c]; r < x.offsets()[c + 1]; ++r) ASSERT_EQ(want[r].c, x.customers()[c]) << r;
    for (size_t r = 0; r < want.size(); ++r) {
      ASSERT_EQ(x.timestamps()[r], want[r].ts) << "row " << r;
      ASSERT_EQ(x.seqs()[r], want[r].seq) << "row " << r;
      ASSERT_EQ(x.event_name(x.events()[r]), want[r].event) << "row " << r;
      ASSERT_EQ(x.channel_names()[x.channels()[r]], want[r].channel) << "row " << r;
      ASSERT_EQ(x.types()[r], want[r].type) << "row " << r;
      ASSERT_EQ(x.revenues()[r], want[r].revenue) << "row " << r;
    }
    EXPECT_EQ(x.min_timestamp_ms(), std::min_element(want.begin(), want.end(), [](auto& a, auto& b) { return a.ts < b.ts; })->ts);
    EXPECT_EQ(x.max_timestamp_ms(), std::max_element(want.begin(), want.end(), [](auto& a, auto& b) { return a.ts < b.ts; })->ts);
    if (!one) {
      one = *got;
      continue;
    }
    EXPECT_EQ(x.events(), one->events());
    EXPECT_EQ(x.channels(), one->channels());
    ASSERT_EQ(x.event_count(), one->event_count());
    for (EventId e = 0; e < x.event_count(); ++e) EXPECT_EQ(x.event_name(e), one->event_name(e));
    EXPECT_EQ(x.channel_names(), one->channel_names());
  }
}

}  // namespace
}  // namespace cairn::analytics
