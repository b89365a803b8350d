#include "entity/profile_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <time.h>

#include "testutil/temp_dir.h"

namespace cairn::entity {
namespace {

using store::Batch;
using store::CustomerId;
using store::IdentityOp;
using store::Interaction;
using store::MessageType;

constexpr int64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z

Interaction Make(MessageType type, CustomerId c, int64_t ts, std::string payload = "{}") {
  Interaction in;
  in.type = type;
  in.customer = c;
  in.timestamp_ms = ts;
  in.received_at_ms = ts + 5;
  in.payload = std::move(payload);
  return in;
}
Interaction Track(CustomerId c, int64_t ts) {
  return Make(MessageType::kTrack, c, ts, R"({"type":"track","event":"Viewed","properties":{"sku":"A-1"}})");
}
Interaction Identify(CustomerId c, int64_t ts, const std::string& traits_json) {
  return Make(MessageType::kIdentify, c, ts, R"({"type":"identify","userId":"x","traits":)" + traits_json + "}");
}
Interaction Group(CustomerId c, int64_t ts, const std::string& group_id_json, const std::string& traits_json) {
  return Make(MessageType::kGroup, c, ts,
              R"({"type":"group","groupId":)" + group_id_json + R"(,"traits":)" + traits_json + "}");
}
IdentityOp Link(CustomerId c, std::string key) { return {IdentityOp::Kind::kLink, c, 0, std::move(key)}; }
IdentityOp Merge(CustomerId into, CustomerId from) { return {IdentityOp::Kind::kMerge, into, from, ""}; }

Batch MakeBatch(uint64_t first_seq, std::vector<Interaction> ins, std::vector<IdentityOp> ops = {}) {
  Batch b;
  b.first_seq = first_seq;
  for (size_t i = 0; i < ins.size(); ++i) ins[i].seq = first_seq + i;
  b.interactions = std::move(ins);
  b.identity_ops = std::move(ops);
  return b;
}

class ProfileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto s = ProfileStore::Open(path_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  Status Apply(const std::vector<const Batch*>& batches) { return store_->ApplyBatches(batches); }
  // Applies a batch and returns the seq following it, for chaining.
  uint64_t ApplyOne(const Batch& b) {
    Status s = store_->ApplyBatches({&b});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return b.first_seq + b.interactions.size();
  }
  Profile Get(CustomerId root, std::vector<CustomerId> members = {}) {
    auto p = store_->GetProfile(root, members);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : Profile{};
  }
  static std::string TraitValue(const Profile& p, const std::string& key) {
    for (const auto& t : p.traits)
      if (t.key == key) return t.value_json;
    return "<absent>";
  }

  testutil::TempDir dir_;
  std::string path_ = dir_.Sub("profiles.db");
  std::unique_ptr<ProfileStore> store_;
};

TEST_F(ProfileStoreTest, FreshStoreIsEmptyAndWatermarkPersists) {
  EXPECT_EQ(store_->applied_seq(), 0u);
  EXPECT_TRUE(store_->GetProfile(1, {}).status().Is(Code::kNotFound));
  Batch b = MakeBatch(100, {Track(1, kT0), Track(1, kT0 + 10)}, {Link(1, "a:anon")});
  ApplyOne(b);
  EXPECT_EQ(store_->applied_seq(), 102u);
  Reopen();
  EXPECT_EQ(store_->applied_seq(), 102u);
  Profile p = Get(1);
  EXPECT_EQ(p.interaction_count, 2u);
  ASSERT_EQ(p.identities.size(), 1u);
  EXPECT_EQ(p.identities[0].kind, "anonymousId");
  EXPECT_EQ(p.identities[0].value, "anon");
}

TEST_F(ProfileStoreTest, RefusesForeignAndNewerFiles) {
  store_.reset();
  {
    auto db = SqliteDb::Open(path_, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("UPDATE meta SET value = 99 WHERE key = 'schema_version'").ok());
  }
  auto s = ProfileStore::Open(path_);
  EXPECT_TRUE(s.status().Is(Code::kFailedPrecondition)) << s.status().ToString();

  std::string other = dir_.Sub("other.db");
  {
    auto db = SqliteDb::Open(other, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE accounts (id INTEGER)").ok());
  }
  auto f = ProfileStore::Open(other);
  EXPECT_TRUE(f.status().Is(Code::kFailedPrecondition)) << f.status().ToString();
}

// testdata/profiles_schema1.sql: a schema-1 file as the writer left it (identities as a table).
// Schema 2 drops that table and lists a customer's keys from identity_ops: the profile, the
// identity ops and the watermark read the same after the migration, and new links still show.
TEST_F(ProfileStoreTest, SchemaOneFileIsMigratedAndReadsTheSame) {
  store_.reset();
  std::string fixture;
  {
    std::FILE* f = std::fopen(CAIRN_ENTITY_TESTDATA "/profiles_schema1.sql", "rb");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) fixture.append(buf, n);
    std::fclose(f);
  }
  std::string v1 = dir_.Sub("schema1.db");
  {
    auto db = SqliteDb::Open(v1, SqliteOptions{});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec(fixture).ok());
  }
  auto opened = ProfileStore::Open(v1);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(opened).value();
  {
    SqliteOptions ro;
    ro.read_only = true;
    auto db = SqliteDb::Open(v1, ro);
    ASSERT_TRUE(db.ok());
    EXPECT_EQ((*db)->QueryInt("SELECT value FROM meta WHERE key = 'schema_version'").value(), 2);
    EXPECT_EQ((*db)->QueryInt("SELECT count(*) FROM sqlite_master WHERE name = 'identities'").value(), 0);
  }
  EXPECT_EQ(store_->applied_seq(), 12u);
  Profile p = Get(2, {1, 2});
  ASSERT_EQ(p.identities.size(), 4u);  // link order across members, as the identities table gave it
  EXPECT_EQ(p.identities[0].kind, "anonymousId");
  EXPECT_EQ(p.identities[0].value, "device-9");
  EXPECT_EQ(p.identities[1].kind, "userId");
  EXPECT_EQ(p.identities[1].value, "alice");
  EXPECT_EQ(p.identities[2].kind, "email");
  EXPECT_EQ(p.identities[2].value, "alice@example.com");
  EXPECT_EQ(p.identities[3].kind, "phone");
  EXPECT_EQ(p.identities[3].value, "+15551234");
  EXPECT_EQ(TraitValue(p, "plan"), "\"pro\"");
  EXPECT_EQ(p.merged_from, std::vector<CustomerId>{1});
  auto ops = store_->LoadIdentityOps();
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(*ops, (std::vector<IdentityOp>{Link(1, "a:device-9"), Link(2, "u:alice"), Link(2, "e:alice@example.com"),
                                           Merge(2, 1), Link(2, "p:+15551234")}));
  // A new customer linked after the migration is found by its link alone.
  ApplyOne(MakeBatch(12, {}, {Link(3, "a:new")}));  // ops only: no counters, so no customers row
  Profile q = Get(3);
  ASSERT_EQ(q.identities.size(), 1u);
  EXPECT_EQ(q.identities[0].value, "new");
  EXPECT_TRUE(store_->GetProfile(4, {}).status().Is(Code::kNotFound));
}

TEST_F(ProfileStoreTest, LinksMergesAndCountersAcrossMembers) {
  Batch b1 = MakeBatch(0, {Track(1, kT0 + 500), Track(1, kT0 + 100), Track(2, kT0 + 50)},
                       {Link(1, "u:alice"), Link(1, "e:alice@example.com"), Link(2, "a:device-9")});
  Batch b2 = MakeBatch(3, {Track(2, kT0 + 900), Track(3, kT0)}, {Link(2, "p:+15551234"), Merge(1, 2), Link(3, "a:z")});
  ASSERT_TRUE(Apply({&b1, &b2}).ok());

  Profile p = Get(1, {1, 2});
  EXPECT_EQ(p.id, 1u);
  EXPECT_EQ(p.interaction_count, 4u);
  EXPECT_EQ(p.first_seen_ms, kT0 + 50);
  EXPECT_EQ(p.last_seen_ms, kT0 + 900);
  EXPECT_EQ(p.merged_from, std::vector<CustomerId>{2});
  ASSERT_EQ(p.identities.size(), 4u);  // link order across members
  EXPECT_EQ(p.identities[0].kind, "userId");
  EXPECT_EQ(p.identities[0].value, "alice");
  EXPECT_EQ(p.identities[1].kind, "email");
  EXPECT_EQ(p.identities[2].kind, "anonymousId");
  EXPECT_EQ(p.identities[2].value, "device-9");
  EXPECT_EQ(p.identities[3].kind, "phone");
  EXPECT_EQ(p.identities[3].value, "+15551234");

  // The root alone (no members given) sees only its own rows.
  Profile alone = Get(1);
  EXPECT_EQ(alone.interaction_count, 2u);
  EXPECT_TRUE(alone.merged_from.empty());
  // Customer 3 is unaffected; a member with no row yet contributes no data but is listed.
  Profile three = Get(3, {3, 77});
  EXPECT_EQ(three.interaction_count, 1u);
  EXPECT_EQ(three.merged_from, std::vector<CustomerId>{77});
  EXPECT_TRUE(store_->GetProfile(77, {78}).status().Is(Code::kNotFound));
}

TEST_F(ProfileStoreTest, CountersAccumulateAcrossCalls) {
  ApplyOne(MakeBatch(0, {Track(5, kT0 + 100)}));
  ApplyOne(MakeBatch(1, {Track(5, kT0 + 50), Track(5, kT0 + 70)}));
  ApplyOne(MakeBatch(3, {Track(5, kT0 + 400)}));
  Profile p = Get(5);
  EXPECT_EQ(p.interaction_count, 4u);
  EXPECT_EQ(p.first_seen_ms, kT0 + 50);
  EXPECT_EQ(p.last_seen_ms, kT0 + 400);
}

TEST_F(ProfileStoreTest, TraitsLastWriteWinsByEventTime) {
  uint64_t seq = ApplyOne(MakeBatch(0, {Identify(1, kT0 + 200, R"({"plan":"pro","score":1.10})")}));
  // An older identify arrives late: it must not overwrite plan, but sets a trait not seen before.
  seq = ApplyOne(MakeBatch(seq, {Identify(1, kT0 + 100, R"({"plan":"free","age":41})")}));
  Profile p = Get(1);
  EXPECT_EQ(TraitValue(p, "plan"), R"("pro")");
  EXPECT_EQ(TraitValue(p, "score"), "1.10");  // raw text, not re-serialised
  EXPECT_EQ(TraitValue(p, "age"), "41");
  for (const auto& t : p.traits) {
    if (t.key == "plan") {
      EXPECT_EQ(t.set_at_ms, kT0 + 200);
    } else if (t.key == "age") {
      EXPECT_EQ(t.set_at_ms, kT0 + 100);
    }
  }
  // Same event time: the later arrival (higher seq) wins; a newer one wins outright.
  seq = ApplyOne(MakeBatch(seq, {Identify(1, kT0 + 200, R"({"plan":"team"})")}));
  EXPECT_EQ(TraitValue(Get(1), "plan"), R"("team")");
  ApplyOne(MakeBatch(seq, {Identify(1, kT0 + 300, R"({"plan":{"tier":"ent","seats":[1,2]}})")}));
  EXPECT_EQ(TraitValue(Get(1), "plan"), R"({"tier":"ent","seats":[1,2]})");
  // Traits are sorted by key.
  Profile q = Get(1);
  ASSERT_EQ(q.traits.size(), 3u);
  EXPECT_EQ(q.traits[0].key, "age");
  EXPECT_EQ(q.traits[1].key, "plan");
  EXPECT_EQ(q.traits[2].key, "score");
}

Interaction IdentifyOnce(CustomerId c, int64_t ts, const std::string& set, const std::string& once) {
  std::string payload = R"({"type":"identify","userId":"x")";
  if (!set.empty()) payload += R"(,"traits":)" + set;
  payload += R"(,"traitsSetOnce":)" + once + "}";
  return Make(MessageType::kIdentify, c, ts, payload);
}

TEST_F(ProfileStoreTest, ManyTraitsOfOneIdentifyAllLandAcrossMultiRowStatements) {
  // 19 traits (and 10 set-once ones) exceed one multi-row statement (8 rows): every chunk must land,
  // each value with its own key, and a later identify in the same call overwrites only its keys.
  std::string first = "{", second = "{", once = "{";
  for (int i = 0; i < 19; ++i) {
    first += fmt::format(R"({}"k{:02}":{})", i ? "," : "", i, i);
    if (i % 3 == 0) second += fmt::format(R"({}"k{:02}":"v{}")", second.size() > 1 ? "," : "", i, i);
  }
  for (int i = 0; i < 10; ++i) once += fmt::format(R"({}"o{}":{})", i ? "," : "", i, 100 + i);
  first += "}";
  second += "}";
  once += "}";
  Interaction with_once = Identify(1, kT0 + 100, first);
  with_once.payload.insert(with_once.payload.size() - 1, R"(,"traitsSetOnce":)" + once);
  Batch b1 = MakeBatch(0, {with_once});
  Batch b2 = MakeBatch(1, {Identify(1, kT0 + 200, second)});
  ASSERT_TRUE(Apply({&b1, &b2}).ok());
  Profile p = Get(1);
  ASSERT_EQ(p.traits.size(), 29u);
  for (int i = 0; i < 19; ++i) {
    EXPECT_EQ(TraitValue(p, fmt::format("k{:02}", i)), i % 3 == 0 ? fmt::format(R"("v{}")", i) : std::to_string(i))
        << "k" << i;
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(TraitValue(p, fmt::format("o{}", i)), std::to_string(100 + i)) << "o" << i;
}

TEST_F(ProfileStoreTest, SetOnceTraitsKeepTheFirstValue) {
  // PostHog $set_once: the first value stays; a later set-once does not change it.
  uint64_t seq = ApplyOne(MakeBatch(0, {IdentifyOnce(1, kT0 + 100, R"({"plan":"pro"})", R"({"source":"ads"})")}));
  seq = ApplyOne(MakeBatch(seq, {IdentifyOnce(1, kT0 + 200, R"({"plan":"team"})", R"({"source":"seo"})")}));
  EXPECT_EQ(TraitValue(Get(1), "source"), R"("ads")");
  EXPECT_EQ(TraitValue(Get(1), "plan"), R"("team")");
  // An earlier set-once arriving late is the first value after all.
  seq = ApplyOne(MakeBatch(seq, {IdentifyOnce(1, kT0 + 50, "", R"({"source":"email"})")}));
  EXPECT_EQ(TraitValue(Get(1), "source"), R"("email")");
  // An ordinary set replaces a set-once value, whether it is newer...
  seq = ApplyOne(MakeBatch(seq, {Identify(1, kT0 + 300, R"({"source":"manual"})")}));
  EXPECT_EQ(TraitValue(Get(1), "source"), R"("manual")");
  // ...and a set-once never replaces an ordinary value.
  seq = ApplyOne(MakeBatch(seq, {IdentifyOnce(1, kT0 + 10, "", R"({"source":"first?"})")}));
  EXPECT_EQ(TraitValue(Get(1), "source"), R"("manual")");
  // An ordinary value set BEFORE a set-once (arriving late) means the set-once never applied.
  seq = ApplyOne(MakeBatch(seq, {IdentifyOnce(1, kT0 + 500, "", R"({"tier":"gold"})")}));
  ApplyOne(MakeBatch(seq, {Identify(1, kT0 + 400, R"({"tier":"silver"})")}));
  EXPECT_EQ(TraitValue(Get(1), "tier"), R"("silver")");
}

TEST_F(ProfileStoreTest, LateOlderIdentifyLosesEvenInTheSameCall) {
  Batch newer = MakeBatch(0, {Identify(1, kT0 + 200, R"({"plan":"pro"})")});
  Batch older = MakeBatch(1, {Identify(1, kT0 + 100, R"({"plan":"free"})")});
  ASSERT_TRUE(Apply({&newer, &older}).ok());
  EXPECT_EQ(TraitValue(Get(1), "plan"), R"("pro")");
}

TEST_F(ProfileStoreTest, IdentifiesOfOneCustomerInOneCallWriteEachKeyOnce) {
  // Four identifies of customer 1 in one call (one late, one with a set-once value) and one of
  // customer 2: each customer's keys are upserted once, with the newest value of the call, and
  // the profile is what applying the batches one call at a time gives.
  const std::vector<Batch> batches = {
      MakeBatch(0, {Identify(1, kT0 + 200, R"({"plan":"pro","a":1})")}),
      MakeBatch(1, {Identify(1, kT0 + 100, R"({"plan":"free","b":2})"), Identify(2, kT0 + 100, R"({"plan":"x"})")}),
      MakeBatch(3, {Identify(1, kT0 + 300, R"({"a":3})")}),
      MakeBatch(4, {IdentifyOnce(1, kT0 + 50, R"({"b":4})", R"({"src":"ads","plan":"first"})")}),
  };
  std::vector<const Batch*> all;
  for (const Batch& b : batches) all.push_back(&b);
  ASSERT_TRUE(Apply(all).ok());
  // plan, a, b of customer 1 and plan of customer 2 (the call's identifies carry 7 such rows).
  EXPECT_EQ(store_->stats().trait_rows_written, 4u);

  ProfileStore* together = store_.get();
  testutil::TempDir dir2;
  auto one_by_one = ProfileStore::Open(dir2.path() + "/p.db");
  ASSERT_TRUE(one_by_one.ok());
  for (const Batch* b : all) ASSERT_TRUE((*one_by_one)->ApplyBatches({b}).ok());
  EXPECT_EQ((*one_by_one)->stats().trait_rows_written, 7u);
  for (CustomerId c : {1, 2}) {
    auto p = together->GetProfile(c, {});
    auto q = (*one_by_one)->GetProfile(c, {});
    ASSERT_TRUE(p.ok() && q.ok());
    ASSERT_EQ(p->traits.size(), q->traits.size()) << c;
    for (size_t i = 0; i < p->traits.size(); ++i) {
      EXPECT_EQ(p->traits[i].key, q->traits[i].key);
      EXPECT_EQ(p->traits[i].value_json, q->traits[i].value_json) << p->traits[i].key;
      EXPECT_EQ(p->traits[i].set_at_ms, q->traits[i].set_at_ms) << p->traits[i].key;
    }
  }
  Profile p = Get(1);
  EXPECT_EQ(TraitValue(p, "plan"), R"("pro")");
  EXPECT_EQ(TraitValue(p, "a"), "3");
  EXPECT_EQ(TraitValue(p, "b"), "2");
  EXPECT_EQ(TraitValue(p, "src"), R"("ads")");
  EXPECT_EQ(TraitValue(Get(2), "plan"), R"("x")");
}

TEST_F(ProfileStoreTest, ContextTraitsEscapedKeysAndRepeatedKeys) {
  Interaction ctx = Make(MessageType::kIdentify, 1, kT0,
                         R"({"type":"identify","context":{"traits":{"email":"a@b.c"}},"userId":"u"})");
  Interaction both = Make(MessageType::kIdentify, 2, kT0,
                          R"({"traits":{"na\"me":"q","k":1,"k":2},"context":{"traits":{"ignored":true}}})");
  Interaction null_traits = Make(MessageType::kIdentify, 3, kT0, R"({"traits":null,"context":{"traits":{"x":null}}})");
  ApplyOne(MakeBatch(0, {ctx, both, null_traits}));
  EXPECT_EQ(TraitValue(Get(1), "email"), R"("a@b.c")");
  Profile p2 = Get(2);
  EXPECT_EQ(TraitValue(p2, "na\"me"), R"("q")");
  EXPECT_EQ(TraitValue(p2, "k"), "2");
  EXPECT_EQ(TraitValue(p2, "ignored"), "<absent>");
  EXPECT_EQ(p2.traits.size(), 2u);
  EXPECT_EQ(TraitValue(Get(3), "x"), "null");
  EXPECT_EQ(store_->stats().payloads_unparsed, 0u);
}

