#include "ingest/identity_resolver.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace cairn::ingest {
namespace {

using store::CustomerId;
using store::IdentityOp;
using store::MessageType;

class IdentityResolverTest : public ::testing::Test {
 protected:
  CustomerId Resolve(MessageType type, std::string_view user, std::string_view anon, std::string_view prev = "",
                     std::string_view email = "") {
    IdentityInput in{type, user, anon, prev, email, ""};
    auto r = resolver_.Resolve(in, &ops_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : 0;
  }
  CustomerId Track(std::string_view user, std::string_view anon) { return Resolve(MessageType::kTrack, user, anon); }
  CustomerId Identify(std::string_view user, std::string_view anon, std::string_view email = "") {
    return Resolve(MessageType::kIdentify, user, anon, "", email);
  }
  CustomerId Alias(std::string_view prev, std::string_view user) { return Resolve(MessageType::kAlias, user, "", prev); }
  double Refused(const char* reason) {
    return registry_.GetCounter("cairn_identity_merges_refused_total", "",
                                std::string("reason=\"") + reason + "\"")->Value();
  }

  metrics::Registry registry_;
  IdentityResolver resolver_{DefaultIdentityOptions(), &registry_};
  std::vector<IdentityOp> ops_;
};

TEST_F(IdentityResolverTest, SameIdSameCustomerNewIdNewCustomer) {
  CustomerId a = Track("", "anon-1");
  EXPECT_NE(a, 0u);
  EXPECT_EQ(Track("", "anon-1"), a);
  EXPECT_NE(Track("", "anon-2"), a);
  EXPECT_EQ(resolver_.Lookup("a:anon-1"), a);
  EXPECT_EQ(resolver_.Lookup("c:" + std::to_string(a)), a);
  EXPECT_EQ(resolver_.Lookup("a:nobody"), 0u);
}

TEST_F(IdentityResolverTest, IdentifyLinksAnonymousToUser) {
  CustomerId anon = Track("", "anon-1");
  CustomerId c = Identify("user-1", "anon-1", "Alice@Example.com ");
  EXPECT_EQ(c, anon);
  EXPECT_EQ(Track("user-1", ""), anon);
  EXPECT_EQ(resolver_.Lookup("e:alice@example.com"), anon);
}

// Resolve's fast path (every key known, one customer) must not hide a link or a merge: a message
// that adds a new id, or ties in another customer's id, still records it. Ids longer than a
// short-string buffer, as real UUIDs are.
TEST_F(IdentityResolverTest, KnownKeysChangeNothingButANewOrForeignKeyStillLinksOrMerges) {
  const std::string user = "user-0123456789abcdef0123456789";
  const std::string anon = "ef86d82c-1a5f-4f2e-0f1f-51ebbfc4ce8f";
  CustomerId c = Identify(user, anon, "Long.Name@Example.com");
  ops_.clear();
  EXPECT_EQ(Track(user, anon), c);
  EXPECT_EQ(Identify(user, anon, "long.name@example.com"), c);
  EXPECT_EQ(Track("", anon), c);
  EXPECT_TRUE(ops_.empty());

  const std::string anon2 = "0d16c86e-7f5a-4507-e866-0151a481d012";
  EXPECT_EQ(Track(user, anon2), c);  // userId known, anonymousId new: linked
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0], (IdentityOp{IdentityOp::Kind::kLink, c, 0, "a:" + anon2}));

  const std::string anon3 = "6ecf8ad9-3cf0-4c60-ef30-b01c2974aeeb";
  CustomerId d = Track("", anon3);
  ASSERT_NE(d, c);
  ops_.clear();
  EXPECT_EQ(Track(user, anon3), c);  // both ids known, two customers: d merges into c
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0], (IdentityOp{IdentityOp::Kind::kMerge, c, d, ""}));
  EXPECT_EQ(Track("", anon3), c);
  EXPECT_EQ(resolver_.Lookup("a:" + anon3), c);
  EXPECT_EQ(resolver_.Find(d), c);
}

TEST_F(IdentityResolverTest, IdentifyMergesTwoKnownCustomers) {
  CustomerId user = Track("user-1", "");      // logged in on a laptop
  CustomerId phone = Track("", "anon-phone");  // browsing anonymously on a phone
  ASSERT_NE(user, phone);
  CustomerId c = Identify("user-1", "anon-phone");
  EXPECT_EQ(c, user);  // the userId's customer survives
  EXPECT_EQ(resolver_.Find(phone), user);
  EXPECT_EQ(resolver_.Members(user), (std::vector<CustomerId>{user, phone}));
  EXPECT_EQ(Track("", "anon-phone"), user);
}

