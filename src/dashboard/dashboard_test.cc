// Goals/budgets/activities CRUD on a real SQLite file, hazard lights at their thresholds (golden
// cases: each light on and off), and the Overview over a real (in-memory Env) store.
#include "dashboard/dashboard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "io/mem_env.h"

namespace cairn::dashboard {
namespace {

constexpr int64_t kDayMs = 86'400'000;

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("cairn_dashboard_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p.string();
}

const Hazard& Light(const std::vector<Hazard>& hs, const std::string& name) {
  for (const auto& h : hs)
    if (h.light == name) return h;
  static Hazard none;
  ADD_FAILURE() << "no light " << name;
  return none;
}

TEST(DashboardDbTest, GoalsBudgetsActivitiesCrudAndValidation) {
  FakeClock clock;
  std::string path = TempPath("crud.db");
  {
    auto db = DashboardDb::Open(path, &clock);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Goal g{0, "Q1 revenue", "revenue", 125000.5, 20454, 20544};
    auto created = (*db)->CreateGoal(g);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_GT(created->id, 0);
    EXPECT_EQ(created->created_ms, clock.NowMillis());
    clock.Advance(1000);
    Goal up = *created;
    up.target = 130000;
    up.metric = "event:Order Completed";
    auto updated = (*db)->UpdateGoal(up);
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    EXPECT_EQ(updated->updated_ms, clock.NowMillis());
    EXPECT_EQ(updated->created_ms, created->created_ms);

    // Validation names the field.
    Goal bad = g;
    bad.metric = "profit";
    EXPECT_NE((*db)->CreateGoal(bad).status().message().find("metric"), std::string::npos);
    bad = g;
    bad.target = -1;
    EXPECT_NE((*db)->CreateGoal(bad).status().message().find("target"), std::string::npos);
    bad = g;
    bad.deadline_day = g.start_day - 1;
    EXPECT_NE((*db)->CreateGoal(bad).status().message().find("deadline"), std::string::npos);
    up.id = 999;
    EXPECT_EQ((*db)->UpdateGoal(up).status().code(), Code::kNotFound);

    auto b = (*db)->CreateBudget(Budget{0, "Spring ads", 5000, 20454, 20544});
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    Activity a{0, "Newsletter", "email", b->id, 250.25, 20460, "done"};
    auto act = (*db)->CreateActivity(a);
    ASSERT_TRUE(act.ok()) << act.status().ToString();
    a.budget_id = 77;
    EXPECT_NE((*db)->CreateActivity(a).status().message().find("budget_id"), std::string::npos);
    a.budget_id = 0;
    a.status = "maybe";
    EXPECT_NE((*db)->CreateActivity(a).status().message().find("status"), std::string::npos);
    // A budget in use is not deleted.
    EXPECT_EQ((*db)->DeleteBudget(b->id).code(), Code::kFailedPrecondition);
    ASSERT_TRUE((*db)->PutReading("value_at_risk", 100, 5.5).ok());
    ASSERT_TRUE((*db)->PutReading("value_at_risk", 107, 9).ok());
  }
  // Reopen: everything persisted.
  auto db = DashboardDb::Open(path, &clock);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto goals = (*db)->ListGoals();
  ASSERT_TRUE(goals.ok());
  ASSERT_EQ(goals->size(), 1u);
  EXPECT_EQ((*goals)[0].target, 130000);
  EXPECT_EQ((*goals)[0].metric, "event:Order Completed");
  EXPECT_EQ((*goals)[0].name, "Q1 revenue");
  auto acts = (*db)->ListActivities();
  ASSERT_TRUE(acts.ok());
  ASSERT_EQ(acts->size(), 1u);
  EXPECT_EQ((*acts)[0].name, "Newsletter");
  EXPECT_DOUBLE_EQ((*acts)[0].cost, 250.25);
  EXPECT_EQ(**(*db)->ReadingOnOrBefore("value_at_risk", 106), 5.5);
  EXPECT_FALSE((*(*db)->ReadingOnOrBefore("value_at_risk", 99)).has_value());
  ASSERT_TRUE((*db)->DeleteActivity((*acts)[0].id).ok());
  EXPECT_EQ((*db)->DeleteActivity((*acts)[0].id).code(), Code::kNotFound);
  auto budgets = (*db)->ListBudgets();
  ASSERT_TRUE((*db)->DeleteBudget((*budgets)[0].id).ok());
  ASSERT_TRUE((*db)->DeleteGoal((*goals)[0].id).ok());
  EXPECT_EQ((*db)->DeleteGoal((*goals)[0].id).code(), Code::kNotFound);
  EXPECT_TRUE((*db)->ListGoals()->empty());
}

TEST(DayTest, RoundTrip) {
  EXPECT_EQ(DayString(0), "1970-01-01");
  EXPECT_EQ(ParseDay("2026-01-01"), 20454);
  EXPECT_EQ(DayString(20454), "2026-01-01");
  EXPECT_FALSE(ParseDay("2026-02-30").has_value());
  EXPECT_FALSE(ParseDay("26-1-1").has_value());
}

// ---- hazard golden cases: each light on and off at its threshold ----

GoalView OpenGoal(int64_t eta, int64_t deadline, std::optional<int64_t> week_ago = std::nullopt) {
  GoalView g;
  g.goal.name = "g";
  g.goal.deadline_day = deadline;
  g.eta_day = eta;
  g.on_track = eta <= deadline;
  g.eta_week_ago_day = week_ago;
  return g;
}

TEST(HazardTest, ProjectedMissAtDeadline) {
  HazardOptions o;
  std::vector<GoalView> goals = {OpenGoal(100, 100)};
  HazardInputs in;
  in.goals = &goals;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "projected_miss").on);  // eta == deadline: on time
  goals = {OpenGoal(101, 100)};
  auto h = Light(EvaluateHazards(in, o), "projected_miss");
  EXPECT_TRUE(h.on);
  EXPECT_NE(h.why.find("after deadline"), std::string::npos) << h.why;
  goals[0].eta_day.reset();
  EXPECT_TRUE(Light(EvaluateHazards(in, o), "projected_miss").on);  // beyond the horizon
  goals[0].reached = true;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "projected_miss").on);
}

