// DailyTotals (docs/dashboard.md "Daily totals"): the incremental totals equal a full recompute
// (ComputeSeries over a snapshot) bit for bit, after a simulated business load — late events,
// identity merges, an erasure, a retention drop — and across a restart.
#include "dashboard/daily_totals.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <random>
#include <set>
#include <span>

#include "io/mem_env.h"

namespace cairn::dashboard {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kToday = 20454;  // 2026-01-01

// The identity resolver's part the totals read: stored id → survivor, merges applied.
class FakeIdentity {
 public:
  store::CustomerId Find(store::CustomerId c) const {
    std::lock_guard lock(mu_);
    while (true) {
      auto it = parent_.find(c);
      if (it == parent_.end()) return c;
      c = it->second;
    }
  }
  // Find() of each, under one lock (the resolver's FindMany, unknown ids as themselves).
  void FindMany(std::span<const store::CustomerId> ids, store::CustomerId* roots) const {
    for (size_t i = 0; i < ids.size(); ++i) roots[i] = Find(ids[i]);
  }
  void Merge(store::CustomerId from, store::CustomerId into) {
    std::lock_guard lock(mu_);
    parent_[from] = into;
  }

 private:
  mutable std::mutex mu_;
  std::map<store::CustomerId, store::CustomerId> parent_;
};

Status AppendSync(store::Store* s, store::Batch b) {
  std::promise<Status> p;
  Status st = s->Append(std::move(b), [&](Status r) { p.set_value(r); });
  if (!st.ok()) return st;
  return p.get_future().get();
}

// A store without background work whose every committed batch reaches `totals`.
Result<std::unique_ptr<store::Store>> OpenFeeding(io::Env* env, DailyTotals* totals) {
  store::StoreOptions so;
  so.background_work = false;
  store::StoreListener listener;
  listener.on_commit = [totals](const store::Batch& b, bool) { totals->OnCommit(b); };
  return store::Store::Open(env, "/db", so, listener);
}

const std::vector<std::string> kEvents = {"Page Viewed", "Order Completed", "Deal Won",    "Signed Up",
                                          "Email Sent",  "Call Made",       "Complaint Filed", "Demo Requested"};
const std::vector<std::string> kExtra = {"event:Demo Requested", "event:Order Completed", "event:Never Sent"};

// A day's business: customers 1..kCustomers, events from the mix above with revenue on orders
// (cents, and some values no double sum gets exact), times over the last 60 days — each batch
// also carries late events, up to 40 days behind the others.
struct Business {
  static constexpr uint64_t kCustomers = 300;
  std::mt19937_64 rng{20261123};
  FakeIdentity identity;
  std::set<store::CustomerId> erased;  // suppressed: ingest sends none of theirs any more