TEST_F(ProfileStoreTest, TraitsMergedAcrossMembersLatestWins) {
  ApplyOne(MakeBatch(0,
                     {Identify(1, kT0 + 100, R"({"plan":"free","name":"Al"})"),
                      Identify(2, kT0 + 300, R"({"plan":"pro"})"), Identify(3, kT0 + 999, R"({"plan":"other"})")},
                     {Merge(1, 2)}));
  Profile p = Get(1, {2});
  EXPECT_EQ(TraitValue(p, "plan"), R"("pro")");
  EXPECT_EQ(TraitValue(p, "name"), R"("Al")");
}

TEST_F(ProfileStoreTest, GroupsJoinedAtAndGroupTraits) {
  uint64_t seq = ApplyOne(MakeBatch(0, {Group(1, kT0 + 500, R"("acme")", R"({"name":"Acme","employees":10})"),
                                        Group(2, kT0 + 200, "42", R"({"name":"Answer"})")}));
  // Older call for the same membership lowers joined_at; its stale traits lose; new keys land.
  seq = ApplyOne(MakeBatch(seq, {Group(1, kT0 + 100, R"("acme")", R"({"name":"Old Acme","industry":"tnt"})")}));
  ApplyOne(MakeBatch(seq, {Group(2, kT0 + 600, R"("acme")", R"({"employees":12})"),
                           Group(1, kT0, R"("")", R"({"name":"nobody"})"),
                           Make(MessageType::kGroup, 1, kT0, R"({"traits":{"name":"no id"}})")}));
  Profile p = Get(1, {2});
  ASSERT_EQ(p.groups.size(), 2u);
  EXPECT_EQ(p.groups[0].group_id, "42");
  EXPECT_EQ(p.groups[0].traits_json, R"({"name":"Answer"})");
  EXPECT_EQ(p.groups[1].group_id, "acme");
  EXPECT_EQ(p.groups[1].joined_at_ms, kT0 + 100);  // earliest over both members
  EXPECT_EQ(p.groups[1].traits_json, R"({"employees":12,"industry":"tnt","name":"Acme"})");
  Profile one = Get(1);
  ASSERT_EQ(one.groups.size(), 1u);  // member 2's group "42" is not customer 1's own
}

