#include "entity/consent_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>

#include "base/clock.h"
#include "testutil/temp_dir.h"

#define ASSERT_OK(expr)                        \
  do {                                         \
    auto _s = (expr);                          \
    ASSERT_TRUE(_s.ok()) << _s.ToString();     \
  } while (0)
#define CONSENT_CAT2(a, b) a##b
#define CONSENT_CAT(a, b) CONSENT_CAT2(a, b)
#define ASSIGN_OR_FAIL(lhs, expr) ASSIGN_OR_FAIL_IMPL(CONSENT_CAT(_r, __LINE__), lhs, expr)
#define ASSIGN_OR_FAIL_IMPL(tmp, lhs, expr)             \
  auto tmp = (expr);                                    \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();     \
  lhs = std::move(tmp).value()

namespace cairn::entity {
namespace {

store::Interaction Track(store::CustomerId c, uint64_t seq, int64_t ts, std::string props) {
  store::Interaction in;
  in.customer = c;
  in.seq = seq;
  in.timestamp_ms = ts;
  in.type = store::MessageType::kTrack;
  in.event = "Consent Updated";
  in.message_id = "m" + std::to_string(seq);
  in.payload = R"({"type":"track","event":"Consent Updated","properties":)" + props + "}";
  return in;
}

store::Interaction Identify(store::CustomerId c, uint64_t seq, int64_t ts, std::string traits) {
  store::Interaction in;
  in.customer = c;
  in.seq = seq;
  in.timestamp_ms = ts;
  in.type = store::MessageType::kIdentify;
  in.payload = R"({"type":"identify","traits":)" + traits + "}";
  return in;
}

TEST(ConsentStoreTest, ReadsTrackStatementsIncludingTheSimulatorsShape) {
  // The simulator puts the event's own channel in `channel` and the consent's in consent_channel.
  auto r = ConsentStore::FromInteraction(Track(
      7, 10, 1000,
      R"({"channel":"web","purpose":"marketing","consent_channel":"email","granted":false,"lawful_basis":"consent","source":"signup_form"})"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].purpose, "marketing");
  EXPECT_EQ(r[0].channel, "email");
  EXPECT_EQ(r[0].state, ConsentState::kDenied);
  EXPECT_EQ(r[0].source, "event");
  EXPECT_EQ(r[0].note, "signup_form");
  EXPECT_EQ(r[0].proof, "message:m10");
  EXPECT_EQ(r[0].seq, 10u);
  EXPECT_EQ(r[0].customer, 7u);

  r = ConsentStore::FromInteraction(
      Track(7, 11, 1000, R"({"purpose":"analytics","state":"withdrawn","expires_at":"2027-01-01T00:00:00Z"})"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].channel, "*");
  EXPECT_EQ(r[0].state, ConsentState::kWithdrawn);
  ASSERT_TRUE(r[0].expires_at_ms.has_value());
  EXPECT_EQ(*r[0].expires_at_ms, 1798761600000);

  // No purpose or no readable state: not a statement.
  EXPECT_TRUE(ConsentStore::FromInteraction(Track(7, 12, 1000, R"({"granted":true})")).empty());
  EXPECT_TRUE(ConsentStore::FromInteraction(Track(7, 13, 1000, R"({"purpose":"x","granted":"maybe"})")).empty());
}

TEST(ConsentStoreTest, ReadsEveryIdentifyTraitShape) {
  auto r = ConsentStore::FromInteraction(Identify(
      3, 20, 5000,
      R"({"consent":{"marketing":true,"analytics.web":"denied","personalisation":{"email":true,"sms":"opt_out"},)"
      R"("loyalty":{"state":"granted","channel":"push","lawful_basis":"contract"}},)"
      R"("consents":[{"purpose":"research","channel":"phone","granted":true,"expires_at":1234}]})"));
  ASSERT_EQ(r.size(), 6u);
  std::map<std::string, const ConsentRecord*> by;
  for (const auto& x : r) by[x.purpose + "/" + x.channel] = &x;
  ASSERT_TRUE(by.count("marketing/*"));
  EXPECT_EQ(by["marketing/*"]->state, ConsentState::kGranted);
  ASSERT_TRUE(by.count("analytics/web"));
  EXPECT_EQ(by["analytics/web"]->state, ConsentState::kDenied);
  ASSERT_TRUE(by.count("personalisation/sms"));
  EXPECT_EQ(by["personalisation/sms"]->state, ConsentState::kDenied);
  ASSERT_TRUE(by.count("personalisation/email"));
  ASSERT_TRUE(by.count("loyalty/push"));
  EXPECT_EQ(by["loyalty/push"]->lawful_basis, "contract");
  ASSERT_TRUE(by.count("research/phone"));
  EXPECT_EQ(*by["research/phone"]->expires_at_ms, 1234);
  EXPECT_EQ(r[0].source, "identify");
  EXPECT_EQ(r[0].proof, "seq:20");
  // An identify without consent traits makes no statement.
  EXPECT_TRUE(ConsentStore::FromInteraction(Identify(3, 21, 5000, R"({"email":"a@b.c"})")).empty());
}

TEST(ConsentStoreTest, ApplyBatchIsIdempotentAndSurvivesReopen) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path();
  FakeClock clock(1'000'000);
  {
    ASSIGN_OR_FAIL(auto store, ConsentStore::Open(dir + "/consents.db", {&clock}));
    store::Batch b;
    b.first_seq = 100;
    b.interactions.push_back(Track(1, 100, 10, R"({"purpose":"marketing","channel":"email","granted":true})"));
    store::Interaction page;
    page.customer = 1;
    page.seq = 101;
    page.type = store::MessageType::kPage;
    b.interactions.push_back(page);
    b.interactions.push_back(Track(1, 102, 20, R"({"purpose":"marketing","channel":"email","granted":false})"));
    ASSERT_OK(store->ApplyBatch(b));
    ASSERT_OK(store->ApplyBatch(b));  // replayed: skipped
    EXPECT_EQ(store->applied_seq(), 102u);
    ASSIGN_OR_FAIL(auto h, store->History({1}));
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].recorded_at_ms, 1'000'000);
  }
  ASSIGN_OR_FAIL(auto store, ConsentStore::Open(dir + "/consents.db", {&clock}));
  EXPECT_EQ(store->applied_seq(), 102u);
  // A replay that overlaps (a batch re-cut differently) is ignored by (seq, purpose, channel).
  store::Batch overlap;
  overlap.first_seq = 102;
  overlap.interactions.push_back(Track(1, 102, 20, R"({"purpose":"marketing","channel":"email","granted":false})"));
  overlap.interactions.push_back(Track(1, 103, 30, R"({"purpose":"analytics","granted":false})"));
  ASSERT_OK(store->ApplyBatch(overlap));
  ASSIGN_OR_FAIL(auto h, store->History({1}));
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2].purpose, "analytics");
}

