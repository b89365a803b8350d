#pragma once
// Per-customer journey state as a pure function of (the customer's interactions ordered by
// (timestamp, seq), the journey map) — ARCHITECTURE invariant 1. Deriver::Apply folds one
// interaction into the state; replaying a customer's interactions from a default state yields
// the same bytes whether done live, one batch at a time, or by `cairn rebuild`.
//
// CustomerState is the compact live state (≤ 256 bytes, trivially copyable, persisted as is in
// docs/format/journey-state.md); History (transitions and the emotion curve) is kept apart.
//
// Thread-safety: Deriver is immutable after construction (it holds the map) and may be shared;
// states are owned by their caller.

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <string>
#include <vector>

#include "journey/journey_map.h"
#include "store/interaction.h"

namespace cairn::journey {

struct CustomerState {
  store::CustomerId customer = 0;   // canonical id at the time of derivation
  int64_t first_ms = 0;             // first interaction
  int64_t last_ms = 0;              // (last_ms, last_seq): order key of the last interaction applied
  uint64_t last_seq = 0;
  int64_t last_inbound_ms = 0;      // recency of engagement
  int64_t renewal_due_ms = 0;       // last renewal-due event (0 = none)
  double revenue = 0;               // realised value
  float emotion = 0;                // score in [-100, 100]
  float pre_complaint = 0;          // score before the open complaint (recovery paradox)
  float engagement = 0;             // the part of the score that engagement contributed (capped)
  uint32_t interactions = 0;
  uint32_t orders = 0;
  uint32_t trait_bits = 0;          // bit i: persona trait condition i holds on the latest identify that had the trait
  uint32_t trait_seen = 0;          // bit i: the trait of condition i was seen at all
  // Entry time of each stage of each view, in seconds since the epoch (0 = never entered).
  uint32_t entered[kViewCount][kMaxStages] = {};
  uint16_t usage[8] = {};           // usage events per week, ring indexed by week % 8
  int32_t usage_week = 0;           // the week (days since epoch / 7) of usage[usage_week % 8]
  uint8_t stage[kViewCount] = {};   // current stage per view
  uint8_t persona = 0;              // 0 = default persona; i+1 = rule i
  uint8_t open_complaints = 0;
  uint8_t flags = 0;                // kFlag* below
  uint16_t episode_fired = 0;       // bit p: stuck timer of path p fired for the current stage entry (timer-owned, see below)
  uint16_t active_paths = 0;        // bit p: rescue path p's detector fired and no outcome event of it since
  uint8_t reserved[4] = {};         // zero; keeps the struct free of implicit padding (byte-exact files)

  static constexpr uint8_t kFlagCompetitor = 1;   // a competitor was considered
  static constexpr uint8_t kFlagUsageDrop = 2;    // usage dropped before the last renewal due
  static constexpr uint8_t kFlagRenewed = 4;      // an order after the renewal due

  Emotion label(const EmotionModel& m) const { return m.Label(emotion); }
  int64_t since_ms(View v) const { return int64_t{entered[static_cast<int>(v)][stage[static_cast<int>(v)]]} * 1000; }
};
static_assert(sizeof(CustomerState) <= 256, "the live state must stay within 256 bytes per customer");
static_assert(sizeof(CustomerState) == 216, "no implicit padding: update docs/format/journey-state.md");
static_assert(std::is_trivially_copyable_v<CustomerState>);

struct Transition {
  int64_t at_ms = 0;
  uint64_t seq = 0;
  uint8_t view = 0;  // View
  uint8_t from = 0;
  uint8_t to = 0;
  bool operator==(const Transition&) const = default;
};

struct EmotionPoint {
  int64_t at_ms = 0;
  float score = 0;
  int16_t cause = 0;  // >= 0: emotion signal index; kCause* below
  bool operator==(const EmotionPoint&) const = default;
  static constexpr int16_t kCauseEngagement = -1;
  static constexpr int16_t kCauseRecovery = -2;
  static constexpr int16_t kCauseUsageDrop = -3;
};

struct History {
  std::vector<Transition> transitions;
  std::vector<EmotionPoint> emotion;  // the emotion curve: the latest kMaxEmotionPoints to 2× that
  static constexpr size_t kMaxEmotionPoints = 256;
  // Capacity taken at the first push (typical customers have a handful of each; measured by
  // journey_bench's journey_history_bytes_per_customer).
  static constexpr size_t kFirstTransitions = 4;
  static constexpr size_t kFirstEmotionPoints = 4;
  bool operator==(const History&) const = default;
  size_t bytes() const { return transitions.capacity() * sizeof(Transition) + emotion.capacity() * sizeof(EmotionPoint); }
};

// A rescue path's detector firing for a customer (before value and persona are attached).
struct Detection {
  int path = 0;                      // index into JourneyMap::rescue_paths()
  std::vector<std::string> reasons;
  int64_t at_ms = 0;
};

// One interaction as the deriver reads it: the order key, revenue, type and payload (parsed only
// when a rule of the map needs it). Owns nothing, so a rebuild feeds rows straight from decoded
// segment columns (rebuild_scan.h) without building an Interaction per row.
struct RowView {
  int64_t timestamp_ms = 0;
  uint64_t seq = 0;
  double revenue = 0;
  store::MessageType type = store::MessageType::kTrack;
  std::string_view payload;     // the message's JSON; may be empty when the map reads no payload of it
  bool payload_padded = false;  // 64 readable bytes follow `payload` (simdjson parses it in place)
};

class Deriver {
 public:
  explicit Deriver(std::shared_ptr<const JourneyMap> map) : map_(std::move(map)) {}
  const JourneyMap& map() const { return *map_; }
  const std::shared_ptr<const JourneyMap>& map_ptr() const { return map_; }