TEST_F(ProfileStoreTest, UnparseablePayloadIsSkippedAndCounted) {
  Batch b = MakeBatch(0, {Make(MessageType::kIdentify, 1, kT0, "not json"),
                          Make(MessageType::kIdentify, 1, kT0, R"({"traits":{"a":1})"),  // truncated
                          Make(MessageType::kIdentify, 1, kT0, R"([{"traits":{"a":1}}])"),  // not an object
                          Make(MessageType::kIdentify, 1, kT0, R"({"traits":{"a":tru}})"),  // bad literal
                          Make(MessageType::kGroup, 1, kT0, "{\"groupId\":\"g\",\"traits\":{\"a\":\"\xff\"}}"),
                          Identify(1, kT0 + 1, R"({"ok":true})")});
  ASSERT_TRUE(Apply({&b}).ok());
  EXPECT_EQ(store_->stats().payloads_unparsed, 5u);
  Profile p = Get(1);
  EXPECT_EQ(p.interaction_count, 6u);  // counters still count them
  ASSERT_EQ(p.traits.size(), 1u);
  EXPECT_EQ(p.traits[0].key, "ok");
  EXPECT_TRUE(p.groups.empty());
  EXPECT_EQ(store_->applied_seq(), 6u);
}

TEST_F(ProfileStoreTest, ReapplyingAppliedBatchesChangesNothing) {
  Batch b1 = MakeBatch(10, {Track(1, kT0), Identify(1, kT0 + 1, R"({"plan":"pro"})"), Group(1, kT0, R"("g")", "{}")},
                       {Link(1, "u:a"), Link(2, "a:b"), Merge(1, 2)});
  Batch b2 = MakeBatch(13, {Track(2, kT0 + 2)});
  ASSERT_TRUE(Apply({&b1, &b2}).ok());
  Profile before = Get(1, {2});
  auto ops_before = store_->LoadIdentityOps();
  ASSERT_TRUE(ops_before.ok());
  ASSERT_EQ(store_->applied_seq(), 14u);

  // The caller replays from the WAL after a restart: everything below the watermark is skipped.
  Reopen();
  Batch b3 = MakeBatch(14, {Track(1, kT0 + 3)});
  ASSERT_TRUE(Apply({&b1, &b2, &b3}).ok());
  EXPECT_EQ(store_->stats().batches_skipped, 2u);
  EXPECT_EQ(store_->stats().batches_applied, 1u);
  ASSERT_TRUE(Apply({&b3}).ok());
  Profile after = Get(1, {2});
  EXPECT_EQ(after.interaction_count, before.interaction_count + 1);
  EXPECT_EQ(after.identities.size(), before.identities.size());
  EXPECT_EQ(after.traits.size(), before.traits.size());
  EXPECT_EQ(after.groups.size(), before.groups.size());
  EXPECT_EQ(store_->LoadIdentityOps().value(), *ops_before);
  EXPECT_EQ(store_->applied_seq(), 15u);
}