// A committed batch with many statements is one transaction on consents.db (one fsync), and a
// replay of it (WAL recovery) none.
TEST(ConsentStoreTest, ABatchOfStatementsIsOneCommitAndItsReplayNone) {
  testutil::TempDir tmp;
  FakeClock clock(1'000'000);
  metrics::Counter commits;
  ASSIGN_OR_FAIL(auto store, ConsentStore::Open(tmp.path() + "/consents.db", {&clock, &commits}));
  store::Batch b;
  b.first_seq = 500;
  for (uint64_t i = 0; i < 30; ++i) {
    const uint64_t seq = b.first_seq + i;
    if (i % 2 == 0) {
      b.interactions.push_back(Track(i + 1, seq, 10 + i, R"({"purpose":"marketing","channel":"email","granted":true})"));
    } else {
      b.interactions.push_back(Identify(i + 1, seq, 10 + i, R"({"consent":{"analytics":false,"marketing.sms":true}})"));
    }
  }
  const uint64_t before = commits.Value();
  ASSERT_OK(store->ApplyBatch(b));
  EXPECT_EQ(commits.Value(), before + 1);
  ASSERT_OK(store->ApplyBatch(b));  // replay: nothing written, no transaction
  EXPECT_EQ(commits.Value(), before + 1);
  ASSIGN_OR_FAIL(auto marketing, store->RecordsForPurpose("marketing"));
  EXPECT_EQ(marketing.size(), 30u);  // 15 tracks + 15 identifies' marketing.sms, once each
  ASSIGN_OR_FAIL(auto analytics, store->RecordsForPurpose("analytics"));
  EXPECT_EQ(analytics.size(), 15u);
}

