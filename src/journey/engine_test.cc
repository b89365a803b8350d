// JourneyEngine: live updates, determinism against rebuild on a random workload, persistence
// (state.bin round trip, corruption, gaps), overview, map validation on PUT.
#include "journey/engine.h"

#include <gtest/gtest.h>

#include <random>

#include "journey/journey_test_util.h"

namespace cairn::journey {
namespace {

using testing::Harness;
using testing::kBase;

const char* kEvents[] = {"Signed Up",       "Product Viewed",          "Added To Cart",       "Checkout Started",
                         "Order Completed", "Order Delivered",         "Feature Used",        "Survey Responded",
                         "Complaint Filed", "Support Ticket Resolved", "Competitor Considered", "Renewal Due",
                         "Deal Lost",       "Subscription Cancelled",  "Email Opened",        "Referral Made"};

// Random interactions for n customers, some late, some merged.
void RandomWorkload(Harness* h, int customers, int interactions, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < interactions; ++i) {
    std::string c = "c" + std::to_string(rng() % customers);
    int64_t ts = kBase + static_cast<int64_t>(rng() % (90 * 24)) * 3600000;  // any hour in 90 days: many are late
    std::string ev = kEvents[rng() % std::size(kEvents)];
    std::string props = "{\"nps\":" + std::to_string(rng() % 11) + ",\"satisfied\":" + (rng() % 2 ? "true" : "false") +
                        ",\"revenue\":" + std::to_string(rng() % 200) + "}";
    h->Track(c, ev, ts, props, ev == "Order Completed" ? 50 : 0);
    if (rng() % 150 == 0) {
      std::string a = "c" + std::to_string(rng() % customers), b = "c" + std::to_string(rng() % customers);
      if (h->Root(a) && h->Root(b) && h->Root(a) != h->Root(b)) h->Merge(a, b);
    }
  }
}

TEST(JourneyEngineTest, LiveEqualsRebuildOnRandomWorkload) {
  Harness h(testing::DefaultMap());
  RandomWorkload(&h, 40, 600, 1);
  EXPECT_GT(h.engine->Stats().customers, 10u);
  h.ExpectRebuildEqual();
}

TEST(JourneyEngineTest, RestartLoadsStateAndSkipsCoveredBatches) {
  io::MemEnv env;
  auto h = std::make_unique<Harness>(testing::DefaultMap(), "/j", &env);
  RandomWorkload(h.get(), 20, 300, 2);
  auto before = h->engine->AllStates();
  h->Restart();
  auto after = h->engine->AllStates();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(&before[i].first, &after[i].first, sizeof(CustomerState)));
    EXPECT_TRUE(before[i].second == after[i].second);
  }
  h->ExpectRebuildEqual();
}

TEST(JourneyEngineTest, CorruptStateFileIsRebuiltFromTheStore) {
  io::MemEnv env;
  auto h = std::make_unique<Harness>(testing::DefaultMap(), "/j", &env);
  RandomWorkload(h.get(), 10, 100, 3);
  auto before = h->engine->AllStates();
  ASSERT_TRUE(h->store->Close().ok());
  ASSERT_TRUE(h->engine->Close().ok());
  // Flip a byte in the middle of state.bin.
  auto data = io::ReadFileToString(&env, "/j/state.bin");
  ASSERT_TRUE(data.ok());
  std::string bad = *data;
  bad[bad.size() / 2] ^= 0x40;
  EXPECT_EQ(JourneyEngine::DecodeStateFile(bad).status().code(), Code::kCorruption);
  ASSERT_TRUE(io::WriteStringToFile(&env, bad, "/j/state.bin", true).ok());
  h->store.reset();
  h->engine.reset();
  h->OpenEngine();
  h->OpenStore();  // FinishRecovery sees that nothing covers the store and rebuilds
  auto after = h->engine->AllStates();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(0, std::memcmp(&before[i].first, &after[i].first, sizeof(CustomerState)));
}

