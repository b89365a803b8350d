// cases_bench [--cases N] [--answers M]: prints one figure per line (name value unit).
//   cases_load_seconds          bulk-writing N cases (direct SQL, one transaction; setup only)
//   cases_open_ms               CaseManager::Open on N cases (rebuilds the timer heap from open ones)
//   cases_timers                timer heap entries after open
//   cases_breach_check_ms       CheckBreaches firing the 100 due timers among N (no scan)
//   cases_list_<filter>_ms      ListCases, 50 rows, median of 20 runs
//   nps_answers_load_seconds    recording M answers (one transaction; setup only)
//   nps_by_segment_ms           NPS over M answers grouped by segment, median of 10 runs
//   nps_by_week_ms              the same by week
//   nps_by_persona_lookup_ms    the same by the customer's persona, every distinct customer looked up
//   nps_by_phase_lookup_ms      the same by the customer's journey phase, every customer looked up
//   nps_by_persona_first_ms     by persona as cairn serve asks (CaseManager::Scores): the first query
//   nps_by_persona_ms           ... and the next ones (values looked up within 30 s are reused)
//   nps_by_phase_first_ms, nps_by_phase_ms   the same by phase
//   nps_by_category_ms          the same by case category (set on the answer when recorded; 30% have one)
// Defaults: N = 1,000,000, M = 10,000,000. Targets (issue 5): list < 50 ms, NPS < 200 ms.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "cases/case_manager.h"
#include "entity/sqlite_db.h"
#include "testutil/temp_dir.h"

using namespace cairn;
using Clk = std::chrono::steady_clock;

