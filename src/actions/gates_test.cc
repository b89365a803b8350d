#include "actions/gates.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <chrono>

namespace cairn::actions {
namespace {

using namespace std::chrono;

int64_t Utc(int y, unsigned m, unsigned d, int hh, int mm) {
  auto t = date::sys_days{date::year{y} / date::month{m} / date::day{d}} + hours(hh) + minutes(mm);
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

store::Interaction Track(int64_t ts, std::string event, std::string properties) {
  store::Interaction in;
  in.type = store::MessageType::kTrack;
  in.timestamp_ms = ts;
  in.event = event;
  in.payload = "{\"type\":\"track\",\"event\":\"" + event + "\",\"properties\":" + properties + "}";
  return in;
}

store::Interaction Identify(int64_t ts, std::string traits) {
  store::Interaction in;
  in.type = store::MessageType::kIdentify;
  in.timestamp_ms = ts;
  in.payload = "{\"type\":\"identify\",\"traits\":" + traits + "}";
  return in;
}

TEST(ConsentTest, LatestApplicableStatementWins) {
  std::vector<store::Interaction> log = {
      Track(1000, "Consent Updated", R"({"purpose":"marketing","granted":true})"),
      Track(2000, "Consent Updated", R"({"purpose":"marketing","channel":"sms","granted":false})"),
      Track(3000, "Order Completed", R"({"purpose":"marketing","granted":false})"),  // not a consent event
  };
  auto email = RecordedConsent::FromInteractions(log, "marketing", "email");
  EXPECT_EQ(email.verdict, ConsentVerdict::kGranted);
  auto sms = RecordedConsent::FromInteractions(log, "marketing", "sms");
  EXPECT_EQ(sms.verdict, ConsentVerdict::kDenied);
  EXPECT_EQ(sms.evidence, "Consent Updated at 1970-01-01T00:00:02Z (marketing, sms: denied)");
  EXPECT_EQ(RecordedConsent::FromInteractions(log, "analytics", "email").verdict, ConsentVerdict::kUnknown);
  // A later purpose-wide withdrawal covers every channel.
  log.push_back(Track(4000, "Consent Updated", R"({"purpose":"marketing","status":"denied"})"));
  EXPECT_EQ(RecordedConsent::FromInteractions(log, "marketing", "email").verdict, ConsentVerdict::kDenied);
}

TEST(ConsentTest, IdentifyTraits) {
  std::vector<store::Interaction> log = {
      Identify(1000, R"({"email":"a@x.io","consent":{"marketing":true,"marketing.sms":false}})"),
  };
  EXPECT_EQ(RecordedConsent::FromInteractions(log, "marketing", "email").verdict, ConsentVerdict::kGranted);
  auto sms = RecordedConsent::FromInteractions(log, "marketing", "sms");
  EXPECT_EQ(sms.verdict, ConsentVerdict::kDenied);
  EXPECT_EQ(sms.evidence, "identify traits.consent.marketing.sms at 1970-01-01T00:00:01Z: denied");
}

TEST(ConsentTest, PolicyBlocksDenialsAndUnknownMarketing) {
  ConsentPolicy policy;
  ConsentAnswer denied{ConsentVerdict::kDenied, "Consent Updated at X"};
  EXPECT_EQ(ConsentBlockReason(policy, denied, "service", "email"), "consent denied for service on email: Consent Updated at X");
  ConsentAnswer unknown;
  EXPECT_EQ(ConsentBlockReason(policy, unknown, "marketing", "email"),
            "no recorded consent for marketing on email (this purpose needs a grant)");
  EXPECT_EQ(ConsentBlockReason(policy, unknown, "service", "phone"), "");
  EXPECT_EQ(ConsentBlockReason(policy, {ConsentVerdict::kGranted, ""}, "marketing", "email"), "");
}

TEST(ChannelConstraintTest, TierByValue) {
  std::vector<ChannelConstraint> constraints = {
      {"Payment Sent In Error", {{"standard", 0, {}}, {"gold", 10000, {"phone", "video"}}}}};
  ActionRequest r;
  r.critical = "Payment Sent In Error";
  r.channel = "email";
  r.customer_value = 500;
  EXPECT_EQ(ChannelBlockReason(constraints, r), "");  // standard tier: any channel
  r.customer_value = 25000;
  EXPECT_EQ(ChannelBlockReason(constraints, r),
            "channel email not allowed for experience-critical 'Payment Sent In Error' at value tier gold "
            "(value 25000 >= 10000); allowed: phone, video");
  r.channel = "phone";
  EXPECT_EQ(ChannelBlockReason(constraints, r), "");
  r.channel = "email";
  r.critical = "";  // not a critical interaction
  EXPECT_EQ(ChannelBlockReason(constraints, r), "");
}

TEST(QuietHoursTest, CustomersLocalTime) {
  QuietHours q;  // 21:00–08:00, default UTC
  const int64_t now = Utc(2026, 1, 15, 20, 30);
  // Paris is UTC+1 in January: 21:30 there → quiet until 08:00 Paris = 07:00Z next day.
  EXPECT_EQ(*QuietUntil(q, "Europe/Paris", now), Utc(2026, 1, 16, 7, 0));
  // New York 15:30: not quiet.
  EXPECT_EQ(*QuietUntil(q, "America/New_York", now), 0);
  // Tokyo (UTC+9) 05:30 on the 16th: quiet until 08:00 Tokyo = 23:00Z on the 15th.
  EXPECT_EQ(*QuietUntil(q, "Asia/Tokyo", now), Utc(2026, 1, 15, 23, 0));
  // Default zone (UTC) 20:30: not quiet yet.
  EXPECT_EQ(*QuietUntil(q, "", now), 0);
  // Summer: Paris is UTC+2, so 20:30Z is 22:30 there.
  EXPECT_EQ(*QuietUntil(q, "Europe/Paris", Utc(2026, 7, 1, 20, 30)), Utc(2026, 7, 2, 6, 0));
}

TEST(QuietHoursTest, EndInsideADstGapAndSameDayWindows) {
  QuietHours q;
  q.start_minute = 22 * 60;
  q.end_minute = 2 * 60 + 30;  // 02:30 does not exist in New York on 2026-03-08
  const int64_t now = Utc(2026, 3, 8, 5, 0);  // 00:00 EST
  EXPECT_EQ(*QuietUntil(q, "America/New_York", now), Utc(2026, 3, 8, 7, 0));  // 03:00 EDT, when the gap ends
  QuietHours lunch;
  lunch.start_minute = 12 * 60;
  lunch.end_minute = 14 * 60;
  EXPECT_EQ(*QuietUntil(lunch, "UTC", Utc(2026, 1, 1, 13, 0)), Utc(2026, 1, 1, 14, 0));
  EXPECT_EQ(*QuietUntil(lunch, "UTC", Utc(2026, 1, 1, 14, 0)), 0);
  lunch.enabled = false;
  EXPECT_EQ(*QuietUntil(lunch, "UTC", Utc(2026, 1, 1, 13, 0)), 0);
}

TEST(QuietHoursTest, UnknownZoneNamesTheField) {
  auto r = QuietUntil(QuietHours{}, "Mars/Olympus", 0);
  EXPECT_EQ(r.status().message(), "time_zone: unknown time zone 'Mars/Olympus'");
}

TEST(ArbitrationTest, HighestExpectedGainWinsNotFirstCome) {
  FrequencyCap cap;
  cap.max_actions = 2;
  // Created in order 1, 2, 3, 4; gains favour 3 and 2.
  auto r = Arbitrate(cap, 0, {{1, 10, 100}, {2, 50, 200}, {3, 90, 300}, {4, 5, 400}});
  EXPECT_EQ(r.admitted, (std::vector<int64_t>{3, 2}));
  ASSERT_EQ(r.suppressed.size(), 2u);
  EXPECT_EQ(r.suppressed[0].first, 1);
  EXPECT_EQ(r.suppressed[0].second,
            "lost arbitration under the frequency cap (2 of 2 left): expected gain 10.00 < 50.00 of action 2");
  // One slot already used in the window.
  r = Arbitrate(cap, 1, {{1, 10, 100}, {2, 50, 200}});
  EXPECT_EQ(r.admitted, (std::vector<int64_t>{2}));
  // Cap full.
  r = Arbitrate(cap, 2, {{7, 1000, 100}});
  EXPECT_TRUE(r.admitted.empty());
  EXPECT_EQ(r.suppressed[0].second, "frequency cap reached: 2 of 2 actions in the window already");
  // Ties: the earlier one wins.
  r = Arbitrate(cap, 1, {{9, 20, 500}, {8, 20, 100}});
  EXPECT_EQ(r.admitted, (std::vector<int64_t>{8}));
  // No cap.
  cap.max_actions = 0;
  EXPECT_EQ(Arbitrate(cap, 100, {{1, 1, 1}, {2, 2, 2}}).admitted.size(), 2u);
}

}  // namespace
}  // namespace cairn::actions