TEST(HazardTest, EtaSlippingThreshold) {
  HazardOptions o;  // 7 days
  std::vector<GoalView> goals = {OpenGoal(107, 200, 100)};
  HazardInputs in;
  in.goals = &goals;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "eta_slipping").on);
  goals = {OpenGoal(108, 200, 100)};
  EXPECT_TRUE(Light(EvaluateHazards(in, o), "eta_slipping").on);
  goals = {OpenGoal(90, 200, 100)};  // earlier: good news
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "eta_slipping").on);
}

TEST(HazardTest, ComplaintSpikeThreshold) {
  HazardOptions o;  // ratio 1.5, excess 5
  HazardInputs in;
  EXPECT_EQ(Light(EvaluateHazards(in, o), "complaint_spike").why, "no data source yet");
  in.complaints_weekly_baseline = 10;
  in.complaints_7d = 14;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "complaint_spike").on);
  in.complaints_7d = 15;
  EXPECT_TRUE(Light(EvaluateHazards(in, o), "complaint_spike").on);
  in.complaints_weekly_baseline = 2;  // 3 → ratio met but only +1: noise
  in.complaints_7d = 6;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "complaint_spike").on);
  in.complaints_7d = 7;
  EXPECT_TRUE(Light(EvaluateHazards(in, o), "complaint_spike").on);
}

TEST(HazardTest, NpsDropThreshold) {
  HazardOptions o;  // 10 points, 20 answers
  HazardInputs in;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "nps_drop").on);
  in.nps_prev_30d = 40;
  in.nps_30d = 30.5;
  in.nps_responses_30d = in.nps_responses_prev_30d = 50;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "nps_drop").on);
  in.nps_30d = 30;
  EXPECT_TRUE(Light(EvaluateHazards(in, o), "nps_drop").on);
  in.nps_responses_30d = 19;
  auto h = Light(EvaluateHazards(in, o), "nps_drop");
  EXPECT_FALSE(h.on);
  EXPECT_NE(h.why.find("too few"), std::string::npos);
}

