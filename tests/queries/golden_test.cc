// Golden-file runner for analytics semantics (tests/queries/{funnel,retention}/*.test).
//
// Each file is a script run against a real store in a temporary data dir: interactions go through
// the real ingest pipeline (parsing, identity merges, WAL, memtable, segments), queries through
// the real analytics engine with the same JSON decoder as the API.
//
//   # comment                        (blank lines are ignored)
//   event USER TIME EVENT NAME [{"prop": ...}]
//                                    one track message; TIME is ISO-8601 UTC or +DURATION after
//                                    2026-01-05T00:00:00Z (a Monday), e.g. +90m, +2d, +1500ms.
//                                    Lines arrive in file order (that is the seq order), so a
//                                    later line with an earlier TIME is a late event.
//   raw {segment message JSON}       any message (identify / alias: identity merges)
//   flush                            move the memtable to a segment (queries then read both)
//   funnel {json spec}               a query, as POSTed to /v1/query/funnel; then expected lines
//   retention {json spec}            likewise for /v1/query/retention
//
// Expected lines (compared in order; only the kinds that appear in the block are compared,
// "step"/"cohort" always):
//   step N COUNT                     funnel step counts
//   time N PREV_MEDIAN_MS FIRST_MEDIAN_MS   time-to-convert medians of step N
//   breakdown VALUE C1 C2 ...        funnel breakdown rows (result order)
//   over_time START C1 C2 ...
//   who USER...  /  next USER        the "who" page (customers by their userId) and cursor
//                                    (funnel and retention)
//   warning TEXT
//   cohort START SIZE R1 R2 ...      retention (with a breakdown: cohort VALUE START SIZE ...)
//   revenue START V1 V2 ...
//   error TEXT                       the query fails with InvalidArgument containing TEXT

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <set>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <sstream>

#include "analytics/engine.h"
#include "api/dto/query_dto.h"
#include "ingest/pipeline.h"
#include "io/env.h"
#include "testutil/temp_dir.h"

#ifndef CAIRN_QUERIES_DIR
#error "CAIRN_QUERIES_DIR must point at tests/queries"
#endif

namespace cairn {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kBaseMs = 1767571200000;  // 2026-01-05T00:00:00Z, a Monday

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  return s.substr(b);
}

std::string FormatIso(int64_t ms) {
  int64_t y;
  unsigned m, d;
  const int64_t day = analytics::FloorDiv(ms, analytics::kDayMs);
  analytics::CivilFromDays(day, &y, &m, &d);
  const int64_t rem = ms - day * analytics::kDayMs;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600000), static_cast<long long>(rem / 60000 % 60),
                static_cast<long long>(rem / 1000 % 60), static_cast<long long>(rem % 1000));
  return buf;
}