TEST_F(ProfileStoreTest, OpOnlyBatchAtWatermarkIsIdempotent) {
  ApplyOne(MakeBatch(0, {Track(1, kT0)}, {Link(1, "u:a")}));
  Batch ops_only = MakeBatch(1, {}, {Link(1, "a:x"), Link(2, "a:y"), Merge(1, 2)});
  ASSERT_TRUE(Apply({&ops_only}).ok());
  EXPECT_EQ(store_->applied_seq(), 1u);  // covers no seq
  ASSERT_TRUE(Apply({&ops_only}).ok());  // replayed: first_seq >= applied_seq
  auto ops = store_->LoadIdentityOps();
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->size(), 4u);
  // Once the watermark passes it, it is skipped outright.
  ApplyOne(MakeBatch(1, {Track(1, kT0)}));
  ASSERT_TRUE(Apply({&ops_only}).ok());
  EXPECT_EQ(store_->LoadIdentityOps()->size(), 4u);
}

TEST_F(ProfileStoreTest, MalformedBatchesFailAtomically) {
  Batch good = MakeBatch(0, {Track(1, kT0)}, {Link(1, "u:a")});
  Batch bad_seq = MakeBatch(1, {Track(1, kT0), Track(1, kT0)});
  bad_seq.interactions[1].seq = 7;
  Status s = Apply({&good, &bad_seq});
  EXPECT_TRUE(s.Is(Code::kInvalidArgument)) << s.ToString();
  EXPECT_NE(s.message().find("seq 7"), std::string_view::npos) << s.ToString();

  Batch bad_key = MakeBatch(1, {Track(1, kT0)}, {Link(1, "x:what")});
  s = Apply({&good, &bad_key});
  EXPECT_TRUE(s.Is(Code::kInvalidArgument)) << s.ToString();
  EXPECT_NE(s.message().find("x:what"), std::string_view::npos);
  Batch zero = MakeBatch(1, {Track(0, kT0)});
  EXPECT_TRUE(Apply({&good, &zero}).Is(Code::kInvalidArgument));
  Batch self_merge = MakeBatch(1, {}, {Merge(3, 3)});
  EXPECT_TRUE(Apply({&good, &self_merge}).Is(Code::kInvalidArgument));
  Batch later = MakeBatch(5, {Track(1, kT0)});
  EXPECT_TRUE(Apply({&later, &good}).Is(Code::kInvalidArgument));  // out of order
  EXPECT_TRUE(Apply({nullptr}).Is(Code::kInvalidArgument));

  // Nothing of `good` was written by the failed calls.
  EXPECT_EQ(store_->applied_seq(), 0u);
  EXPECT_TRUE(store_->GetProfile(1, {}).status().Is(Code::kNotFound));
  EXPECT_TRUE(store_->LoadIdentityOps()->empty());

  ApplyOne(MakeBatch(0, {Track(1, kT0), Track(1, kT0)}));
  Batch straddle = MakeBatch(1, {Track(1, kT0), Track(1, kT0)});
  s = Apply({&straddle});
  EXPECT_TRUE(s.Is(Code::kCorruption)) << s.ToString();
  EXPECT_EQ(Get(1).interaction_count, 2u);
}

