// Golden tests of trends / lifecycle / stickiness / paths: every *.json file under
// tests/queries/{trends,lifecycle,stickiness,paths}/ holds interactions, optional identity merges
// and queries with the expected answer. The interactions go through a real Store (MemEnv; the
// first half flushed to a segment, the rest left in the memtable) and the real EventIndex; specs
// are parsed and results encoded by the API's DTOs, so the golden JSON is the HTTP contract.
//
// File shape:
//   {"description": "...",
//    "interactions": [[customer, "2026-01-05T10:00:00Z" | ms, "Event", "channel", revenue], ...],
//    "merges": [[from, into], ...],            // from's interactions belong to into (canonical)
//    "queries": [{"kind": "trends"|"lifecycle"|"stickiness"|"paths", "spec": {...},
//                 "expected": {...} | "error": "field: ..."}]}
// Rows arrive in file order (= seq order, which breaks timestamp ties). `expected` is matched as
// a subset: every key it has must be equal in the answer (arrays element by element, exactly).
//
// Besides the goldens: randomized invariants against brute-force recomputation (uniques,
// lifecycle and stickiness counts, paths reconciliation) on many seeds.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <future>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "analytics/exec/event_index.h"
#include "analytics/exec/lifecycle.h"
#include "analytics/exec/paths.h"
#include "analytics/exec/stickiness.h"
#include "analytics/exec/trends.h"
#include "api/dto/insights_dto.h"
#include "io/mem_env.h"
#include "store/store.h"

namespace cairn::analytics {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

struct Row {
  uint64_t customer;
  int64_t ts;
  std::string event, channel;
  double revenue;
};

// A store holding `rows` (in order) and the index over it.
class Fixture {
 public:
  Status Load(const std::vector<Row>& rows, const std::map<uint64_t, uint64_t>& merges) {
    store::StoreOptions o;
    o.background_work = false;
    ASSIGN_OR_RETURN(store_, store::Store::Open(&env_, "/db", o));
    const size_t half = rows.size() / 2;
    for (int part = 0; part < 2; ++part) {
      store::Batch b;
      for (size_t i = part ? half : 0; i < (part ? rows.size() : half); ++i) {
        const Row& r = rows[i];
        store::Interaction x;
        x.customer = r.customer;
        x.timestamp_ms = r.ts;
        x.received_at_ms = r.ts;
        x.type = store::MessageType::kTrack;
        x.event = r.event;
        x.channel = r.channel;
        x.revenue = r.revenue;
        x.message_id = "m" + std::to_string(i);
        x.payload = "{}";
        b.interactions.push_back(std::move(x));
      }
      if (!b.interactions.empty()) {
        std::promise<Status> p;
        RETURN_IF_ERROR(store_->Append(std::move(b), [&](Status s) { p.set_value(s); }));
        RETURN_IF_ERROR(p.get_future().get());
      }
      if (part == 0) RETURN_IF_ERROR(store_->Flush());
    }
    auto canon = [merges](store::CustomerId id) {
      for (auto it = merges.find(id); it != merges.end(); it = merges.find(id)) id = it->second;
      return id;
    };
    snapshot_ = store_->GetSnapshot();
    ASSIGN_OR_RETURN(index_, EventIndex::Build(*snapshot_, canon, ctx_));
    return Status::Ok();
  }
  const EventIndex& index() const { return *index_; }
  const QueryContext& ctx() const { return ctx_; }

