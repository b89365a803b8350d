// `cairn query funnel|retention|trends|lifecycle|stickiness|paths --data DIR ...` on a small data
// dir made by `cairn import` (the real binary both times): each verb prints its table, --json
// prints the API's answer, "who" lists name the same customers across verbs, and a bad flag
// exits 2 naming the field.
//
// The data (2026-01, weeks start on Monday 01-05 and 01-12):
//   u1: Signed Up 01-05 10:00, Product Viewed 10:10, Order Completed 12:00 (revenue 30)
//   u2: Signed Up 01-05 11:00, Product Viewed 11:30, Product Viewed 01-13
//   u3: Signed Up 01-06 09:00, Order Completed 01-14 (revenue 20)

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api/cairn_server.h"
#include "testutil/temp_dir.h"

namespace cairn::testutil {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

class QueryCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    const std::string file = tmp_->Sub("events.jsonl");
    {
      std::ofstream out(file);
      auto at = [](const char* t) { return std::string(R"("timestamp":")") + t + "\""; };
      out << TrackJson("u1", "Signed Up", "e1", at("2026-01-05T10:00:00Z")) << "\n"
          << TrackJson("u1", "Product Viewed", "e2", at("2026-01-05T10:10:00Z")) << "\n"
          << TrackJson("u1", "Order Completed", "e3", at("2026-01-05T12:00:00Z") + R"(,"properties":{"revenue":30})")
          << "\n"
          << TrackJson("u2", "Signed Up", "e4", at("2026-01-05T11:00:00Z")) << "\n"
          << TrackJson("u2", "Product Viewed", "e5", at("2026-01-05T11:30:00Z")) << "\n"
          << TrackJson("u2", "Product Viewed", "e6", at("2026-01-13T08:00:00Z")) << "\n"
          << TrackJson("u3", "Signed Up", "e7", at("2026-01-06T09:00:00Z")) << "\n"
          << TrackJson("u3", "Order Completed", "e8", at("2026-01-14T09:00:00Z") + R"(,"properties":{"revenue":20})")
          << "\n";
    }
    data_ = new std::string(tmp_->Sub("data"));
    auto r = RunToCompletion({CAIRN_BINARY, "import", "--data", *data_, file, "--write-key", kWriteKey, "--no-progress"},
                             tmp_->Sub("import"), seconds(180));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->status.ExitedWith(0)) << r->status.ToString() << "\n" << r->err;
  }
  static void TearDownTestSuite() {
    delete data_;
    delete tmp_;
    data_ = nullptr;
    tmp_ = nullptr;
  }

  // Runs `cairn query VERB --data DIR ARGS...`.
  static RunResult Query(const std::string& verb, std::vector<std::string> args) {
    std::vector<std::string> argv = {CAIRN_BINARY, "query", verb, "--data", *data_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunToCompletion(argv, tmp_->Sub("query-" + verb + "-" + std::to_string(++runs_)), seconds(180));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RunResult{ExitStatus{true, -1, 0}, "", ""};
  }
  // The --json answer of a successful run.
  static json::value Json(const std::string& verb, std::vector<std::string> args) {
    args.push_back("--json");
    RunResult r = Query(verb, args);
    EXPECT_TRUE(r.status.ExitedWith(0)) << r.status.ToString() << "\n" << r.err;
    return ParseJson(r.out);
  }
  static std::vector<std::string> Who(const json::value& answer) {
    std::vector<std::string> ids;
    for (const auto& c : answer.at("who").at("customers").as_array()) ids.emplace_back(c.as_string());
    return ids;
  }
  // Whether some line of `text` holds every one of `parts` (a table row).
  static bool HasRow(const std::string& text, std::vector<std::string> parts) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      bool all = true;
      size_t pos = 0;
      for (const auto& p : parts) {
        pos = line.find(p, pos);
        if (pos == std::string::npos) {
          all = false;
          break;
        }
        pos += p.size();
      }
      if (all) return true;
    }
    return false;
  }

  static TempDir* tmp_;
  static std::string* data_;
  static int runs_;
};
TempDir* QueryCli::tmp_ = nullptr;
std::string* QueryCli::data_ = nullptr;
int QueryCli::runs_ = 0;

