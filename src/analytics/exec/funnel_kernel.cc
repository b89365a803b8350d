#include "analytics/exec/funnel_kernel.h"

#include <algorithm>
#include <bit>
#include <cstdlib>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace cairn::analytics {

FunnelPlan FunnelPlan::From(const FunnelSpec& spec) {
  FunnelPlan p;
  p.steps = spec.steps.size();
  p.window_ms = spec.window_ms;
  p.order = spec.order;
  bool any_within = false, any_optional = false;
  for (const auto& s : spec.steps) {
    p.within_ms.push_back(s.within_ms);
    p.optional.push_back(s.optional);
    any_within |= s.within_ms > 0;
    any_optional |= s.optional;
  }
  for (const auto& e : spec.exclusions) p.exclusions.push_back({e.from_step, e.to_step});
  p.fast = spec.order == FunnelOrder::kOrdered && !any_within && !any_optional && spec.exclusions.empty();
  return p;
}

void FunnelOutcome::Reset(size_t steps) {
  reached = 0;
  level = 0;
  chain_start_ms = kNoTime;
  for (size_t s = 0; s < steps; ++s) {
    from_first[s] = from_previous[s] = 0;
    chain[s] = -1;
  }
}

// Which rows can still change a customer's outcome, for the row drivers to skip the others
// without visiting them. A row matching only step s > 0 does something only when some chain has
// reached step s-1 (start[s-1] set: once step s-1 was reached, ever) and is within the window of
// that chain's start; every chain starts at or before the latest step-1 row, start[0], so once a
// row's time is past start[0] + window (`deadline`) only step-1 rows can do anything until the
// next one. Hence: `active` = the steps whose rows may matter (bit 0, plus s for every reached
// s-1 — narrowed further by FastState), valid up to `deadline`; after it, only bit 0. Drivers may
// visit more rows than these (extra visits change nothing), never fewer.
struct Gate {
  uint32_t active = 1;
  int64_t deadline = INT64_MIN;  // no step-1 row yet: nothing but step 1 matters
  uint32_t At(int64_t t) const { return t > deadline ? 1u : active; }
};

// One pass (ClickHouse windowFunnel): start[s] = the latest start time of any chain that has
// reached step s so far. A later start dominates (its deadline is later), so one value per step
// suffices; a row matching several steps is applied from the highest step down so it extends a
// chain that ended strictly before it. The first time step s is reached is the reported chain.
// One customer at a time: Begin, Visit its rows in order (positions within its rows), Finish.
// Visit keeps `gate` up to date; it returns false once every step is reached (nothing later can
// change the outcome).
//
// The gate leaves out the rows of a step s already reached whose chain is current: applying such
// a row sets start[s] to the start it already holds (start_pos[s] == start_pos[s-1]), so its only
// effect would be on the time of step s's latest row, which matters once — for from_previous[s+1]
// when step s+1 is first reached — and is found then by looking back (`latest`, below). Step s is
// in the gate while unreached, or while its start lags step s-1's (`lagging` bit s: a later
// step-1 row moved the chain's start and this step has not followed yet). On journey-shaped data
// (one step-1 row) this visits each step's first reaching row and nothing else.
struct FastState {
  FastState(const FunnelPlan& plan, FunnelOutcome* o)
      : n(plan.steps), full(plan.steps == 32 ? ~0u : ((1u << plan.steps) - 1)), window(plan.window_ms), out(o) {}
  const size_t n;
  const uint32_t full;
  const int64_t window;
  FunnelOutcome* const out;
  Gate gate;
  uint32_t lagging = 0;                // bit s: start_pos[s] != start_pos[s-1], step s-1 reached
  // start[s], start_pos[s] (the chain's first row) are set when step s is first reached and read
  // only once it is: Begin leaves them as they are.
  int64_t start[kMaxFunnelSteps];
  int32_t start_pos[kMaxFunnelSteps];
  int32_t first_start_pos[kMaxFunnelSteps];
  int32_t first_pos[kMaxFunnelSteps];

