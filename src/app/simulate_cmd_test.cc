// `cairn simulate` end to end: the simulated history through the real ingest path into a data
// dir, read back through the store and the customer directory.

#include "app/simulate_cmd.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "app/cases_wiring.h"
#include "app/hub.h"
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
  auto live = engine->AllStates();
  ASSERT_GT(live.size(), 200u);
  ASSERT_TRUE(engine->Rebuild().ok());
  auto rebuilt = engine->AllStates();
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