TEST_F(QueryCli, FunnelAndRetention) {
  RunResult t = Query("funnel", {"--steps", "Signed Up,Product Viewed,Order Completed", "--window", "7d"});
  ASSERT_TRUE(t.status.ExitedWith(0)) << t.err;
  EXPECT_TRUE(HasRow(t.out, {"1", "Signed Up", "3", "100.0%"})) << t.out;
  EXPECT_TRUE(HasRow(t.out, {"2", "Product Viewed", "2", "66.7%"})) << t.out;
  EXPECT_TRUE(HasRow(t.out, {"3", "Order Completed", "1", "33.3%"})) << t.out;

  json::value f = Json("funnel", {"--steps", "Signed Up,Product Viewed,Order Completed", "--window", "7d",
                                  "--who-step", "2", "--who-status", "dropped"});
  EXPECT_EQ(f.at("steps").as_array()[2].at("count").to_number<int64_t>(), 1);
  EXPECT_EQ(Who(f).size(), 1u);  // u2

  RunResult rt = Query("retention", {"--start-event", "Signed Up", "--periods", "2"});
  ASSERT_TRUE(rt.status.ExitedWith(0)) << rt.err;
  EXPECT_TRUE(HasRow(rt.out, {"2026-01-05", "3", "2", "0"})) << rt.out;
  json::value r = Json("retention", {"--start-event", "Signed Up", "--periods", "2"});
  const auto& cohort = r.at("cohorts").as_array().at(0);
  EXPECT_EQ(cohort.at("size").to_number<int64_t>(), 3);
  EXPECT_EQ(cohort.at("returned").as_array()[0].to_number<int64_t>(), 2);
}

TEST_F(QueryCli, Trends) {
  const std::vector<std::string> args = {"--event", "Order Completed", "--measure", "sum", "--interval", "week",
                                         "--from", "2026-01-05", "--to", "2026-01-19"};
  RunResult t = Query("trends", args);
  ASSERT_TRUE(t.status.ExitedWith(0)) << t.err;
  EXPECT_TRUE(HasRow(t.out, {"2026-01-05", "30"})) << t.out;
  EXPECT_TRUE(HasRow(t.out, {"2026-01-12", "20"})) << t.out;
  EXPECT_TRUE(HasRow(t.out, {"total", "50"})) << t.out;
  json::value j = Json("trends", args);
  const auto& series = j.at("series").as_array().at(0);
  EXPECT_EQ(series.at("total").to_number<double>(), 50);
  EXPECT_TRUE(j.as_object().contains("ms"));

  RunResult u = Query("trends", {"--measure", "uniques", "--interval", "week", "--breakdown", "event", "--from",
                                 "2026-01-05", "--to", "2026-01-19"});
  ASSERT_TRUE(u.status.ExitedWith(0)) << u.err;
  // Series by total (customers over the range), ties by label: 3, then 2 and 2.
  EXPECT_TRUE(HasRow(u.out, {"week", "Signed Up", "Order Completed", "Product Viewed"})) << u.out;
  EXPECT_TRUE(HasRow(u.out, {"total", "3", "2", "2"})) << u.out;
}