  void Begin() {
    out->reached = 0;  // the rest of *out is written by Visit (steps reached) and Finish
    lagging = 0;
    gate = Gate{};
  }
  // Visits row i (time t, step mask m). latest(i, s) is the time of the latest row before i whose
  // mask has step s — every such row between the last one applied to step s and a row i that
  // first reaches step s+1 is within the window (starts only grow and t(i) - start[s] <= window),
  // so it is the row the full pass would have applied last: the one from_previous[s+1] measures
  // from. Called once per step reached (s >= 1); it always finds a row (step s was applied).
  // Inlined into the drivers' loops on purpose: GCC kept the visit an out-of-line call per visited
  // row (spilling the driver's registers around it), a third of the kernel's time on journey data.
  template <typename Latest>
  __attribute__((always_inline)) bool Visit(int32_t i, int64_t t, uint32_t m, Latest latest) {
    do {
      const int s = 31 - std::countl_zero(m);
      m &= ~(1u << s);
      if (s == 0) {
        start[0] = t;
        start_pos[0] = i;
        lagging |= 2u;
        gate.deadline = t > INT64_MAX - window ? INT64_MAX : t + window;
        if (!(out->reached & 1u)) {
          out->reached |= 1u;
          first_start_pos[0] = first_pos[0] = i;
        }
      } else if (((out->reached >> (s - 1)) & 1u) && t - start[s - 1] <= window) {
        if (!(out->reached & (1u << s))) {
          out->reached |= 1u << s;
          out->from_first[s] = t - start[s - 1];
          // Every step-1 row is applied, so step 1's latest row is the chain's start.
          out->from_previous[s] = t - (s == 1 ? start[0] : latest(i, s - 1));
          first_start_pos[s] = start_pos[s - 1];
          first_pos[s] = i;
          start[s] = start[s - 1];
          start_pos[s] = start_pos[s - 1];
          lagging |= 2u << s;
        } else if (start_pos[s] != start_pos[s - 1]) {
          start[s] = start[s - 1];
          start_pos[s] = start_pos[s - 1];
          lagging |= 2u << s;
        }
        lagging &= ~(1u << s);
      }
    } while (m);
    const uint32_t reached = out->reached;
    gate.active = (1u | ((reached << 1) & ~reached) | lagging) & full;
    return reached != full;
  }
  // ts: the customer's first row's time (positions index from it).
  void Finish(const int64_t* ts) {
    const uint32_t reached = out->reached;
    const int top = reached == 0 ? -1 : 31 - std::countl_zero(reached);
    out->level = top + 1;
    out->chain_start_ms = reached == 0 ? kNoTime : ts[first_start_pos[top]];
    // The rest of what FunnelOutcome::Reset leaves (0 and -1) for the steps not reached, here
    // rather than by Reset at Begin: GCC turned Reset's loops into three memset calls, per
    // customer. Only the first and the last row of the reported chain are tracked here
    // (first/last-touch attribution); step attribution uses EvaluateGeneral.
    for (int s = 0; s < static_cast<int>(n); ++s) {
      const bool set = s > 0 && ((reached >> s) & 1u);
      out->from_first[s] = set ? out->from_first[s] : 0;
      out->from_previous[s] = set ? out->from_previous[s] : 0;
      out->chain[s] = s == top ? first_pos[top] : s == 0 && top > 0 ? first_start_pos[top] : -1;
    }
  }
};

// FastState::Visit's `latest` over a customer's rows: ts and mask_at(k) of its row k.
template <typename MaskAt>
static inline auto LatestOf(const int64_t* ts, MaskAt mask_at) {
  return [ts, mask_at](int32_t i, int s) __attribute__((always_inline)) {
    int32_t k = i - 1;
    while (k > 0 && !((mask_at(k) >> s) & 1u)) --k;
    return ts[k];
  };
}

