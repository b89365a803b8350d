#include "api/status_to_http.h"

#include <chrono>
#include <thread>

#include "analytics/exec/query_context.h"

#include <gtest/gtest.h>

namespace cairn::api {
namespace {

TEST(StatusToHttpTest, ClientErrorsKeepTheCoreMessage) {
  HttpError e = StatusToHttp(InvalidArgument("batch[3].userId: expected a string"));
  EXPECT_EQ(e.status, 400u);
  EXPECT_EQ(e.message, "batch[3].userId: expected a string");
  EXPECT_EQ(e.retry_after_seconds, 0);
  EXPECT_EQ(StatusToHttp(NotFound("no customer 'u1'")).status, 404u);
  EXPECT_EQ(StatusToHttp(Unauthenticated("unknown write key")).status, 401u);
  EXPECT_EQ(StatusToHttp(Unauthenticated("unknown write key")).message, "unknown write key");
  EXPECT_EQ(StatusToHttp(PermissionDenied("x")).status, 403u);
  EXPECT_EQ(StatusToHttp(AlreadyExists("x")).status, 409u);
  EXPECT_EQ(StatusToHttp(FailedPrecondition("x")).status, 409u);
}

TEST(StatusToHttpTest, ResourceExhaustedIs400Or413ForPostHog) {
  Status s = ResourceExhausted("body is 2000000 bytes decoded, over the limit of 1048576");
  EXPECT_EQ(StatusToHttp(s).status, 400u);
  StatusMapOptions posthog;
  posthog.resource_exhausted_as_413 = true;
  HttpError e = StatusToHttp(s, posthog);
  EXPECT_EQ(e.status, 413u);
  EXPECT_NE(e.message.find("1048576"), std::string::npos);
}

TEST(StatusToHttpTest, UnavailableIs503OrBackPressure429WithRetryAfter) {
  HttpError e = StatusToHttp(Unavailable("disk full on /var/lib/cairn/wal"));
  EXPECT_EQ(e.status, 503u);
  EXPECT_EQ(e.retry_after_seconds, 5);
  EXPECT_EQ(e.message.find("/var/lib"), std::string::npos) << "internal detail leaked: " << e.message;

  HttpError bp = StatusToHttp(Unavailable("back-pressure: store is 3 s behind"));
  EXPECT_EQ(bp.status, 429u);
  EXPECT_EQ(bp.retry_after_seconds, 1);

  StatusMapOptions o;
  o.unavailable_retry_after_s = 7;
  o.back_pressure_retry_after_s = 2;
  EXPECT_EQ(StatusToHttp(Unavailable("x"), o).retry_after_seconds, 7);
  EXPECT_EQ(StatusToHttp(Unavailable("back-pressure"), o).retry_after_seconds, 2);
}

TEST(StatusToHttpTest, ServerFaultsAreGeneric500) {
  for (const Status& s : {Corruption("wal 000003.log offset 12: checksum mismatch"), IOError("/data: EIO"),
                          Internal("bug in foo.cc:12")}) {
    HttpError e = StatusToHttp(s);
    EXPECT_EQ(e.status, 500u) << s.ToString();
    EXPECT_EQ(e.message, "internal error");
  }
}

TEST(StatusToHttpTest, NeverAnswersPermanentServerErrorsOrRedirects) {
  const Code all[] = {Code::kInvalidArgument,    Code::kNotFound,      Code::kAlreadyExists,    Code::kCorruption,
                      Code::kIOError,            Code::kUnavailable,   Code::kResourceExhausted, Code::kUnauthenticated,
                      Code::kPermissionDenied,   Code::kFailedPrecondition, Code::kInternal};
  for (Code c : all) {
    for (bool flag : {false, true}) {
      StatusMapOptions o;
      o.resource_exhausted_as_413 = flag;
      unsigned status = StatusToHttp(Status(c, "m"), o).status;
      EXPECT_TRUE(status >= 400 && status < 600) << CodeName(c);
      EXPECT_NE(status, 501u);
      EXPECT_NE(status, 505u);
      EXPECT_NE(status, 511u);
    }
  }
}

// An analytics query past its time limit (QueryContext::Check) is a gateway timeout, not a bad
// request; other ResourceExhausted answers keep 400 / 413.
TEST(StatusToHttpTest, QueryTimeLimitIs504) {
  analytics::QueryContext ctx(/*time_limit_ms=*/1, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Status s = ctx.Check();
  ASSERT_EQ(s.code(), Code::kResourceExhausted);
  HttpError e = StatusToHttp(s);
  EXPECT_EQ(e.status, 504u);
  EXPECT_EQ(e.message, s.message());
  EXPECT_EQ(StatusToHttp(ResourceExhausted("batch too large")).status, 400u);
}

}  // namespace
}  // namespace cairn::api
