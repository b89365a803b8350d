#include "api/session.h"

#include <gtest/gtest.h>

#include <set>

namespace cairn::api {
namespace {

Principal Agent() {
  Principal p;
  p.key_id = 5;
  p.key_name = "desk";
  p.role = Role::kAgent;
  return p;
}

TEST(SessionStoreTest, CreateFindExpireRemove) {
  FakeClock clock;
  SessionStore store(&clock);
  auto [token, s] = store.Create(Agent());
  EXPECT_EQ(token.size(), 64u);  // 256 bits, hex
  EXPECT_EQ(s.csrf.size(), 32u);
  EXPECT_EQ(s.expires_at_ms, clock.NowMillis() + kSessionMaxAgeSeconds * 1000);
  EXPECT_EQ(s.principal.session, "s1");
  auto found = store.Find(token);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->principal.key_id, 5);
  EXPECT_EQ(found->csrf, s.csrf);
  EXPECT_FALSE(store.Find(token.substr(1)).has_value());
  EXPECT_FALSE(store.Find("").has_value());
  clock.Advance(kSessionMaxAgeSeconds * 1000);
  EXPECT_FALSE(store.Find(token).has_value());  // expired
  auto [token2, s2] = store.Create(Agent());
  EXPECT_NE(token2, token);
  EXPECT_EQ(s2.principal.session, "s2");
  store.Remove(token2);
  EXPECT_FALSE(store.Find(token2).has_value());
}

TEST(SessionStoreTest, BoundedDropsTheSoonestToExpire) {
  FakeClock clock;
  SessionStore store(&clock, /*max_sessions=*/2);
  auto [a, sa] = store.Create(Agent());
  clock.Advance(1000);
  auto [b, sb] = store.Create(Agent());
  auto [c, sc] = store.Create(Agent());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.Find(a).has_value());
  EXPECT_TRUE(store.Find(b).has_value());
  EXPECT_TRUE(store.Find(c).has_value());
}

TEST(SessionStoreTest, CookiesAndTokens) {
  EXPECT_EQ(CookieValue("cairn_session=abc", "cairn_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; cairn_session=abc; b=2", "cairn_session"), "abc");
  EXPECT_EQ(CookieValue("a=1;cairn_session=\"abc\"", "cairn_session"), "abc");
  EXPECT_EQ(CookieValue("xcairn_session=abc", "cairn_session"), "");
  EXPECT_EQ(CookieValue("", "cairn_session"), "");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(seen.insert(RandomHex(16)).second);
  EXPECT_TRUE(SecureEquals("abc", "abc"));
  EXPECT_FALSE(SecureEquals("abc", "abd"));
  EXPECT_FALSE(SecureEquals("abc", "ab"));
}

}  // namespace
}  // namespace cairn::api