TEST_F(ProfileStoreTest, UpdateKeepsOnlyWhatChangesAProfile) {
  Batch b = MakeBatch(40, {Track(1, kT0 + 9), Make(MessageType::kPage, 2, kT0 + 3), Identify(1, kT0 + 5, R"({"plan":"pro"})"),
                           Make(MessageType::kAlias, 1, kT0 + 6), Group(2, kT0 + 7, R"("acme")", R"({"size":3})")},
                      {Link(1, "u:a"), Link(2, "a:b")});
  b.interactions[0].received_at_ms = kT0 + 77;
  ProfileUpdate u = ProfileUpdateOf(b, /*count=*/false);
  EXPECT_EQ(u.first_seq, 40u);
  EXPECT_EQ(u.end_seq, 45u);
  EXPECT_EQ(u.at_ms, kT0 + 77);
  EXPECT_EQ(u.identity_ops, b.identity_ops);
  ASSERT_EQ(u.rows.size(), 2u);  // the identify and the group, nothing else
  EXPECT_EQ(u.rows[0].seq, 42u);
  EXPECT_EQ(u.rows[0].type, MessageType::kIdentify);
  EXPECT_EQ(u.rows[1].seq, 44u);
  EXPECT_EQ(u.rows[1].payload, b.interactions[4].payload);
  EXPECT_TRUE(u.seen.empty());

  ProfileUpdate counted = ProfileUpdateOf(b, /*count=*/true);
  ASSERT_EQ(counted.seen.size(), 2u);
  EXPECT_EQ(counted.seen[0].customer, 1u);
  EXPECT_EQ(counted.seen[0].first_seen_ms, kT0 + 5);
  EXPECT_EQ(counted.seen[0].last_seen_ms, kT0 + 9);
  EXPECT_EQ(counted.seen[0].count, 3u);
  EXPECT_EQ(counted.seen[1].customer, 2u);
  EXPECT_EQ(counted.seen[1].count, 2u);

  // Applied without counters: the same profile as the whole batch gives, counters aside, and the
  // watermark covers the batch's every seq.
  ASSERT_TRUE(store_->Apply({&u}).ok());
  EXPECT_EQ(store_->applied_seq(), 45u);
  EXPECT_EQ(store_->stats().interactions_applied, 5u);
  Profile p = Get(1);
  EXPECT_EQ(p.interaction_count, 0u);
  EXPECT_EQ(TraitValue(p, "plan"), R"("pro")");
  ASSERT_EQ(p.identities.size(), 1u);
  Profile two = Get(2);
  ASSERT_EQ(two.groups.size(), 1u);
  EXPECT_EQ(two.groups[0].traits_json, R"({"size":3})");
  EXPECT_TRUE(store_->Apply({&u}).ok());  // a replay of it is skipped
  EXPECT_EQ(store_->stats().batches_skipped, 1u);
  EXPECT_EQ(Get(1).traits.size(), 1u);

  // The same batch through ApplyBatches, into a second file: identical but for the counters.
  store_.reset();
  path_ = dir_.Sub("whole.db");
  Reopen();
  ASSERT_TRUE(Apply({&b}).ok());
  Profile whole = Get(1);
  EXPECT_EQ(whole.interaction_count, 3u);
  EXPECT_EQ(whole.first_seen_ms, kT0 + 5);
  ASSERT_EQ(whole.traits.size(), p.traits.size());
  EXPECT_EQ(whole.traits[0].value_json, p.traits[0].value_json);
  EXPECT_EQ(whole.traits[0].set_at_ms, p.traits[0].set_at_ms);
  ASSERT_EQ(whole.identities.size(), p.identities.size());
  EXPECT_EQ(whole.identities[0].value, p.identities[0].value);
  EXPECT_EQ(Get(2).groups.size(), two.groups.size());
}