TEST_F(QueryCli, LifecycleStickinessAndTheirWhoLists) {
  const std::vector<std::string> range = {"--from", "2026-01-05", "--to", "2026-01-19"};
  std::vector<std::string> args = range;
  args.insert(args.end(), {"--period", "week"});
  RunResult l = Query("lifecycle", args);
  ASSERT_TRUE(l.status.ExitedWith(0)) << l.err;
  EXPECT_TRUE(HasRow(l.out, {"2026-01-05", "3", "0", "0", "0"})) << l.out;
  EXPECT_TRUE(HasRow(l.out, {"2026-01-12", "0", "2", "0", "1"})) << l.out;

  // u1 did the last step of the funnel, went dormant in the second week and was active in one
  // week of two: the three lists name the same customer.
  json::value f = Json("funnel", {"--steps", "Signed Up,Product Viewed,Order Completed", "--who-step", "3"});
  const std::vector<std::string> u1 = Who(f);
  ASSERT_EQ(u1.size(), 1u);
  args.insert(args.end(), {"--who-period", "2026-01-12", "--who-status", "dormant"});
  EXPECT_EQ(Who(Json("lifecycle", args)), u1);

  args = range;
  args.insert(args.end(), {"--interval", "week"});
  RunResult s = Query("stickiness", args);
  ASSERT_TRUE(s.status.ExitedWith(0)) << s.err;
  EXPECT_TRUE(HasRow(s.out, {"1", "1", "33.3%"})) << s.out;
  EXPECT_TRUE(HasRow(s.out, {"2", "2", "66.7%"})) << s.out;
  args.insert(args.end(), {"--who-periods", "1"});
  json::value sj = Json("stickiness", args);
  EXPECT_EQ(Who(sj), u1);
  EXPECT_EQ(sj.at("counts").as_array().size(), 2u);
  // Pages: two customers active in both weeks, one per page, the cursor leading to the second.
  args = range;
  args.insert(args.end(), {"--interval", "week", "--who-periods", "2", "--limit", "1"});
  json::value p1 = Json("stickiness", args);
  ASSERT_EQ(Who(p1).size(), 1u);
  ASSERT_TRUE(p1.at("who").at("next").is_string());
  args.insert(args.end(), {"--after", std::string(p1.at("who").at("next").as_string())});
  json::value p2 = Json("stickiness", args);
  ASSERT_EQ(Who(p2).size(), 1u);
  EXPECT_NE(Who(p2), Who(p1));
  EXPECT_TRUE(p2.at("who").at("next").is_null());

  RunResult bad = Query("stickiness", {"--from", "2026-01-05", "--to", "2026-01-19", "--interval", "week",
                                       "--who-periods", "3"});
  EXPECT_TRUE(bad.status.ExitedWith(2)) << bad.status.ToString();
  EXPECT_NE(bad.err.find("who.periods: the range has 2 periods; must be 1..2"), std::string::npos) << bad.err;
}

TEST_F(QueryCli, PathsAndTheirWhoLists) {
  RunResult t = Query("paths", {"--anchor", "Signed Up", "--depth", "2"});
  ASSERT_TRUE(t.status.ExitedWith(0)) << t.err;
  EXPECT_TRUE(HasRow(t.out, {"0:Signed Up", "3", "0"})) << t.out;
  EXPECT_TRUE(HasRow(t.out, {"1:Product Viewed", "2", "0"})) << t.out;
  EXPECT_TRUE(HasRow(t.out, {"1:Order Completed", "1", "1"})) << t.out;
  EXPECT_TRUE(HasRow(t.out, {"0:Signed Up -> 1:Product Viewed", "2"})) << t.out;
  EXPECT_TRUE(HasRow(t.out, {"3 customers did Signed Up"})) << t.out;

  json::value f = Json("funnel", {"--steps", "Signed Up,Product Viewed,Order Completed", "--who-step", "3"});
  const std::vector<std::string> u1 = Who(f);
  json::value j = Json("paths", {"--anchor", "Signed Up", "--depth", "2", "--who-node", "1:Product Viewed"});
  EXPECT_EQ(Who(j).size(), 2u);  // u1, u2
  EXPECT_EQ(j.at("customers").to_number<int64_t>(), 3);
  json::value link = Json("paths", {"--anchor", "Signed Up", "--depth", "2", "--who-source", "1:Product Viewed",
                                    "--who-target", "2:Order Completed"});
  EXPECT_EQ(Who(link), u1);
  json::value dropped = Json("paths", {"--anchor", "Signed Up", "--depth", "2", "--who-node", "1:Order Completed",
                                       "--who-status", "dropped"});
  EXPECT_EQ(Who(dropped).size(), 1u);  // u3
  EXPECT_NE(Who(dropped), u1);

  RunResult bad = Query("paths", {"--anchor", "Signed Up", "--depth", "9"});
  EXPECT_TRUE(bad.status.ExitedWith(2)) << bad.status.ToString();
  EXPECT_NE(bad.err.find("depth: must be 1..5"), std::string::npos) << bad.err;
  RunResult none = Query("paths", {"--depth", "2"});
  EXPECT_TRUE(none.status.ExitedWith(2)) << none.status.ToString();
  EXPECT_NE(none.err.find("--anchor: required"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace cairn::testutil