  // Folds `r` (the next interaction in (timestamp, seq) order) into *s and *h (h may be null).
  // Detections of rescue paths this interaction fires go to *out when it is non-null. Returns the
  // map's entry for the row (map().Lookup(r), null when nothing reacts to it), so that a caller
  // needing it too does not look the event name up again.
  const JourneyMap::EventInfo* Apply(CustomerState* s, History* h, const store::Interaction& r,
                                     std::vector<Detection>* out = nullptr) const;
  // The same fold for a row whose map entry is known: `info` must be map().Lookup() of the row's
  // type and event (null: nothing in the map reacts to it), and the payload must be there when
  // info->needs_payload. Apply(Interaction) is exactly this, so both give the same bytes.
  void Apply(CustomerState* s, History* h, const RowView& r, const JourneyMap::EventInfo* info,
             std::vector<Detection>* out = nullptr) const;
  // A fresh state (every view at its first stage, entered at `at_ms`).
  CustomerState Initial(store::CustomerId id, int64_t at_ms) const;
  // Replays `rows` (ordered by (timestamp, seq)) from scratch.
  void Derive(store::CustomerId id, const std::vector<store::Interaction>& rows, CustomerState* s, History* h) const;

  // The persona (docs/journey.md "Personas"): the first rule whose conditions all hold, else the
  // map's default. `value` holds the value module's facts of the customer (null when it has not
  // modelled them: conditions on value facts are then false). The state's stored `persona` is the
  // same evaluation without value facts, kept as of the last interaction.
  const std::string& PersonaName(const CustomerState& s, const ValueFacts* value = nullptr) const;
  // The index of the first matching rule + 1, or 0 when none matches (the default persona).
  int MatchPersona(const CustomerState& s, const ValueFacts* value) const;

 private:
  void Enter(CustomerState* s, History* h, int view, int stage, const RowView& r) const;
  void SetEmotion(CustomerState* s, History* h, double score, int16_t cause, int64_t at_ms) const;
  void UpdatePersona(CustomerState* s) const;

  std::shared_ptr<const JourneyMap> map_;
};

// Evaluates conditions against a message payload (minified JSON). Parsed once per interaction.
class PayloadView {
 public:
  // At most one PayloadView per thread at a time: it uses the thread's parser and slot.
  explicit PayloadView(const store::Interaction& r);
  explicit PayloadView(const RowView& r);
  bool Matches(const Condition& c) const;
  bool Has(const std::string& path) const;
  struct Impl;  // simdjson DOM element (state.cc)

 private:
  Impl* impl_;  // the thread's slot (no allocation per interaction)
};

// Stage order key: does (ts, seq) come before the state's last applied interaction?
inline bool IsLate(const CustomerState& s, int64_t ts, uint64_t seq) {
  return s.interactions > 0 && (ts < s.last_ms || (ts == s.last_ms && seq < s.last_seq));
}

}  // namespace cairn::journey