// One customer, the scalar row driver: one mask per row; rows outside the gate are skipped (their
// time is read only for rows that match some step).
template <typename MaskAt>
static inline void ScalarKernel(const FunnelPlan& plan, const int64_t* ts, size_t count, MaskAt mask_at,
                                FunnelOutcome* out) {
  FastState st(plan, out);
  st.Begin();
  const auto latest = LatestOf(ts, mask_at);
  for (size_t i = 0; i < count; ++i) {
    const uint32_t m = mask_at(i);
    if (m == 0) [[likely]] continue;
    if (!(m & st.gate.At(ts[i]))) continue;
    if (!st.Visit(static_cast<int32_t>(i), ts[i], m, latest)) break;
  }
  st.Finish(ts);
}

void EvaluateFast(const FunnelPlan& plan, const FunnelRows& rows, FunnelOutcome* out) {
  const uint32_t* mask = rows.step_mask.data();
  ScalarKernel(plan, rows.ts.data(), rows.ts.size(), [mask](size_t i) { return mask[i]; }, out);
}

void EvaluateFastEvents(const FunnelPlan& plan, std::span<const int64_t> ts, std::span<const uint32_t> events,
                        const uint32_t* step_mask_by_event, FunnelOutcome* out) {
  const uint32_t* ev = events.data();
  ScalarKernel(plan, ts.data(), ts.size(), [ev, step_mask_by_event](size_t i) { return step_mask_by_event[ev[i]]; },
               out);
}

StepEventFilter StepEventFilter::From(const uint32_t* step_mask_by_event, size_t event_count) {
  StepEventFilter f;
  uint32_t lo = UINT32_MAX, hi = 0;
  for (size_t e = 0; e < event_count; ++e) {
    if (step_mask_by_event[e] == 0) continue;
    if (f.count < kMaxIds) f.ids[f.count] = static_cast<uint32_t>(e);
    ++f.count;
    lo = std::min(lo, static_cast<uint32_t>(e));
    hi = std::max(hi, static_cast<uint32_t>(e));
  }
  f.in_window = f.count > 0 && hi - lo < 32;
  if (f.count > kMaxIds && !f.in_window) return StepEventFilter{};
  for (int k = std::min(f.count, kMaxIds); k < kMaxIds; ++k) f.ids[k] = f.ids[0];
  if (f.in_window) {
    f.base = lo;
    for (uint32_t e = lo; e <= hi; ++e) {
      const uint32_t m = step_mask_by_event[e];
      if (m == 0) continue;
      for (uint32_t b = m; b; b &= b - 1) f.step_bits[std::countr_zero(b)] |= 1u << (e - lo);
    }
  }
#if defined(__AVX2__)
  f.usable = true;  // count 0 too: every row is skipped
#endif
  return f;
}

#if defined(__AVX2__)
// The row tests of the SIMD driver: Set(act) makes Hits(v) report the lanes of 8 event ids that
// match a step in `act` (a prefix of the steps: bits 0..k), always including step 1's events.
//
// IdCompare: one compare per step event id of `act`; unused slots repeat an active id.
template <int kIds>
struct IdCompare {
  const StepEventFilter* f;
  const uint32_t* lut;
  __m256i id[kIds] = {};
  void Set(uint32_t act) {
    int k = 0;
    uint32_t first = UINT32_MAX;
    for (int j = 0; j < f->count; ++j) {
      if (!(lut[f->ids[j]] & act)) continue;
      if (first == UINT32_MAX) first = f->ids[j];
      id[k++] = _mm256_set1_epi32(static_cast<int>(f->ids[j]));
    }
    // No step-1 event at all: nothing can ever match; compare against an id no row has.
    const __m256i pad = _mm256_set1_epi32(static_cast<int>(first));
    for (; k < kIds; ++k) id[k] = pad;
  }
  uint32_t Hits(__m256i v) const {
    __m256i h = _mm256_cmpeq_epi32(v, id[0]);
    for (int k = 1; k < kIds; ++k) h = _mm256_or_si256(h, _mm256_cmpeq_epi32(v, id[k]));
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(h)));
  }
};

