// Differential test: the funnel kernels against an obviously-correct reference that enumerates
// every chain (spec/funnel_spec.h, stated literally), on thousands of random tiny customers per
// option set, hundreds of seeds. Ties in time, repeated steps (rows matching several steps),
// window edges and every option are generated on purpose.

#include "analytics/exec/funnel_kernel.h"

#include <algorithm>
#include <cmath>

#include "analytics/exec/funnel_exec.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>

namespace cairn::analytics {
namespace {

struct Case {
  std::vector<int64_t> ts;
  std::vector<uint32_t> mask, excl;
};

// Reference: DFS over chains. reached bit s iff some valid chain ends performing step s.
struct Reference {
  const FunnelPlan& p;
  const Case& c;
  int32_t fixed;
  uint32_t reached = 0;

  bool Excluded(size_t ps, size_t s, size_t j, size_t i) const {
    for (size_t k = 0; k < p.exclusions.size(); ++k) {
      const auto& e = p.exclusions[k];
      if (!(ps < e.to_step && s > e.from_step)) continue;
      for (size_t x = j + 1; x < i; ++x)
        if ((c.excl[x] >> k) & 1u) return true;
    }
    return false;
  }
  void Dfs(size_t last_pos, size_t last_step, int64_t t0) {
    reached |= 1u << last_step;
    for (size_t s = last_step + 1; s < p.steps; ++s) {
      // Steps strictly between last_step and s must all be optional.
      bool skip_ok = true;
      for (size_t q = last_step + 1; q < s; ++q) skip_ok &= p.optional[q];
      if (!skip_ok) break;
      for (size_t i = last_pos + 1; i < c.ts.size(); ++i) {
        if (!((c.mask[i] >> s) & 1u)) continue;
        if (p.order == FunnelOrder::kStrict && i != last_pos + 1) continue;
        if (c.ts[i] - t0 > p.window_ms) continue;
        if (p.within_ms[s] > 0 && c.ts[i] - c.ts[last_pos] > p.within_ms[s]) continue;
        if (Excluded(last_step, s, last_pos, i)) continue;
        Dfs(i, s, t0);
      }
    }
  }
  uint32_t Run() {
    for (size_t i = 0; i < c.ts.size(); ++i) {
      if (!(c.mask[i] & 1u)) continue;
      if (fixed >= 0 && static_cast<int32_t>(i) != fixed) continue;
      Dfs(i, 0, c.ts[i]);
    }
    return reached;
  }
};

uint32_t AnyOrderReference(const FunnelPlan& p, const Case& c) {
  int best = 0;
  for (size_t i = 0; i < c.ts.size(); ++i) {
    if (!c.mask[i]) continue;
    uint32_t u = 0;
    for (size_t j = 0; j < c.ts.size(); ++j)
      if (c.ts[j] >= c.ts[i] && c.ts[j] - c.ts[i] <= p.window_ms) u |= c.mask[j];
    best = std::max(best, std::popcount(u));
  }
  return best == 0 ? 0 : ((1u << best) - 1);
}

Case RandomCase(std::mt19937_64& rng, size_t steps, size_t excls, bool multi) {
  Case c;
  const size_t n = rng() % 10;
  int64_t t = 1000;
  static const int64_t kGaps[] = {0, 0, 1, 2, 3, 5, 8};
  for (size_t i = 0; i < n; ++i) {
    t += kGaps[rng() % 7];
    c.ts.push_back(t);
    uint32_t m = 0;
    const int r = static_cast<int>(rng() % (steps + 2));
    if (r < static_cast<int>(steps)) m |= 1u << r;  // else: an unrelated event
    if (multi && m && rng() % 4 == 0) m |= 1u << (rng() % steps);  // one event in two steps
    c.mask.push_back(m);
    uint32_t x = 0;
    for (size_t k = 0; k < excls; ++k)
      if (rng() % 6 == 0) x |= 1u << k;
    c.excl.push_back(x);
  }
  return c;
}

FunnelPlan RandomPlan(std::mt19937_64& rng, int variant) {
  FunnelSpec spec;
  const size_t steps = 2 + rng() % 3;
  static const int64_t kWindows[] = {0 + 1, 1, 3, 5, 10, 100};
  for (size_t s = 0; s < steps; ++s) spec.steps.push_back({"e" + std::to_string(s), {}, false, 0});
  spec.window_ms = kWindows[rng() % 6];
  if (rng() % 6 == 0) spec.window_ms = 0 + 1;
  switch (variant) {
    case 0: break;  // reference semantics
    case 1: spec.order = FunnelOrder::kStrict; break;
    case 2:
      for (size_t s = 1; s < steps; ++s)
        if (rng() % 2) spec.steps[s].within_ms = 1 + rng() % 4;
      break;
    case 3:
      for (size_t s = 1; s + 1 < steps; ++s) spec.steps[s].optional = rng() % 2;
      break;
    case 4: {
      const size_t a = rng() % (steps - 1);
      spec.exclusions.push_back({"x", {}, a, a + 1 + rng() % (steps - 1 - a)});
      if (rng() % 2) spec.exclusions.push_back({"y", {}, 0, steps - 1});
      break;
    }
    case 5:  // everything at once
      spec.order = rng() % 2 ? FunnelOrder::kStrict : FunnelOrder::kOrdered;
      for (size_t s = 1; s < steps; ++s) {
        if (rng() % 2) spec.steps[s].within_ms = 1 + rng() % 4;
        if (s + 1 < steps) spec.steps[s].optional = rng() % 2;
      }
      spec.exclusions.push_back({"x", {}, 0, 1 + rng() % (steps - 1)});
      break;
    case 6: spec.order = FunnelOrder::kAny; break;
  }
  EXPECT_TRUE(ValidateFunnelSpec(spec).ok()) << ValidateFunnelSpec(spec).ToString();
  return FunnelPlan::From(spec);
}

class FunnelDifferential : public ::testing::TestWithParam<int> {};

TEST_P(FunnelDifferential, KernelsMatchReference) {
  const int variant = GetParam();
  FunnelScratch scratch;
  FunnelOutcome out;
  size_t compared = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    std::mt19937_64 rng(seed * 1000 + variant);
    const FunnelPlan plan = RandomPlan(rng, variant);
    for (int k = 0; k < 60; ++k) {
      const Case c = RandomCase(rng, plan.steps, plan.exclusions.size(), /*multi=*/true);
      const FunnelRows rows{c.ts, c.mask, c.excl};
      if (plan.order == FunnelOrder::kAny) {
        EvaluateAnyOrder(plan, rows, &out);
        ASSERT_EQ(out.reached, AnyOrderReference(plan, c)) << "seed " << seed << " case " << k;
        ++compared;
        continue;
      }
      const uint32_t want = Reference{plan, c, -1}.Run();
      EvaluateGeneral(plan, rows, -1, &scratch, &out);
      ASSERT_EQ(out.reached, want) << "general: seed " << seed << " case " << k;
      if (plan.fast) {
        FunnelOutcome fast;
        EvaluateFast(plan, rows, &fast);
        ASSERT_EQ(fast.reached, want) << "fast: seed " << seed << " case " << k;
        // The reported chain is defined once; both kernels must report the same times.
        for (size_t s = 1; s < plan.steps; ++s) {
          if (!((want >> s) & 1u)) continue;
          ASSERT_EQ(fast.from_first[s], out.from_first[s]) << "seed " << seed << " case " << k << " step " << s;
          ASSERT_EQ(fast.from_previous[s], out.from_previous[s]) << "seed " << seed << " case " << k << " step " << s;
        }
        if (want) {
          ASSERT_EQ(fast.chain_start_ms, out.chain_start_ms);
          ASSERT_EQ(fast.chain[0], out.chain[0]);
          ASSERT_EQ(fast.chain[fast.level - 1], out.chain[out.level - 1]);
        }
      }
      // Totals: each step-1 row as a fixed start.
      for (size_t f = 0; f < c.ts.size(); ++f) {
        if (!(c.mask[f] & 1u)) continue;
        EvaluateGeneral(plan, rows, static_cast<int32_t>(f), &scratch, &out);
        ASSERT_EQ(out.reached, (Reference{plan, c, static_cast<int32_t>(f)}.Run()))
            << "fixed start " << f << " seed " << seed << " case " << k;
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 300u * 60u);
}

std::string VariantName(const ::testing::TestParamInfo<int>& info) {
  static const char* kNames[] = {"Reference", "Strict", "PerStepWindows", "Optional", "Exclusions", "Everything", "AnyOrder"};
  return kNames[info.param];
}
INSTANTIATE_TEST_SUITE_P(Variants, FunnelDifferential, ::testing::Range(0, 7), VariantName);

// Random event columns for the vectorised row filter: 0..11 step events among `events` ids from
// `first` on (ids below `first` are rows of other events), so that the step ids lie within 32 of
// each other (the membership-set test) or not (the compare test), from id 0 or not; an event id 0
// that is a step or not (masked tail lanes load 0); repeated steps (one event in several steps).
struct RandomEvents {
  FunnelPlan plan;
  std::vector<uint32_t> lut;
  RandomEvents(std::mt19937_64& rng) {
    const size_t steps = 2 + rng() % 5;
    FunnelSpec spec;
    for (size_t s = 0; s < steps; ++s) spec.steps.push_back({"e" + std::to_string(s), {}, false, 0});
    spec.window_ms = 1 + static_cast<int64_t>(rng() % 40);
    plan = FunnelPlan::From(spec);
    static const size_t kFirst[] = {0, 0, 3, 40};
    static const size_t kEvents[] = {1, 4, 9, 16, 40, 70};
    const size_t first = kFirst[rng() % 4], events = kEvents[rng() % 6];
    lut.assign(first + events, 0);
    const size_t step_events = rng() % 12;
    for (size_t k = 0; k < step_events; ++k) lut[first + rng() % events] |= 1u << (rng() % steps);
    // Often: only a few distinct events, so that rows hit steps and customers reach the last one.
    if (rng() % 2) lut.resize(first + std::min<size_t>(events, 1 + rng() % 8));
  }
  void Rows(std::mt19937_64& rng, size_t n, std::vector<int64_t>* ts, std::vector<uint32_t>* ev) const {
    int64_t t = static_cast<int64_t>(rng() % 100);
    for (size_t i = 0; i < n; ++i) {
      t += static_cast<int64_t>(rng() % 6);
      ts->push_back(t);
      ev->push_back(static_cast<uint32_t>(rng() % lut.size()));
    }
  }
};

void ExpectSameOutcome(const FunnelOutcome& got, const FunnelOutcome& want, const std::string& where) {
  ASSERT_EQ(got.reached, want.reached) << where;
  ASSERT_EQ(got.level, want.level) << where;
  for (int s = 0; s < want.level; ++s) {
    ASSERT_EQ(got.from_first[s], want.from_first[s]) << where;
    ASSERT_EQ(got.from_previous[s], want.from_previous[s]) << where;
  }
  if (want.level > 0) {
    ASSERT_EQ(got.chain[0], want.chain[0]) << where;
    ASSERT_EQ(got.chain[want.level - 1], want.chain[want.level - 1]) << where;
    ASSERT_EQ(got.chain_start_ms, want.chain_start_ms) << where;
  }
}

// The vectorised row filter (StepEventFilter) against the scalar table lookup, one customer per
// call, on runs of every length around the 8-lane boundary.
TEST(FunnelKernel, SimdRowFilterMatchesScalar) {
  std::mt19937_64 rng(99);
  int window_sets = 0, compares = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    const RandomEvents re(rng);
    std::vector<int64_t> ts;
    std::vector<uint32_t> ev;
    re.Rows(rng, rng() % 40, &ts, &ev);
    const StepEventFilter filter = StepEventFilter::From(re.lut.data(), re.lut.size());
    window_sets += filter.usable && filter.in_window;
    compares += filter.usable && !filter.in_window;
    FunnelOutcome scalar, simd;
    EvaluateFastEvents(re.plan, ts, ev, re.lut.data(), &scalar);
    EvaluateFastEvents(re.plan, ts, ev, re.lut.data(), filter, &simd);
    ExpectSameOutcome(simd, scalar, "iter " + std::to_string(iter));
  }
#if defined(__AVX2__)
  EXPECT_GT(window_sets, 1000);
  EXPECT_GT(compares, 1000);
#endif
}

// The batch call (blocks across customers, a customer who reached every step skipped to its end)
// against one scalar call per customer: many customers of 0..30 rows, so that 8-row blocks hold
// the end of one customer and the start of others, including empty ones; every customer who
// reached step 1 reported once, in order, with positions from its first row; nobody else.
TEST(FunnelKernel, BatchMatchesOneCallPerCustomer) {
  std::mt19937_64 rng(7);
  size_t reported = 0, full = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    const RandomEvents re(rng);
    std::vector<int64_t> ts;
    std::vector<uint32_t> ev;
    std::vector<uint32_t> offsets{0};
    const size_t customers = 1 + rng() % 12;
    for (size_t c = 0; c < customers; ++c) {
      re.Rows(rng, rng() % 4 == 0 ? 0 : rng() % 31, &ts, &ev);
      offsets.push_back(static_cast<uint32_t>(ts.size()));
    }
    const StepEventFilter filter = StepEventFilter::From(re.lut.data(), re.lut.size());
    struct Collect final : FunnelSink {
      std::vector<std::pair<size_t, FunnelOutcome>> got;
      void Add(size_t c, const FunnelOutcome& out) override { got.emplace_back(c, out); }
    } sink;
    // A sub-range too: the first and last customers of the call are not those of the columns.
    const size_t cb = rng() % 3 == 0 ? rng() % customers : 0;
    const size_t ce = cb + 1 + rng() % (customers - cb);
    EvaluateFastEventsBatch(re.plan, ts.data(), ev.data(), offsets.data(), cb, ce, re.lut.data(), filter, &sink);
    size_t k = 0;
    for (size_t c = cb; c < ce; ++c) {
      const size_t b = offsets[c], n = offsets[c + 1] - b;
      FunnelOutcome want;
      std::vector<uint32_t> mask(n);
      for (size_t i = 0; i < n; ++i) mask[i] = re.lut[ev[b + i]];
      EvaluateFast(re.plan, {{ts.data() + b, n}, mask, {}}, &want);
      if (want.reached == 0) continue;
      const std::string where = "iter " + std::to_string(iter) + " customer " + std::to_string(c);
      ASSERT_LT(k, sink.got.size()) << where;
      ASSERT_EQ(sink.got[k].first, c) << where;
      ExpectSameOutcome(sink.got[k].second, want, where);
      ++k;
      ++reported;
      full += want.level == static_cast<int>(re.plan.steps);
    }
    ASSERT_EQ(k, sink.got.size()) << "iter " << iter << ": customers reported who reached nothing";
  }
  EXPECT_GT(reported, 3500u);
  EXPECT_GT(full, 800u);  // the early end of a customer who reached every step is exercised
}

__extension__ typedef __int128 Int128;

// ComputeDurationStats finds percentiles by counting into buckets and selecting within the
// ranks' buckets, not by sorting: same nearest-rank values and mean as the sorted definition, on
// random sizes with many ties, large sets (many values per bucket), spans needing a shift and
// negative values.
TEST(FunnelKernel, DurationStatsMatchSortedNearestRank) {
  std::mt19937_64 rng(5);
  for (int iter = 0; iter < 500; ++iter) {
    std::vector<int64_t> d(iter % 50 == 7 ? 100'000 + rng() % 100'000 : 1 + rng() % 300);
    const uint64_t range = iter % 2 ? 5 : iter % 3 ? 10'000'000'000ull : 70'000;
    const int64_t offset = iter % 5 == 4 ? -static_cast<int64_t>(range / 2) : 0;
    for (auto& v : d) v = static_cast<int64_t>(rng() % range) + offset;
    std::vector<int64_t> sorted = d;
    std::sort(sorted.begin(), sorted.end());
    auto pct = [&](double q) {
      size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
      return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
    };
    const DurationStats st = ComputeDurationStats(&d);
    ASSERT_EQ(st.count, sorted.size());
    ASSERT_EQ(st.min_ms, sorted.front());
    ASSERT_EQ(st.max_ms, sorted.back());
    ASSERT_EQ(st.p25_ms, pct(0.25));
    ASSERT_EQ(st.median_ms, pct(0.5));
    ASSERT_EQ(st.p75_ms, pct(0.75));
    ASSERT_EQ(st.p90_ms, pct(0.90));
    ASSERT_EQ(st.p99_ms, pct(0.99));
    Int128 sum = 0;
    for (int64_t v : sorted) sum += v;
    ASSERT_EQ(st.avg_ms, static_cast<int64_t>(sum / static_cast<Int128>(sorted.size())));
    uint64_t total = 0;
    for (uint64_t h : st.histogram) total += h;
    ASSERT_EQ(total, sorted.size());
  }
}

// The ClickHouse / funnel_ref.py example cases, by hand.
TEST(FunnelKernel, WindowIsInclusiveAndTiesKeepArrivalOrder) {
  FunnelSpec spec;
  spec.steps = {{"a", {}, false, 0}, {"b", {}, false, 0}, {"c", {}, false, 0}};
  spec.window_ms = 10;
  const FunnelPlan plan = FunnelPlan::From(spec);
  ASSERT_TRUE(plan.fast);
  FunnelOutcome out;
  // a@0 b@5 c@10: exactly at the window edge → level 3.
  Case c{{0, 5, 10}, {1, 2, 4}, {}};
  EvaluateFast(plan, {c.ts, c.mask, {}}, &out);
  EXPECT_EQ(out.level, 3);
  EXPECT_EQ(out.from_first[2], 10);
  EXPECT_EQ(out.from_previous[2], 5);
  // c@11: one past the edge → level 2.
  c.ts[2] = 11;
  EvaluateFast(plan, {c.ts, c.mask, {}}, &out);
  EXPECT_EQ(out.level, 2);
  // Same timestamp, b arrived before a: order is (timestamp, seq), so b does not follow a.
  Case tie{{5, 5}, {2, 1}, {}};
  EvaluateFast(plan, {tie.ts, tie.mask, {}}, &out);
  EXPECT_EQ(out.level, 1);
  // A later start rescues a chain the first start cannot finish: a@0 a@8 b@12 c@18.
  Case later{{0, 8, 12, 18}, {1, 1, 2, 4}, {}};
  EvaluateFast(plan, {later.ts, later.mask, {}}, &out);
  EXPECT_EQ(out.level, 3);
  EXPECT_EQ(out.chain_start_ms, 8);
}

TEST(FunnelKernel, RepeatedStepNeedsTwoDistinctInteractions) {
  FunnelSpec spec;
  spec.steps = {{"a", {}, false, 0}, {"a", {}, false, 0}};
  spec.window_ms = 100;
  const FunnelPlan plan = FunnelPlan::From(spec);
  FunnelOutcome out;
  Case one{{1}, {3}, {}};
  EvaluateFast(plan, {one.ts, one.mask, {}}, &out);
  EXPECT_EQ(out.level, 1);
  Case two{{1, 2}, {3, 3}, {}};
  EvaluateFast(plan, {two.ts, two.mask, {}}, &out);
  EXPECT_EQ(out.level, 2);
}

// Steps a, b, c, d (the default options) within 10 ms.
FunnelPlan FourStepsInTen() {
  FunnelSpec spec;
  spec.steps = {{"a", {}, false, 0}, {"b", {}, false, 0}, {"c", {}, false, 0}, {"d", {}, false, 0}};
  spec.window_ms = 10;
  return FunnelPlan::From(spec);
}

// Rows of steps already reached matter again after a later step-1 row: a@0 b@1 c@2 reach step 3
// of 4, the window passes, then a@100 b@101 c@102 d@103 must reach step 4 from the second start,
// through the scalar and the vectorised row drivers alike. (A row gate that drops a step once the
// next one is reached — tried in session 10 — fails here; the random differential cases did not.)
TEST(FunnelKernel, ALaterStartMakesStepsAlreadyReachedCountAgain) {
  const FunnelPlan plan = FourStepsInTen();
  ASSERT_TRUE(plan.fast);
  // Event ids: 0 other, 1 a, 2 b, 3 c, 4 d; filler rows between so the SIMD driver sees blocks.
  const uint32_t lut[] = {0, 1, 2, 4, 8};
  const StepEventFilter filter = StepEventFilter::From(lut, std::size(lut));
  std::vector<int64_t> ts;
  std::vector<uint32_t> ev, mask;
  auto add = [&](int64_t t, uint32_t e) {
    ts.push_back(t);
    ev.push_back(e);
    mask.push_back(lut[e]);
  };
  add(0, 1), add(1, 2), add(2, 3);
  for (int i = 0; i < 9; ++i) add(3 + i, i % 2 ? 2 : 0);  // b rows after c was reached
  add(100, 1), add(101, 2), add(101, 0), add(102, 3), add(103, 4);
  FunnelOutcome scalar, simd;
  EvaluateFast(plan, {ts, mask, {}}, &scalar);
  EvaluateFastEvents(plan, ts, ev, lut, filter, &simd);
  for (const FunnelOutcome* out : {&scalar, &simd}) {
    EXPECT_EQ(out->level, 4);
    EXPECT_EQ(out->from_first[3], 3);
    EXPECT_EQ(out->from_previous[3], 1);
    EXPECT_EQ(out->chain_start_ms, 100);
  }
}

// The one-pass kernel leaves out the repeats of a step already reached (their only effect is on
// that step's latest time) and finds from_previous of the next step by looking back for the
// latest row of the step before it: a@0 b@1 b@3 (filler) b@5 c@6 d@9 → from_previous is 1 for c
// (from b@5, not b@1) and 3 for d, through the scalar and the vectorised drivers alike; and a
// later step-1 row a@20 makes the repeated b count again (b@22 c@23: from_first 3, from_previous 1).
TEST(FunnelKernel, FromPreviousMeasuresFromTheLatestRowOfThePreviousStep) {
  const FunnelPlan plan = FourStepsInTen();
  ASSERT_TRUE(plan.fast);
  const uint32_t lut[] = {0, 1, 2, 4, 8};  // event ids: 0 other, 1 a, 2 b, 3 c, 4 d
  const StepEventFilter filter = StepEventFilter::From(lut, std::size(lut));
  struct Rows {
    std::vector<int64_t> ts;
    std::vector<uint32_t> ev, mask;
    void Add(int64_t t, uint32_t e, const uint32_t* lut) {
      ts.push_back(t);
      ev.push_back(e);
      mask.push_back(lut[e]);
    }
  };
  Rows one;
  one.Add(0, 1, lut), one.Add(1, 2, lut), one.Add(3, 2, lut);
  for (int i = 0; i < 9; ++i) one.Add(4, 0, lut);
  one.Add(5, 2, lut), one.Add(6, 3, lut), one.Add(9, 4, lut);
  Rows two;  // the first start cannot reach c: its b's are past the window when c comes
  two.Add(0, 1, lut), two.Add(1, 2, lut), two.Add(2, 2, lut);
  for (int i = 0; i < 9; ++i) two.Add(15, 0, lut);
  two.Add(20, 1, lut), two.Add(21, 0, lut), two.Add(22, 2, lut), two.Add(23, 3, lut);
  for (const Rows* r : {&one, &two}) {
    FunnelOutcome scalar, simd;
    EvaluateFast(plan, {r->ts, r->mask, {}}, &scalar);
    EvaluateFastEvents(plan, r->ts, r->ev, lut, filter, &simd);
    for (const FunnelOutcome* out : {&scalar, &simd}) {
      if (r == &one) {
        EXPECT_EQ(out->level, 4);
        EXPECT_EQ(out->from_previous[1], 1);
        EXPECT_EQ(out->from_previous[2], 1);
        EXPECT_EQ(out->from_previous[3], 3);
        EXPECT_EQ(out->from_first[3], 9);
      } else {
        EXPECT_EQ(out->level, 3);
        EXPECT_EQ(out->from_first[2], 3);
        EXPECT_EQ(out->from_previous[2], 1);
        EXPECT_EQ(out->chain_start_ms, 20);
      }
    }
  }
}

}  // namespace
}  // namespace cairn::analytics
