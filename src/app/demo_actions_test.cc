// DemoActionReceiver: Cairn's action webhook, as the demo's simulated business receives it —
// over real HTTP with the signature the dispatcher sends (actions/webhook.h).
#include "app/demo_actions.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <vector>

#include "actions/webhook.h"

namespace cairn::app {
namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Body(std::string_view type, std::string_view key, std::string_view channel = "phone") {
  return std::string(R"({"id":7,"idempotencyKey":"k7","type":")") + std::string(type) + R"(","customer":{"id":"c:3","key":")" +
         std::string(key) + R"("},"purpose":"service","channel":")" + std::string(channel) +
         R"(","audience":"customer","source":"rescue:9","expectedGain":12.5,"createdAt":1,"data":{}})";
}

TEST(DemoActionReceiver, SignedRescueReachesTheSimulatedCustomerOverHttp) {
  std::mutex mu;
  std::vector<sim::Action> got;
  auto r = DemoActionReceiver::Start("", [&](const sim::Action& a) -> Status {
    std::lock_guard l(mu);
    got.push_back(a);
    return a.user_id == "cust-0000042" ? Status::Ok() : NotFound("not simulated");
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  DemoActionReceiver& rec = **r;
  EXPECT_GE(rec.secret().size(), 32u);
  auto url = actions::ParseHttpUrl(rec.url());
  ASSERT_TRUE(url.ok());
  auto post = [&](const std::string& body, const std::string& secret) {
    return actions::PostJson(*url, {{"X-Cairn-Signature", actions::SignatureHeader(secret, Now(), body)}}, body, 5000);
  };

  // The dispatcher's body and signature: applied to that customer, with the path's kind.
  auto a = post(Body("rescue.angry", "userId:cust-0000042"), rec.secret());
  EXPECT_EQ(a.status, 200) << a.error;
  EXPECT_EQ(a.body, R"({"applied":true})");
  // A customer the simulation no longer has: received (200, so Cairn does not retry), not applied.
  a = post(Body("rescue.competitor", "userId:cust-9999999", "email"), rec.secret());
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"({"applied":false})");
  {
    std::lock_guard l(mu);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].kind, sim::Action::Kind::kAngry);
    EXPECT_EQ(got[0].user_id, "cust-0000042");
    EXPECT_EQ(got[0].channel, "phone");
    EXPECT_EQ(got[1].kind, sim::Action::Kind::kCompetitor);
  }
  EXPECT_EQ(rec.received(), 2u);
  EXPECT_EQ(rec.applied(), 1u);

  // Signed with another secret, or not at all: 401 and nobody hears of it.
  a = post(Body("rescue.angry", "userId:cust-0000042"), "someone-elses-secret");
  EXPECT_EQ(a.status, 401);
  a = actions::PostJson(*url, {}, Body("rescue.angry", "userId:cust-0000042"), 5000);
  EXPECT_EQ(a.status, 401);
  // Signed but not an action: 400.
  a = post(R"({"type":"rescue.angry"})", rec.secret());
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("customer"), std::string::npos);
  std::lock_guard l(mu);
  EXPECT_EQ(got.size(), 2u);
}

TEST(DemoActionReceiver, OldSignaturesAreRefusedAndOtherKindsChangeNothing) {
  int calls = 0;
  sim::Action last;
  auto r = DemoActionReceiver::Start("s3cret", [&](const sim::Action& a) {
    ++calls;
    last = a;
    return Status::Ok();
  });
  ASSERT_TRUE(r.ok());
  const std::string body = Body("post_purchase.review_ask", "userId:cust-0000001");
  // A replay from an hour ago.
  EXPECT_EQ((*r)->Handle(actions::SignatureHeader("s3cret", Now() - 3600, body), body, Now()).first, 401);
  EXPECT_EQ(calls, 0);
  auto [status, answer] = (*r)->Handle(actions::SignatureHeader("s3cret", Now(), body), body, Now());
  EXPECT_EQ(status, 200);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(last.kind, sim::Action::Kind::kOther);  // received; the simulator changes no course for it
  // An anonymous visitor's key is not a simulated userId.
  const std::string anon = Body("rescue.going_cold", "anonymousId:a-1");
  EXPECT_EQ((*r)->Handle(actions::SignatureHeader("s3cret", Now(), anon), anon, Now()).second,
            R"({"applied":false,"why":"not a simulated userId"})");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace cairn::app