// IdWindow (every step id in [base, base + 32)): lane bit = bit (id - base) of the active set,
// by one variable shift; ids below base wrap to shift counts >= 32, which give 0, as do ids at or
// past base + 32. Set ORs the active steps' id bits and broadcasts, so the gate may change often
// at little cost.
struct IdWindow {
  const StepEventFilter* f;
  const uint32_t* lut;  // unused; the same construction as IdCompare
  __m256i base = _mm256_set1_epi32(static_cast<int>(f->base));
  __m256i set = _mm256_setzero_si256();
  void Set(uint32_t act) {
    uint32_t bits = 0;
    for (; act; act &= act - 1) bits |= f->step_bits[std::countr_zero(act)];
    set = _mm256_set1_epi32(static_cast<int>(bits));
  }
  uint32_t Hits(__m256i v) const {
    const __m256i bit = _mm256_srlv_epi32(set, _mm256_sub_epi32(v, base));
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(bit, 31))));
  }
};

// The SIMD driver, over the rows of many customers at once (customer c's rows are
// [offsets[c], offsets[c+1]) of the columns): 8 event ids per test against the step events of the
// gate's active steps, movemask, then visit the set lanes. Blocks run across customer boundaries,
// so a customer costs nothing of its own — no loop set-up, no tail, no mispredicted loop exit per
// customer (those were half of the kernel's time at ~50 rows per customer) — unless one of its
// rows is visited; customers without visits are never begun and never reported.
//
// The test set follows the gate of the customer being visited: changed only when the gate changes
// (a step reached for the first time, a block past the deadline, a step-1 row after it, the next
// customer begun), at most a few times per customer, so most rows — those before a customer's
// first step-1 row and those past the window of its latest one — cost one test per 8 rows and no
// visit. Rows of another customer in a block are tested with the set of the one being visited:
// the set always has step 1's events (the only ones that matter to a customer not begun yet), and
// visits of more rows change nothing. The block test's `ts[i] > deadline` compares the block's
// first row with the visited customer's deadline: if that row is the visited customer's, its rows
// from there on are past the window; if it is a later customer's, the set falls to step 1's
// events, which is all that later customer needs. The last block (< 8 rows) is a masked load,
// which never touches memory past the rows; its inactive lanes are masked out of the hits.
template <typename Match>
class BatchDriver {
 public:
  BatchDriver(const FunnelPlan& plan, const int64_t* ts, const uint32_t* ev, const uint32_t* offsets, size_t cb,
              const uint32_t* lut, const StepEventFilter& f, FunnelOutcome* out, FunnelSink* sink)
      : st_(plan, out), match_{&f, lut}, ts_(ts), ev_(ev), offsets_(offsets), lut_(lut), out_(out), sink_(sink),
        c_(cb), c_begin_(offsets[cb]), c_end_(offsets[cb + 1]) {
    match_.Set(1u);
  }