// A batch's statements commit without an fsync; unsynced_from() names the first batch since the
// last Sync() (the event store keeps its WAL from there), and what was written reads back after a
// reopen either way (a clean close keeps SQLite's WAL contents).
TEST(ConsentStoreTest, BatchesAreUnsyncedUntilSync) {
  testutil::TempDir tmp;
  FakeClock clock(1'000'000);
  const std::string path = tmp.path() + "/consents.db";
  {
    ASSIGN_OR_FAIL(auto store, ConsentStore::Open(path, {&clock}));
    EXPECT_EQ(store->unsynced_from(), UINT64_MAX);
    ASSERT_OK(store->Sync());  // nothing to sync: no transaction, still nothing unsynced
    EXPECT_EQ(store->unsynced_from(), UINT64_MAX);
    store::Batch none;  // no statements: nothing written
    none.first_seq = 10;
    none.interactions.push_back(Identify(1, 10, 5, R"({"name":"x"})"));
    ASSERT_OK(store->ApplyBatch(none));
    EXPECT_EQ(store->unsynced_from(), UINT64_MAX);
    store::Batch a, b;
    a.first_seq = 20;
    a.interactions.push_back(Track(1, 20, 6, R"({"purpose":"marketing","channel":"email","granted":true})"));
    b.first_seq = 30;
    b.interactions.push_back(Track(2, 30, 7, R"({"purpose":"marketing","channel":"sms","granted":false})"));
    ASSERT_OK(store->ApplyBatch(a));
    ASSERT_OK(store->ApplyBatch(b));
    EXPECT_EQ(store->unsynced_from(), 20u);
    ASSERT_OK(store->ApplyBatch(a));  // a replay writes nothing and moves nothing
    EXPECT_EQ(store->unsynced_from(), 20u);
    ASSERT_OK(store->Sync());
    EXPECT_EQ(store->unsynced_from(), UINT64_MAX);
    EXPECT_EQ(store->applied_seq(), 30u);
    // API statements are still written (and fsync'd) as before, batches or not.
    ConsentRecord r;
    r.purpose = "analytics";
    r.channel = "*";
    r.state = ConsentState::kGranted;
    r.lawful_basis = "consent";
    r.at_ms = 8;
    r.proof = "api:test";
    ASSERT_OK(store->Record(3, {r}));
  }
  ASSIGN_OR_FAIL(auto reopened, ConsentStore::Open(path, {&clock}));
  EXPECT_EQ(reopened->applied_seq(), 30u);
  EXPECT_EQ(reopened->unsynced_from(), UINT64_MAX);
  ASSIGN_OR_FAIL(auto marketing, reopened->RecordsForPurpose("marketing"));
  EXPECT_EQ(marketing.size(), 2u);
  ASSIGN_OR_FAIL(auto analytics, reopened->RecordsForPurpose("analytics"));
  EXPECT_EQ(analytics.size(), 1u);
}