TEST_F(ProfileStoreTest, MalformedUpdatesFailAtomically) {
  ProfileUpdate good = ProfileUpdateOf(MakeBatch(0, {Identify(1, kT0, R"({"a":1})")}, {Link(1, "u:a")}), false);
  ProfileUpdate outside = ProfileUpdateOf(MakeBatch(1, {Identify(1, kT0, "{}")}), false);
  outside.rows[0].seq = 9;  // past end_seq 2
  ProfileUpdate backwards = good;
  backwards.end_seq = 0;
  backwards.first_seq = 1;
  ProfileUpdate track_row = ProfileUpdateOf(MakeBatch(1, {Identify(1, kT0, "{}")}), false);
  track_row.rows[0].type = MessageType::kTrack;
  ProfileUpdate zero = ProfileUpdateOf(MakeBatch(1, {Identify(0, kT0, "{}")}), false);
  for (const ProfileUpdate* bad : {&outside, &backwards, &track_row, &zero}) {
    Status s = store_->Apply({&good, bad});
    EXPECT_TRUE(s.Is(Code::kInvalidArgument)) << s.ToString();
  }
  EXPECT_EQ(store_->applied_seq(), 0u);
  EXPECT_TRUE(store_->GetProfile(1, {}).status().Is(Code::kNotFound));
}