TEST(JourneyEngineTest, StateFileRoundTripAndDamage) {
  Deriver d(testing::DefaultMap());
  CustomerState s = d.Initial(42, kBase);
  History hist;
  hist.transitions.push_back({kBase, 3, 2, 0, 1});
  hist.emotion.push_back({kBase, -12.5f, EmotionPoint::kCauseRecovery});
  std::string file = JourneyEngine::EncodeStateFile(77, 1234, {{&s, &hist}});
  auto l = JourneyEngine::DecodeStateFile(file);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->fingerprint, 77u);
  EXPECT_EQ(l->applied_seq, 1234u);
  ASSERT_EQ(l->states.size(), 1u);
  EXPECT_EQ(0, std::memcmp(&l->states[0].first, &s, sizeof s));
  EXPECT_EQ(l->states[0].second, hist);
  EXPECT_EQ(JourneyEngine::DecodeStateFile(file.substr(0, file.size() - 1)).status().code(), Code::kCorruption);
  EXPECT_EQ(JourneyEngine::DecodeStateFile("short").status().code(), Code::kCorruption);
  std::string magic = file;
  magic[0] = 'X';
  EXPECT_EQ(JourneyEngine::DecodeStateFile(magic).status().ToString(), "Corruption: journey state.bin: bad magic");
}

TEST(JourneyEngineTest, BadMapPutKeepsTheGoodOne) {
  Harness h(testing::DefaultMap());
  h.Track("a", "Signed Up", kBase);
  std::string before = h.engine->MapYaml();
  std::vector<MapErrorView> errors;
  auto r = h.engine->PutMap("version: 1\nviews: {phase: {stages: []}}\n", &errors);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_EQ(h.engine->MapYaml(), before);
  auto j = h.engine->GetJourney("a");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->funnel.stage, "interest");
}

TEST(JourneyEngineTest, Overview) {
  Harness h(testing::DefaultMap());
  h.Track("a", "Signed Up", kBase);
  h.Track("b", "Signed Up", kBase);
  h.Track("b", "Order Completed", kBase + 3600000, R"({"revenue":100})", 100);
  h.Track("c", "Complaint Filed", kBase);
  h.clock.Set(kBase + 20 * 86400000LL);
  auto o = h.engine->Overview();
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->customers, 3u);
  const ViewOverview& funnel = o->views[2];
  EXPECT_EQ(funnel.view, "funnel");
  EXPECT_EQ(funnel.stages[0].customers, 1u);  // c
  EXPECT_EQ(funnel.stages[1].customers, 1u);  // a
  EXPECT_EQ(funnel.stages[1].stuck, 1u);      // a: 20d > 14d
  EXPECT_EQ(funnel.stages[1].drop_off, 1u);   // a dropped off in interest; b went on
  EXPECT_EQ(funnel.stages[1].entered, 2u);
  EXPECT_EQ(funnel.stages[3].customers, 1u);  // b
  bool found = false;
  for (const auto& f : funnel.transitions) found |= f.from == "interest" && f.to == "action" && f.count == 1;
  EXPECT_TRUE(found);
  uint64_t angry = 0, cold = 0;
  for (const auto& p : o->at_stake) {
    if (p.path == "angry") angry = p.customers;
    if (p.path == "going_cold") cold = p.customers;
  }
  EXPECT_EQ(angry, 1u);
  EXPECT_EQ(cold, 1u);
}

// Members (the segment filter of the dashboard and of analytics queries) comes from the segment
// index, kept as states change: it answers what evaluating every state answers, for every persona
// and lifecycle stage, after live interactions (late ones re-derived), identify traits, merges, an
// erasure, a restart from state.bin and a rebuild.
TEST(JourneyEngineTest, MembersFromTheSegmentIndexEqualEvaluatingEveryState) {
  io::MemEnv env;
  auto h = std::make_unique<Harness>(testing::DefaultMap(), "/j", &env);
  auto expect_equal = [&](const std::string& when) {
    ASSERT_TRUE(h->engine->Drain());
    SegmentNames names = h->engine->Segments();
    names.personas.insert(names.personas.end(), {"", "nobody_has_this"});
    names.lifecycle.insert(names.lifecycle.end(), {"", "nowhere"});
    size_t segments = 0, everyone = 0;
    for (const std::string& p : names.personas)
      for (const std::string& l : names.lifecycle) {
        const OverviewFilter f{p, l};
        const std::vector<store::CustomerId> got = h->engine->Members(f);
        EXPECT_EQ(got, h->engine->MembersByEvaluation(f)) << when << ": persona '" << p << "' lifecycle '" << l << "'";
        EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
        segments += !got.empty() && !p.empty() && !l.empty();
        if (p.empty() && l.empty()) everyone = got.size();
      }
    EXPECT_EQ(everyone, h->engine->Stats().customers) << when;
    EXPECT_GE(segments, 4u) << when << ": the workload should spread customers over several segments";
  };
  RandomWorkload(h.get(), 300, 3000, 11);
  std::mt19937 rng(12);
  for (int i = 0; i < 40; ++i)  // team_buyer and member personas come from identify traits
    h->Send("c" + std::to_string(rng() % 300), store::MessageType::kIdentify, "", kBase + i * 3600000,
            i % 2 ? R"({"company":"Acme"})" : R"({"plan":"pro"})");
  expect_equal("after live interactions, traits and merges");
  std::vector<store::CustomerId> erased;
  for (int i = 0; i < 300; i += 7)
    if (store::CustomerId c = h->Root("c" + std::to_string(i))) erased.push_back(c);
  ASSERT_TRUE(h->engine->EraseCustomers(erased).ok());
  expect_equal("after an erasure");
  RandomWorkload(h.get(), 300, 500, 13);
  h->Restart();
  expect_equal("after a restart from state.bin");
  RandomWorkload(h.get(), 300, 500, 14);
  ASSERT_TRUE(h->engine->Rebuild().ok());
  expect_equal("after a rebuild");
}

