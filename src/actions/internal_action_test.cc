// Internal actions (Dispatcher::RegisterInternal): they need no webhook url, pass the same gates,
// are "delivered" by calling their handler once, retry on transient errors and dead-letter on
// input errors, and record no touch.
#include <gtest/gtest.h>

#include <mutex>

#include "actions/dispatcher.h"
#include "testutil/temp_dir.h"

namespace cairn::actions {
namespace {

class DenyPurpose : public ConsentChecker {
 public:
  Result<ConsentAnswer> Check(store::CustomerId customer, std::string_view purpose, std::string_view) override {
    if (customer == 666 && purpose == "service") return ConsentAnswer{ConsentVerdict::kDenied, "denied in test"};
    return ConsentAnswer{};
  }
};

class CountingTouches : public TouchRecorder {
 public:
  Status RecordTouch(const ActionRecord&, int64_t) override {
    ++n;
    return Status::Ok();
  }
  int n = 0;
};

class InternalActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DispatcherOptions o;
    o.path = dir_.Sub("actions.db");  // no webhook url
    o.quiet.enabled = false;
    o.consent = &consent_;
    o.touches = &touches_;
    o.clock = &clock_;
    o.metrics = &registry_;
    o.start_thread = false;
    o.retry.max_attempts = 3;
    auto d = Dispatcher::Open(std::move(o));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dispatcher_ = std::move(*d);
    dispatcher_->RegisterInternal("open_case", [this](const ActionRecord& a) -> Result<std::string> {
      std::lock_guard lock(mu_);
      calls_.push_back(a.id);
      if (!fail_.empty()) {
        Status s = fail_.front();
        fail_.erase(fail_.begin());
        return s;
      }
      return "case:" + std::to_string(a.id + 100);
    });
  }

  ActionRequest Request(store::CustomerId customer, std::string ref) {
    ActionRequest r;
    r.customer = customer;
    r.customer_key = "userId:u" + std::to_string(customer);
    r.name = "open_case";
    r.purpose = "service";
    r.channel = "phone";
    r.source_ref = std::move(ref);
    return r;
  }

  testutil::TempDir dir_;
  FakeClock clock_{1767225600000};
  metrics::Registry registry_;
  DenyPurpose consent_;
  CountingTouches touches_;
  std::mutex mu_;
  std::vector<int64_t> calls_;
  std::vector<Status> fail_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(InternalActionTest, RunsItsHandlerOnceWithoutAWebhookAndRecordsNoTouch) {
  EXPECT_TRUE(dispatcher_->IsInternal("open_case"));
  EXPECT_FALSE(dispatcher_->CanSend("rescue.going_cold"));
  // A webhook action still needs a url.
  ActionRequest hook = Request(1, "rescue:1");
  hook.name = "rescue.going_cold";
  auto refused = dispatcher_->Submit(hook);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().Is(Code::kFailedPrecondition));

  auto a = dispatcher_->Submit(Request(1, "rescue:7"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->endpoint, "internal:open_case");
  // Same idempotency key: the same action, never run twice.
  EXPECT_EQ(dispatcher_->Submit(Request(1, "rescue:7"))->id, a->id);
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis()).ok());
  ASSERT_TRUE(dispatcher_->RunDue(clock_.NowMillis() + 60000).ok());
  EXPECT_EQ(calls_, std::vector<int64_t>{a->id});
  auto done = dispatcher_->Get(a->id);
  EXPECT_EQ(done->status, ActionStatus::kDelivered);
  EXPECT_EQ(touches_.n, 0);
  auto attempts = dispatcher_->Attempts(a->id);
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].http_status, 200);
}

TEST_F(InternalActionTest, PassesTheGatesRetriesTransientErrorsAndDeadLettersInputErrors) {
  // Consent: a denial blocks it like any action.
  auto denied = dispatcher_->Submit(Request(666, "rescue:1"));
  ASSERT_TRUE(denied.ok());
  // Transient failure, then success.
  fail_ = {Unavailable("cases.db busy")};
  auto flaky = dispatcher_->Submit(Request(2, "rescue:2"));
  ASSERT_TRUE(flaky.ok());
  int64_t now = clock_.NowMillis();
  ASSERT_TRUE(dispatcher_->RunDue(now).ok());
  EXPECT_EQ(dispatcher_->Get(denied->id)->status, ActionStatus::kBlocked);
  auto after1 = dispatcher_->Get(flaky->id);
  EXPECT_EQ(after1->status, ActionStatus::kSending);
  EXPECT_NE(after1->last_error.find("cases.db busy"), std::string::npos) << after1->last_error;
  ASSERT_TRUE(dispatcher_->RunDue(after1->next_attempt_ms).ok());
  EXPECT_EQ(dispatcher_->Get(flaky->id)->status, ActionStatus::kDelivered);
  // An input error is final.
  fail_ = {NotFound("customer c:3 is not known")};
  auto bad = dispatcher_->Submit(Request(3, "rescue:3"));
  ASSERT_TRUE(dispatcher_->RunDue(after1->next_attempt_ms + 1).ok());
  auto dead = dispatcher_->Get(bad->id);
  EXPECT_EQ(dead->status, ActionStatus::kDeadLetter);
  EXPECT_NE(dead->last_error.find("not retryable"), std::string::npos) << dead->last_error;
  EXPECT_EQ(calls_.size(), 3u);  // the blocked one never ran
}

}  // namespace
}  // namespace cairn::actions