  void Run(size_t begin, size_t end) {
    size_t i = begin;
    while (i + 8 <= end) {
      // Timestamps are read only at visits, a few sparse rows per customer, which the hardware
      // prefetcher does not follow: without this, the load of ts[j] in a visit (a cache miss) was
      // the kernel's hottest instruction. 32 rows (4 lines) ahead, measured against 16 and 64.
      __builtin_prefetch(ts_ + i + 32);
      if (active_ != 1u && ts_[i] > st_.gate.deadline) Rebuild(1u);  // the block is past the window
      const uint32_t bits = match_.Hits(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ev_ + i)));
      if (bits == 0) {
        i += 8;
        continue;
      }
      i = Block(i, bits, 0xffu);
    }
    if (i < end) {
      if (active_ != 1u && ts_[i] > st_.gate.deadline) Rebuild(1u);
      const int rest = static_cast<int>(end - i);
      const uint32_t lanes = (1u << rest) - 1;
      const uint32_t bits = match_.Hits(Load(i, lanes)) & lanes;
      if (bits) Block(i, bits, lanes);
    }
    Finish();
  }

 private:
  // Block [i, i+8) with only `lanes` valid (the last block): a masked load, which never touches
  // memory past the rows; its inactive lanes load 0 and are masked out of the hits.
  static __m256i MaskedLoad(const uint32_t* p, uint32_t lanes) {
    const __m256i on = _mm256_cmpgt_epi32(_mm256_set1_epi32(std::popcount(lanes)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), on);
  }
  __m256i Load(size_t i, uint32_t lanes) const {
    return lanes == 0xffu ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ev_ + i)) : MaskedLoad(ev_ + i, lanes);
  }
  void Rebuild(uint32_t act) {
    active_ = act;
    match_.Set(act);
  }
  void Finish() {
    if (!live_) return;
    live_ = false;
    st_.Finish(ts_ + c_begin_);
    if (sink_ != nullptr && out_->reached != 0) sink_->Add(c_, *out_);
  }
  // Visits the set lanes of `bits` in block [i, i+8); when a visit changes the gate, the block's
  // later lanes are tested again with the new set. Returns where the next block starts: past the
  // block, or past the rows of a customer who reached every step. Out of line on purpose: it runs
  // for ~2-3 blocks per customer, and inlined, its state crowded the scan loop's out of registers
  // (the loaded ids, the id base and the hit bits went through the stack on every block).
  __attribute__((noinline)) size_t Block(size_t i, uint32_t bits, uint32_t lanes) {
    while (bits) {
      const int lane = std::countr_zero(bits);
      const size_t j = i + static_cast<size_t>(lane);
      bits &= bits - 1;
      if (j >= c_end_) {  // a later customer's row: report the one visited so far, begin this one
        Finish();
        do ++c_;
        while (offsets_[c_ + 1] <= j);
        c_begin_ = offsets_[c_];
        c_end_ = offsets_[c_ + 1];
      }
      if (!live_) {
        st_.Begin();
        live_ = true;
      }
      const auto latest = LatestOf(ts_ + c_begin_, [e = ev_ + c_begin_, lut = lut_](size_t k) { return lut[e[k]]; });
      if (!st_.Visit(static_cast<int32_t>(j - c_begin_), ts_[j], lut_[ev_[j]], latest)) {
        // Every step reached: the rest of this customer's rows change nothing.
        Finish();
        Rebuild(1u);
        if (c_end_ >= i + 8) return c_end_;
        bits = match_.Hits(Load(i, lanes)) & lanes & ~((1u << (c_end_ - i)) - 1u);
        continue;
      }
      if (st_.gate.active != active_) {
        Rebuild(st_.gate.active);
        bits = match_.Hits(Load(i, lanes)) & lanes & ~((2u << lane) - 1u);
      }
    }
    return i + 8;
  }

  FastState st_;
  Match match_;
  const int64_t* const ts_;
  const uint32_t* const ev_;
  const uint32_t* const offsets_;
  const uint32_t* const lut_;
  FunnelOutcome* const out_;
  FunnelSink* const sink_;
  uint32_t active_ = 1;
  size_t c_;  // the customer of the state (begun when `live_`)
  size_t c_begin_, c_end_;
  bool live_ = false;
};

template <typename Match>
static void BatchDrive(const FunnelPlan& plan, const int64_t* ts, const uint32_t* ev, const uint32_t* offsets,
                       size_t cb, size_t ce, const uint32_t* lut, const StepEventFilter& f, FunnelOutcome* out,
                       FunnelSink* sink) {
  BatchDriver<Match>(plan, ts, ev, offsets, cb, lut, f, out, sink).Run(offsets[cb], offsets[ce]);
}
#endif

#if defined(__AVX2__)
static void BatchDispatch(const FunnelPlan& plan, const int64_t* ts, const uint32_t* ev, const uint32_t* offsets,
                          size_t cb, size_t ce, const uint32_t* lut, const StepEventFilter& f, FunnelOutcome* out,
                          FunnelSink* sink) {
  if (f.in_window) {
    BatchDrive<IdWindow>(plan, ts, ev, offsets, cb, ce, lut, f, out, sink);
  } else if (f.count <= 4) {
    BatchDrive<IdCompare<4>>(plan, ts, ev, offsets, cb, ce, lut, f, out, sink);
  } else {
    BatchDrive<IdCompare<8>>(plan, ts, ev, offsets, cb, ce, lut, f, out, sink);
  }
}
#endif