TEST(HazardTest, ValueAtRiskThreshold) {
  HazardOptions o;  // +20%
  HazardInputs in;
  EXPECT_EQ(Light(EvaluateHazards(in, o), "value_at_risk").why, "no data source yet");
  in.value_at_risk_now = 120;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "value_at_risk").on);  // nothing to compare with
  in.value_at_risk_week_ago = 100;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "value_at_risk").on);
  in.value_at_risk_now = 120.01;
  EXPECT_TRUE(Light(EvaluateHazards(in, o), "value_at_risk").on);
}

TEST(HazardTest, OverdueLights) {
  HazardOptions o;
  HazardInputs in;
  auto hs = EvaluateHazards(in, o);
  ASSERT_EQ(hs.size(), 7u);
  EXPECT_FALSE(Light(hs, "rescues_overdue").on);
  EXPECT_EQ(Light(hs, "slas_overdue").why, "no data source yet");
  in.rescues_overdue = 0;
  in.slas_overdue = 0;
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "rescues_overdue").on);
  EXPECT_FALSE(Light(EvaluateHazards(in, o), "slas_overdue").on);
  in.rescues_overdue = 1;
  in.slas_overdue = 2;
  EXPECT_TRUE(Light(EvaluateHazards(in, o), "rescues_overdue").on);
  EXPECT_TRUE(Light(EvaluateHazards(in, o), "slas_overdue").on);
}

// ---- the whole overview over a real store ----

// A store in `env` without background threads (flushes only when a test asks); null on failure.
std::unique_ptr<store::Store> OpenMemStore(io::MemEnv* env) {
  store::StoreOptions so;
  so.background_work = false;
  auto st = store::Store::Open(env, "/db", so);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  return st.ok() ? std::move(*st) : nullptr;
}

Status AppendSync(store::Store* s, store::Batch b) {
  std::promise<Status> p;
  Status st = s->Append(std::move(b), [&](Status r) { p.set_value(r); });
  if (!st.ok()) return st;
  return p.get_future().get();
}

// Mirrors: competitor mentions per Monday week, the 26 weeks ending with this one by default,
// the filter's range (first week clipped) when one is given; not a trip meter total.
TEST(DashboardTest, MirrorsCountCompetitorMentionsPerWeek) {
  io::MemEnv env;
  auto st = OpenMemStore(&env);
  ASSERT_NE(st, nullptr);
  FakeClock clock;  // 2026-01-01 = day 20454, a Thursday; its week starts on Monday 20451
  const int64_t today = 20454, first = 20451 - 25 * 7;
  store::Batch b;
  int n = 0;
  auto mention = [&](int64_t day, int count, const char* event = "Competitor Considered") {
    for (int k = 0; k < count; ++k) {
      store::Interaction it;
      it.customer = 1 + n % 7;
      it.timestamp_ms = day * kDayMs + 3600'000 + k;
      it.event = event;
      it.message_id = "m" + std::to_string(n++);
      b.interactions.push_back(it);
    }
  };
  for (int64_t d = today - 56; d <= today; ++d) mention(d, 1);
  mention(first, 5);
  mention(first - 1, 3);         // the Sunday before the 26 weeks
  mention(today - 3, 4, "Deal Lost");  // another event
  ASSERT_TRUE(AppendSync(st.get(), std::move(b)).ok());
  DashboardOptions options;
  options.path = TempPath("mirrors.db");
  options.clock = &clock;
  options.forecast.paths = 20;
  DashboardSources sources;
  store::Store* store = st.get();
  sources.snapshot = [store] { return store->GetSnapshot(); };
  auto dash = Dashboard::Open(options, sources);
  ASSERT_TRUE(dash.ok()) << dash.status().ToString();

  auto view = (*dash)->Overview();
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const Mirrors& m = view->mirrors;
  EXPECT_EQ(m.event, "Competitor Considered");
  EXPECT_EQ(m.from_day, first);
  EXPECT_EQ(m.to_day, today);
  ASSERT_EQ(m.week_days.size(), 26u);
  ASSERT_EQ(m.mentions.size(), 26u);
  for (size_t i = 0; i < 26; ++i) EXPECT_EQ(m.week_days[i], first + 7 * static_cast<int64_t>(i));
  EXPECT_EQ(m.mentions[0], 5);
  EXPECT_EQ(m.mentions[25], 4);  // Monday to Thursday
  EXPECT_EQ(m.mentions[24], 7);
  EXPECT_EQ(m.total, 57 + 5);

  OverviewFilter range;
  range.from_day = today - 12;  // a Saturday
  range.key = "range";
  auto ranged = (*dash)->Overview(range);
  ASSERT_TRUE(ranged.ok()) << ranged.status().ToString();
  EXPECT_EQ(ranged->mirrors.from_day, today - 12);
  EXPECT_EQ(ranged->mirrors.week_days, (std::vector<int64_t>{today - 12, 20444, 20451}));
  EXPECT_EQ(ranged->mirrors.mentions, (std::vector<double>{2, 7, 4}));
  EXPECT_EQ(ranged->mirrors.total, 13);
  ASSERT_TRUE(ranged->trip.has_value());
  for (const auto& [metric, total] : ranged->trip->totals) EXPECT_NE(metric, "event:Competitor Considered");
}