int64_t ParseTime(const std::string& t) {
  if (!t.empty() && t[0] == '+') {
    auto d = api::ParseDurationMs(t.substr(1), "time");
    if (t == "+0") return kBaseMs;
    EXPECT_TRUE(d.ok()) << t;
    return kBaseMs + (d.ok() ? *d : 0);
  }
  auto r = api::ParseTimeMs(t, "time");
  EXPECT_TRUE(r.ok()) << t;
  return r.ok() ? *r : 0;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The ingest path as the hub wires it (store + identity resolver + pipeline), without the hub's
// other modules: analytics reads exactly these.
class Script {
 public:
  explicit Script(const std::string& dir) : identity_(ingest::DefaultIdentityOptions()) {
    store::StoreOptions so;
    so.background_work = false;
    auto st = store::Store::Open(io::Env::Posix(), dir + "/store", so);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
    pipeline_ = std::make_unique<ingest::IngestPipeline>(ingest::PipelineOptions{}, store_.get(), &identity_,
                                                         [](std::string_view) { return std::optional<uint32_t>(); });
  }
  ~Script() {
    engine_.reset();
    pipeline_.reset();
    if (store_) (void)store_->Close();
  }

  void Send(const std::string& message_json) {
    ingest::IngestRequest req;
    req.dialect = ingest::Dialect::kSegmentBatch;
    req.body = "{\"batch\":[" + message_json + "]}";
    req.historical = true;
    req.trusted_source = 0;
    req.received_at_ms = kBaseMs + 400LL * analytics::kDayMs;
    std::promise<Result<ingest::IngestOutcome>> p;
    auto f = p.get_future();
    pipeline_->Ingest(std::move(req), [&p](Result<ingest::IngestOutcome> r) { p.set_value(std::move(r)); });
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString() << " for " << message_json;
    ASSERT_TRUE(r->rejected.empty()) << r->rejected[0].error << " for " << message_json;
  }
  void Flush() { ASSERT_TRUE(store_->Flush().ok()); }

  analytics::Engine* engine() {
    if (!engine_)
      engine_ = std::make_unique<analytics::Engine>(store_.get(), [this](store::CustomerId c) { return identity_.Find(c); });
    return engine_.get();
  }
  // The customer's userId (first "u:" key) or its first key.
  std::string Name(uint64_t id) const {
    auto keys = identity_.Keys(id);
    for (const auto& k : keys)
      if (k.starts_with("u:")) return k.substr(2);
    return keys.empty() ? "c:" + std::to_string(id) : keys.front();
  }

 private:
  ingest::IdentityResolver identity_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ingest::IngestPipeline> pipeline_;
  std::unique_ptr<analytics::Engine> engine_;
};

std::vector<std::string> RenderFunnel(const Script& s, const analytics::FunnelResult& r) {
  std::vector<std::string> out;
  for (size_t i = 0; i < r.steps.size(); ++i) out.push_back(fmt::format("step {} {}", i + 1, r.steps[i].count));
  for (size_t i = 1; i < r.steps.size(); ++i)
    if (r.steps[i].from_previous.count)
      out.push_back(fmt::format("time {} {} {}", i + 1, r.steps[i].from_previous.median_ms, r.steps[i].from_first.median_ms));
  for (const auto& row : r.breakdown) out.push_back(fmt::format("breakdown {} {}", row.key, fmt::join(row.counts, " ")));
  for (const auto& row : r.over_time) out.push_back(fmt::format("over_time {} {}", row.key, fmt::join(row.counts, " ")));
  if (!r.who.empty()) {
    std::string line = "who";
    for (auto id : r.who) line += " " + s.Name(id);
    out.push_back(line);
  }
  if (r.who_next) out.push_back("next " + s.Name(*r.who_next));
  for (const auto& w : r.warnings) out.push_back("warning " + w);
  return out;
}

std::vector<std::string> RenderRetention(const Script& s, const analytics::RetentionSpec& spec,
                                         const analytics::RetentionResult& r) {
  std::vector<std::string> out;
  const bool bd = spec.breakdown != analytics::RetentionSpec::BreakdownKind::kNone;
  for (const auto& c : r.cohorts) {
    out.push_back(fmt::format("cohort {}{} {} {}", bd ? c.breakdown + " " : "", c.start, c.size, fmt::join(c.returned, " ")));
    std::vector<std::string> rev;
    for (double v : c.revenue) rev.push_back(fmt::format("{:g}", v));
    out.push_back(fmt::format("revenue {}{} {}", bd ? c.breakdown + " " : "", c.start, fmt::join(rev, " ")));
  }
  if (r.who && !r.who->customers.empty()) {
    std::string line = "who";
    for (auto id : r.who->customers) line += " " + s.Name(id);
    out.push_back(line);
  }
  if (r.who && r.who->next) out.push_back("next " + s.Name(*r.who->next));
  for (const auto& w : r.warnings) out.push_back("warning " + w);
  return out;
}

std::string Kind(const std::string& line) { return line.substr(0, line.find(' ')); }

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Matches) {
  const fs::path file = GetParam();
  std::ifstream in(file);
  ASSERT_TRUE(in) << file;
  testutil::TempDir dir;
  Script script(dir.path());
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(Trim(l));
  size_t queries = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty() || l[0] == '#') continue;
    const std::string kind = Kind(l);
    const std::string rest = l.size() > kind.size() ? Trim(l.substr(kind.size())) : "";
    const std::string where = fmt::format("{}:{}", file.filename().string(), i + 1);
    if (kind == "event") {
      std::istringstream ss(rest);
      std::string user, time, word, name, props = "{}";
      ss >> user >> time;
      std::string tail;
      std::getline(ss, tail);
      tail = Trim(tail);
      const size_t brace = tail.find('{');
      if (brace != std::string::npos) {
        props = tail.substr(brace);
        tail = Trim(tail.substr(0, brace));
      }
      ASSERT_FALSE(tail.empty()) << where << ": event needs a name";
      script.Send(fmt::format(R"({{"type":"track","userId":{},"event":{},"timestamp":"{}","properties":{},"messageId":"m{}"}})",
                              JsonString(user), JsonString(tail), FormatIso(ParseTime(time)), props, i + 1));
    } else if (kind == "raw") {
      script.Send(rest);
    } else if (kind == "flush") {
      script.Flush();
    } else if (kind == "funnel" || kind == "retention") {
      ++queries;
      std::vector<std::string> expected;
      size_t j = i + 1;
      for (; j < lines.size(); ++j) {
        const std::string& e = lines[j];
        if (e.empty() || e[0] == '#') continue;
        const std::string k = Kind(e);
        if (k == "event" || k == "raw" || k == "flush" || k == "funnel" || k == "retention") break;
        expected.push_back(e);
      }
      i = j - 1;
      std::set<std::string> kinds = {kind == "funnel" ? "step" : "cohort"};
      std::string want_error;
      for (const auto& e : expected) {
        kinds.insert(Kind(e));
        if (Kind(e) == "error") want_error = Trim(e.substr(5));
      }
      analytics::QueryContext ctx(10'000, 2);
      std::vector<std::string> got;
      Status err;
      if (kind == "funnel") {
        auto spec = api::DecodeFunnelSpec(rest);
        if (!spec.ok()) {
          err = spec.status();
        } else {
          auto r = script.engine()->Funnel(*spec, ctx);
          if (!r.ok()) err = r.status();
          else got = RenderFunnel(script, *r);
        }
      } else {
        auto req = api::DecodeRetentionRequest(rest);
        if (!req.ok()) {
          err = req.status();
        } else {
          auto r = script.engine()->Retention(req->spec, ctx);
          if (!r.ok()) err = r.status();
          else got = RenderRetention(script, req->spec, *r);
        }
      }
      if (!want_error.empty()) {
        EXPECT_TRUE(err.Is(Code::kInvalidArgument)) << where << ": expected error, got " << err.ToString();
        EXPECT_NE(err.message().find(want_error), std::string_view::npos)
            << where << ": error \"" << err.message() << "\" does not contain \"" << want_error << "\"";
        continue;
      }
      ASSERT_TRUE(err.ok()) << where << ": " << err.ToString();
      std::vector<std::string> filtered;
      for (const auto& g : got)
        if (kinds.count(Kind(g))) filtered.push_back(g);
      EXPECT_EQ(filtered, expected) << where << ": query " << rest << "\nfull output:\n" << fmt::format("{}", fmt::join(got, "\n"));
    } else {
      FAIL() << where << ": unknown directive " << kind;
    }
  }
  EXPECT_GT(queries, 0u) << file << " has no query";
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> out;
  for (const char* sub : {"funnel", "retention"})
    for (const auto& e : fs::directory_iterator(fs::path(CAIRN_QUERIES_DIR) / sub))
      if (e.path().extension() == ".test") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  fs::path p(info.param);
  std::string name = p.parent_path().filename().string() + "_" + p.stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Queries, GoldenTest, ::testing::ValuesIn(GoldenFiles()), TestName);