namespace {

double Ms(Clk::time_point a, Clk::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

template <typename Fn>
double Median(int runs, Fn fn) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto a = Clk::now();
    fn();
    t.push_back(Ms(a, Clk::now()));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int Die(const Status& s) {
  fmt::print(stderr, "cases_bench: {}\n", s.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n_cases = 1'000'000, n_answers = 10'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--cases")) n_cases = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--answers")) n_answers = std::atoll(argv[i + 1]);
  }
  testutil::TempDir dir;
  const int64_t t0 = 1767225600000;  // 2026-01-01
  FakeClock clock(t0);
  metrics::Registry metrics;
  cases::CaseManagerOptions o;
  o.dir = dir.path();
  o.clock = &clock;
  o.metrics = &metrics;
  {
    auto m = cases::CaseManager::Open(o);  // creates the schema
    if (!m.ok()) return Die(m.status());
  }
  std::mt19937_64 rng(42);
  {
    auto a = Clk::now();
    auto db = entity::SqliteDb::Open(dir.Sub("cases.db"), {});
    if (!db.ok()) return Die(db.status());
    (void)(*db)->Exec("BEGIN");
    static const char* kCats[] = {"billing", "delivery", "app", "returns", "account", "quality"};
    for (int64_t i = 0; i < n_cases; ++i) {
      auto s = (*db)->Prepare(
          "INSERT INTO cases (customer, channel, category, description, root_cause, severity, tier, status, assignee, "
          "origin, resolution_type, resolution_amount, pending_type, pending_amount, pending_by, approval_level, "
          "secondary_of, opened_at, updated_at, first_response_at, resolved_at, closed_at, reopen_count, "
          "escalation_level, version, fr_target, res_target, sla_calendar, fr_due, fr_breached, res_due, res_remaining, "
          "res_breached, breached, breached_at, esc_step, next_esc_at, message_id, source_seq) VALUES "
          "(?, 'web', ?, '', '', 2, 1, ?, ?, 'api', 0, 0, 0, 0, '', 0, 0, ?, ?, 0, ?, 0, 0, 0, 1, 3600000, 86400000, '', "
          "?, 0, ?, 0, 0, ?, 0, 0, 0, '', NULL)");
      if (!s.ok()) return Die(s.status());
      // 80% resolved/closed, 20% open; open ones are due within the next ten days, 100 are due now.
      const bool open = i % 5 == 0;
      const int64_t opened = t0 - static_cast<int64_t>(rng() % (90LL * 86400000));
      const int64_t due = i < 500 ? t0 - 1000 : t0 + static_cast<int64_t>(rng() % (10LL * 86400000));
      s->Bind(1, static_cast<int64_t>(1 + rng() % (n_cases / 3 + 1)));
      s->Bind(2, kCats[rng() % 6]);
      s->Bind(3, open ? 3 : 6);
      s->Bind(4, fmt::format("agent{}", rng() % 200));
      s->Bind(5, opened).Bind(6, opened);
      s->Bind(7, open ? 0 : opened + 3600000);
      s->Bind(8, open ? due : 0).Bind(9, open ? due + 86400000 : 0);
      s->Bind(10, static_cast<int64_t>(rng() % 10 == 0));
      Status r = s->Run();
      if (!r.ok()) return Die(r);
    }
    (void)(*db)->Exec("COMMIT");
    fmt::print("cases_load_seconds {:.2f} s\n", Ms(a, Clk::now()) / 1000);
  }
  auto a = Clk::now();
  auto m = cases::CaseManager::Open(o);
  if (!m.ok()) return Die(m.status());
  fmt::print("cases_open_ms {:.1f} ms\n", Ms(a, Clk::now()));
  fmt::print("cases_timers {} entries\n", (*m)->pending_timers());
  a = Clk::now();
  auto fired = (*m)->CheckBreaches(t0);
  if (!fired.ok()) return Die(fired.status());
  fmt::print("cases_breach_check_ms {:.1f} ms\n", Ms(a, Clk::now()));
  fmt::print("cases_breaches_fired {} cases\n", *fired);

  struct Q {
    const char* name;
    cases::CaseFilter f;
  };
  std::vector<Q> queries(5);
  queries[0].name = "all";
  queries[1].name = "status";
  queries[1].f.status = cases::CaseStatus::kInProgress;
  queries[2].name = "assignee";
  queries[2].f.assignee = "agent17";
  queries[3].name = "breached";
  queries[3].f.breached = true;
  queries[4].name = "status_assignee";
  queries[4].f.status = cases::CaseStatus::kInProgress;
  queries[4].f.assignee = "agent17";
  for (auto& q : queries) {
    q.f.limit = 50;
    double ms = Median(20, [&] {
      auto r = (*m)->ListCases(q.f);
      if (!r.ok()) std::abort();
    });
    fmt::print("cases_list_{}_ms {:.2f} ms\n", q.name, ms);
  }

  // Survey answers.
  feedback::FeedbackStore* fb = (*m)->feedback_store();
  a = Clk::now();
  static const char* kCats[] = {"billing", "delivery", "app", "returns", "account", "quality"};
  static const char* kSegs[] = {"smb", "mid", "enterprise", "consumer", "partner", "public", "edu", "nonprofit"};
  static const char* kChannels[] = {"web", "email", "app", "phone"};
  const int64_t chunk = 200000;
  for (int64_t done = 0; done < n_answers; done += chunk) {
    std::vector<feedback::SurveyResponse> batch;
    for (int64_t i = done; i < std::min(n_answers, done + chunk); ++i) {
      feedback::SurveyResponse r;
      r.customer = 1 + rng() % 3000000;
      r.kind = feedback::SurveyKind::kNps;
      r.score = static_cast<int>(rng() % 11);
      r.at_ms = t0 - static_cast<int64_t>(rng() % (365LL * 86400000));
      r.segment = kSegs[rng() % 8];
      r.channel = kChannels[rng() % 4];
      if (rng() % 10 < 3) r.case_category = kCats[rng() % 6];
      batch.push_back(std::move(r));
    }
    auto ids = fb->RecordAll(batch);
    if (!ids.ok()) return Die(ids.status());
  }
  fmt::print("nps_answers_load_seconds {:.2f} s\n", Ms(a, Clk::now()) / 1000);
  feedback::ScoreQuery q;
  q.group_by = feedback::GroupBy::kSegment;
  double nps = 0;
  fmt::print("nps_by_segment_ms {:.1f} ms\n", Median(10, [&] { nps = fb->Scores(q).total.nps.nps; }));
  q.group_by = feedback::GroupBy::kWeek;
  fmt::print("nps_by_week_ms {:.1f} ms\n", Median(10, [&] { nps = fb->Scores(q).total.nps.nps; }));
  // By persona and by journey phase, which answers do not carry: looked up per distinct customer
  // (3M here) through the functions CaseManager::SetCustomerDimensions installs (cairn serve: the
  // value engine's PersonaOf, the journey engine's state). The stand-ins copy a string per
  // customer; the real ones add a hash lookup under their lock.
  //   *_lookup_ms: every customer looked up at each query (dimension_max_age_ms = 0), median of 3
  //   *_ms:        as cairn serve asks (CaseManager::Scores, values kept 30 s), median of 10 after
  //                the first query, which looked them up
  static const std::string kPersonas[] = {"frequent big spenders", "one-time small spenders", "regulars in store",
                                          "lapsed web buyers", "new mobile buyers"};
  static const std::string kPhases[] = {"discovery", "consideration", "purchase", "retention"};
  auto persona_of = [](uint64_t c) { return kPersonas[c % 5]; };
  auto phase_of = [](uint64_t c) { return kPhases[c % 4]; };
  q.group_by = feedback::GroupBy::kPersona;
  q.persona_of = persona_of;
  fmt::print("nps_by_persona_lookup_ms {:.1f} ms\n", Median(3, [&] { nps = fb->Scores(q).total.nps.nps; }));
  q.persona_of = nullptr;
  q.group_by = feedback::GroupBy::kPhase;
  q.phase_of = phase_of;
  fmt::print("nps_by_phase_lookup_ms {:.1f} ms\n", Median(3, [&] { nps = fb->Scores(q).total.nps.nps; }));
  q.phase_of = nullptr;
  (*m)->SetCustomerDimensions(persona_of, phase_of);
  for (auto [by, name] : {std::pair{feedback::GroupBy::kPersona, "persona"}, std::pair{feedback::GroupBy::kPhase, "phase"}}) {
    q.group_by = by;
    a = Clk::now();
    if (!(*m)->Scores(q).ok()) std::abort();
    fmt::print("nps_by_{}_first_ms {:.1f} ms\n", name, Ms(a, Clk::now()));
    fmt::print("nps_by_{}_ms {:.1f} ms\n", name, Median(10, [&] { nps = (*m)->Scores(q)->total.nps.nps; }));
  }
  q.group_by = feedback::GroupBy::kCategory;
  fmt::print("nps_by_category_ms {:.1f} ms\n", Median(10, [&] { nps = fb->Scores(q).total.nps.nps; }));
  fmt::print("nps_answers {} answers\n", fb->size());
  (void)nps;
  return 0;
}