  // Runs one query of `kind` given as JSON text; the answer as JSON text, or the error.
  Result<std::string> Run(const std::string& kind, const std::string& spec) const {
    if (kind == "trends") {
      ASSIGN_OR_RETURN(auto s, api::ParseTrendsSpec(spec));
      ASSIGN_OR_RETURN(auto r, RunTrends(*index_, s, ctx_));
      return api::TrendsToJson(r);
    }
    if (kind == "lifecycle") {
      ASSIGN_OR_RETURN(auto s, api::ParseLifecycleSpec(spec));
      ASSIGN_OR_RETURN(auto r, RunLifecycle(*index_, s, ctx_));
      return api::LifecycleToJson(r);
    }
    if (kind == "stickiness") {
      ASSIGN_OR_RETURN(auto s, api::ParseStickinessSpec(spec));
      ASSIGN_OR_RETURN(auto r, RunStickiness(*index_, s, ctx_));
      return api::StickinessToJson(r);
    }
    if (kind == "paths") {
      ASSIGN_OR_RETURN(auto s, api::ParsePathsSpec(spec));
      ASSIGN_OR_RETURN(auto r, RunPaths(*index_, s, ctx_));
      return api::PathsToJson(r);
    }
    return InvalidArgument("kind: unknown '" + kind + "'");
  }