// Retention "who" lists against brute force: random interactions of a few customers through the
// real ingest path; for every cohort, every period 0..periods and both statuses, the list (walked
// two at a time through the cursors) is exactly the customers a direct recomputation from the
// interactions puts there, and its length is the answer's size / returned / size - returned.
TEST(RetentionWhoRandom, MatchesBruteForce) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    testutil::TempDir dir;
    Script script(dir.path());
    const size_t customers = 4 + seed % 9, n = 30 + seed * 3;
    const char* events[] = {"Signed Up", "Order Completed", "Page Viewed"};
    struct Row {
      std::string user, event;
      int64_t ts;
    };
    std::vector<Row> rows;
    std::string batch;
    for (size_t i = 0; i < n; ++i) {
      Row r{"u" + std::to_string(1 + rng() % customers), events[rng() % 3],
            kBaseMs + static_cast<int64_t>(rng() % (50 * 86400)) * 1000};
      if (!batch.empty()) batch += ",";
      batch += fmt::format(R"({{"type":"track","userId":"{}","event":"{}","timestamp":"{}","messageId":"s{}-{}"}})",
                           r.user, r.event, FormatIso(r.ts), seed, i);
      rows.push_back(std::move(r));
    }
    script.Send(batch);
    if (seed % 2) script.Flush();
    analytics::RetentionSpec spec;
    spec.start_event = "Signed Up";
    spec.return_event = "Order Completed";
    spec.periods = 4;
    spec.on_or_after = seed % 3 == 0;
    spec.min_returns = seed % 4 == 0 ? 2 : 1;
    // Brute force: cohort = week of the first Signed Up (ties: file order = arrival); returns by
    // period after it.
    std::map<std::string, int64_t> first;  // user -> ts of the first start
    for (const Row& r : rows)
      if (r.event == "Signed Up" && (!first.count(r.user) || r.ts < first[r.user])) first[r.user] = r.ts;
    std::map<std::string, std::map<int64_t, uint32_t>> returns;  // user -> period -> count
    for (const Row& r : rows) {
      if (r.event != "Order Completed" || !first.count(r.user)) continue;
      const int64_t p = analytics::PeriodOf(r.ts, analytics::Period::kWeek) -
                        analytics::PeriodOf(first[r.user], analytics::Period::kWeek);
      if (p >= 1) returns[r.user][p]++;
    }
    auto returned = [&](const std::string& u, size_t k) {
      for (const auto& [p, count] : returns[u])
        if (count >= spec.min_returns && (spec.on_or_after ? p >= static_cast<int64_t>(k) : p == static_cast<int64_t>(k)))
          return true;
      return false;
    };
    analytics::QueryContext ctx(10'000, 2);
    auto base = script.engine()->Retention(spec, ctx);
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    size_t checked = 0;
    for (const auto& cohort : base->cohorts) {
      auto cohort_ms = api::ParseTimeMs(cohort.start, "cohort");
      ASSERT_TRUE(cohort_ms.ok());
      const int64_t week = analytics::PeriodOf(*cohort_ms, analytics::Period::kWeek);
      for (size_t k = 0; k <= spec.periods; ++k) {
        for (bool status : {true, false}) {
          if (k == 0 && !status) continue;
          analytics::RetentionSpec ws = spec;
          ws.who = analytics::RetentionWho{*cohort_ms, "", k, status, analytics::WhoPage{2, 0}};
          std::vector<std::string> got;
          for (int guard = 0; guard < 100; ++guard) {
            auto r = script.engine()->Retention(ws, ctx);
            ASSERT_TRUE(r.ok() && r->who) << r.status().ToString();
            EXPECT_LE(r->who->customers.size(), 2u);
            for (auto id : r->who->customers) got.push_back(script.Name(id));
            if (!r->who->next) break;
            ws.who->page.after = *r->who->next;
          }
          std::vector<std::string> want;
          for (const auto& [u, t] : first)
            if (analytics::PeriodOf(t, analytics::Period::kWeek) == week && (k == 0 || returned(u, k) == status))
              want.push_back(u);
          std::sort(got.begin(), got.end());
          EXPECT_EQ(got, want) << "cohort " << cohort.start << " period " << k << (status ? " returned" : " not returned");
          const uint64_t count = k == 0 ? cohort.size : status ? cohort.returned[k - 1] : cohort.size - cohort.returned[k - 1];
          EXPECT_EQ(got.size(), count) << "cohort " << cohort.start << " period " << k;
          ++checked;
        }
      }
    }
    EXPECT_GT(checked, 0u);
  }
}

}  // namespace
}  // namespace cairn