TEST_F(ProfileStoreTest, LoadIdentityOpsRoundTripsInApplicationOrder) {
  std::vector<IdentityOp> want = {Link(1, "a:one"), Link(2, "a:two"), Merge(1, 2), Link(1, "u:joe"),
                                  Link(3, "e:x@y.z"), Merge(1, 3), Link(4, "p:+1")};
  ApplyOne(MakeBatch(0, {Track(1, kT0)}, {want[0], want[1], want[2]}));
  ApplyOne(MakeBatch(1, {Track(3, kT0)}, {want[3], want[4], want[5]}));
  ApplyOne(MakeBatch(2, {Track(4, kT0)}, {want[6]}));
  Reopen();
  auto ops = store_->LoadIdentityOps();
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(*ops, want);
}

TEST_F(ProfileStoreTest, SyncRecordsDurableWatermark) {
  ApplyOne(MakeBatch(0, {Track(1, kT0), Track(2, kT0)}));
  ASSERT_TRUE(store_->Sync().ok());
  ASSERT_TRUE(store_->Sync().ok());  // nothing new: still fine
  auto db = SqliteDb::Open(path_, SqliteOptions{});
  ASSERT_TRUE(db.ok());
  EXPECT_EQ((*db)->QueryInt("SELECT value FROM meta WHERE key = 'durable_seq'").value(), 2);
  EXPECT_EQ((*db)->QueryInt("PRAGMA synchronous").value(), 1);  // fresh connection: NORMAL
}

