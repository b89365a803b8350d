// `cairn simulate` end to end: the simulated history through the real ingest path into a data
// dir, read back through the store and the customer directory.

#include "app/simulate_cmd.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "app/cases_wiring.h"
#include "app/consent_wiring.h"
#include "app/erase.h"
#include "app/query_cmd.h"
#include "app/hub.h"
#include "dashboard/series.h"
#include "ingest/ingestor.h"
#include "journey/engine.h"

namespace cairn::app {
namespace {

std::string Field(const std::string& line, const std::string& key) {
  std::string k = "\"" + key + "\":\"";
  auto p = line.find(k);
  if (p == std::string::npos) return "";
  p += k.size();
  return line.substr(p, line.find('"', p) - p);
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class SimulateCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-simulate-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  SimulateOptions Options() {
    SimulateOptions o;
    o.customers = 250;
    o.days = 60;
    o.seed = 4;
    o.start = "2025-03-01";
    o.progress = false;
    return o;
  }
  // The hub of a loaded data dir, as `cairn serve` would open it (no keys created).
  static Result<std::unique_ptr<Hub>> OpenHub(const std::string& data) {
    CliFlags flags;
    flags.data = data;
    ASSIGN_OR_RETURN(auto cfg, BuildConfig(flags));
    HubOptions ho = cfg.hub;
    ho.create_keys_if_none = false;
    return Hub::Open(ho);
  }
  // The open hub appends on its own (a case opened from a complaint, a rescue's outbound message)
  // and re-derives late or merged customers on its worker, so a test compares a live answer with
  // a scan only when the store did not move while it was computed. Calls `compute(seq)` until the
  // store's seq stood still across the call and `compute` said its answer is of that seq
  // (returned true); false if that never happened in `attempts` tries.
  template <class Compute>
  static bool UntilTheStoreStandsStill(Hub* h, int attempts, std::chrono::milliseconds pause, Compute compute) {
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (attempt) std::this_thread::sleep_for(pause);
      const uint64_t before = h->store()->GetSnapshot()->seq();
      if (compute(before) && h->store()->GetSnapshot()->seq() == before) return true;
    }
    return false;
  }
  std::string dir_;
};

TEST_F(SimulateCmdTest, LoadsThroughTheIngestPathAndMergesIdentities) {
  SimulateOptions o = Options();
  o.out = dir_ + "/a.jsonl";
  auto file_run = RunSimulate(o);
  ASSERT_TRUE(file_run.ok()) << file_run.status().ToString();
  o.out = dir_ + "/b.jsonl";
  ASSERT_TRUE(RunSimulate(o).ok());
  std::string text = ReadAll(dir_ + "/a.jsonl");
  EXPECT_EQ(text, ReadAll(dir_ + "/b.jsonl"));  // same options, same bytes
  ASSERT_GT(file_run->lines, 1000u);

  o.out.clear();
  o.data = dir_ + "/data";
  auto load = RunSimulate(o);
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  EXPECT_EQ(load->lines, file_run->lines);
  EXPECT_EQ(load->accepted, load->lines);
  EXPECT_EQ(load->bad, 0u);
  // A second load is idempotent: the same messageIds are recognised as duplicates.
  auto again = RunSimulate(o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();

  // Pick a customer who browsed anonymously before signing up: all of it is theirs.
  std::map<std::string, std::string> user_of_anon;
  std::map<std::string, uint64_t> lines_of_id;
  std::string user;
  std::istringstream in(text);
  std::string line;
  std::set<std::string> anon_seen;
  while (std::getline(in, line)) {
    std::string u = Field(line, "userId"), a = Field(line, "anonymousId");
    if (u.empty() && !a.empty()) anon_seen.insert(a);
    if (!u.empty() && !a.empty() && line.find("\"type\":\"identify\"") != std::string::npos) {
      user_of_anon[a] = u;
      if (user.empty() && anon_seen.count(a)) user = u;
    }
  }
  ASSERT_FALSE(user.empty());
  uint64_t expected = 0;
  std::string email;
  in.clear();
  in.str(text);
  while (std::getline(in, line)) {
    std::string u = Field(line, "userId"), a = Field(line, "anonymousId");
    auto it = user_of_anon.find(a);
    if (u == user || (it != user_of_anon.end() && it->second == user)) ++expected;
    if (u == user && email.empty()) email = Field(line, "email");
  }
  ASSERT_FALSE(email.empty());

  auto hub = OpenHub(o.data);
  ASSERT_TRUE(hub.ok()) << hub.status().ToString();
  uint64_t stored = 0;
  ASSERT_TRUE((*hub)->store()->GetSnapshot()->ForEach([&](const store::Interaction& r) {
    stored += r.source != kCasesSource;  // case status events are Cairn's own records, not loaded lines
    return true;
  }).ok());
  EXPECT_EQ(stored, load->lines);  // nothing lost, nothing doubled by the second load
  ASSERT_TRUE((*hub)->WaitProfilesCurrent(10000));
  auto by_email = (*hub)->GetProfile(email);
  ASSERT_TRUE(by_email.ok()) << by_email.status().ToString();
  auto by_user = (*hub)->GetProfile(user);
  ASSERT_TRUE(by_user.ok());
  EXPECT_EQ(by_email->id, by_user->id);
  EXPECT_EQ(by_user->interaction_count, expected) << user;
  EXPECT_FALSE(by_user->merged_from.empty() && by_user->identities.size() < 3);
  EXPECT_TRUE((*hub)->Close().ok());
}

// Issue 4's determinism rule on the simulated business: the journey state the engine kept live
// while the history was ingested (then persisted and recovered by a restart) equals, byte for
// byte, the state `cairn rebuild` derives from the stored interactions.
TEST_F(SimulateCmdTest, LiveJourneyStateEqualsARebuildOnTheSimulatedBusiness) {
  SimulateOptions o = Options();
  o.data = dir_ + "/data";
  auto load = RunSimulate(o);
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  auto hub = OpenHub(o.data);
  ASSERT_TRUE(hub.ok()) << hub.status().ToString();
  journey::JourneyEngine* engine = (*hub)->journey();
  ASSERT_NE(engine, nullptr);
  // Compare only a live state that had every stored interaction applied, against a rebuild of
  // that same store.
  std::vector<std::pair<journey::CustomerState, journey::History>> live, rebuilt;
  const bool still = UntilTheStoreStandsStill(hub->get(), 50, std::chrono::milliseconds(100), [&](uint64_t seq) {
    EXPECT_TRUE(engine->Drain(60'000));
    const uint64_t applied = engine->Stats().applied_seq;
    live = engine->AllStates();
    EXPECT_TRUE(engine->Rebuild().ok());
    rebuilt = engine->AllStates();
    return applied == seq;
  });
  ASSERT_TRUE(still) << "the store kept moving for 50 attempts";
  ASSERT_GT(live.size(), 200u);
  ASSERT_EQ(live.size(), rebuilt.size());
  size_t differ = 0;
  for (size_t i = 0; i < live.size(); ++i) {
    bool same = std::memcmp(&live[i].first, &rebuilt[i].first, sizeof(journey::CustomerState)) == 0 &&
                live[i].second == rebuilt[i].second;
    if (!same && ++differ <= 3) ADD_FAILURE() << "customer " << live[i].first.customer << " differs after rebuild";
  }
  EXPECT_EQ(differ, 0u) << "of " << live.size() << " customers";
  EXPECT_TRUE((*hub)->Close().ok());
}

// The dashboard's segment filter through the hub's wiring (docs/dashboard.md "Segment cells"):
// after the simulated history went in through the ingest path, and more interactions through the
// open hub's pipeline (the commit stream feeds the totals' cells), the overview filtered by a
// persona, a lifecycle stage or an acquisition channel answers what a scan of the store
// restricted to the segment's members answers — every series of the trip meter, day range and all.
TEST_F(SimulateCmdTest, FilteredOverviewEqualsTheScanOfTheSegmentsMembers) {
  SimulateOptions o = Options();
  o.data = dir_ + "/data";
  auto load = RunSimulate(o);
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  auto hub = OpenHub(o.data);
  ASSERT_TRUE(hub.ok()) << hub.status().ToString();
  Hub* h = hub->get();
  journey::JourneyEngine* engine = h->journey();
  ASSERT_NE(engine, nullptr);
  dashboard::DailyTotals* totals = h->dashboard_totals();
  ASSERT_TRUE(totals->segments_enabled());
  const int64_t from = *dashboard::ParseDay("2025-02-01"), today = h->dashboard()->Today();
  auto canonical = [h](store::CustomerId c) { return h->identity()->Find(c); };

  // Members as the page filter resolves them: persona and stage by the journey, the acquisition
  // channel (first interaction by time, then seq) from the rows.
  auto members_of = [&](const dashboard::SegmentFilter& s) {
    std::vector<uint64_t> out;
    std::map<store::CustomerId, std::tuple<int64_t, uint64_t, std::string>> first;
    EXPECT_TRUE(h->store()->GetSnapshot()->ForEach([&](const store::Interaction& r) {
      auto [it, fresh] = first.try_emplace(canonical(r.customer), r.timestamp_ms, r.seq, r.channel);
      if (!fresh && std::tie(r.timestamp_ms, r.seq) < std::tie(std::get<0>(it->second), std::get<1>(it->second)))
        it->second = {r.timestamp_ms, r.seq, r.channel};
      return true;
    }).ok());
    std::set<uint64_t> journey_kept;
    bool by_journey = !s.persona.empty() || !s.lifecycle.empty();
    if (by_journey)
      for (auto c : engine->Members({s.persona, s.lifecycle})) journey_kept.insert(c);
    for (const auto& [c, f] : first)
      if ((s.channel.empty() || std::get<2>(f) == s.channel) && (!by_journey || journey_kept.count(c))) out.push_back(c);
    return out;
  };
  auto check = [&](const dashboard::SegmentFilter& s, const std::string& when) {
    SCOPED_TRACE(when + ": persona=" + s.persona + " lifecycle=" + s.lifecycle + " channel=" + s.channel);
    // Members, overview and scan are compared at one seq (at most 100 tries, 50 ms apart).
    dashboard::OverviewFilter f;
    Result<dashboard::DashboardView> view = InvalidArgument("not computed");
    std::shared_ptr<const store::Snapshot> snapshot;
    int attempt = 0;
    const bool still = UntilTheStoreStandsStill(h, 100, std::chrono::milliseconds(50), [&](uint64_t seq) {
      f = dashboard::OverviewFilter{};
      f.from_day = from;
      f.members = members_of(s);
      f.segment = s;
      f.key = when + s.persona + "|" + s.lifecycle + "|" + s.channel + "#" + std::to_string(attempt++);
      view = h->dashboard()->Overview(f);
      snapshot = h->store()->GetSnapshot();
      return view.ok() && view->as_of_seq == static_cast<int64_t>(seq);
    });
    ASSERT_TRUE(still) << "the store kept moving for 100 attempts";
    ASSERT_FALSE(f.members->empty());
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    ASSERT_TRUE(view->trip.has_value());
    const std::string mentions = "event:Competitor Considered";
    auto scan = dashboard::ComputeSeries(*snapshot, canonical, {mentions}, from, today, dashboard::SeriesOptions{}, &*f.members);
    ASSERT_TRUE(scan.ok()) << scan.status().ToString();
    EXPECT_EQ(view->as_of_seq, static_cast<int64_t>(snapshot->seq()));
    for (const auto& [metric, value] : view->trip->totals) {
      double want = 0;
      for (double v : scan->values.at(metric)) want += v;
      EXPECT_EQ(value, want) << metric;
    }
    // The mirrors' competitor mentions (from the daily totals' cells) are the scan's too.
    double want = 0;
    for (double v : scan->values.at(mentions)) want += v;
    EXPECT_EQ(view->mirrors.from_day, from);
    EXPECT_EQ(view->mirrors.total, want);
    double weeks = 0;
    for (double v : view->mirrors.mentions) weeks += v;
    EXPECT_EQ(weeks, want);
  };
  auto overview = engine->Overview(journey::OverviewFilter{});
  ASSERT_TRUE(overview.ok());
  std::vector<dashboard::SegmentFilter> segments;
  for (const auto& [persona, n] : overview->personas)
    if (n > 0) segments.push_back({persona, "", ""});
  ASSERT_GE(segments.size(), 2u) << "the simulated business has several personas";
  // Acquisition channels customers have, alone and with a persona.
  size_t channels = 0;
  for (const char* ch : {"web", "email", "mobile", "social", "store", "sms", "chat", "phone", "other"}) {
    if (channels < 2 && !members_of({"", "", ch}).empty()) segments.push_back({"", "", ch}), ++channels;
    if (channels == 2) break;
  }
  ASSERT_EQ(channels, 2u);
  if (!members_of({segments[0].persona, "", segments.back().channel}).empty())
    segments.push_back({segments[0].persona, "", segments.back().channel});
  // A lifecycle stage some customers are in now.
  for (const char* stage : {"serve", "onboard", "acquire", "grow", "retain"})
    if (!engine->Members({"", stage}).empty()) {
      segments.push_back({"", stage, ""});
      break;
    }
  for (const auto& s : segments) check(s, "after open");
  EXPECT_EQ(totals->builds(), 1u);

  // More business through the open hub: orders, complaints and sign-ups of existing customers
  // and of a new one, on channels that change an acquisition channel (a late first touch).
  std::string body = "{\"batch\":[";
  std::vector<std::string> ids;
  (void)h->store()->GetSnapshot()->ForEach([&](const store::Interaction& r) {
    std::string u = Field(r.payload, "userId");
    if (!u.empty() && ids.size() < 40 && std::find(ids.begin(), ids.end(), u) == ids.end()) ids.push_back(u);
    return ids.size() < 40;
  });
  ASSERT_GE(ids.size(), 10u);
  ids.push_back("brand-new-customer");
  for (size_t i = 0; i < ids.size(); ++i) {
    const char* event = i % 3 == 0 ? "Order Completed" : i % 3 == 1 ? "Complaint Filed" : "Signed Up";
    const char* channel = i % 2 ? "email" : "store";
    const char* when = i % 4 == 0 ? "2025-02-10T10:00:00Z" : "2025-04-20T10:00:00Z";  // some before the history
    body += (i ? "," : "") + std::string("{\"type\":\"track\",\"userId\":\"") + ids[i] + "\",\"event\":\"" + event +
            "\",\"messageId\":\"extra-" + std::to_string(i) + "\",\"timestamp\":\"" + when +
            "\",\"properties\":{\"channel\":\"" + channel + "\",\"revenue\":" + std::to_string(10 + i) + ".25}}";
  }
  body += "]}";
  ingest::IngestRequest req;
  req.body = body;
  req.historical = true;
  req.trusted_source = 1;
  req.received_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  std::promise<Result<ingest::IngestOutcome>> done;
  h->pipeline()->Ingest(std::move(req), [&](Result<ingest::IngestOutcome> r) { done.set_value(std::move(r)); });
  auto outcome = done.get_future().get();
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_EQ(outcome->accepted, ids.size()) << (outcome->rejected.empty() ? "" : outcome->rejected[0].error);
  ASSERT_TRUE(engine->Drain());
  for (const auto& s : segments) check(s, "after live ingest");
  EXPECT_EQ(totals->builds(), 1u) << "answered from the cells the commit stream fed, no rescan";
  EXPECT_TRUE(h->Close().ok());
}

// The page filter's persona / lifecycle segments (MakeSegmentMembers) come from the journey's
// member lists, not from the analytics engine's segment index: they must still be the customers
// that index keeps — after a customer denies analytics consent, and after an erasure.
TEST_F(SimulateCmdTest, SegmentMembersFromTheJourneyEqualTheAnalyticsSegmentIndex) {
  SimulateOptions o = Options();
  o.data = dir_ + "/data";
  ASSERT_TRUE(RunSimulate(o).ok());
  auto hub = OpenHub(o.data);
  ASSERT_TRUE(hub.ok()) << hub.status().ToString();
  Hub* h = hub->get();
  journey::JourneyEngine* engine = h->journey();
  ASSERT_NE(engine, nullptr);
  auto analytics = MakeAnalyticsEngine(h);
  auto members = MakeSegmentMembers(h, analytics.get(), 0);
  auto index_members = [&](const analytics::Segment& s) {
    analytics::QueryContext ctx(0);
    auto entry = analytics->IndexFor(s, ctx);
    EXPECT_TRUE(entry.ok()) << entry.status().ToString();
    return std::vector<uint64_t>(entry->index->customers().begin(), entry->index->customers().end());
  };
  std::vector<analytics::Segment> segments;
  auto overview = engine->Overview(journey::OverviewFilter{});
  ASSERT_TRUE(overview.ok());
  for (const auto& [persona, n] : overview->personas)
    if (n > 0) segments.push_back({persona, "", ""});
  ASSERT_GE(segments.size(), 2u);
  for (const char* stage : {"serve", "onboard", "acquire", "grow", "retain"})
    if (!engine->Members({"", stage}).empty()) {
      segments.push_back({"", stage, ""});
      segments.push_back({segments[0].persona, stage, ""});
      break;
    }
  auto check = [&](const std::string& when) {
    for (const auto& s : segments) {
      SCOPED_TRACE(when + ": persona=" + s.persona + " lifecycle=" + s.lifecycle);
      auto got = members(s);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, index_members(s));
    }
  };
  check("after open");
  auto first = members(segments[0]);
  ASSERT_TRUE(first.ok());
  ASSERT_GE(first->size(), 3u);

  // A member denies analytics consent: the index leaves them out, so must the journey's list.
  const store::CustomerId denied = (*first)[0], erased = (*first)[1];
  entity::ConsentInput deny;
  deny.purpose = std::string(kAnalyticsPurpose);
  deny.state = entity::ConsentState::kDenied;
  auto put = h->consents()->PutConsents("c:" + std::to_string(denied), {deny}, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto after_deny = members(segments[0]);
  ASSERT_TRUE(after_deny.ok());
  EXPECT_FALSE(std::binary_search(after_deny->begin(), after_deny->end(), denied));
  EXPECT_EQ(after_deny->size(), first->size() - 1);
  // The engine's own check (excluded_changed) drops the full index but not a segment's copy, which
  // lives on for EngineOptions::segment_ttl_ms at the same store seq: compare with a fresh one.
  analytics->Invalidate();
  check("after a consent denial");

  // An erased customer is in no segment.
  store::ErasureRequest req;
  req.customer = "c:" + std::to_string(erased);
  req.requested_by = "test";
  auto e = h->eraser()->Erase(req, 30'000);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->status, "completed");
  analytics->Invalidate();  // as main's OnErased hook does
  auto after_erase = members(segments[0]);
  ASSERT_TRUE(after_erase.ok());
  EXPECT_FALSE(std::binary_search(after_erase->begin(), after_erase->end(), erased));
  EXPECT_EQ(after_erase->size(), first->size() - 2);
  check("after an erasure");
  EXPECT_TRUE(h->Close().ok());
}

TEST_F(SimulateCmdTest, BadFlagsAreNamed) {
  SimulateOptions o = Options();
  auto r = RunSimulate(o);  // no destination
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--out"), std::string::npos);
  o.url = "http://127.0.0.1:1";
  r = RunSimulate(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--write-key"), std::string::npos);
  o.url.clear();
  o.out = dir_ + "/x.jsonl";
  o.start = "2025-13-01";
  r = RunSimulate(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--start"), std::string::npos);
}

TEST_F(SimulateCmdTest, TheShippedSimConfigIsTheDefaultsAndErrorsNameTheKey) {
  // config/sim.yaml documents the defaults: loading it must not change the business.
  sim::SimOptions defaults = sim::DefaultSimOptions(100, 365, 1, 1735689600000);
  sim::SimOptions loaded = defaults;
  Status s = ApplySimConfig(CAIRN_SOURCE_DIR "/config/sim.yaml", &loaded);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(loaded.personas.size(), defaults.personas.size());
  for (size_t i = 0; i < defaults.personas.size(); ++i) {
    EXPECT_EQ(loaded.personas[i].share, defaults.personas[i].share);
    EXPECT_EQ(loaded.personas[i].buy_propensity, defaults.personas[i].buy_propensity);
  }
  ASSERT_EQ(loaded.campaigns.size(), defaults.campaigns.size());
  for (size_t i = 0; i < defaults.campaigns.size(); ++i) {
    EXPECT_EQ(loaded.campaigns[i].name, defaults.campaigns[i].name);
    EXPECT_EQ(loaded.campaigns[i].budget, defaults.campaigns[i].budget);
    EXPECT_EQ(loaded.campaigns[i].persona_weights, defaults.campaigns[i].persona_weights);
  }
  EXPECT_EQ(loaded.targets.nps_max, defaults.targets.nps_max);

  std::ofstream(dir_ + "/bad.yaml") << "organic_share: 0.3\npersonas:\n  casual_browser: {patience: high}\n";
  s = ApplySimConfig(dir_ + "/bad.yaml", &loaded);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("personas.casual_browser.patience (line 3"), std::string::npos) << s.ToString();
  std::ofstream(dir_ + "/typo.yaml") << "organic_shares: 0.3\n";
  s = ApplySimConfig(dir_ + "/typo.yaml", &loaded);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("organic_shares (line 1, column 1): unknown key"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace cairn::app