TEST_F(IdentityResolverTest, AliasMergesTwoUsers) {
  CustomerId old_user = Track("old-id", "");
  CustomerId new_user = Track("new-id", "");
  EXPECT_EQ(Alias("old-id", "new-id"), new_user);
  EXPECT_EQ(resolver_.Find(old_user), new_user);
  EXPECT_EQ(Track("old-id", ""), new_user);
  // FindMany answers as Find does, id by id (unknown ids: 0).
  const CustomerId ids[] = {new_user, old_user, 999};
  CustomerId roots[3] = {7, 7, 7};
  resolver_.FindMany(ids, roots);
  EXPECT_EQ(roots[0], new_user);
  EXPECT_EQ(roots[1], new_user);
  EXPECT_EQ(roots[2], 0u);
  // FindOrSelf: the same survivors, and an unknown id is its own customer.
  EXPECT_EQ(resolver_.FindOrSelf(old_user), new_user);
  EXPECT_EQ(resolver_.FindOrSelf(new_user), new_user);
  EXPECT_EQ(resolver_.FindOrSelf(999), 999u);
}

TEST_F(IdentityResolverTest, AliasOfUnknownPreviousIdLinksIt) {
  CustomerId c = Alias("legacy-42", "user-9");
  EXPECT_EQ(Track("legacy-42", ""), c);
  EXPECT_EQ(Track("", "legacy-42"), c);
}

TEST_F(IdentityResolverTest, PostHogIdentifyMergesTheAnonymousDistinctId) {
  // posthog-node: events before identify use the anonymous id as distinct_id (→ userId).
  CustomerId anon = Track("anon-7f3", "");
  CustomerId user = Track("alice", "");
  ASSERT_NE(anon, user);
  // $identify: distinct_id alice, $anon_distinct_id anon-7f3 → previous_id.
  CustomerId c = Resolve(MessageType::kIdentify, "alice", "anon-7f3", "anon-7f3");
  EXPECT_EQ(c, user);
  EXPECT_EQ(resolver_.Find(anon), user);
  EXPECT_EQ(Track("", "anon-7f3"), user);
}

TEST_F(IdentityResolverTest, HardCodedAnonymousIdDoesNotMergeUsers) {
  std::vector<CustomerId> users;
  for (int i = 0; i < 200; ++i) users.push_back(Identify("user-" + std::to_string(i), "same-anon-everywhere"));
  std::sort(users.begin(), users.end());
  EXPECT_EQ(std::unique(users.begin(), users.end()), users.end()) << "every user keeps its own customer";
  EXPECT_EQ(Refused("two_user_ids"), 199);
  EXPECT_EQ(resolver_.Keys(resolver_.Lookup("u:user-0")).size(), 2u);
}

TEST_F(IdentityResolverTest, CapStopsAHardCodedUserIdCollectingEveryone) {
  CustomerId c = 0;
  for (int i = 0; i < 500; ++i) c = Identify("qa-user", "visitor-" + std::to_string(i));
  EXPECT_EQ(resolver_.Keys(c).size(), 100u);
  EXPECT_EQ(Refused("identity_cap"), 401);
  // A visitor that was refused stays its own, separate customer.
  EXPECT_NE(Track("", "visitor-499"), c);
}

TEST_F(IdentityResolverTest, CapAlsoRefusesMerges) {
  IdentityOptions opt = DefaultIdentityOptions();
  opt.max_identities_per_customer = 3;
  IdentityResolver r(opt, &registry_);
  std::vector<IdentityOp> ops;
  auto resolve = [&](std::string_view u, std::string_view a, MessageType t = MessageType::kIdentify) {
    return *r.Resolve(IdentityInput{t, u, a, "", "", ""}, &ops);
  };
  CustomerId u = resolve("u", "a1");
  resolve("", "a2", MessageType::kTrack);
  resolve("", "a3", MessageType::kTrack);
  resolve("u", "a2");  // u now holds u, a1, a2
  EXPECT_EQ(r.Keys(u).size(), 3u);
  EXPECT_NE(resolve("u", "a3"), 0u);
  EXPECT_NE(r.Find(r.Lookup("a:a3")), u) << "merge past the cap refused";
}

TEST_F(IdentityResolverTest, BlockedValuesAreIgnored) {
  CustomerId c = Track("null", "real-anon");
  EXPECT_EQ(c, resolver_.Lookup("a:real-anon"));
  EXPECT_EQ(resolver_.Lookup("u:null"), 0u);
  EXPECT_NE(Track(" Undefined ", "other-anon"), c);
  std::vector<IdentityOp> ops;
  auto r = resolver_.Resolve(IdentityInput{MessageType::kTrack, "undefined", "0", "", "", ""}, &ops);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(ops.empty());
}

