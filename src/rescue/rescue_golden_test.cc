// Golden rescue scenarios (tests/queries/rescue/*.test): commands in, expected lines out.
//
//   path name=going_cold cost=50 p_with=0.3 p_without=0.1 strength=10 window_days=14 events=*|Order_Completed [channel=email]
//   ids customer=7 ids=anonymousId:a-1[,email:x@y.z]   the customer's identities (default: userId:u<N>);
//                                                     reachability.h judges the path's channel on them
//   budget limit=120 period_days=30
//   signal customer=1 path=going_cold value=1000 at_day=0 [persona=x]   → > decision …
//   act id=1 at_day=1 | dismiss id=1 | outcome id=1 success=true          → > decision …
//   observe customer=1 event=Page_Viewed at_day=3 [ours=true]
//   expire at_day=20                                                      → > expired N
//   show id=1                                                             → > decision …
//   explain id=1                                                          → > its explanation
//   counts path=going_cold persona= arm=rescue                            → > counts s=N f=N
// Event names use '_' for spaces. Lines starting with "> " are the expected output of the command
// before them; '#' starts a comment. Every output line must be expected, in order.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "rescue/reachability.h"
#include "rescue/rescue_engine.h"
#include "testutil/temp_dir.h"

namespace cairn::rescue {
namespace {

constexpr int64_t kDay = 86400000;
constexpr int64_t kEpoch = 1767225600000;  // 2026-01-01T00:00:00Z = day 0

std::map<std::string, std::string> Args(std::istringstream& in) {
  std::map<std::string, std::string> out;
  std::string tok;
  while (in >> tok) {
    size_t eq = tok.find('=');
    out[tok.substr(0, eq)] = eq == std::string::npos ? "" : tok.substr(eq + 1);
  }
  return out;
}

std::string Spaces(std::string s) {
  for (char& c : s) if (c == '_') c = ' ';
  return s;
}

std::string Show(const Decision& d) {
  return fmt::format("decision {} {} {} gain={:.2f} p_rescue={:.3f} p_none={:.3f}{}", d.id, d.path,
                     RescueStatusName(d.status), d.expected_gain, d.p_rescue, d.p_none,
                     d.closed_at_ms ? (d.rescued ? " arm=rescue" : " arm=none") : "");
}

void RunFile(const std::filesystem::path& file) {
  SCOPED_TRACE(file.filename().string());
  testutil::TempDir dir;
  FakeClock clock(kEpoch);
  metrics::Registry registry;
  std::vector<PathConfig> paths;
  double budget = 0;
  int64_t period = 30 * kDay;
  std::unique_ptr<RescueEngine> engine;
  std::map<store::CustomerId, std::vector<std::string>> ids;  // `ids` lines
  auto ensure = [&] {
    if (engine) return;
    RescueOptions o;
    o.path = dir.Sub("rescue.db");
    o.paths = paths;
    o.budget_per_period = budget;
    o.budget_period_ms = period;
    o.clock = &clock;
    o.metrics = &registry;
    o.describe_customer = [&ids](store::CustomerId c) {
      auto it = ids.find(c);
      return it != ids.end() ? it->second : std::vector<std::string>{"userId:u" + std::to_string(c)};
    };
    o.unreachable = [](const PathConfig& p, const std::vector<std::string>& known) {
      return UnreachableReason(p.channel, known);
    };
    auto e = RescueEngine::Open(std::move(o));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine = std::move(*e);
  };

  std::ifstream in(file);
  ASSERT_TRUE(in) << file;
  std::vector<std::string> produced;
  std::vector<std::string> expected;
  std::string line;
  int line_no = 0;
  auto check = [&](int at_line) {
    EXPECT_EQ(produced, expected) << "output of the command before line " << at_line;
    produced.clear();
    expected.clear();
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.starts_with("> ")) {
      expected.push_back(line.substr(2));
      continue;
    }
    check(line_no);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string cmd;
    words >> cmd;
    auto a = Args(words);
    auto day = [&](const char* key) { return kEpoch + static_cast<int64_t>(std::stod(a[key]) * kDay); };
    if (cmd == "path") {
      PathConfig p;
      p.name = a["name"];
      p.cost = std::stod(a["cost"]);
      p.prior_p_rescue = std::stod(a["p_with"]);
      p.prior_p_none = std::stod(a["p_without"]);
      if (a.contains("strength")) p.prior_strength = std::stod(a["strength"]);
      if (a.contains("window_days")) p.outcome_window_ms = std::stoll(a["window_days"]) * kDay;
      if (a.contains("channel")) p.channel = a["channel"];
      std::string events = a["events"];
      for (size_t s = 0; !events.empty();) {
        size_t bar = events.find('|', s);
        p.outcome_events.push_back(Spaces(events.substr(s, bar == std::string::npos ? bar : bar - s)));
        if (bar == std::string::npos) break;
        s = bar + 1;
      }
      paths.push_back(p);
    } else if (cmd == "ids") {
      auto& list = ids[std::stoull(a["customer"])];
      list.clear();
      for (size_t s = 0; s <= a["ids"].size();) {
        size_t comma = a["ids"].find(',', s);
        if (comma == std::string::npos) comma = a["ids"].size();
        if (comma > s) list.push_back(a["ids"].substr(s, comma - s));
        s = comma + 1;
      }
    } else if (cmd == "explain") {
      ensure();
      auto d = engine->Get(std::stoll(a["id"]));
      produced.push_back(d.ok() ? d->explanation : "error " + d.status().ToString());
    } else if (cmd == "budget") {
      budget = std::stod(a["limit"]);
      period = std::stoll(a["period_days"]) * kDay;
    } else if (cmd == "signal") {
      ensure();
      DerailmentSignal s;
      s.customer = std::stoull(a["customer"]);
      s.path = a["path"];
      s.value_at_stake = std::stod(a["value"]);
      s.at_ms = day("at_day");
      s.persona = a["persona"];
      s.reasons = {"golden"};
      auto d = engine->Decide(s);
      produced.push_back(d.ok() ? Show(*d) : "error " + d.status().ToString());
    } else if (cmd == "act" || cmd == "dismiss" || cmd == "outcome" || cmd == "show") {
      ensure();
      if (a.contains("at_day")) clock.Set(day("at_day"));
      int64_t id = std::stoll(a["id"]);
      Result<Decision> d = cmd == "act"       ? engine->Act(id, "")
                           : cmd == "dismiss" ? engine->Dismiss(id, "")
                           : cmd == "outcome" ? engine->RecordOutcome(id, a["success"] == "true", "")
                                              : engine->Get(id);
      produced.push_back(d.ok() ? Show(*d) : "error " + d.status().ToString());
    } else if (cmd == "observe") {
      ensure();
      engine->ObserveInteraction(std::stoull(a["customer"]), Spaces(a["event"]), day("at_day"), a["ours"] == "true");
    } else if (cmd == "expire") {
      ensure();
      auto n = engine->ExpireWindows(day("at_day"));
      produced.push_back(n.ok() ? fmt::format("expired {}", *n) : "error " + n.status().ToString());
    } else if (cmd == "counts") {
      ensure();
      auto c = engine->Counts(a["path"], a["persona"], a["arm"] == "rescue");
      produced.push_back(c.ok() ? fmt::format("counts s={} f={}", c->successes, c->failures) : "error");
    } else {
      ADD_FAILURE() << "line " << line_no << ": unknown command '" << cmd << "'";
    }
  }
  check(line_no + 1);
}

TEST(RescueGoldenTest, AllScenarios) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CAIRN_RESCUE_GOLDEN_DIR)) {
    if (entry.path().extension() != ".test") continue;
    ++files;
    RunFile(entry.path());
  }
  EXPECT_GE(files, 3u);
}

}  // namespace
}  // namespace cairn::rescue