TEST(ConsentStoreTest, CurrentAndVerdictFollowTheLatestStatementAcrossMembers) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path();
  FakeClock clock(1'000'000);
  ASSIGN_OR_FAIL(auto store, ConsentStore::Open(dir + "/consents.db", {&clock}));
  auto rec = [](std::string purpose, std::string channel, ConsentState s, int64_t at) {
    ConsentRecord r;
    r.purpose = std::move(purpose);
    r.channel = std::move(channel);
    r.state = s;
    r.at_ms = at;
    r.proof = "api:test";
    return r;
  };
  // Customer 5 (merged into 4 later) granted marketing on every channel; 4 denied email afterwards.
  ASSERT_OK(store->Record(5, {rec("marketing", "*", ConsentState::kGranted, 100)}));
  ASSERT_OK(store->Record(4, {rec("marketing", "email", ConsentState::kDenied, 200)}));
  ASSIGN_OR_FAIL(auto h, store->History({4, 5}));
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].customer, 5u);  // oldest first
  auto v = ConsentStore::Decide(h, "marketing", "email", 1'000'000);
  ASSERT_TRUE(v.state.has_value());
  EXPECT_EQ(*v.state, ConsentState::kDenied);
  v = ConsentStore::Decide(h, "marketing", "sms", 1'000'000);
  EXPECT_EQ(*v.state, ConsentState::kGranted);
  v = ConsentStore::Decide(h, "analytics", "web", 1'000'000);
  EXPECT_FALSE(v.state.has_value());
  EXPECT_FALSE(v.expired);
  // A later grant on every channel overrides the older email denial.
  ASSERT_OK(store->Record(4, {rec("marketing", "*", ConsentState::kGranted, 300)}));
  ASSIGN_OR_FAIL(h, store->History({4, 5}));
  EXPECT_EQ(*ConsentStore::Decide(h, "marketing", "email", 1'000'000).state, ConsentState::kGranted);
  auto current = ConsentStore::Current(h, 1'000'000);
  ASSERT_EQ(current.size(), 2u);  // (marketing, *), (marketing, email)
  EXPECT_EQ(current[0].channel, "*");
  EXPECT_EQ(current[0].record.at_ms, 300);
  EXPECT_EQ(current[1].record.state, ConsentState::kDenied);
}

TEST(ConsentStoreTest, ExpiredStatementIsUnknownAndFallsBackToTheAllChannelsOne) {
  std::vector<ConsentRecord> h(2);
  h[0].id = 1, h[0].purpose = "marketing", h[0].channel = "*", h[0].state = ConsentState::kDenied, h[0].at_ms = 10;
  h[1].id = 2, h[1].purpose = "marketing", h[1].channel = "sms", h[1].state = ConsentState::kGranted, h[1].at_ms = 20;
  h[1].expires_at_ms = 100;
  EXPECT_EQ(*ConsentStore::Decide(h, "marketing", "sms", 99).state, ConsentState::kGranted);
  auto v = ConsentStore::Decide(h, "marketing", "sms", 100);
  EXPECT_EQ(*v.state, ConsentState::kDenied);  // the sms grant expired: the older "*" denial stands
  h.erase(h.begin());
  v = ConsentStore::Decide(h, "marketing", "sms", 100);
  EXPECT_FALSE(v.state.has_value());
  EXPECT_TRUE(v.expired);
  EXPECT_TRUE(ConsentStore::Current(h, 100)[0].expired);
}

TEST(ConsentStoreTest, RecordRejectsIncompleteStatementsNamingTheField) {
  testutil::TempDir tmp;
  const std::string dir = tmp.path();
  ASSIGN_OR_FAIL(auto store, ConsentStore::Open(dir + "/consents.db"));
  ConsentRecord ok;
  ok.purpose = "marketing";
  ConsentRecord bad;
  bad.purpose = "";
  Status s = store->Record(9, {ok, bad});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("consents[1].purpose"), std::string::npos) << s.ToString();
  ASSIGN_OR_FAIL(auto h, store->History({9}));
  EXPECT_TRUE(h.empty());  // all or none
  ASSIGN_OR_FAIL(auto all, store->RecordsForPurpose("marketing"));
  EXPECT_TRUE(all.empty());
}

TEST(ConsentStoreTest, EraseCustomersLeavesNoByteOfThemInTheFile) {
  testutil::TempDir tmp;
  const std::string path = tmp.path() + "/consents.db";
  ASSIGN_OR_FAIL(auto store, ConsentStore::Open(path));
  ConsentRecord r;
  r.purpose = "marketing";
  r.proof = "api:req-1";
  r.note = "MARKER-4711-unique";
  ASSERT_OK(store->Record(42, {r}));
  r.note = "keep-me";
  ASSERT_OK(store->Record(43, {r}));
  ASSERT_OK(store->EraseCustomers({42}));
  ASSIGN_OR_FAIL(auto h, store->History({42, 43}));
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].customer, 43u);
  for (std::string file : {path, path + "-wal"}) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("MARKER-4711-unique"), std::string::npos) << file;
  }
}

}  // namespace
}  // namespace cairn::entity
