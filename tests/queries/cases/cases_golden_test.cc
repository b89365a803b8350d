// Golden-file runner for cases, SLAs and surveys (tests/queries/cases/*.test; README.md there).
//
// Each file is a script against a real CaseManager (real cases.db / feedback.db in a temporary
// dir) with a fake clock: interactions go through the real intake (cases::Intake), requests
// through the same JSON decoders as the HTTP API (api/dto/case_dto.h, feedback_dto.h).
//
//   # comment                          (blank lines are ignored)
//   clock TIME                         the clock moves to TIME; due SLA timers fire
//   agent ID {json}                    PUT /v1/agents/ID
//   calendar NAME {json}               PUT /v1/sla/calendars/NAME
//   policy {json}                      PUT /v1/sla/policies
//   escalation {json}                  PUT /v1/sla/escalation
//   event USER EVENT NAME {props}      a track interaction of USER received now (Complaint Filed,
//                                      Survey Responded), through the intake
//   merge FROM INTO                    identity merge: FROM's ids now belong to INTO
//   open {json}                        POST /v1/cases (case ids count 1, 2, ... in open order)
//   move CASE {json}                   POST /v1/cases/CASE/transition
//   comment CASE {json}                POST /v1/cases/CASE/comments
//   approve CASE {json}                POST /v1/cases/CASE/approve
//   survey {json}                      POST /v1/feedback/responses
//   error TEXT                         the previous command failed with a message containing TEXT
//
// Expectations (compared exactly; times are ISO-8601 UTC, "-" when unset):
//   case N key=value ...               fields of case N (only the keys given): status, severity,
//                                      tier, customer (user name), assignee, origin, category,
//                                      secondary_of, fr_due, fr_breached, res_due, res_breached,
//                                      res_remaining_min, breached_at, escalation, first_response,
//                                      resolved_at, version, pending
//   cases QUERY                        GET /v1/cases?QUERY, then one line: "=> ID ID ..." (newest first)
//   nps|csat|ces QUERY                 GET /v1/feedback/nps?QUERY, then "=> total ..." and one
//                                      "=> group KEY ..." line per group (see Format* below)
//   analysis key=value ...             GET /v1/complaints/analysis (whole time): cases, open,
//                                      resolved, secondary, secondary_rate, sla_attainment,
//                                      csat_responses, csat, mean_hours, median_hours,
//                                      categories (k:n,k:n), agent_attainment (id:pct,...),
//                                      team_attainment (team:pct,...), recovery_well|never|poor
//
// TIME is ISO-8601 UTC or +DURATION after 2026-01-05T00:00:00Z (a Monday): +90m, +2d, +1500ms.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "api/dto/case_dto.h"
#include "api/dto/feedback_dto.h"
#include "cases/case_manager.h"
#include "cases/intake.h"
#include "testutil/temp_dir.h"

#ifndef CAIRN_CASES_GOLDEN_DIR
#error "CAIRN_CASES_GOLDEN_DIR must point at tests/queries/cases"
#endif

namespace cairn::cases {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kBaseMs = 1767571200000;  // 2026-01-05T00:00:00Z, a Monday

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  return s.substr(b);
}

// First word and the rest.
std::pair<std::string, std::string> Split(const std::string& s) {
  size_t sp = s.find(' ');
  if (sp == std::string::npos) return {s, ""};
  return {s.substr(0, sp), Trim(s.substr(sp + 1))};
}

int64_t ParseDuration(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  const int64_t v = std::stoll(std::string(s.substr(0, i)));
  std::string_view unit = s.substr(i);
  if (unit == "ms") return v;
  if (unit == "s") return v * 1000;
  if (unit == "m") return v * 60000;
  if (unit == "h") return v * 3600000;
  if (unit == "d") return v * 86400000;
  ADD_FAILURE() << "bad duration " << s;
  return 0;
}

int64_t ParseTime(const std::string& s) {
  if (s.starts_with("+")) {
    // "+2d12h" = sum of parts.
    int64_t total = 0;
    size_t i = 1;
    while (i < s.size()) {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      size_t k = j;
      while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
      total += ParseDuration(std::string_view(s).substr(i, k - i));
      i = k;
    }
    return kBaseMs + total;
  }
  auto t = api::ParseTimeParam("time", s);
  EXPECT_TRUE(t.ok()) << s << ": " << t.status().ToString();
  return t.ok() ? *t : 0;
}