// ValueAtStake (the dashboard's value-at-risk light) is the sum of the overview's per-path value
// at stake, exactly, as the clock moves customers into and out of going cold, with a CLV model,
// and after an erasure.
TEST(JourneyEngineTest, ValueAtStakeIsTheOverviewsSum) {
  Harness h(testing::DefaultMap(), "/journey");  // a state dir: the erasure rewrites state.bin
  h.Track("a", "Signed Up", kBase);
  h.Track("b", "Signed Up", kBase);
  h.Track("b", "Order Completed", kBase + 3600000, R"({"revenue":100})", 100);
  h.Track("c", "Complaint Filed", kBase);
  h.Track("d", "Signed Up", kBase);
  h.Track("d", "Complaint Filed", kBase + 7200000);
  auto overview_sum = [&] {
    auto o = h.engine->Overview();
    EXPECT_TRUE(o.ok());
    double total = 0;
    for (const auto& p : o->at_stake) total += p.value_at_stake;
    return total;
  };
  h.clock.Set(kBase + 86400000LL);
  const double day1 = h.engine->ValueAtStake();
  EXPECT_EQ(day1, overview_sum());
  h.clock.Set(kBase + 20 * 86400000LL);  // a and d go cold
  const double day20 = h.engine->ValueAtStake();
  EXPECT_EQ(day20, overview_sum());
  EXPECT_GT(day20, day1);
  const store::CustomerId c = h.Id("c", nullptr);
  h.engine->SetClvModel([c](store::CustomerId id) { return id == c ? 1234.567 : 0.0; });
  const double with_clv = h.engine->ValueAtStake();
  EXPECT_EQ(with_clv, overview_sum());
  EXPECT_GT(with_clv, day20);
  ASSERT_TRUE(h.engine->EraseCustomers({c}).ok());
  EXPECT_EQ(h.engine->ValueAtStake(), overview_sum());
  EXPECT_LT(h.engine->ValueAtStake(), with_clv);
}

// A customer far larger than the re-derivation's memory bound (several 4096-row blocks in each of
// three segments, more than a memtable page, and a merged-in id) is re-derived by streaming
// (Snapshot::VisitCustomers; the bound itself is asserted in store's customer_visit_test) to
// exactly the state a fold over the whole history read at once (the old ReadCustomers path) gives.
TEST(JourneyEngineTest, LargeCustomerIsRederivedInBoundedChunksToTheSameState) {
  Harness h(testing::DefaultMap());
  std::vector<store::IdentityOp> ops;
  const store::CustomerId big = h.Id("big", &ops), small = h.Id("small", &ops);
  int n = 0;
  auto batch = [&](store::CustomerId c, int rows, uint32_t seed) {
    std::mt19937 rng(seed);
    store::Batch b;
    b.identity_ops = std::exchange(ops, {});
    for (int i = 0; i < rows; ++i) {
      store::Interaction r;
      r.customer = c;
      r.timestamp_ms = kBase + static_cast<int64_t>(rng() % (200 * 24)) * 3600000;  // mostly late: re-derived
      r.received_at_ms = r.timestamp_ms;
      r.event = kEvents[rng() % std::size(kEvents)];
      r.revenue = r.event == "Order Completed" ? 50 : 0;
      r.message_id = "m" + std::to_string(++n);
      r.payload = "{\"type\":\"track\",\"event\":\"" + r.event + "\",\"properties\":{\"nps\":" + std::to_string(rng() % 11) +
                  ",\"satisfied\":" + (rng() % 2 ? "true" : "false") + "}}";
      b.interactions.push_back(std::move(r));
    }
    h.Append(std::move(b));
  };
  for (uint32_t round = 0; round < 3; ++round) {
    batch(big, 6000, round);
    batch(small, 100, 10 + round);
    ASSERT_TRUE(h.store->Flush().ok());
  }
  batch(big, 4500, 7);
  h.Merge("big", "small");  // re-derives the survivor from both ids' interactions
  batch(big, 1, 8);         // and once more for a late one
  const store::CustomerId root = h.Root("big");
  ASSERT_EQ(h.engine->Stats().pending_rederive, 0u);
  CustomerState got;
  History got_h;
  ASSERT_TRUE(h.engine->GetState(root, &got, &got_h));
  auto rows = h.store->GetSnapshot()->ReadCustomers({big, small});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u * 6100 + 4501);
  Deriver d(testing::DefaultMap());
  CustomerState want;
  History want_h;
  d.Derive(root, *rows, &want, &want_h);
  EXPECT_EQ(got.interactions, rows->size());
  want.episode_fired = got.episode_fired;  // timer-owned
  EXPECT_EQ(0, std::memcmp(&got, &want, sizeof want));
  EXPECT_TRUE(got_h == want_h);
  h.ExpectRebuildEqual();
}

