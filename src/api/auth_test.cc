#include "api/auth.h"

#include "api/services.h"

#include <gtest/gtest.h>

namespace cairn::api {
namespace {

TEST(Base64Test, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(*Base64Decode("a2V5Og=="), "key:");
  EXPECT_EQ(*Base64Decode("a2V5Og"), "key:");
  EXPECT_EQ(*Base64Decode("a2V5"), "key");
  EXPECT_EQ(*Base64Decode(""), "");
  EXPECT_EQ(*Base64Decode("-_8"), *Base64Decode("+/8="));  // URL-safe alphabet
  EXPECT_FALSE(Base64Decode("a2V5O").ok());                 // one dangling character
  EXPECT_FALSE(Base64Decode("a2*5").ok());
}

TEST(AuthTest, BasicWriteKeyForms) {
  EXPECT_EQ(*BasicWriteKey("Basic d3JpdGUta2V5Og=="), "write-key");  // base64("write-key:")
  EXPECT_EQ(*BasicWriteKey("Basic d3JpdGUta2V5"), "write-key");      // base64("write-key"), no colon
  EXPECT_EQ(*BasicWriteKey("basic  d3JpdGUta2V5Og== "), "write-key");
  EXPECT_EQ(*BasicWriteKey("Basic d3JpdGUta2V5OnNlY3JldA=="), "write-key");  // "write-key:secret"
  EXPECT_EQ(*BasicWriteKey(""), "");
  EXPECT_EQ(*BasicWriteKey("Bearer abc"), "");   // another scheme: the key may be in the body
  EXPECT_EQ(*BasicWriteKey("Basicd3JpdGU="), "");  // not the Basic scheme
  auto bad = BasicWriteKey("Basic !!!");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kUnauthenticated);
}

TEST(AuthTest, AdminBearer) {
  Services s;
  s.is_admin_key = [](std::string_view k) { return k == "admin"; };
  s.is_write_key = [](std::string_view k) { return k == "wk"; };
  EXPECT_TRUE(CheckAdminBearer("Bearer admin", s).ok());
  EXPECT_TRUE(CheckAdminBearer("bearer   admin ", s).ok());
  EXPECT_EQ(CheckAdminBearer("", s).code(), Code::kUnauthenticated);
  EXPECT_EQ(CheckAdminBearer("Bearer ", s).code(), Code::kUnauthenticated);
  EXPECT_EQ(CheckAdminBearer("Bearer nope", s).code(), Code::kUnauthenticated);
  EXPECT_EQ(CheckAdminBearer("Basic YWRtaW46", s).code(), Code::kUnauthenticated);  // Basic admin: not accepted
  EXPECT_EQ(CheckAdminBearer("Bearer wk", s).code(), Code::kPermissionDenied);
  Services empty;  // no key checks configured: nothing is admin
  EXPECT_EQ(CheckAdminBearer("Bearer admin", empty).code(), Code::kUnauthenticated);
}

TEST(AuthTest, RolesAreOrderedAndWriteOnlyIngests) {
  EXPECT_TRUE(Allows(Access::kPublic, Role::kNone));
  EXPECT_TRUE(Allows(Access::kIngest, Role::kNone));  // the ingest handler checks write keys
  EXPECT_FALSE(Allows(Access::kAnalyst, Role::kNone));
  EXPECT_FALSE(Allows(Access::kAnalyst, Role::kWrite));
  EXPECT_TRUE(Allows(Access::kAnalyst, Role::kAnalyst));
  EXPECT_TRUE(Allows(Access::kAnalyst, Role::kAgent));
  EXPECT_TRUE(Allows(Access::kAnalyst, Role::kAdmin));
  EXPECT_FALSE(Allows(Access::kAgent, Role::kAnalyst));
  EXPECT_TRUE(Allows(Access::kAgent, Role::kAgent));
  EXPECT_FALSE(Allows(Access::kAdmin, Role::kAgent));
  EXPECT_TRUE(Allows(Access::kAdmin, Role::kAdmin));
  for (Role r : {Role::kWrite, Role::kAnalyst, Role::kAgent, Role::kAdmin}) {
    Role parsed = Role::kNone;
    ASSERT_TRUE(ParseRole(RoleName(r), &parsed));
    EXPECT_EQ(parsed, r);
  }
  Role out;
  EXPECT_FALSE(ParseRole("root", &out));
}

}  // namespace
}  // namespace cairn::api