std::string Iso(int64_t ms) {
  if (ms == 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (ms % 1000 != 0) out += fmt::format(".{:03}", ms % 1000);
  return out + "Z";
}

std::string Num(double v) {
  std::string s = fmt::format("{:.2f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

class Runner {
 public:
  explicit Runner(std::string file) : file_(std::move(file)) {}

  void Run() {
    CaseManagerOptions o;
    o.dir = dir_.path();
    o.clock = &clock_;
    o.metrics = &metrics_;
    o.resolve_customer = [this](const std::string& any) -> Result<uint64_t> {
      std::lock_guard lock(mu_);
      auto it = users_.find(any);
      if (it == users_.end()) return NotFound("'" + any + "' is not a known customer");
      return Find(it->second);
    };
    o.canonical = [this](uint64_t id) {
      std::lock_guard lock(mu_);
      return Find(id);
    };
    o.members = [this](uint64_t root) {
      std::lock_guard lock(mu_);
      std::vector<uint64_t> out;
      for (const auto& [name, id] : users_)
        if (Find(id) == root) out.push_back(id);
      return out;
    };
    auto m = CaseManager::Open(o);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manager_ = std::move(m).value();
    intake_ = std::make_unique<Intake>(manager_.get(), [this](uint64_t id) {
      std::lock_guard lock(mu_);
      return Find(id);
    }, &metrics_);

    std::ifstream in(file_);
    ASSERT_TRUE(in) << file_;
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    for (line_no_ = 0; line_no_ < lines.size(); ++line_no_) {
      std::string line = Trim(lines[line_no_]);
      if (line.empty() || line[0] == '#') continue;
      if (line.starts_with("=> ")) {
        ADD_FAILURE() << Where() << "unexpected result line (no query before it)";
        continue;
      }
      // Result lines of a query follow it.
      std::vector<std::string> expected;
      while (line_no_ + 1 < lines.size() && Trim(lines[line_no_ + 1]).starts_with("=> ")) {
        expected.push_back(Trim(lines[line_no_ + 1]).substr(3));
        ++line_no_;
      }
      const bool next_is_error = line_no_ + 1 < lines.size() && Trim(lines[line_no_ + 1]).starts_with("error ");
      std::string error_text = next_is_error ? Trim(lines[line_no_ + 1]).substr(6) : "";
      if (next_is_error) ++line_no_;
      Status s = Command(line, &expected);
      if (next_is_error) {
        EXPECT_FALSE(s.ok()) << Where() << "expected an error containing '" << error_text << "'";
        EXPECT_NE(s.message().find(error_text), std::string_view::npos) << Where() << s.ToString();
      } else {
        EXPECT_TRUE(s.ok()) << Where() << line << ": " << s.ToString();
      }
    }
  }

 private:
  std::string Where() const { return fmt::format("{}:{}: ", fs::path(file_).filename().string(), line_no_ + 1); }

  uint64_t Find(uint64_t id) const {  // under mu_
    while (true) {
      auto it = parent_.find(id);
      if (it == parent_.end()) return id;
      id = it->second;
    }
  }
  uint64_t User(const std::string& name) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = users_.try_emplace(name, users_.size() + 1);
    return it->second;
  }
  std::string UserName(uint64_t id) {
    std::lock_guard lock(mu_);
    for (const auto& [name, uid] : users_)
      if (uid == id) return name;
    return fmt::format("c:{}", id);
  }

  Status Command(const std::string& line, std::vector<std::string>* expected) {
    auto [cmd, rest] = Split(line);
    if (cmd == "clock") {
      clock_.Set(ParseTime(rest));
      return manager_->CheckBreaches(clock_.NowMillis()).status();
    }
    if (cmd == "agent") {
      auto [id, json] = Split(rest);
      ASSIGN_OR_RETURN(auto a, api::ParseAgent(json, id));
      return manager_->PutAgent(a).status();
    }
    if (cmd == "calendar") {
      auto [name, json] = Split(rest);
      ASSIGN_OR_RETURN(auto c, api::ParseCalendar(json, name));
      return manager_->PutCalendar(c);
    }
    if (cmd == "policy") {
      ASSIGN_OR_RETURN(auto p, api::ParsePolicy(rest));
      return manager_->PutPolicy(p);
    }
    if (cmd == "escalation") {
      ASSIGN_OR_RETURN(auto steps, api::ParseEscalation(rest));
      return manager_->SetEscalationChain(steps);
    }
    if (cmd == "event") {
      auto [user, after] = Split(rest);
      size_t brace = after.find('{');
      std::string event = Trim(brace == std::string::npos ? after : after.substr(0, brace));
      std::string props = brace == std::string::npos ? "{}" : after.substr(brace);
      store::Interaction r;
      r.customer = User(user);
      r.type = store::MessageType::kTrack;
      r.event = event;
      r.timestamp_ms = r.received_at_ms = clock_.NowMillis();
      r.seq = ++seq_;
      r.message_id = fmt::format("m-{}", r.seq);
      r.payload = fmt::format(R"({{"type":"track","event":"{}","userId":"{}","properties":{}}})", event, user, props);
      return intake_->Apply(r);
    }
    if (cmd == "merge") {
      auto [from, into] = Split(rest);
      const uint64_t f = User(from), t = User(into);
      std::lock_guard lock(mu_);
      parent_[Find(f)] = Find(t);
      return Status::Ok();
    }
    if (cmd == "open") {
      // Names the customer by user name; make sure it exists.
      ASSIGN_OR_RETURN(auto nc, api::ParseNewCase(rest));
      if (!nc.customer.empty()) User(nc.customer);
      return manager_->OpenCase(nc).status();
    }
    if (cmd == "move" || cmd == "comment" || cmd == "approve") {
      auto [id_text, json] = Split(rest);
      const uint64_t id = std::stoull(id_text);
      if (cmd == "move") {
        ASSIGN_OR_RETURN(auto t, api::ParseTransition(json));
        return manager_->Transition(id, t).status();
      }
      if (cmd == "comment") {
        ASSIGN_OR_RETURN(auto c, api::ParseCaseComment(json));
        return manager_->AddComment(id, c).status();
      }
      ASSIGN_OR_RETURN(auto approver, api::ParseApprove(json));
      return manager_->Approve(id, approver).status();
    }
    if (cmd == "survey") {
      ASSIGN_OR_RETURN(auto in, api::ParseSurveyInput(rest));
      if (!in.customer.empty()) User(in.customer);
      return manager_->RecordSurvey(in).status();
    }
    if (cmd == "case") return ExpectCase(rest);
    if (cmd == "cases") {
      ASSIGN_OR_RETURN(auto f, api::ParseCaseFilter(rest));
      if (!f.customer.empty()) User(f.customer);
      ASSIGN_OR_RETURN(auto list, manager_->ListCases(f));
      std::string got;
      for (const auto& c : list.cases) got += (got.empty() ? "" : " ") + std::to_string(c.id);
      Compare({got}, *expected);
      return Status::Ok();
    }
    if (cmd == "nps" || cmd == "csat" || cmd == "ces") {
      auto kind = feedback::ParseSurveyKind(cmd);
      ASSIGN_OR_RETURN(auto q, api::ParseScoreQuery(rest, *kind));
      ASSIGN_OR_RETURN(auto report, manager_->Scores(q));
      std::vector<std::string> got = {"total " + FormatScores(*kind, report.total)};
      for (const auto& g : report.groups) got.push_back("group " + (g.key.empty() ? "-" : g.key) + " " + FormatScores(*kind, g));
      Compare(got, *expected);
      return Status::Ok();
    }
    if (cmd == "analysis") return ExpectAnalysis(rest);
    return InvalidArgument("unknown command '" + cmd + "'");
  }

  static std::string FormatScores(feedback::SurveyKind kind, const feedback::ScoreGroup& g) {
    switch (kind) {
      case feedback::SurveyKind::kNps:
        return fmt::format("nps={} promoters={} passives={} detractors={} responses={} ci={}..{}", Num(g.nps.nps),
                           g.nps.promoters, g.nps.passives, g.nps.detractors, g.nps.responses, Num(g.nps.ci_low),
                           Num(g.nps.ci_high));
      case feedback::SurveyKind::kCsat:
        return fmt::format("csat={} satisfied={} mean={} responses={}", Num(g.csat.csat), g.csat.satisfied,
                           Num(g.csat.mean), g.csat.responses);
      case feedback::SurveyKind::kCes:
        return fmt::format("ces={} easy={} responses={}", Num(g.ces.mean), Num(g.ces.easy_pct), g.ces.responses);
    }
    return "";
  }

  void Compare(const std::vector<std::string>& got, const std::vector<std::string>& want) {
    std::string g, w;
    for (const auto& s : got) g += "=> " + s + "\n";
    for (const auto& s : want) w += "=> " + s + "\n";
    EXPECT_EQ(g, w) << Where() << "result differs";
  }

  // key=value pairs; each checked against `fields`.
  void CheckFields(const std::string& spec, const std::map<std::string, std::string>& fields) {
    std::istringstream in(spec);
    for (std::string kv; in >> kv;) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        ADD_FAILURE() << Where() << "expected key=value, got " << kv;
        continue;
      }
      std::string key = kv.substr(0, eq), want = kv.substr(eq + 1);
      auto it = fields.find(key);
      if (it == fields.end()) {
        ADD_FAILURE() << Where() << "unknown key " << key;
        continue;
      }
      EXPECT_EQ(it->second, want) << Where() << key;
    }
  }

  Status ExpectCase(const std::string& rest) {
    auto [id_text, spec] = Split(rest);
    ASSIGN_OR_RETURN(auto d, manager_->GetCase(std::stoull(id_text)));
    const Case& c = d.c;
    std::map<std::string, std::string> f;
    f["status"] = Name(c.status);
    f["severity"] = Name(c.severity);
    f["tier"] = Name(c.tier);
    f["customer"] = UserName(c.customer);
    f["assignee"] = c.assignee.empty() ? "-" : c.assignee;
    f["origin"] = c.origin;
    f["category"] = c.category;
    f["secondary_of"] = c.secondary_of ? std::to_string(c.secondary_of) : "-";
    f["fr_due"] = Iso(c.sla.first_response_due_ms);
    f["fr_breached"] = c.sla.first_response_breached ? "yes" : "no";
    f["res_due"] = Iso(c.sla.resolution_due_ms);
    f["res_breached"] = c.sla.resolution_breached ? "yes" : "no";
    f["res_remaining_min"] = Num(c.sla.resolution_remaining_ms / 60000.0);
    f["breached_at"] = Iso(c.sla.breached_at_ms);
    f["escalation"] = c.escalation_level ? std::string(Name(*c.escalation_level)) : "-";
    f["first_response"] = Iso(c.first_response_at_ms);
    f["resolved_at"] = Iso(c.resolved_at_ms);
    f["version"] = std::to_string(c.version);
    f["pending"] = c.approval_level ? std::string(Name(*c.approval_level)) : "-";
    std::string escalations;
    for (const auto& e : d.escalations)
      escalations += (escalations.empty() ? "" : ",") + std::string(Name(e.level)) + ":" + e.action + ":" +
                     (e.to_agent.empty() ? "-" : e.to_agent);
    f["escalations"] = escalations.empty() ? "-" : escalations;
    CheckFields(spec, f);
    return Status::Ok();
  }

  Status ExpectAnalysis(const std::string& spec) {
    ASSIGN_OR_RETURN(auto a, manager_->Analyze(INT64_MIN, INT64_MAX));
    std::map<std::string, std::string> f;
    f["cases"] = std::to_string(a.cases);
    f["open"] = std::to_string(a.open);
    f["resolved"] = std::to_string(a.resolved);
    f["secondary"] = std::to_string(a.secondary);
    f["secondary_rate"] = Num(a.secondary_rate);
    f["sla_attainment"] = Num(a.sla_attainment);
    f["csat_responses"] = std::to_string(a.csat_responses);
    f["csat"] = Num(a.csat_after_resolution);
    f["mean_hours"] = Num(a.mean_resolution_hours);
    f["median_hours"] = Num(a.median_resolution_hours);
    std::string cats;
    for (const auto& r : a.categories) cats += (cats.empty() ? "" : ",") + r.key + ":" + std::to_string(r.count);
    f["categories"] = cats.empty() ? "-" : cats;
    std::string agents;
    for (const auto& s : a.by_agent)
      agents += (agents.empty() ? "" : ",") + (s.key.empty() ? "-" : s.key) + ":" + Num(s.attainment);
    f["agent_attainment"] = agents.empty() ? "-" : agents;
    std::string teams;
    for (const auto& s : a.by_team)
      teams += (teams.empty() ? "" : ",") + (s.key.empty() ? "-" : s.key) + ":" + Num(s.attainment);
    f["team_attainment"] = teams.empty() ? "-" : teams;
    f["recovery_well"] = Num(a.recovery.well_resolved_nps);
    f["recovery_never"] = Num(a.recovery.never_complained_nps);
    f["recovery_poor"] = Num(a.recovery.poorly_resolved_nps);
    CheckFields(spec, f);
    return Status::Ok();
  }

  std::string file_;
  size_t line_no_ = 0;
  testutil::TempDir dir_;
  FakeClock clock_{kBaseMs};
  metrics::Registry metrics_;
  std::mutex mu_;
  std::map<std::string, uint64_t> users_;   // guarded by mu_
  std::map<uint64_t, uint64_t> parent_;     // guarded by mu_: merged id → the id it merged into
  uint64_t seq_ = 0;
  std::unique_ptr<CaseManager> manager_;
  std::unique_ptr<Intake> intake_;
};

class CasesGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(CasesGolden, Script) { Runner(GetParam()).Run(); }

std::vector<std::string> Files() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(CAIRN_CASES_GOLDEN_DIR))
    if (e.path().extension() == ".test") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Files, CasesGolden, ::testing::ValuesIn(Files()), [](const auto& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
});

}  // namespace
}  // namespace cairn::cases