void EvaluateFastEvents(const FunnelPlan& plan, std::span<const int64_t> ts, std::span<const uint32_t> events,
                        const uint32_t* step_mask_by_event, const StepEventFilter& filter, FunnelOutcome* out) {
  out->Reset(plan.steps);
#if defined(__AVX2__)
  if (filter.usable) {
    if (filter.count == 0 || events.empty()) return;  // no step event exists: nobody reaches anything
    const uint32_t offsets[2] = {0, static_cast<uint32_t>(events.size())};
    BatchDispatch(plan, ts.data(), events.data(), offsets, 0, 1, step_mask_by_event, filter, out, nullptr);
    return;
  }
#endif
  EvaluateFastEvents(plan, ts, events, step_mask_by_event, out);
}

void EvaluateFastEventsBatch(const FunnelPlan& plan, const int64_t* ts, const uint32_t* events,
                             const uint32_t* offsets, size_t cb, size_t ce, const uint32_t* step_mask_by_event,
                             const StepEventFilter& filter, FunnelSink* sink) {
  if (cb >= ce) return;
  FunnelOutcome out;
#if defined(__AVX2__)
  if (filter.usable) {
    if (filter.count == 0 || offsets[cb] == offsets[ce]) return;
    BatchDispatch(plan, ts, events, offsets, cb, ce, step_mask_by_event, filter, &out, sink);
    return;
  }
#endif
  for (size_t c = cb; c < ce; ++c) {
    const size_t b = offsets[c], e = offsets[c + 1];
    if (b == e) continue;
    EvaluateFastEvents(plan, {ts + b, e - b}, {events + b, e - b}, step_mask_by_event, &out);
    if (out.reached != 0) sink->Add(c, out);
  }
}

// DP over chains. nodes[s] lists, in row order, every row that ends some valid chain performing
// step s, with the latest start any such chain has (a later start dominates: every constraint
// ahead is "t - start <= window" or depends only on the row itself). To extend to step s at row
// i, the predecessor is a node of step s-1 — or of an earlier step when the steps between are all
// optional — that satisfies the per-step window, strictness and exclusions; among those the
// latest start wins (ties: the latest predecessor). Scanning predecessors backwards stops once
// t(i) - t(j) > window, since start <= t(j).
void EvaluateGeneral(const FunnelPlan& plan, const FunnelRows& rows, int32_t fixed_start, FunnelScratch* scratch,
                     FunnelOutcome* out) {
  const size_t n = plan.steps;
  out->Reset(n);
  auto& nodes = scratch->nodes;
  nodes.resize(n);
  for (size_t s = 0; s < n; ++s) nodes[s].clear();
  const size_t k_excl = plan.exclusions.size();
  auto& excl_pos = scratch->excl_pos;
  excl_pos.resize(k_excl);
  for (auto& v : excl_pos) v.clear();
  const size_t count = rows.ts.size();
  if (k_excl > 0 && !rows.excl_mask.empty()) {
    for (size_t i = 0; i < count; ++i)
      for (uint32_t m = rows.excl_mask[i]; m; m &= m - 1) excl_pos[std::countr_zero(m)].push_back(static_cast<int32_t>(i));
  }
  // Is there an exclusion applying to segment (p -> s) strictly between positions j and i?
  auto excluded = [&](size_t p, size_t s, int32_t j, int32_t i) {
    for (size_t k = 0; k < k_excl; ++k) {
      const auto& e = plan.exclusions[k];
      if (!(p < e.to_step && s > e.from_step)) continue;
      const auto& v = excl_pos[k];
      auto it = std::upper_bound(v.begin(), v.end(), j);
      if (it != v.end() && *it < i) return true;
    }
    return false;
  };
  const bool strict = plan.order == FunnelOrder::kStrict;
  const int64_t window = plan.window_ms;
  const size_t first = fixed_start >= 0 ? static_cast<size_t>(fixed_start) : 0;
  for (size_t ii = first; ii < count; ++ii) {
    uint32_t m = rows.step_mask[ii];
    if (m == 0) continue;
    const int32_t i = static_cast<int32_t>(ii);
    const int64_t t = rows.ts[ii];
    while (m) {
      const int s = 31 - std::countl_zero(m);
      m &= ~(1u << s);
      if (s == 0) {
        if (fixed_start >= 0 && i != fixed_start) continue;
        nodes[0].push_back({i, -1, -1, t, t});
        continue;
      }
      int best_step = -1;
      int32_t best_node = -1;
      int64_t best_start = kNoTime;
      for (int p = s - 1; p >= 0; --p) {
        const auto& list = nodes[p];
        for (int32_t k = static_cast<int32_t>(list.size()) - 1; k >= 0; --k) {
          const auto& nd = list[k];
          if (nd.pos >= i) continue;
          if (t - nd.t > window) break;
          if (strict && nd.pos != i - 1) {
            if (nd.pos < i - 1) break;
            continue;
          }
          if (plan.within_ms[s] > 0 && t - nd.t > plan.within_ms[s]) break;
          if (t - nd.start > window) continue;
          if (nd.start <= best_start) continue;
          if (k_excl && excluded(static_cast<size_t>(p), static_cast<size_t>(s), nd.pos, i)) continue;
          best_start = nd.start;
          best_step = p;
          best_node = k;
        }
        if (!plan.optional[p]) break;
      }
      if (best_step < 0) continue;
      nodes[s].push_back({i, best_node, static_cast<int8_t>(best_step), t, best_start});
    }
  }
  for (size_t s = 0; s < n; ++s) {
    if (nodes[s].empty()) continue;
    out->reached |= 1u << s;
    const auto& nd = nodes[s].front();
    out->from_first[s] = nd.t - nd.start;
    out->from_previous[s] = nd.pred_step >= 0 ? nd.t - nodes[nd.pred_step][nd.pred].t : 0;
  }
  if (out->reached == 0) return;
  const int top = 31 - std::countl_zero(out->reached);
  out->level = top + 1;
  int step = top;
  int32_t node = 0;
  while (step >= 0) {
    const auto& nd = nodes[step][node];
    out->chain[step] = nd.pos;
    out->chain_start_ms = nd.start;
    const int ps = nd.pred_step;
    node = nd.pred;
    step = ps;
  }
}