TEST_F(IdentityResolverTest, ReplayingOpsRebuildsTheSameState) {
  std::mt19937 rng(7);
  std::vector<std::pair<std::string, std::string>> seen;
  for (int i = 0; i < 3000; ++i) {
    std::string u = rng() % 3 ? "" : "u" + std::to_string(rng() % 300);
    std::string a = rng() % 4 ? "a" + std::to_string(rng() % 600) : "";
    if (u.empty() && a.empty()) a = "a0";
    int kind = rng() % 10;
    if (kind == 0 && !u.empty()) Alias("u" + std::to_string(rng() % 300), u);
    else if (kind < 4) Identify(u, a);
    else Track(u, a);
    seen.emplace_back(u, a);
  }
  IdentityResolver replay(DefaultIdentityOptions(), &registry_);
  for (const auto& op : ops_) ASSERT_TRUE(replay.Apply(op).ok());
  for (const auto& [u, a] : seen) {
    if (!u.empty()) {
      EXPECT_EQ(replay.Lookup("u:" + u), resolver_.Lookup("u:" + u)) << u;
    }
    if (!a.empty()) {
      EXPECT_EQ(replay.Lookup("a:" + a), resolver_.Lookup("a:" + a)) << a;
    }
  }
  EXPECT_EQ(replay.next_customer_id(), resolver_.next_customer_id());
  // Replaying the same ops again (a batch recovered from both profiles.db and the WAL) changes
  // nothing: no key is counted twice towards the cap.
  for (const auto& op : ops_) ASSERT_TRUE(replay.Apply(op).ok());
  for (const auto& [u, a] : seen) {
    if (!u.empty()) {
      CustomerId c = replay.Lookup("u:" + u);
      auto keys = replay.Keys(c);
      EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size()) << u;
    }
  }
}

TEST_F(IdentityResolverTest, ApplyRejectsMalformedOpsAndToleratesUnknownCustomers) {
  IdentityResolver r(DefaultIdentityOptions(), &registry_);
  EXPECT_EQ(r.Apply({IdentityOp::Kind::kLink, 0, 0, "u:x"}).code(), Code::kCorruption);
  EXPECT_EQ(r.Apply({IdentityOp::Kind::kLink, 1, 0, "x"}).code(), Code::kCorruption);
  EXPECT_EQ(r.Apply({IdentityOp::Kind::kMerge, 5, 0, ""}).code(), Code::kCorruption);
  // Customer 6 came from a batch that never became durable; a later durable merge names it.
  ASSERT_TRUE(r.Apply({IdentityOp::Kind::kLink, 5, 0, "u:x"}).ok());
  ASSERT_TRUE(r.Apply({IdentityOp::Kind::kMerge, 5, 6, ""}).ok());
  EXPECT_EQ(r.Find(6), 5u);
  EXPECT_EQ(r.next_customer_id(), 7u);
}

TEST_F(IdentityResolverTest, ApplyRefusesACustomerIdOutOfRange) {
  // Find is a dense array by id: an id no resolver hands out must not size it.
  IdentityResolver r(DefaultIdentityOptions(), &registry_);
  EXPECT_EQ(r.Apply({IdentityOp::Kind::kLink, CustomerId{1} << 40, 0, "u:x"}).code(), Code::kCorruption);
  EXPECT_EQ(r.Apply({IdentityOp::Kind::kMerge, 1, CustomerId{1} << 40, ""}).code(), Code::kCorruption);
  EXPECT_EQ(r.Find(CustomerId{1} << 40), 0u);
  EXPECT_EQ(r.FindOrSelf(CustomerId{1} << 40), CustomerId{1} << 40);
  EXPECT_EQ(r.customer_count(), 0u);
}

TEST_F(IdentityResolverTest, ABatchResolvesAsSingleCallsDo) {
  IdentityResolver single(DefaultIdentityOptions(), &registry_);
  std::vector<IdentityOp> single_ops, batch_ops;
  std::vector<IdentityInput> msgs = {
      {MessageType::kPage, "", "anon-1", "", "", ""},
      {MessageType::kIdentify, "user-1", "anon-1", "", "one@example.com", ""},
      {MessageType::kTrack, "", "anon-2", "", "", ""},
      {MessageType::kAlias, "user-1", "", "anon-2", "", ""},
      {MessageType::kTrack, "null", "0", "", "", ""},  // no usable id
      {MessageType::kTrack, "user-1", "anon-1", "", "", ""},
  };
  std::vector<std::string> single_out, batch_out;
  for (const auto& m : msgs) {
    auto r = single.Resolve(m, &single_ops);
    single_out.push_back(r.ok() ? std::to_string(*r) : r.status().ToString());
  }
  {
    IdentityResolver::Batch batch(&resolver_);
    for (const auto& m : msgs) {
      auto r = batch.Resolve(m, &batch_ops);
      batch_out.push_back(r.ok() ? std::to_string(*r) : r.status().ToString());
    }
  }
  EXPECT_EQ(batch_out, single_out);
  ASSERT_EQ(batch_ops.size(), single_ops.size());
  for (size_t i = 0; i < batch_ops.size(); ++i) {
    EXPECT_EQ(batch_ops[i].kind, single_ops[i].kind);
    EXPECT_EQ(batch_ops[i].customer, single_ops[i].customer);
    EXPECT_EQ(batch_ops[i].from, single_ops[i].from);
    EXPECT_EQ(batch_ops[i].key, single_ops[i].key);
  }
  EXPECT_EQ(resolver_.Members(resolver_.Lookup("u:user-1")).size(), 2u);  // anon-2's customer merged in
}

