// Golden journeys: tests/queries/journey/*.test — interactions in, expected state, emotion and
// signals out. The language (one command per line, # comments) is documented in
// tests/queries/journey/README.md. Every file ends with a live-vs-rebuild byte comparison.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "journey/journey_test_util.h"

namespace cairn::journey {
namespace {

using testing::Harness;

// "0", "3d", "3d12h", "90m" → ms after 2026-01-01.
bool ParseOffset(std::string_view t, int64_t* ms) {
  *ms = 0;
  if (t == "0") return true;
  while (!t.empty()) {
    size_t i = 0;
    while (i < t.size() && isdigit(static_cast<unsigned char>(t[i]))) ++i;
    size_t j = i;
    while (j < t.size() && isalpha(static_cast<unsigned char>(t[j]))) ++j;
    int64_t part;
    if (i == 0 || !ParseDuration(t.substr(0, j), &part)) return false;
    *ms += part;
    t = t.substr(j);
  }
  return true;
}

std::vector<std::string> Split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

double JsonNumber(const std::string& json, const std::string& key) {
  auto p = json.find("\"" + key + "\":");
  if (p == std::string::npos) return 0;
  return std::atof(json.c_str() + p + key.size() + 3);
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Journey) {
  std::ifstream in(GetParam());
  ASSERT_TRUE(in) << GetParam();
  std::unique_ptr<Harness> h = std::make_unique<Harness>(testing::DefaultMap(), "/journey");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string where = GetParam() + ":" + std::to_string(n) + ": ";
    if (line.empty() || line[0] == '#') continue;
    auto w = Split(line);
    if (w.empty()) continue;
    const std::string& cmd = w[0];
    SCOPED_TRACE(where + line);
    if (cmd == "map-begin") {
      std::string yaml, l;
      while (std::getline(in, l) && l != "map-end") {
        ++n;
        yaml += l + "\n";
      }
      ++n;
      std::vector<MapErrorView> errors;
      auto r = h->engine->PutMap(yaml, &errors);
      ASSERT_TRUE(r.ok()) << where << r.status().ToString();
      ASSERT_TRUE(h->engine->Drain());
    } else if (cmd == "track" || cmd == "page" || cmd == "identify") {
      ASSERT_GE(w.size(), 3u) << where << "expected: " << cmd << " <t> <customer> ...";
      int64_t off;
      ASSERT_TRUE(ParseOffset(w[1], &off)) << where << "bad time " << w[1];
      std::string rest;
      size_t brace = line.find('{');
      std::string json = brace == std::string::npos ? "{}" : line.substr(brace);
      std::string event;
      for (size_t i = 3; i < w.size() && w[i][0] != '{'; ++i) event += (event.empty() ? "" : " ") + w[i];
      store::MessageType type = cmd == "track" ? store::MessageType::kTrack
                                : cmd == "page" ? store::MessageType::kPage
                                                : store::MessageType::kIdentify;
      h->Send(w[2], type, event, testing::kBase + off, json, JsonNumber(json, "revenue"));
    } else if (cmd == "value") {
      // value <customer> [none | field=number ...]: the value module's facts of the customer (the
      // persona rules' value fields); `none`: the customer has no value fit.
      ASSERT_GE(w.size(), 3u) << where << "expected: value <customer> none|field=number ...";
      const store::CustomerId c = h->Root(w[1]);
      std::lock_guard lock(h->facts_mu);
      if (w[2] == "none") {
        h->value_facts.erase(c);
        continue;
      }
      ValueFacts f;
      for (size_t i = 2; i < w.size(); ++i) {
        auto eq = w[i].find('=');
        ASSERT_NE(eq, std::string::npos) << where << "expected field=number, got " << w[i];
        const std::string k = w[i].substr(0, eq);
        const double v = std::atof(w[i].c_str() + eq + 1);
        if (k == "clv") f.clv = v;
        else if (k == "prob_alive") f.prob_alive = v;
        else if (k == "expected_purchases") f.expected_purchases = v;
        else if (k == "recency_days") f.recency_days = v;
        else if (k == "tenure_days") f.tenure_days = v;
        else if (k == "purchase_days") f.purchase_days = v;
        else if (k == "average_spend") f.average_spend = v;
        else if (k.starts_with("channel.")) {
          size_t g = 0;
          while (g < std::size(kPersonaChannels) && kPersonaChannels[g] != k.substr(8)) ++g;
          ASSERT_LT(g, std::size(kPersonaChannels)) << where << "unknown channel group " << k;
          f.channel[g] = v;
        } else {
          FAIL() << where << "unknown value fact " << k;
        }
      }
      h->value_facts[c] = f;
    } else if (cmd == "merge") {
      ASSERT_EQ(w.size(), 3u) << where << "expected: merge <into> <from>";
      h->Merge(w[1], w[2]);
    } else if (cmd == "tick") {
      int64_t off;
      ASSERT_TRUE(w.size() == 2 && ParseOffset(w[1], &off)) << where;
      h->clock.Set(testing::kBase + off);
      h->engine->Tick(testing::kBase + off);
    } else if (cmd == "rates") {
      h->engine->RecomputeRates();  // what the worker does every minute
    } else if (cmd == "restart") {
      h->Restart();
    } else if (cmd == "rebuild-equal") {
      h->ExpectRebuildEqual();
    } else if (cmd == "signal") {
      ASSERT_EQ(w.size(), 3u) << where << "expected: signal <customer> <path>";
      std::lock_guard lock(h->listener.mu);
      auto& sigs = h->listener.signals;
      auto it = std::find_if(sigs.begin(), sigs.end(), [&](const Signal& s) {
        return s.customer == h->Root(w[1]) && s.path == w[2];
      });
      std::string got;
      for (const auto& s : sigs) got += " " + std::to_string(s.customer) + ":" + s.path;
      ASSERT_TRUE(it != sigs.end()) << where << "no " << w[2] << " signal for " << w[1] << "; got:" << got;
      EXPECT_FALSE(it->reasons.empty()) << where << "signal without reasons";
      sigs.erase(it);
    } else if (cmd == "no-signals") {
      auto sigs = h->listener.Take();
      std::string got;
      for (const auto& s : sigs) got += " " + std::to_string(s.customer) + ":" + s.path + "(" + s.reasons[0] + ")";
      EXPECT_TRUE(sigs.empty()) << where << "unexpected signals:" << got;
    } else if (cmd == "expect") {
      ASSERT_GE(w.size(), 3u) << where;
      auto j = h->engine->GetJourney(w[1]);
      ASSERT_TRUE(j.ok()) << where << j.status().ToString();
      for (size_t i = 2; i < w.size(); ++i) {
        auto eq = w[i].find('=');
        ASSERT_NE(eq, std::string::npos) << where << "expected key=value, got " << w[i];
        std::string k = w[i].substr(0, eq), v = w[i].substr(eq + 1);
        std::string got;
        if (k == "phase") got = j->phase.stage;
        else if (k == "lifecycle") got = j->lifecycle.stage;
        else if (k == "funnel") got = j->funnel.stage;
        else if (k == "emotion") got = j->emotion_label;
        else if (k == "persona") got = j->persona;
        else if (k == "basis") got = j->journey_value_basis;
        else if (k == "orders") got = std::to_string(j->orders);
        else if (k == "interactions") got = std::to_string(j->interactions);
        else if (k == "stuck") got = j->funnel.stuck ? "true" : "false";
        else if (k == "transitions") got = std::to_string(j->history.size());
        else if (k == "derailing") {
          for (const auto& d : j->derailing) got += (got.empty() ? "" : ",") + d;
          if (got.empty()) got = "-";
        } else if (k == "score" || k == "revenue" || k == "value" || k == "at_stake") {
          double g = k == "score" ? j->emotion_score : k == "revenue" ? j->realised_value : k == "value" ? j->journey_value : j->value_at_stake;
          EXPECT_NEAR(g, std::atof(v.c_str()), 0.51) << where << k;
          continue;
        } else if (k == "score_above" || k == "score_below") {
          double lim = std::atof(v.c_str());
          if (k == "score_above") EXPECT_GT(j->emotion_score, lim) << where;
          else EXPECT_LT(j->emotion_score, lim) << where;
          continue;
        } else {
          FAIL() << where << "unknown expectation key " << k;
        }
        EXPECT_EQ(got, v) << where << k << " of " << w[1];
      }
    } else {
      FAIL() << where << "unknown command " << cmd;
    }
  }
  h->ExpectRebuildEqual();
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(CAIRN_JOURNEY_GOLDEN_DIR))
    if (e.path().extension() == ".test") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Journeys, GoldenTest, ::testing::ValuesIn(GoldenFiles()), [](const auto& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
});

}  // namespace
}  // namespace cairn::journey