// The value at stake is a pass over every customer (~100 ms at 1M): overviews of any filter reuse
// a reading for value_at_risk_max_age_ms and within its UTC day, and a fresh reading is the day's
// in dashboard.db.
TEST(DashboardTest, ValueAtStakeIsReadAtMostOncePerMaxAge) {
  io::MemEnv env;
  auto st = OpenMemStore(&env);
  ASSERT_NE(st, nullptr);
  FakeClock clock;  // 2026-01-01 00:00 = day 20454
  clock.Advance(23 * 3600'000);  // 23:00
  DashboardOptions options;
  options.path = TempPath("value_at_risk.db");
  options.clock = &clock;
  options.cache_ms = 0;  // every overview computes
  DashboardSources sources;
  store::Store* store = st.get();
  sources.snapshot = [store] { return store->GetSnapshot(); };
  int reads = 0;
  double stake = 100;
  sources.value_at_risk = [&]() -> Result<double> {
    ++reads;
    return stake;
  };
  auto dash = Dashboard::Open(options, sources);
  ASSERT_TRUE(dash.ok()) << dash.status().ToString();
  auto why = [&](const OverviewFilter& f = {}) {
    auto v = (*dash)->Overview(f);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? Light(v->hazards, "value_at_risk").why : std::string();
  };
  EXPECT_NE(why().find("value at stake 100.00"), std::string::npos);
  EXPECT_EQ(reads, 1);
  stake = 200;
  clock.Advance(options.value_at_risk_max_age_ms - 1);
  OverviewFilter range;
  range.from_day = 20440;
  range.key = "range";
  EXPECT_NE(why(range).find("value at stake 100.00"), std::string::npos);  // the same reading
  EXPECT_EQ(reads, 1);
  clock.Advance(1);
  EXPECT_NE(why().find("value at stake 200.00"), std::string::npos);
  EXPECT_EQ(reads, 2);
  // A new UTC day reads again, however young the reading, so that day has its own.
  stake = 300;
  clock.Advance(3600'000 - options.value_at_risk_max_age_ms + 1);  // 00:00:00.001, day 20455
  (void)why();
  EXPECT_EQ(reads, 3);
  auto db = DashboardDb::Open(options.path, &clock);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(**(*db)->ReadingOnOrBefore("value_at_risk", 20454), 200);
  EXPECT_EQ(**(*db)->ReadingOnOrBefore("value_at_risk", 20455), 300);
  // 0: a reading at every overview.
  options.value_at_risk_max_age_ms = 0;
  options.path = TempPath("value_at_risk_0.db");
  auto every = Dashboard::Open(options, sources);
  ASSERT_TRUE(every.ok());
  reads = 0;
  ASSERT_TRUE((*every)->Overview().ok());
  ASSERT_TRUE((*every)->Overview().ok());
  EXPECT_EQ(reads, 2);
}

TEST(DashboardTest, OverviewFromStore) {
  io::MemEnv env;
  auto st = OpenMemStore(&env);
  ASSERT_NE(st, nullptr);
  FakeClock clock;  // 2026-01-01 = day 20454
  const int64_t today = 20454;
  // 56 days of history: customer c orders on day d when (c + d) % 4 == 0, revenue 10 each;
  // 2 complaints a day, 12 on each of the last 7 days (a spike); 3 emails sent a day.
  store::Batch b;
  for (int64_t d = today - 56; d <= today; ++d) {
    for (store::CustomerId c = 1; c <= 40; ++c) {
      if ((c + d) % 4 != 0) continue;
      store::Interaction it;
      it.customer = c;
      it.timestamp_ms = d * kDayMs + 3600'000;
      it.event = "Order Completed";
      it.revenue = 10;
      it.message_id = "o" + std::to_string(c) + "-" + std::to_string(d);
      b.interactions.push_back(it);
    }
    int complaints = d > today - 7 ? 12 : 2;
    for (int k = 0; k < complaints + 3; ++k) {
      store::Interaction it;
      it.customer = 100 + k;
      it.timestamp_ms = d * kDayMs + 7200'000 + k;
      it.event = k < complaints ? "Complaint Filed" : "Email Sent";
      it.message_id = "x" + std::to_string(k) + "-" + std::to_string(d);
      b.interactions.push_back(it);
    }
  }
  ASSERT_TRUE(AppendSync(st.get(), std::move(b)).ok());

  DashboardOptions options;
  options.path = TempPath("overview.db");
  options.clock = &clock;
  options.forecast.paths = 200;
  DashboardSources sources;
  store::Store* store = st.get();
  sources.snapshot = [store] { return store->GetSnapshot(); };
  sources.rescues_overdue = [](int64_t) -> Result<int64_t> { return int64_t{3}; };
  auto dash = Dashboard::Open(options, sources);
  ASSERT_TRUE(dash.ok()) << dash.status().ToString();
  // 10 orders/day × 10 = 100 revenue per day. From today−9: 10 days = 1000 so far.
  auto easy = (*dash)->CreateGoal(Goal{0, "easy", "revenue", 1500, today - 9, today + 30});
  auto hard = (*dash)->CreateGoal(Goal{0, "hard", "orders", 1000, today - 9, today + 30});
  auto done = (*dash)->CreateGoal(Goal{0, "done", "new_customers", 40, today - 56, today + 30});
  ASSERT_TRUE(easy.ok() && hard.ok() && done.ok());
  auto budget = (*dash)->CreateBudget(Budget{0, "ads", 3000, today - 30, today + 60});
  ASSERT_TRUE(budget.ok());
  ASSERT_TRUE((*dash)->CreateActivity(Activity{0, "mail", "email", budget->id, 600, today - 3, "done"}).ok());
  ASSERT_TRUE((*dash)->CreateActivity(Activity{0, "ads", "web", budget->id, 900, today + 10, "planned"}).ok());

  auto view = (*dash)->Overview();
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->goals.size(), 3u);
  const GoalView& e = view->goals[0];
  EXPECT_DOUBLE_EQ(e.progress, 1000);
  EXPECT_NEAR(e.rate_recent, 100, 1e-9);
  ASSERT_TRUE(e.eta_day.has_value()) << e.error;
  EXPECT_EQ(*e.eta_day, today + 5);  // 500 left at 100/day
  EXPECT_TRUE(e.on_track);
  ASSERT_TRUE(e.rate_needed.has_value());
  EXPECT_NEAR(*e.rate_needed, 500.0 / 31, 1e-9);
  const GoalView& h = view->goals[1];
  EXPECT_DOUBLE_EQ(h.progress, 100);
  EXPECT_FALSE(h.on_track);  // 900 more orders at 10/day: day +90 > deadline +30
  ASSERT_TRUE(h.eta_day.has_value());
  EXPECT_EQ(*h.eta_day, today + 90);
  EXPECT_LT(h.p_on_time, 0.01);
  const GoalView& d = view->goals[2];
  EXPECT_TRUE(d.reached);
  EXPECT_DOUBLE_EQ(d.progress, 40);

  ASSERT_EQ(view->budgets.size(), 1u);
  EXPECT_DOUBLE_EQ(view->budgets[0].spent, 600);
  EXPECT_DOUBLE_EQ(view->budgets[0].planned, 900);
  EXPECT_DOUBLE_EQ(view->budgets[0].left, 2400);
  ASSERT_TRUE(view->budgets[0].runway_days.has_value());
  EXPECT_NEAR(*view->budgets[0].runway_days, 2400 / 20.0, 1e-9);
  EXPECT_DOUBLE_EQ(view->rev.touches_7d, 21);
  EXPECT_EQ(view->rev.activities_7d, 1);
  EXPECT_EQ(view->ride.complaints_7d, 84);
  EXPECT_NEAR(view->ride.complaints_weekly_baseline, 14, 1e-9);

  EXPECT_TRUE(Light(view->hazards, "projected_miss").on);
  EXPECT_NE(Light(view->hazards, "projected_miss").why.find("'hard'"), std::string::npos);
  EXPECT_TRUE(Light(view->hazards, "complaint_spike").on);
  EXPECT_TRUE(Light(view->hazards, "rescues_overdue").on);
  EXPECT_EQ(Light(view->hazards, "nps_drop").why, "no data source yet");

  // Editing a goal changes the answer at once (the cache is dropped).
  Goal g = *hard;
  g.target = 150;
  ASSERT_TRUE((*dash)->UpdateGoal(g).ok());
  view = (*dash)->Overview();
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->goals[1].on_track);
  EXPECT_EQ(*view->goals[1].eta_day, today + 5);

  // A segment (customers 1–20: 5 orders a day, 50 revenue) counts only its customers: goals,
  // speedometer, rev counter and complaints; budgets stay the business's.
  OverviewFilter seg;
  seg.members = std::vector<uint64_t>();
  for (uint64_t c = 1; c <= 20; ++c) seg.members->push_back(c);
  seg.key = "customers 1-20";
  view = (*dash)->Overview(seg);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_TRUE(view->filtered);
  EXPECT_EQ(view->segment_customers, 20);
  EXPECT_DOUBLE_EQ(view->goals[0].progress, 500);
  EXPECT_NEAR(view->goals[0].rate_recent, 50, 1e-9);
  ASSERT_TRUE(view->goals[0].eta_day.has_value());
  EXPECT_EQ(*view->goals[0].eta_day, today + 20);  // 1000 left at 50/day
  EXPECT_DOUBLE_EQ(view->rev.touches_7d, 0);
  EXPECT_EQ(view->ride.complaints_7d, 0);
  EXPECT_DOUBLE_EQ(view->budgets[0].spent, 600);
  EXPECT_FALSE(view->trip.has_value());
  // The unfiltered answer is not the segment's (cached per filter).
  EXPECT_DOUBLE_EQ((*dash)->Overview()->goals[0].progress, 1000);

  // A range ending 5 days ago: the car as of then, and the trip meter over the range.
  OverviewFilter past;
  past.from_day = today - 9;
  past.to_day = today - 5;
  past.key = "past";
  view = (*dash)->Overview(past);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->today, today - 5);
  EXPECT_DOUBLE_EQ(view->goals[0].progress, 500);  // days −9…−5
  EXPECT_EQ(view->ride.complaints_7d, 2 * 5 + 12 * 2);  // days −11…−5: two of the spike's days
  ASSERT_TRUE(view->trip.has_value());
  EXPECT_EQ(view->trip->from_day, today - 9);
  EXPECT_EQ(view->trip->to_day, today - 5);
  auto total = [&](const std::string& m) {
    for (const auto& [name, v] : view->trip->totals)
      if (name == m) return v;
    ADD_FAILURE() << "no trip total " << m;
    return -1.0;
  };
  EXPECT_DOUBLE_EQ(total("revenue"), 500);
  EXPECT_DOUBLE_EQ(total("orders"), 50);
  EXPECT_DOUBLE_EQ(total("touches"), 15);
  EXPECT_TRUE(Light(view->hazards, "rescues_overdue").on);  // live lights stay as of now

  OverviewFilter backwards;
  backwards.from_day = today;
  backwards.to_day = today - 1;
  EXPECT_NE((*dash)->Overview(backwards).status().message().find("from"), std::string::npos);
  ASSERT_TRUE(st->Close().ok());
}

}  // namespace
}  // namespace cairn::dashboard