TEST(JourneyEngineTest, ListenersGetABatchsLiveInteractionsInOneCall) {
  // One OnInteractions call per committed batch, every live row in it (a listener that locks per
  // call — rescue's bridge — locks once per batch); replays reach no listener.
  Harness h(testing::DefaultMap());
  std::vector<store::IdentityOp> ops;
  store::Batch b;
  for (int i = 0; i < 12; ++i) {
    store::Interaction r;
    r.customer = h.Id("c" + std::to_string(i % 4), &ops);
    r.timestamp_ms = kBase + i * 60'000;
    r.received_at_ms = r.timestamp_ms;
    r.event = i % 3 == 0 ? "Order Completed" : "Product Viewed";
    r.revenue = i % 3 == 0 ? 20 : 0;
    r.message_id = "m" + std::to_string(i);
    b.interactions.push_back(std::move(r));
  }
  b.identity_ops = std::move(ops);
  h.Append(std::move(b));
  EXPECT_EQ(h.listener.batches, 1);
  EXPECT_EQ(h.listener.interactions, 12);
  EXPECT_EQ(h.listener.orders, 4);
  h.Restart();  // the WAL's batch is replayed: no listener call
  EXPECT_EQ(h.listener.batches, 1);
}

TEST(JourneyEngineTest, LiveStateIsVisibleRightAfterTheAck) {
  // Background mode, as in the server: the state is updated in the commit hook, before the ack.
  io::MemEnv env;
  metrics::Registry reg;
  EngineOptions o;
  o.env = &env;
  o.metrics = &reg;
  auto e = JourneyEngine::Open(testing::DefaultMap(), o);
  ASSERT_TRUE(e.ok());
  JourneyEngine* engine = e->get();
  ingest::IdentityResolver identity(ingest::DefaultIdentityOptions(), &reg);
  engine->SetIdentity(&identity);
  store::StoreOptions so;
  so.metrics = &reg;
  store::StoreListener sl;
  sl.on_commit = [engine](const store::Batch& b, bool rec) { engine->OnCommit(b, rec); };
  auto st = store::Store::Open(&env, "/s", so, sl);
  ASSERT_TRUE(st.ok());
  engine->SetStore(st->get());
  ASSERT_TRUE(engine->FinishRecovery().ok());
  store::IdentityOp op{store::IdentityOp::Kind::kLink, 1, 0, "u:x"};
  ASSERT_TRUE(identity.Apply(op).ok());
  for (int i = 0; i < 50; ++i) {
    store::Batch b;
    store::Interaction r;
    r.customer = 1;
    r.timestamp_ms = kBase + i;
    r.event = i % 2 ? "Signed Up" : "Product Viewed";
    b.interactions.push_back(r);
    std::promise<Status> p;
    auto f = p.get_future();
    ASSERT_TRUE((*st)->Append(std::move(b), [&p](Status s) { p.set_value(s); }).ok());
    ASSERT_TRUE(f.get().ok());
    CustomerState s;
    ASSERT_TRUE(engine->GetState(1, &s));
    EXPECT_EQ(s.interactions, static_cast<uint32_t>(i + 1));  // no waiting at all
  }
  ASSERT_TRUE((*st)->Close().ok());
  ASSERT_TRUE(engine->Close().ok());
}

}  // namespace
}  // namespace cairn::journey