 private:
  io::MemEnv env_;
  QueryContext ctx_{0, 2};
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<store::Snapshot> snapshot_;
  std::shared_ptr<const EventIndex> index_;
};

// Subset match: every key of `want` equal in `got`; arrays exactly (element-wise subset match).
bool Matches(const json::value& want, const json::value& got, std::string path, std::string* why) {
  if (want.is_object()) {
    if (!got.is_object()) return *why = path + ": not an object", false;
    for (const auto& kv : want.as_object()) {
      const json::value* g = got.as_object().if_contains(kv.key());
      if (!g) return *why = path + "." + std::string(kv.key()) + ": missing", false;
      if (!Matches(kv.value(), *g, path + "." + std::string(kv.key()), why)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!got.is_array() || got.as_array().size() != want.as_array().size())
      return *why = path + ": array size differs", false;
    for (size_t i = 0; i < want.as_array().size(); ++i)
      if (!Matches(want.as_array()[i], got.as_array()[i], path + "[" + std::to_string(i) + "]", why)) return false;
    return true;
  }
  if (want.is_number() && got.is_number()) {
    if (std::fabs(want.to_number<double>() - got.to_number<double>()) <= 1e-9) return true;
    return *why = path + ": " + json::serialize(want) + " != " + json::serialize(got), false;
  }
  if (want == got) return true;
  return *why = path + ": " + json::serialize(want) + " != " + json::serialize(got), false;
}

std::vector<fs::path> GoldenFiles() {
  std::vector<fs::path> files;
  for (const char* dir : {"trends", "lifecycle", "stickiness", "paths"}) {
    const fs::path d = fs::path(CAIRN_QUERIES_DIR) / dir;
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::directory_iterator(d))
      if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(InsightsGolden, EveryFile) {
  const auto files = GoldenFiles();
  ASSERT_GE(files.size(), 4u) << "golden files not found under " << CAIRN_QUERIES_DIR;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    json::value doc = json::parse(ss.str(), ec);
    ASSERT_FALSE(ec) << "bad JSON: " << ec.message();
    std::vector<Row> rows;
    for (const auto& r : doc.at("interactions").as_array()) {
      const auto& a = r.as_array();
      Row row;
      row.customer = a.at(0).to_number<uint64_t>();
      if (a.at(1).is_string()) {
        auto t = api::ParseQueryTime("ts", std::string(a.at(1).as_string()));
        ASSERT_TRUE(t.ok()) << t.status().ToString();
        row.ts = *t;
      } else {
        row.ts = a.at(1).to_number<int64_t>();
      }
      row.event = std::string(a.at(2).as_string());
      row.channel = a.size() > 3 ? std::string(a.at(3).as_string()) : "";
      row.revenue = a.size() > 4 ? a.at(4).to_number<double>() : 0;
      rows.push_back(std::move(row));
    }
    std::map<uint64_t, uint64_t> merges;
    if (const auto* m = doc.as_object().if_contains("merges"))
      for (const auto& p : m->as_array()) merges[p.at(0).to_number<uint64_t>()] = p.at(1).to_number<uint64_t>();
    Fixture f;
    Status st = f.Load(rows, merges);
    ASSERT_TRUE(st.ok()) << st.ToString();
    int qi = 0;
    for (const auto& q : doc.at("queries").as_array()) {
      SCOPED_TRACE("query " + std::to_string(qi++) + ": " + json::serialize(q.at("spec")));
      auto got = f.Run(std::string(q.at("kind").as_string()), json::serialize(q.at("spec")));
      if (const auto* err = q.as_object().if_contains("error")) {
        ASSERT_FALSE(got.ok()) << "expected an error, got " << *got;
        EXPECT_NE(got.status().ToString().find(std::string(err->as_string())), std::string::npos)
            << got.status().ToString();
        continue;
      }
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      std::string why;
      EXPECT_TRUE(Matches(q.at("expected"), json::parse(*got), "$", &why)) << why << "\n  answer: " << *got;
    }
  }
}

// ---- randomized invariants vs brute force -------------------------------------------------------

// Every customer of a who list, fetched page by page (2 per page) through the `next` cursors.
template <typename Fetch>
std::vector<uint64_t> WalkPages(Fetch fetch) {
  std::vector<uint64_t> all;
  WhoPage page{2, 0};
  for (int guard = 0; guard < 10000; ++guard) {
    WhoList list = fetch(page);
    EXPECT_LE(list.customers.size(), 2u);
    all.insert(all.end(), list.customers.begin(), list.customers.end());
    if (!list.next) break;
    EXPECT_EQ(*list.next, list.customers.back());
    page.after = *list.next;
  }
  return all;
}

std::vector<Row> RandomRows(uint32_t seed, size_t customers, size_t n) {
  std::mt19937 rng(seed);
  const char* events[] = {"A", "B", "C", "D"};
  const char* channels[] = {"web", "email", ""};
  std::vector<Row> rows;
  const int64_t t0 = 1767225600000;  // 2026-01-01
  for (size_t i = 0; i < n; ++i) {
    Row r;
    r.customer = 1 + rng() % customers;
    r.ts = t0 + static_cast<int64_t>(rng() % (40 * 86400)) * 1000 * (rng() % 4 == 0 ? 0 : 1);
    r.event = events[rng() % 4];
    r.channel = channels[rng() % 3];
    r.revenue = r.event == std::string("D") ? static_cast<double>(rng() % 100) : 0;
    rows.push_back(std::move(r));
  }
  return rows;
}

TEST(InsightsRandom, MatchBruteForce) {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto rows = RandomRows(seed, 3 + seed % 20, 50 + seed * 7);
    std::map<uint64_t, uint64_t> merges;
    if (seed % 3 == 0) merges[2] = 1;  // customer 2 merged into 1
    auto canon = [&](uint64_t c) { return merges.count(c) ? merges[c] : c; };
    Fixture f;
    ASSERT_TRUE(f.Load(rows, merges).ok());
    const int64_t from = 1767225600000 + 3 * kDayMs, to = from + 21 * kDayMs;

    // trends: uniques of A per day and in total
    TrendsSpec ts;
    ts.event = "A";
    ts.measure = TrendsSpec::Measure::kUniques;
    ts.from_ms = from;
    ts.to_ms = to;
    auto tr = RunTrends(f.index(), ts, f.ctx());
    ASSERT_TRUE(tr.ok());
    std::map<int64_t, std::set<uint64_t>> per_day;
    std::set<uint64_t> all;
    for (const Row& r : rows)
      if (r.event == "A" && r.ts >= from && r.ts < to) {
        per_day[PeriodOf(r.ts, Period::kDay)].insert(canon(r.customer));
        all.insert(canon(r.customer));
      }
    ASSERT_EQ(tr->current.series.size(), 1u);
    ASSERT_EQ(tr->current.series[0].values.size(), 21u);
    for (size_t d = 0; d < 21; ++d)
      EXPECT_EQ(tr->current.series[0].values[d], per_day[PeriodOf(from, Period::kDay) + d].size());
    EXPECT_EQ(tr->current.series[0].total, all.size());

    // trends: sum by channel, top 1 + other, adds up to the unbroken sum
    ts.event = "D";
    ts.measure = TrendsSpec::Measure::kSum;
    ts.breakdown = TrendsSpec::Breakdown::kChannel;
    ts.top_n = 1;
    auto tb = RunTrends(f.index(), ts, f.ctx());
    ASSERT_TRUE(tb.ok());
    double total = 0, want = 0;
    for (const auto& s : tb->current.series) total += s.total;
    for (const Row& r : rows)
      if (r.event == "D" && r.ts >= from && r.ts < to) want += r.revenue;
    EXPECT_DOUBLE_EQ(total, want);

    // lifecycle (week) and stickiness (day) over any event
    std::map<uint64_t, std::set<int64_t>> weeks, days;
    for (const Row& r : rows) {
      weeks[canon(r.customer)].insert(PeriodOf(r.ts, Period::kWeek));
      if (r.ts >= from && r.ts < to) days[canon(r.customer)].insert(PeriodOf(r.ts, Period::kDay));
    }
    LifecycleSpec ls;
    ls.from_ms = from;
    ls.to_ms = to;
    auto lr = RunLifecycle(f.index(), ls, f.ctx());
    ASSERT_TRUE(lr.ok());
    for (const auto& row : lr->rows) {
      const int64_t p = PeriodOf(row.start_ms, Period::kWeek);
      uint64_t n = 0, ret = 0, res = 0, dor = 0;
      for (const auto& [c, w] : weeks) {
        const bool act = w.count(p), before = w.count(p - 1), first = *w.begin() == p;
        if (act && first) ++n;
        else if (act && before) ++ret;
        else if (act) ++res;
        else if (before) ++dor;
      }
      EXPECT_EQ(row.new_customers, n) << row.start;
      EXPECT_EQ(row.returning, ret) << row.start;
      EXPECT_EQ(row.resurrecting, res) << row.start;
      EXPECT_EQ(row.dormant, dor) << row.start;
    }
    StickinessSpec ss;
    ss.from_ms = from;
    ss.to_ms = to;
    auto sr = RunStickiness(f.index(), ss, f.ctx());
    ASSERT_TRUE(sr.ok());
    std::vector<uint64_t> hist(21, 0);
    for (const auto& [c, d] : days) ++hist[d.size() - 1];
    EXPECT_EQ(sr->counts, hist);

    // who lists: exactly the brute-force customers of each stickiness bar and lifecycle cell,
    // whole and walked page by page (limit 2)
    for (uint32_t k = 1; k <= 21; ++k) {
      std::vector<uint64_t> want;
      for (const auto& [c, d] : days)
        if (d.size() == k) want.push_back(c);
      ss.who = StickinessWho{k, {}};
      auto all = RunStickiness(f.index(), ss, f.ctx());
      ASSERT_TRUE(all.ok());
      EXPECT_EQ(all->who->customers, want) << "stickiness k=" << k;
      EXPECT_EQ(WalkPages([&](WhoPage page) {
                  ss.who->page = page;
                  return RunStickiness(f.index(), ss, f.ctx())->who.value();
                }),
                want)
          << "stickiness pages k=" << k;
    }
    for (const auto& row : lr->rows) {
      const int64_t p = PeriodOf(row.start_ms, Period::kWeek);
      std::vector<uint64_t> want[4];
      for (const auto& [c, w] : weeks) {
        const bool act = w.count(p), before = w.count(p - 1), first = *w.begin() == p;
        if (act && first) want[0].push_back(c);
        else if (act && before) want[1].push_back(c);
        else if (act) want[2].push_back(c);
        else if (before) want[3].push_back(c);
      }
      for (int kind = 0; kind < 4; ++kind) {
        ls.who = LifecycleWho{static_cast<LifecycleStatus>(kind), row.start_ms, {}};
        auto got = RunLifecycle(f.index(), ls, f.ctx());
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(got->who->customers, want[kind]) << row.start << " kind " << kind;
        EXPECT_EQ(got->who_period, row.start);
        EXPECT_EQ(WalkPages([&](WhoPage page) {
                    ls.who->page = page;
                    return RunLifecycle(f.index(), ls, f.ctx())->who.value();
                  }),
                  want[kind]);
      }
    }

    // paths: reconciliation at every step; step 0 = customers with the anchor in range
    PathsSpec ps;
    ps.anchor = "A";
    ps.depth = 4;
    ps.max_nodes_per_step = 2;
    ps.direction = seed % 2 ? PathsSpec::Direction::kNext : PathsSpec::Direction::kPrevious;
    ps.collapse_repeats = seed % 4 == 1;
    ps.from_ms = from;
    ps.to_ms = to;
    auto pr = RunPaths(f.index(), ps, f.ctx());
    ASSERT_TRUE(pr.ok());
    std::set<uint64_t> anchored;
    for (const Row& r : rows)
      if (r.event == "A" && r.ts >= from && r.ts < to) anchored.insert(canon(r.customer));
    EXPECT_EQ(pr->customers, anchored.size());
    uint64_t reaching = pr->customers;
    for (uint32_t step = 0; step <= ps.depth; ++step) {
      uint64_t count = 0, drop = 0;
      for (const auto& n : pr->nodes)
        if (n.step == step) {
          count += n.count, drop += n.dropoff;
          uint64_t out = 0;
          for (const auto& l : pr->links)
            if (l.source == n.id) out += l.count;
          EXPECT_EQ(n.count, n.dropoff + out) << n.id;
        }
      EXPECT_EQ(count, reaching) << "step " << step;
      reaching -= drop;
    }
    EXPECT_EQ(reaching, 0u);

    // paths who: every node's list has its count (reached) and dropoff (dropped) customers, every
    // link's its count; a step's node lists partition the customers still on a path there, and
    // step 0 lists exactly the customers with the anchor in range
    auto who_of = [&](PathsWho who) {
      PathsSpec q = ps;
      q.who = who;
      auto r = RunPaths(f.index(), q, f.ctx());
      EXPECT_TRUE(r.ok());
      EXPECT_EQ(r->nodes.size(), pr->nodes.size());  // the answer itself is unchanged
      const std::vector<uint64_t> ids = r->who->customers;
      EXPECT_EQ(WalkPages([&](WhoPage page) {
                  q.who->page = page;
                  return RunPaths(f.index(), q, f.ctx())->who.value();
                }),
                ids);
      return ids;
    };
    std::map<uint32_t, std::set<uint64_t>> per_step;
    for (const auto& n : pr->nodes) {
      WhoPage all{10000, 0};
      auto reached = who_of(PathsWho{PathsWho::Kind::kNode, n.step, n.event, "", all});
      EXPECT_EQ(reached.size(), n.count) << n.id;
      EXPECT_TRUE(std::is_sorted(reached.begin(), reached.end()));
      for (uint64_t c : reached) EXPECT_TRUE(per_step[n.step].insert(c).second) << n.id << " lists c:" << c << " twice";
      auto dropped = who_of(PathsWho{PathsWho::Kind::kDropped, n.step, n.event, "", all});
      EXPECT_EQ(dropped.size(), n.dropoff) << n.id;
      EXPECT_TRUE(std::includes(reached.begin(), reached.end(), dropped.begin(), dropped.end())) << n.id;
    }
    EXPECT_EQ(per_step[0], anchored);
    for (const auto& l : pr->links) {
      const size_t colon_s = l.source.find(':'), colon_t = l.target.find(':');
      const uint32_t step = static_cast<uint32_t>(std::stoul(l.source.substr(0, colon_s)));
      auto took = who_of(PathsWho{PathsWho::Kind::kLink, step, l.source.substr(colon_s + 1),
                                  l.target.substr(colon_t + 1), WhoPage{10000, 0}});
      EXPECT_EQ(took.size(), l.count) << l.source << " -> " << l.target;
      for (uint64_t c : took) EXPECT_TRUE(per_step[step + 1].count(c)) << "c:" << c << " took " << l.target;
    }
  }
}

}  // namespace
}  // namespace cairn::analytics
