#pragma once
// JourneyMap: the business's journey map (docs/journey.md, config/journey-map.yaml), loaded from
// YAML and compiled into lookup tables the state machine reads on every interaction.
//
// Loading validates everything and reports every error found, each with its line and column
// ("line 12, column 7: views.funnel.stages[1].dwell: expected a duration like 14d, got 'soon'").
// A map that fails validation is never returned, so a caller holding a good map keeps it.
//
// A JourneyMap is immutable once loaded; share it as std::shared_ptr<const JourneyMap>.
// Thread-safety: all const methods are safe from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "store/interaction.h"

namespace cairn::journey {

// The three stage views (emotion, the fourth view, is a score with labels; see EmotionModel).
enum class View : uint8_t { kPhase = 0, kLifecycle = 1, kFunnel = 2 };
inline constexpr int kViewCount = 3;
inline constexpr int kMaxStages = 8;  // per view (the compact state keeps one entry time per stage)
std::string_view ViewName(View v);   // "phase", "lifecycle", "funnel"

// DOMAIN.md §3 emotion labels, most negative first. Values index EmotionModel::upper_bounds.
enum class Emotion : uint8_t {
  kAngry = 0, kDisillusioned, kUninterested, kDisinterest, kInterest, kSatisfaction, kDelight, kTrust
};
inline constexpr int kEmotionCount = 8;
std::string_view EmotionName(Emotion e);

// One comparison on a message field. `path` is dotted: "nps" means properties.nps (traits.nps for
// identify/group); "context.channel" or "traits.plan" address the message from its root.
struct Condition {
  enum class Op : uint8_t { kEq, kNe, kGt, kGe, kLt, kLe, kIn, kExists };
  std::string path;
  Op op = Op::kEq;
  std::vector<std::string> strings;  // kEq/kNe/kIn: compared as text ("true" matches JSON true)
  double number = 0;                 // kGt.. kLe; kEq/kNe also compare numerically when both are numbers
  bool exists = true;                // kExists
};

// Matches an interaction: a track event name, or a message type ("page", "screen", "identify",
// "group", "alias") for the untyped moments, and all of `where`.
struct Match {
  std::string event;  // track event name; empty when `type` is set
  std::string type;   // "page" | "screen" | "identify" | "group" | "alias" | "" (track)
  std::vector<Condition> where;
};

struct Stage {
  std::string name;
  int64_t dwell_ms = 0;        // expected dwell; 0 = no limit (never stuck)
  bool any_time = false;       // may be entered from any stage, and left to any stage (e.g. lost)
  std::vector<Match> enter_on;
};

struct ViewDef {
  std::vector<Stage> stages;   // in journey order; stages[0] is where every customer starts
  int Find(std::string_view name) const;  // index or -1
};

// An emotion signal: when `on` matches, `add` is added to the score (or the score is `set`).
struct EmotionSignal {
  std::string name;
  Match on;
  bool has_set = false;
  double set = 0;
  double add = 0;
  bool opens_complaint = false;    // the score before it is remembered for the recovery paradox
  bool resolves_complaint = false; // recovery: score = max(score, before-complaint + recovery.bonus)
};

struct EmotionModel {
  // Upper bounds of the first seven labels on the score scale [-100, 100], ascending; a score
  // at or above upper_bounds[6] is trust.
  double upper_bounds[kEmotionCount - 1] = {-60, -35, -10, 10, 35, 60, 80};
  double engagement_per_interaction = 2;  // inbound interaction → score += this ...
  double engagement_cap = 40;             // ... but engagement alone never lifts it past this
  int64_t half_life_ms = 30LL * 86400000; // recency: the score decays toward 0 with this half-life
  double recovery_bonus = 20;             // recovery paradox: resolved well ends this far above before
  double usage_drop_effect = -20;         // usage dropped before renewal
  std::vector<EmotionSignal> signals;
  Emotion Label(double score) const;
};

struct UsageModel {
  std::vector<std::string> events;         // what counts as usage (e.g. Feature Used)
  int weeks = 4;                           // compare the last `weeks` weeks with the `weeks` before (1..4)
  double drop = 0.5;                       // usage dropped when recent < (1 - drop) × before
  std::vector<std::string> renewal_events; // renewal due (arms the renewal check)
};

// Dwell timers (docs/journey.md "Dwell timers"). A timer-derived signal (stuck / going cold) is
// only raised while it is news: when the moment it became due — the later of stage entry and
// last inbound interaction, plus the stage's dwell — lies more than `signal_horizon_ms` before
// now, it is history (a backfill of months-old interactions, a server down for weeks) and no
// signal is raised; it is counted (cairn_journey_stale_timer_signals_total) instead.
struct TimerModel {
  int64_t signal_horizon_ms = 30LL * 86400000;  // default 30 days; 0 = no horizon
};

struct ValueModel {
  std::string currency = "USD";
  double average_order_value = 100;
  std::vector<std::string> order_events;   // orders / won deals / renewals (count as purchases)
  double conversion_prior[kMaxStages] = {}; // P(purchase | funnel stage), by funnel stage index
  double repeat_prior = 0.3;               // P(another purchase) for a customer who has bought
  int64_t min_history = 200;               // customers per stage before history replaces the prior
};

// What a persona condition reads (docs/journey.md "Personas"). The journey's own facts come from
// the customer's state: traits (latest identify having them), behaviour counters, the current
// stage of each view and the emotion label. The value facts come from the value module's last fit
// (ValueFacts, supplied by a hook); a condition on them is false for a customer without a fit.
enum class PersonaField : uint8_t {
  kTrait, kRevenue, kOrders, kInteractions,  // journey: traits.<name>, counters
  kPhase, kLifecycle, kFunnel, kEmotion,     // journey: current stage of a view, emotion label
  kClv, kProbAlive, kExpectedPurchases, kRecencyDays, kTenureDays, kPurchaseDays, kAverageSpend,
  kChannel,                                  // value: channel.<group> share of interactions, 0..1
};

// A customer's value as of the value module's last fit, for the persona rules' value fields.
struct ValueFacts {
  double clv = 0;                 // discounted CLV (or subscription CLV)
  double prob_alive = 0;          // P(alive)
  double expected_purchases = 0;  // E[purchases over the CLV horizon]
  double recency_days = 0;        // days since the last purchase, at the fit
  double tenure_days = 0;         // days since the first purchase, at the fit
  double purchase_days = 0;       // distinct purchase days
  double average_spend = 0;       // revenue per purchase day
  double channel[5] = {};         // share of the customer's interactions: kPersonaChannels order
};
// The channel groups `channel.<group>` names, in ValueFacts::channel order (the value module's
// persona channel groups, docs/value.md).
inline constexpr std::string_view kPersonaChannels[5] = {"web", "mobile", "email", "store", "other"};

struct PersonaRule {
  std::string name;
  std::vector<Condition> when;       // all must hold
  std::vector<PersonaField> fields;  // what each condition of `when` reads (same order)
  std::vector<uint8_t> index;        // kChannel: the group; kPhase..kEmotion with eq/ne/in: unused
  bool reads_value = false;          // some condition reads a value fact (needs ValueFacts)
};

struct RescueTrigger {
  std::vector<Match> on;                   // any of these interactions fires it
  View stuck_view = View::kFunnel;
  std::vector<int> stuck_in;               // stage indexes of stuck_view whose overstay fires it
  bool usage_drop_before_renewal = false;  // renewal due and usage dropped
  double emotion_below = -1000;            // score falling below this fires it (-1000 = off)
};

struct RescuePath {
  std::string name;
  RescueTrigger trigger;
  std::string action;               // action name actions/ dispatches (webhook event type)
  std::string owner = "marketing";  // department (DOMAIN §1)
  std::string channel = "email";
  std::string purpose = "marketing";  // consent purpose
  double cost = 0;
  double p_with = 0.3;              // prior P(success | rescue)
  double p_without = 0.1;           // prior P(success | no rescue)
  double prior_strength = 10;       // Beta prior pseudo-count
  int64_t outcome_window_ms = 14LL * 86400000;
  std::vector<std::string> outcome_events;  // success = one of these within the window ("*" = any inbound)
};

struct ValueTier {
  std::string name;
  double min_value = 0;              // value at stake at or above this
  std::vector<std::string> channels; // allowed channels
};
struct CriticalInteraction {
  std::string name;
  std::vector<std::string> events;
  std::vector<ValueTier> tiers;      // highest min_value first
};

struct PostPurchase {
  std::vector<std::string> after_events;
  int64_t delay_ms = 2LL * 86400000;
  std::string channel = "email";
  int happy_min_nps = 9;
  int unhappy_max_nps = 6;
  std::string happy_action = "review_referral_ask";
  std::string unhappy_action = "support_contact";
  std::string unhappy_path = "angry";
};

// A validation problem at a place in the YAML text (1-based; 0 when unknown).
struct MapError {
  int line = 0;
  int column = 0;
  std::string message;  // "views.funnel.stages[1].dwell: expected a duration like 14d, got 'soon'"
  std::string ToString() const;
};

class JourneyMap {
 public:
  // Parses and validates `yaml`. On failure returns InvalidArgument listing every error (one per
  // line) and, if `errors` is given, fills it.
  static Result<std::shared_ptr<const JourneyMap>> Parse(std::string_view yaml, std::vector<MapError>* errors = nullptr);
  // The default map shipped in config/journey-map.yaml (embedded in the binary).
  static std::string_view DefaultYaml();