// Any order: for every row e matching a step (as the window's first row), the distinct steps
// matched in [t(e), t(e) + window]; two pointers over the rows with per-step counts.
void EvaluateAnyOrder(const FunnelPlan& plan, const FunnelRows& rows, FunnelOutcome* out) {
  const size_t n = plan.steps;
  out->Reset(n);
  const size_t count = rows.ts.size();
  uint32_t cnt[kMaxFunnelSteps] = {};
  uint32_t present = 0;
  size_t j = 0;  // window is [i, j)
  int best = 0;
  size_t best_i = 0, best_last = 0;
  for (size_t i = 0; i < count; ++i) {
    if (j < i) j = i;
    while (j < count && rows.ts[j] - rows.ts[i] <= plan.window_ms) {
      for (uint32_t m = rows.step_mask[j]; m; m &= m - 1) {
        const int s = std::countr_zero(m);
        if (cnt[s]++ == 0) present |= 1u << s;
      }
      ++j;
    }
    if (rows.step_mask[i] != 0) {
      const int level = std::popcount(present);
      if (level > best) {
        best = level;
        best_i = i;
        best_last = i;
        for (size_t k = j; k > i; --k)
          if (rows.step_mask[k - 1] != 0) {
            best_last = k - 1;
            break;
          }
      }
    }
    for (uint32_t m = rows.step_mask[i]; m; m &= m - 1) {
      const int s = std::countr_zero(m);
      if (--cnt[s] == 0) present &= ~(1u << s);
    }
  }
  if (best == 0) return;
  out->level = best;
  out->reached = best >= 32 ? ~0u : ((1u << best) - 1);
  out->chain_start_ms = rows.ts[best_i];
  // Attribution in any order: the window's first row is "step 1", its last matching row the last
  // touch; other positions are not defined.
  out->chain[0] = static_cast<int32_t>(best_i);
  out->chain[best - 1] = static_cast<int32_t>(best_last);
}

}  // namespace cairn::analytics
