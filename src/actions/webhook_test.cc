#include "actions/webhook.h"

#include <gtest/gtest.h>

namespace cairn::actions {
namespace {

TEST(SignatureTest, GoldenAndVerify) {
  // Reference: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
  const std::string body = R"({"a":1})";
  std::string header = SignatureHeader("secret", 1700000000, body);
  EXPECT_EQ(header, "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686");
  EXPECT_TRUE(VerifySignature("secret", header, body, 1700000010, 300));
  EXPECT_FALSE(VerifySignature("secret", header, body, 1700000400, 300));     // too old
  EXPECT_FALSE(VerifySignature("other", header, body, 1700000010, 300));      // wrong secret
  EXPECT_FALSE(VerifySignature("secret", header, R"({"a":2})", 1700000010, 300));  // body changed
  EXPECT_FALSE(VerifySignature("secret", "t=1700000000,v1=00", body, 1700000010, 300));
  EXPECT_FALSE(VerifySignature("secret", "garbage", body, 0, 0));
}

TEST(UrlTest, ParsesAndRejects) {
  auto u = ParseHttpUrl("http://127.0.0.1:8080/hooks/cairn?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/hooks/cairn?x=1");
  u = ParseHttpUrl("http://example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  EXPECT_FALSE(u->tls);
  u = ParseHttpUrl("https://hooks.example.com/cairn");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/cairn");
  u = ParseHttpUrl("https://127.0.0.1:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(ParseHttpUrl("ftp://x").status().message(), "url: must start with http:// or https://, got 'ftp://x'");
  EXPECT_EQ(ParseHttpUrl("http://x:99999/").status().message(), "url: bad port in 'http://x:99999/'");
}

TEST(PostJsonTest, ConnectionRefusedIsAnErrorNotACrash) {
  auto u = ParseHttpUrl("http://127.0.0.1:1/");
  HttpAnswer a = PostJson(*u, {}, "{}", 500);
  EXPECT_EQ(a.status, 0);
  EXPECT_NE(a.error.find("connect failed"), std::string::npos) << a.error;
}

}  // namespace
}  // namespace cairn::actions