TEST_F(IdentityResolverTest, AKeyTheFilterRefusesLeavesEverythingAsItWas) {
  Identify("user-1", "anon-1", "One@Example.com");
  const size_t ops_before = ops_.size();
  const double blocked_before = registry_.GetCounter("cairn_identity_blocked_ids_total", "")->Value();
  // The filter sees normalised keys: the email lower-cased, the previousId as "u:" and "a:".
  std::vector<std::string> asked;
  IdentityResolver::KeyFilter refuse = [&](std::string_view key) {
    asked.emplace_back(key);
    return key == "e:two@example.com" || key == "a:old-anon";
  };
  auto r = resolver_.Resolve({MessageType::kIdentify, "user-2", "null", "", " TWO@example.com", ""}, &ops_, &refuse);
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(std::vector<std::string>(asked.begin(), asked.end()), (std::vector<std::string>{"u:user-2", "e:two@example.com"}));
  r = resolver_.Resolve({MessageType::kAlias, "user-1", "", "old-anon", "", ""}, &ops_, &refuse);
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ops_.size(), ops_before);
  EXPECT_EQ(resolver_.Lookup("u:user-2"), 0u);
  EXPECT_EQ(resolver_.Lookup("a:old-anon"), 0u);
  // The refused message's blocked anonymousId ("null") was not counted: it was never resolved.
  EXPECT_EQ(registry_.GetCounter("cairn_identity_blocked_ids_total", "")->Value(), blocked_before);
  // A key it does not refuse resolves as usual.
  asked.clear();
  auto ok = resolver_.Resolve({MessageType::kTrack, "user-1", "anon-1", "", "", ""}, &ops_, &refuse);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, resolver_.Lookup("u:user-1"));
  EXPECT_EQ(asked.size(), 2u);
}

TEST_F(IdentityResolverTest, KeysLongerThanTheInlineBytesResolveAndErase) {
  const std::string long_email(IdentityKey::kInline + 20, 'x');
  const std::string anon(IdentityKey::kInline - 2, 'a');  // "a:" + this is exactly kInline bytes
  CustomerId c = Identify("user-1", anon, long_email + "@example.com");
  EXPECT_EQ(resolver_.Lookup("e:" + long_email + "@example.com"), c);
  EXPECT_EQ(resolver_.Lookup("a:" + anon), c);
  EXPECT_EQ(Track("", anon), c);
  // Enough keys to rehash the map several times, the long ones moved along.
  for (int i = 0; i < 5000; ++i) Track("", std::string(60, 'b') + std::to_string(i));
  EXPECT_EQ(resolver_.Lookup("e:" + long_email + "@example.com"), c);
  EXPECT_EQ(resolver_.Erase(c), std::vector<CustomerId>{c});
  EXPECT_EQ(resolver_.Lookup("e:" + long_email + "@example.com"), 0u);
  EXPECT_EQ(resolver_.Lookup("a:" + anon), 0u);
  EXPECT_EQ(resolver_.Find(c), 0u);
  EXPECT_NE(Track("", anon), c);  // a new customer
}

TEST(IdentityKeyTest, CopiesAndMovesInlineAndHeapKeys) {
  for (size_t len : {size_t{0}, size_t{1}, IdentityKey::kInline, IdentityKey::kInline + 1, size_t{300}}) {
    const std::string text(len, 'k');
    IdentityKey a(text);
    EXPECT_EQ(a.on_heap(), len > IdentityKey::kInline);
    IdentityKey b(a);
    EXPECT_EQ(b.view(), text);
    IdentityKey c(std::move(a));
    EXPECT_EQ(c.view(), text);
    EXPECT_EQ(a.view(), "");  // NOLINT(bugprone-use-after-move): a moved-from key is empty
    a = c;
    EXPECT_EQ(a.view(), text);
    b = IdentityKey("other");
    EXPECT_EQ(b.view(), "other");
    b = std::move(c);
    EXPECT_EQ(b.view(), text);
    EXPECT_TRUE(a == b);
  }
}

}  // namespace
}  // namespace cairn::ingest