TEST_F(ProfileStoreTest, ReadersRunConcurrentlyWithTheWriter) {
  constexpr int kBatches = 200;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      auto p = store_->GetProfile(1, {2});
      if (p.ok()) {
        // A consistent snapshot: counts only grow, and both members' rows come from one state.
        EXPECT_GE(p->interaction_count, last);
        EXPECT_EQ(p->interaction_count % 2, 0u);
        last = p->interaction_count;
      } else {
        EXPECT_TRUE(p.status().Is(Code::kNotFound)) << p.status().ToString();
      }
      ++reads;
    }
  });
  uint64_t seq = 0;
  for (int i = 0; i < kBatches; ++i) {
    Batch b = MakeBatch(seq, {Track(1, kT0 + i), Track(2, kT0 + i)});
    seq = ApplyOne(b);
  }
  done = true;
  reader.join();
  EXPECT_EQ(Get(1, {2}).interaction_count, 2u * kBatches);
  EXPECT_GT(reads.load(), 0);
}

// Ordinary track traffic: 500k events over 25k customers, applied 10k interactions per call (the
// size of a group commit). Prints the figure; the brief asks for ≥ 300k interactions/s in a
// release build (sanitizer builds are several times slower, so only correctness is asserted).
TEST_F(ProfileStoreTest, TrackThroughput) {
  constexpr int kEvents = 500'000, kCustomers = 25'000, kPerBatch = 200, kBatchesPerCall = 50;
  std::vector<Batch> batches;
  batches.reserve(kEvents / kPerBatch);
  uint64_t seq = 0;
  uint32_t rng = 12345;
  for (int b = 0; b < kEvents / kPerBatch; ++b) {
    std::vector<Interaction> ins;
    ins.reserve(kPerBatch);
    for (int i = 0; i < kPerBatch; ++i) {
      rng = rng * 1664525u + 1013904223u;
      Interaction in = Track(1 + (rng >> 8) % kCustomers, kT0 + static_cast<int64_t>(seq) * 10);
      in.event = "Product Viewed";
      in.channel = "web";
      in.message_id = "m-" + std::to_string(seq + i);
      ins.push_back(std::move(in));
    }
    batches.push_back(MakeBatch(seq, std::move(ins)));
    seq += kPerBatch;
  }
  // Wall time, and this thread's CPU time (SQLite runs in the calling thread): on a shared, loaded
  // machine the CPU figure is the stable one; the wall figure includes fsyncs and waiting for a core.
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  const double cpu_start = cpu_now();
  auto start = std::chrono::steady_clock::now();
  for (size_t b = 0; b < batches.size(); b += kBatchesPerCall) {
    std::vector<const Batch*> call;
    for (size_t k = b; k < b + kBatchesPerCall && k < batches.size(); ++k) call.push_back(&batches[k]);
    ASSERT_TRUE(store_->ApplyBatches(call).ok());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu_secs = cpu_now() - cpu_start;
  std::printf("profile_store_track_apply_wall %.0f interactions/s\n", kEvents / secs);
  std::printf("profile_store_track_apply_cpu %.0f interactions/s (%d events, %d customers, %d per call)\n",
              kEvents / cpu_secs, kEvents, kCustomers, kPerBatch * kBatchesPerCall);
  EXPECT_EQ(store_->applied_seq(), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(store_->stats().interactions_applied, static_cast<uint64_t>(kEvents));
  std::vector<CustomerId> all;
  for (CustomerId c = 2; c <= kCustomers; ++c) all.push_back(c);
  EXPECT_EQ(Get(1, all).interaction_count, static_cast<uint64_t>(kEvents));
}

}  // namespace
}  // namespace cairn::entity