  const std::string& yaml() const { return yaml_; }
  uint32_t fingerprint() const { return fingerprint_; }  // crc32c of the YAML text
  const ViewDef& view(View v) const { return views_[static_cast<int>(v)]; }
  const EmotionModel& emotion() const { return emotion_; }
  const UsageModel& usage() const { return usage_; }
  const ValueModel& value() const { return value_; }
  const TimerModel& timers() const { return timers_; }
  const std::vector<PersonaRule>& personas() const { return personas_; }
  const std::string& default_persona() const { return default_persona_; }
  const std::vector<RescuePath>& rescue_paths() const { return rescue_paths_; }
  const std::vector<CriticalInteraction>& critical() const { return critical_; }
  const PostPurchase& post_purchase() const { return post_purchase_; }
  const std::vector<std::string>& outbound_events() const { return outbound_; }

  // Compiled per-event index: everything that can react to one event name / message type.
  struct Ref {
    enum class Kind : uint8_t { kStage, kEmotion, kRescue } kind;
    uint8_t view = 0;    // kStage
    uint16_t index = 0;  // stage index / emotion signal index / rescue path index
    uint16_t match = 0;  // which Match of that item
  };
  struct EventInfo {
    std::vector<Ref> refs;
    bool needs_payload = false;  // some match has `where` conditions
    bool outbound = false;
    bool order = false;
    bool usage = false;
    bool renewal = false;
    uint16_t outcome_mask = 0;   // bit p: an outcome event of rescue path p
  };
  // The index entry for an interaction (nullptr when nothing in the map reacts to it).
  const EventInfo* Lookup(const store::Interaction& r) const { return Lookup(r.type, r.event); }
  const EventInfo* Lookup(store::MessageType type, const std::string& event) const;
  // Rescue paths whose outcome is "any inbound interaction" ("*"), as a bit mask.
  uint16_t any_inbound_outcomes() const { return any_inbound_outcomes_; }
  // The persona trait conditions, numbered: bit i of CustomerState::trait_bits is condition i.
  struct TraitCond {
    int persona;
    const Condition* cond;
  };
  const std::vector<TraitCond>& trait_conditions() const { return trait_conds_; }
  // Whether any persona or rule reads payloads of identify messages.
  bool needs_identify_payload() const { return !trait_conds_.empty(); }
  bool personas_read_interactions() const { return personas_read_interactions_; }
  // Whether any persona rule reads the stages or the emotion label (re-evaluated on every
  // interaction), or the value module's facts (evaluated when read, with the facts of the day).
  bool personas_read_state() const { return personas_read_state_; }
  bool personas_read_value() const { return personas_read_value_; }

 private:
  friend class MapParser;
  void Compile();

  std::string yaml_;
  uint32_t fingerprint_ = 0;
  ViewDef views_[kViewCount];
  EmotionModel emotion_;
  UsageModel usage_;
  ValueModel value_;
  TimerModel timers_;
  std::vector<PersonaRule> personas_;
  std::string default_persona_ = "";
  std::vector<RescuePath> rescue_paths_;
  std::vector<CriticalInteraction> critical_;
  PostPurchase post_purchase_;
  std::vector<std::string> outbound_;
  std::unordered_map<std::string, EventInfo> by_event_;  // track: event name; others: "$page" etc.
  std::vector<TraitCond> trait_conds_;
  uint16_t any_inbound_outcomes_ = 0;
  bool personas_read_interactions_ = false;
  bool personas_read_state_ = false;
  bool personas_read_value_ = false;
};

// "30d", "12h", "45m", "10s", "2w", "500ms" → ms. False on anything else.
bool ParseDuration(std::string_view text, int64_t* ms);
std::string FormatDuration(int64_t ms);

}  // namespace cairn::journey
