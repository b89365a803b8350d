// The state machine as a pure function: conditions on payloads, derivation order, size bounds.
#include "journey/state.h"

#include <gtest/gtest.h>

#include "journey/journey_test_util.h"

namespace cairn::journey {
namespace {

store::Interaction Track(std::string event, int64_t ts, uint64_t seq, std::string props = "{}") {
  store::Interaction r;
  r.customer = 1;
  r.timestamp_ms = ts;
  r.seq = seq;
  r.type = store::MessageType::kTrack;
  r.event = event;
  r.payload = "{\"type\":\"track\",\"event\":\"" + event + "\",\"properties\":" + props + "}";
  return r;
}

TEST(PayloadViewTest, Conditions) {
  auto r = Track("Survey Responded", 0, 0, R"({"nps":9,"survey":"relationship","satisfied":true,"nested":{"a":"b"},"n":"7"})");
  PayloadView v(r);
  auto cond = [](std::string path, Condition::Op op, std::vector<std::string> s, double n = 0) {
    Condition c;
    c.path = path;
    c.op = op;
    c.strings = s;
    c.number = n;
    return c;
  };
  using Op = Condition::Op;
  EXPECT_TRUE(v.Matches(cond("nps", Op::kGe, {}, 9)));
  EXPECT_FALSE(v.Matches(cond("nps", Op::kGt, {}, 9)));
  EXPECT_TRUE(v.Matches(cond("nps", Op::kEq, {"9"})));
  EXPECT_TRUE(v.Matches(cond("satisfied", Op::kEq, {"true"})));
  EXPECT_TRUE(v.Matches(cond("survey", Op::kIn, {"support", "relationship"})));
  EXPECT_TRUE(v.Matches(cond("properties.nested.a", Op::kEq, {"b"})));
  EXPECT_TRUE(v.Matches(cond("n", Op::kLe, {}, 7)));  // numeric text compares as a number
  EXPECT_TRUE(v.Matches(cond("missing", Op::kNe, {"x"})));
  EXPECT_FALSE(v.Matches(cond("missing", Op::kEq, {"x"})));
  Condition ex;
  ex.path = "csat";
  ex.op = Op::kExists;
  ex.exists = false;
  EXPECT_TRUE(v.Matches(ex));
  store::Interaction bad = r;
  bad.payload = "{not json";
  PayloadView b(bad);
  EXPECT_FALSE(b.Matches(cond("nps", Op::kGe, {}, 0)));  // unreadable payload: no condition holds
}

TEST(DeriverTest, SameInteractionsSameBytes) {
  Deriver d(testing::DefaultMap());
  std::vector<store::Interaction> rows = {Track("Signed Up", testing::kBase, 1), Track("Complaint Filed", testing::kBase + 1000, 2),
                                          Track("Support Ticket Resolved", testing::kBase + 86400000, 3, R"({"satisfied":true})")};
  CustomerState a, b;
  History ha, hb;
  d.Derive(7, rows, &a, &ha);
  b = d.Initial(7, rows[0].timestamp_ms);
  for (const auto& r : rows) d.Apply(&b, &hb, r);
  EXPECT_EQ(0, std::memcmp(&a, &b, sizeof a));
  EXPECT_EQ(ha, hb);
  EXPECT_EQ(a.interactions, 3u);
  EXPECT_EQ(a.open_complaints, 0);
  EXPECT_GT(a.emotion, 20);  // recovered above where it started
}

TEST(DeriverTest, DetectionsOnlyWhenAsked) {
  Deriver d(testing::DefaultMap());
  CustomerState s = d.Initial(1, testing::kBase);
  std::vector<Detection> out;
  d.Apply(&s, nullptr, Track("Competitor Considered", testing::kBase, 1, R"({"competitor":"X"})"), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(d.map().rescue_paths()[out[0].path].name, "competitor");
  EXPECT_EQ(out[0].reasons[0], "interaction 'Competitor Considered'");
  EXPECT_TRUE(s.flags & CustomerState::kFlagCompetitor);
}

TEST(DeriverTest, StateIsCompact) {
  EXPECT_LE(sizeof(CustomerState), 256u);
  std::cout << "sizeof(CustomerState) = " << sizeof(CustomerState) << "\n";
}

}  // namespace
}  // namespace cairn::journey