  store::Batch Day(int64_t day, size_t rows) {
    store::Batch b;
    for (size_t i = 0; i < rows; ++i) {
      store::Interaction it;
      do it.customer = 1 + rng() % kCustomers;
      while (erased.count(it.customer));
      const bool late = rng() % 5 == 0;
      const int64_t d = late ? day - 1 - static_cast<int64_t>(rng() % 40) : day;
      it.timestamp_ms = d * kDayMs + static_cast<int64_t>(rng() % kDayMs);
      it.event = kEvents[rng() % kEvents.size()];
      it.type = store::MessageType::kTrack;
      if (it.event == "Order Completed" || it.event == "Deal Won")
        it.revenue = rng() % 3 == 0 ? 0.1 * static_cast<double>(rng() % 1000) : static_cast<double>(rng() % 10000) / 100;
      it.message_id = "m" + std::to_string(rng());
      b.interactions.push_back(std::move(it));
    }
    return b;
  }
  // Merges `from` into `into` the way ingest does: the resolver first, the op in the batch.
  void MergeInto(store::Batch* b, store::CustomerId from, store::CustomerId into) {
    identity.Merge(from, into);
    store::IdentityOp op;
    op.kind = store::IdentityOp::Kind::kMerge;
    op.customer = into;
    op.from = from;
    b->identity_ops.push_back(op);
  }
};

// The totals' series against a full recompute over a fresh snapshot, bit for bit.
void ExpectEqualToScan(DailyTotals& totals, store::Store* st, const FakeIdentity& identity, const char* when) {
  SCOPED_TRACE(when);
  auto snap_fn = [st] { return st->GetSnapshot(); };
  const int64_t first_day = kToday - 120, last_day = kToday + 2;
  uint64_t seq = 0;
  auto inc = totals.Series(snap_fn, kExtra, first_day, last_day, &seq);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  auto snap = st->GetSnapshot();
  EXPECT_EQ(seq, snap->seq());
  auto scan = ComputeSeries(*snap, [&](store::CustomerId c) { return identity.Find(c); }, kExtra, first_day, last_day,
                            SeriesOptions{});
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(inc->first_day, scan->first_day);
  EXPECT_EQ(inc->first_data_day, scan->first_data_day);
  ASSERT_EQ(inc->values.size(), scan->values.size());
  for (const auto& [metric, daily] : scan->values) {
    auto it = inc->values.find(metric);
    ASSERT_NE(it, inc->values.end()) << metric;
    EXPECT_EQ(it->second, daily) << metric;  // exact: doubles compared bit for bit
  }
  // The load is not trivial: there is something to get wrong.
  double orders = 0, fresh = 0;
  for (double v : scan->values.at("orders")) orders += v;
  for (double v : scan->values.at("new_customers")) fresh += v;
  EXPECT_GT(orders, 0);
  EXPECT_GT(fresh, 0);
}

TEST(DailyTotalsTest, EqualToFullRecomputeAfterBusinessLoadMergesErasureRetentionAndRestart) {
  io::MemEnv env;
  Business biz;
  auto totals = std::make_shared<DailyTotals>(SeriesOptions{}, [&](store::CustomerId c) { return biz.identity.Find(c); });
  bool drop_calls = false;
  store::StoreOptions so;
  so.background_work = false;
  // Retention: "Call Made" goes once the switch is on (a compaction drops it).
  so.compaction_filter = [&](const store::Interaction& r) { return drop_calls && r.event == "Call Made"; };
  store::StoreListener listener;
  listener.on_commit = [&](const store::Batch& b, bool) { totals->OnCommit(b); };
  listener.on_rows_filtered = [&] { totals->Invalidate(); };
  auto st = store::Store::Open(&env, "/db", so, listener);
  ASSERT_TRUE(st.ok()) << st.status().ToString();

  // 30 days of business before the dashboard first looks (the first build scans them).
  for (int64_t d = kToday - 60; d < kToday - 30; ++d) {
    ASSERT_TRUE(AppendSync(st->get(), biz.Day(d, 40)).ok());
    if (d % 10 == 0) { ASSERT_TRUE((*st)->Flush().ok()); }
  }
  EXPECT_FALSE(totals->ready());
  ExpectEqualToScan(*totals, st->get(), biz.identity, "first build");
  EXPECT_TRUE(totals->ready());
  EXPECT_EQ(totals->builds(), 1u);

  // 30 more days, live: late events, merges (a customer with an earlier order into one with a
  // later one and the reverse), flushes and compactions under the totals.
  for (int64_t d = kToday - 30; d < kToday; ++d) {
    store::Batch b = biz.Day(d, 40);
    if (d % 3 == 0) {
      const store::CustomerId from = 1 + biz.rng() % Business::kCustomers, into = 1 + biz.rng() % Business::kCustomers;
      if (biz.identity.Find(from) == from && biz.identity.Find(into) == into && from != into)
        biz.MergeInto(&b, from, into);
    }
    ASSERT_TRUE(AppendSync(st->get(), std::move(b)).ok());
    if (d % 7 == 0) { ASSERT_TRUE((*st)->Flush().ok()); }
    if (d % 14 == 0) { ASSERT_TRUE((*st)->Compact().ok()); }
  }
  ExpectEqualToScan(*totals, st->get(), biz.identity, "live commits with late events and merges");
  EXPECT_EQ(totals->builds(), 1u);  // answered incrementally, no rescan

  // An erasure: hidden at once from snapshots, the totals invalidated (app/erase.cc does both).
  (*st)->HideCustomers({7, 8, 9});
  biz.erased = {7, 8, 9};
  totals->Invalidate();
  ASSERT_TRUE(AppendSync(st->get(), biz.Day(kToday, 40)).ok());  // committed while stale
  ExpectEqualToScan(*totals, st->get(), biz.identity, "after an erasure");
  EXPECT_EQ(totals->builds(), 2u);
  ASSERT_TRUE((*st)->Erase({7, 8, 9}).ok());
  ExpectEqualToScan(*totals, st->get(), biz.identity, "after the erasure's compaction");

  // Retention: the compaction drops rows; the store says so once its segment is in place.
  drop_calls = true;
  ASSERT_TRUE((*st)->Flush().ok());
  ASSERT_TRUE((*st)->Compact({}, /*force=*/true).ok());
  EXPECT_FALSE(totals->ready());
  ExpectEqualToScan(*totals, st->get(), biz.identity, "after a retention drop");
  drop_calls = false;

  // Restart: the store recovers its WAL into a new process's totals, which build again.
  ASSERT_TRUE(AppendSync(st->get(), biz.Day(kToday, 25)).ok());  // only in the WAL
  ASSERT_TRUE((*st)->Close().ok());
  st->reset();
  totals = std::make_shared<DailyTotals>(SeriesOptions{}, [&](store::CustomerId c) { return biz.identity.Find(c); });
  auto again = store::Store::Open(&env, "/db", so, listener);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  (*again)->HideCustomers({7, 8, 9});  // an erasure's hide is in memory only: the eraser re-hides on start
  ExpectEqualToScan(*totals, again->get(), biz.identity, "after a restart");
  store::Batch late = biz.Day(kToday - 50, 30);  // a whole batch of late events after the restart
  ASSERT_NE(biz.identity.Find(11), biz.identity.Find(12));
  biz.MergeInto(&late, biz.identity.Find(11), biz.identity.Find(12));
  ASSERT_TRUE(AppendSync(again->get(), std::move(late)).ok());
  ExpectEqualToScan(*totals, again->get(), biz.identity, "late batch after the restart");
  EXPECT_EQ(totals->builds(), 1u);
}

TEST(DailyTotalsTest, BatchesCommittedDuringABuildAreCountedOnce) {
  io::MemEnv env;
  Business biz;
  DailyTotals totals(SeriesOptions{}, [&](store::CustomerId c) { return biz.identity.Find(c); });
  store::StoreOptions so;
  so.background_work = false;
  store::StoreListener listener;
  listener.on_commit = [&](const store::Batch& b, bool) { totals.OnCommit(b); };
  auto st = store::Store::Open(&env, "/db", so, listener);
  ASSERT_TRUE(st.ok());
  for (int64_t d = kToday - 20; d < kToday - 10; ++d) ASSERT_TRUE(AppendSync(st->get(), biz.Day(d, 50)).ok());
  // Once the build has begun: a batch lands before its snapshot is taken (kept by the totals and
  // seen by the snapshot: counted once), then more before the scan ends (kept, not in the snapshot).
  int calls = 0;
  ASSERT_TRUE(totals
                  .Build([&] {
                    if (calls++ > 0) return (*st)->GetSnapshot();
                    EXPECT_TRUE(AppendSync(st->get(), biz.Day(kToday - 10, 50)).ok());
                    auto snap = (*st)->GetSnapshot();
                    for (int64_t d = kToday - 9; d < kToday; ++d) EXPECT_TRUE(AppendSync(st->get(), biz.Day(d, 50)).ok());
                    return snap;
                  })
                  .ok());
  ExpectEqualToScan(totals, st->get(), biz.identity, "commits during the build");
  EXPECT_EQ(totals.builds(), 1u);
}


// ---- Segment cells (docs/dashboard.md "Segment cells") ----
namespace segments {

const std::vector<std::string> kChannels = {"web", "email", "store", "mobile"};
const std::vector<std::string> kPersonas = {"bargain_hunter", "vip", "casual"};
const std::vector<std::string> kStages = {"acquire", "serve", "retain"};

// The journey's side: persona and lifecycle stage per canonical customer; customers it has not
// derived yet are unknown (in no persona or lifecycle segment).
struct FakeJourney {
  mutable std::mutex mu;
  std::map<store::CustomerId, std::pair<std::string, std::string>> keys;
  void Assign(store::CustomerId c, uint64_t salt) {
    std::lock_guard lock(mu);
    keys[c] = {kPersonas[(c + salt) % kPersonas.size()], kStages[(c / 3 + salt) % kStages.size()]};
  }
  std::vector<std::optional<std::pair<std::string, std::string>>> Keys(const std::vector<store::CustomerId>& ids) const {
    std::lock_guard lock(mu);
    std::vector<std::optional<std::pair<std::string, std::string>>> out(ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
      if (auto it = keys.find(ids[i]); it != keys.end()) out[i] = it->second;
    return out;
  }
};

// Business rows with channels: each customer mostly on "their" channel, sometimes another, so a
// late event can change a customer's acquisition channel.
store::Batch ChannelDay(Business& biz, int64_t day, size_t rows) {
  store::Batch b = biz.Day(day, rows);
  for (auto& r : b.interactions)
    r.channel = biz.rng() % 4 == 0 ? kChannels[biz.rng() % kChannels.size()] : kChannels[r.customer % kChannels.size()];
  return b;
}

// The segment's members as the resolver gives them (analytics/spec/segment.h): persona and stage
// from `journey` (known customers only), the acquisition channel from the rows: the channel of
// the customer's first interaction by (timestamp, seq), merges applied.
std::vector<uint64_t> MembersOf(const store::Snapshot& snap, const FakeIdentity& identity, const FakeJourney& journey,
                                const SegmentFilter& s) {
  std::map<store::CustomerId, std::tuple<int64_t, uint64_t, std::string>> first;
  EXPECT_TRUE(snap.ForEach([&](const store::Interaction& r) {
                    auto key = std::make_tuple(r.timestamp_ms, r.seq, r.channel);
                    auto [it, fresh] = first.try_emplace(identity.Find(r.customer), key);
                    if (!fresh && std::tie(r.timestamp_ms, r.seq) < std::tie(std::get<0>(it->second), std::get<1>(it->second)))
                      it->second = key;
                    return true;
                  }).ok());
  std::vector<uint64_t> out;
  for (const auto& [c, f] : first) {
    if (!s.channel.empty() && std::get<2>(f) != s.channel) continue;
    if (!s.persona.empty() || !s.lifecycle.empty()) {
      auto k = journey.Keys({c})[0];
      if (!k || (!s.persona.empty() && k->first != s.persona) || (!s.lifecycle.empty() && k->second != s.lifecycle))
        continue;
    }
    out.push_back(c);
  }
  return out;  // ascending (map order)
}

// SegmentSeries for `s` against the scan restricted to `members`, bit for bit.
void ExpectSegmentEqualToScan(DailyTotals& totals, store::Store* st, const FakeIdentity& identity,
                              const SegmentFilter& s, const std::vector<uint64_t>& members, const std::string& when) {
  SCOPED_TRACE(when + " segment persona=" + s.persona + " lifecycle=" + s.lifecycle + " channel=" + s.channel);
  auto snap_fn = [st] { return st->GetSnapshot(); };
  const int64_t first_day = kToday - 120, last_day = kToday + 2;
  uint64_t seq = 0;
  auto inc = totals.SegmentSeries(snap_fn, s, members, kExtra, first_day, last_day, &seq);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  auto snap = st->GetSnapshot();
  EXPECT_EQ(seq, snap->seq());
  auto scan = ComputeSeries(*snap, [&](store::CustomerId c) { return identity.Find(c); }, kExtra, first_day, last_day,
                            SeriesOptions{}, &members);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(inc->first_data_day, scan->first_data_day);
  ASSERT_EQ(inc->values.size(), scan->values.size());
  for (const auto& [metric, daily] : scan->values) {
    auto it = inc->values.find(metric);
    ASSERT_NE(it, inc->values.end()) << metric;
    EXPECT_EQ(it->second, daily) << metric;
  }
  double interactions = 0;
  for (double v : scan->values.at("interactions")) interactions += v;
  EXPECT_GT(interactions, 0) << "an empty segment proves nothing";
}

const std::vector<SegmentFilter> kSegments = {
    {"vip", "", ""}, {"", "serve", ""}, {"", "", "web"}, {"casual", "", "email"}, {"bargain_hunter", "retain", "store"}};

TEST(DailyTotalsSegmentTest, EqualToTheScanOfTheMembersAsPersonasMoveMergesLateEventsAndStaleMembers) {
  io::MemEnv env;
  Business biz;
  FakeJourney journey;
  auto canon = [&](store::CustomerId c) { return biz.identity.Find(c); };
  auto canon_many = [&](std::span<const store::CustomerId> ids, store::CustomerId* roots) { biz.identity.FindMany(ids, roots); };
  DailyTotals totals(SeriesOptions{}, canon, [&](const std::vector<store::CustomerId>& ids) { return journey.Keys(ids); },
                     canon_many);
  store::StoreOptions so;
  so.background_work = false;
  store::StoreListener listener;
  listener.on_commit = [&](const store::Batch& b, bool) { totals.OnCommit(b); };
  auto st = store::Store::Open(&env, "/db", so, listener);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  for (int64_t d = kToday - 60; d < kToday - 30; ++d) {
    ASSERT_TRUE(AppendSync(st->get(), ChannelDay(biz, d, 40)).ok());
    if (d % 10 == 0) { ASSERT_TRUE((*st)->Flush().ok()); }
  }
  // The journey knows most customers when the totals are built; 20 it has not derived yet.
  for (store::CustomerId c = 1; c <= Business::kCustomers - 20; ++c) journey.Assign(c, 0);
  auto check_all = [&](const std::string& when) {
    auto snap = (*st)->GetSnapshot();
    for (const auto& s : kSegments)
      ExpectSegmentEqualToScan(totals, st->get(), biz.identity, s, MembersOf(*snap, biz.identity, journey, s), when);
  };
  check_all("first build");
  EXPECT_EQ(totals.builds(), 1u);
  EXPECT_GT(totals.cells(), 20u);
  const uint64_t after_build = totals.refiled();  // the 20 unknown ones and acquisition channels the scan order misjudged

  // The journey derives the 20 and moves 30 others to another persona and stage: each is read
  // back and re-filed once, then answered from the cells.
  for (store::CustomerId c = Business::kCustomers - 19; c <= Business::kCustomers; ++c) journey.Assign(c, 0);
  for (store::CustomerId c = 1; c <= 30; ++c) journey.Assign(c * 3, 1);
  check_all("personas and stages moved");
  const uint64_t moved = totals.refiled() - after_build;
  EXPECT_GT(moved, 20u);
  EXPECT_LE(moved, 50u);
  check_all("asked again");
  EXPECT_EQ(totals.refiled() - after_build, moved) << "a customer is re-filed once per move";
  EXPECT_EQ(totals.builds(), 1u);

  // Live: late events (new acquisition channels), merges across segments, new customers the
  // journey has not seen (filed under an unknown key until asked for).
  for (int64_t d = kToday - 30; d < kToday; ++d) {
    store::Batch b = ChannelDay(biz, d, 40);
    if (d % 3 == 0) {
      const store::CustomerId from = 1 + biz.rng() % Business::kCustomers, into = 1 + biz.rng() % Business::kCustomers;
      if (biz.identity.Find(from) == from && biz.identity.Find(into) == into && from != into) biz.MergeInto(&b, from, into);
    }
    if (d % 5 == 0) {
      store::Interaction fresh = b.interactions.back();
      fresh.customer = 1000 + static_cast<store::CustomerId>(d - kToday + 30);
      fresh.channel = "web";
      b.interactions.push_back(fresh);
    }
    ASSERT_TRUE(AppendSync(st->get(), std::move(b)).ok());
    if (d % 7 == 0) { ASSERT_TRUE((*st)->Flush().ok()); }
    if (d % 14 == 0) { ASSERT_TRUE((*st)->Compact().ok()); }
  }
  check_all("live commits: late events, merges, new customers unknown to the journey");
  for (store::CustomerId c = 1000; c < 1030; ++c) journey.Assign(c, 0);
  check_all("the journey derived the new customers");
  EXPECT_EQ(totals.builds(), 1u);

  // Members older than the journey's state (a resolver's cached segment): the sums are corrected
  // for those whose cell disagrees, every time, and still equal the scan of those members.
  const SegmentFilter vip{"vip", "", ""};
  auto old_members = MembersOf(*(*st)->GetSnapshot(), biz.identity, journey, vip);
  for (store::CustomerId c = 31; c <= 60; ++c) journey.Assign(c * 3 + 1, 2);  // out of vip
  for (store::CustomerId c = 61; c <= 90; ++c) journey.Assign(c * 3, 1);      // into vip
  check_all("fresh members after the move");  // the movers are re-filed under their new keys
  const auto new_members = MembersOf(*(*st)->GetSnapshot(), biz.identity, journey, vip);
  ASSERT_NE(old_members, new_members);
  const uint64_t before_stale = totals.refiled();
  ExpectSegmentEqualToScan(totals, st->get(), biz.identity, vip, old_members, "stale members");
  ExpectSegmentEqualToScan(totals, st->get(), biz.identity, vip, old_members, "stale members again");
  EXPECT_EQ(totals.refiled(), before_stale) << "the journey's key has not changed: nothing to re-file";
  EXPECT_EQ(totals.builds(), 1u);

  // An erasure (customers with orders among them): the cells and the first-order lists rebuild.
  (*st)->HideCustomers({2, 5, 9});
  biz.erased = {2, 5, 9};
  totals.Invalidate();
  ASSERT_TRUE(AppendSync(st->get(), ChannelDay(biz, kToday, 40)).ok());  // committed while stale
  check_all("after an erasure");
  EXPECT_EQ(totals.builds(), 2u);

  // A restart: a new process's totals build from the reopened store, then take live commits with
  // merges (a survivor's first order moves to the absorbed customer's earlier day).
  const std::set<store::CustomerId> hidden = biz.erased;
  ASSERT_TRUE((*st)->Close().ok());
  st->reset();
  DailyTotals again(SeriesOptions{}, canon, [&](const std::vector<store::CustomerId>& ids) { return journey.Keys(ids); },
                    canon_many);
  listener.on_commit = [&](const store::Batch& b, bool) { again.OnCommit(b); };
  auto reopened = store::Store::Open(&env, "/db", so, listener);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  (*reopened)->HideCustomers({hidden.begin(), hidden.end()});
  auto check_again = [&](const std::string& when) {
    auto snap = (*reopened)->GetSnapshot();
    for (const auto& s : kSegments)
      ExpectSegmentEqualToScan(again, reopened->get(), biz.identity, s, MembersOf(*snap, biz.identity, journey, s), when);
  };
  check_again("after a restart");
  for (int64_t d = kToday - 45; d < kToday - 35; ++d) {  // late days: earlier first orders
    store::Batch b = ChannelDay(biz, d, 40);
    const store::CustomerId from = 1 + biz.rng() % Business::kCustomers, into = 1 + biz.rng() % Business::kCustomers;
    if (!biz.erased.count(from) && !biz.erased.count(into) && biz.identity.Find(from) == from &&
        biz.identity.Find(into) == into && from != into)
      biz.MergeInto(&b, from, into);
    ASSERT_TRUE(AppendSync(reopened->get(), std::move(b)).ok());
  }
  check_again("late batches and merges after the restart");
  EXPECT_EQ(again.builds(), 1u);
}

TEST(DailyTotalsSegmentTest, ManyMisfiledCustomersRebuildOnceInsteadOfAReadEach) {
  io::MemEnv env;
  Business biz;
  FakeJourney journey;  // knows nobody yet: a start where the journey rebuilds after the totals
  DailyTotals totals(SeriesOptions{}, [&](store::CustomerId c) { return biz.identity.Find(c); },
                     [&](const std::vector<store::CustomerId>& ids) { return journey.Keys(ids); });
  store::StoreOptions so;
  so.background_work = false;
  store::StoreListener listener;
  listener.on_commit = [&](const store::Batch& b, bool) { totals.OnCommit(b); };
  auto st = store::Store::Open(&env, "/db", so, listener);
  ASSERT_TRUE(st.ok());
  // Enough customers that the misfiled ones (a third) are past what a query re-files one by one (5%).
  for (int64_t d = kToday - 3; d < kToday; ++d) {
    store::Batch b;
    for (store::CustomerId c = 1; c <= 25'000; ++c) {
      store::Interaction it;
      it.customer = c;
      it.timestamp_ms = d * kDayMs + static_cast<int64_t>(c);
      it.event = c % 9 == 0 ? "Order Completed" : "Page Viewed";
      it.revenue = c % 9 == 0 ? 12.5 : 0;
      it.channel = kChannels[c % kChannels.size()];
      b.interactions.push_back(std::move(it));
    }
    ASSERT_TRUE(AppendSync(st->get(), std::move(b)).ok());
  }
  ASSERT_TRUE(totals.Build([&] { return (*st)->GetSnapshot(); }).ok());
  EXPECT_EQ(totals.builds(), 1u);
  for (store::CustomerId c = 1; c <= 25'000; ++c) journey.Assign(c, 0);
  const SegmentFilter s{"vip", "", ""};
  ExpectSegmentEqualToScan(totals, st->get(), biz.identity, s, MembersOf(*(*st)->GetSnapshot(), biz.identity, journey, s),
                           "everyone misfiled");
  EXPECT_EQ(totals.builds(), 2u);
  EXPECT_EQ(totals.refiled(), 0u);
}

// OnCommit asks the batch canonicaliser once per batch for the survivors it needs (order rows,
// customers filed for the first time) and never the per-id one, whose every call takes the
// resolver's lock; the totals and cells still equal the scan, merges included.
TEST(DailyTotalsSegmentTest, ACommittedBatchAsksForItsSurvivorsInOneCall) {
  io::MemEnv env;
  Business biz;
  FakeJourney journey;
  std::atomic<int> one_calls{0}, many_calls{0};
  auto canon = [&](store::CustomerId c) {
    ++one_calls;
    return biz.identity.Find(c);
  };
  auto canon_many = [&](std::span<const store::CustomerId> ids, store::CustomerId* roots) {
    ++many_calls;
    biz.identity.FindMany(ids, roots);
  };
  DailyTotals totals(SeriesOptions{}, canon, [&](const std::vector<store::CustomerId>& ids) { return journey.Keys(ids); },
                     canon_many);
  auto st = OpenFeeding(&env, &totals);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  for (store::CustomerId c = 1; c <= Business::kCustomers; ++c) journey.Assign(c, 0);
  ASSERT_TRUE(totals.Build([&] { return (*st)->GetSnapshot(); }).ok());  // empty: every customer is new below
  int batches = 0;
  for (int64_t d = kToday - 30; d < kToday; ++d, ++batches) {
    store::Batch b = ChannelDay(biz, d, 40);
    if (d % 3 == 0) {
      const store::CustomerId from = 1 + biz.rng() % Business::kCustomers, into = 1 + biz.rng() % Business::kCustomers;
      if (biz.identity.Find(from) == from && biz.identity.Find(into) == into && from != into) biz.MergeInto(&b, from, into);
    }
    ASSERT_TRUE(AppendSync(st->get(), std::move(b)).ok());
  }
  EXPECT_EQ(one_calls.load(), 0);
  EXPECT_EQ(many_calls.load(), batches);  // every batch has order rows or new customers
  auto snap = (*st)->GetSnapshot();
  ExpectEqualToScan(totals, st->get(), biz.identity, "batch canonicaliser");
  for (const auto& s : kSegments)
    ExpectSegmentEqualToScan(totals, st->get(), biz.identity, s,
                                       MembersOf(*snap, biz.identity, journey, s), "batch canonicaliser");
}

}  // namespace segments

}  // namespace
}  // namespace cairn::dashboard
