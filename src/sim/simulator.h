#pragma once
// Simulator: the simulated business as a stream of Segment messages in event-time order
// (docs/simulator.md has the business, the event catalogue and the statistics).
//
//   auto sim = Simulator::Create(DefaultSimOptions(50000, 365, /*seed=*/1, start_ms));
//   std::string line;
//   while ((*sim)->Next(history_end, &line)) write(line);     // the history
//   ... (*sim)->Next(wall_clock_now, &line) ...                // live, after SetLiveSpeed
//
// Streaming with bounded memory: customers are created when they arrive and dropped when they
// can no longer produce interactions (anonymous visitors who lost interest; customers who left
// and withdrew consent), so memory is O(customers alive at once) (~250 bytes each) plus the
// events of sessions in progress — not O(interactions). 100M interactions stream in constant
// memory per customer.
//
// Deterministic: the same options (seed, customers, days, start) give the same lines, byte for
// byte. Each customer draws from its own random stream, so an ApplyAction on one customer changes
// only that customer's later lines.
//
// Not thread-safe: one thread calls Next / ApplyAction.

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "sim/options.h"
#include "sim/rng.h"

namespace cairn::sim {

// What happened, counted as it is generated (history and live). Conversion, churn and NPS are
// the figures StatRanges bounds.
struct SimStats {
  uint64_t interactions = 0;      // lines emitted
  uint64_t outbound = 0;          // of which direction = outbound (our effort)
  uint64_t arrivals = 0;
  uint64_t paid_arrivals = 0;
  uint64_t business_arrivals = 0;
  uint64_t signed_up = 0;         // identified (identify + Signed Up)
  uint64_t device_merges = 0;     // a second device's anonymous browsing merged by a login
  uint64_t converted = 0;         // first order or first deal won
  uint64_t orders = 0;
  uint64_t deals_won = 0, deals_lost = 0;
  int64_t revenue_cents = 0;
  int64_t ad_spend_cents = 0;
  uint64_t subscriptions_started = 0;
  uint64_t renewal_decisions = 0; // renewals due that were decided (renewed or cancelled)
  uint64_t cancellations = 0;
  uint64_t nps_responses = 0, promoters = 0, detractors = 0;
  uint64_t complaints = 0, resolved_well = 0;
  uint64_t competitor_considered = 0;
  uint64_t lost_customers = 0;    // customers who left for good (anger, competitor)
  uint64_t actions_applied = 0;   // closed loop: actions received
  uint64_t rescued = 0;           // of which changed the customer's course
  uint64_t live_customers = 0, peak_live_customers = 0;

  double Conversion() const { return arrivals ? static_cast<double>(converted) / arrivals : 0; }
  double Churn() const { return renewal_decisions ? static_cast<double>(cancellations) / renewal_decisions : 0; }
  double Nps() const {
    return nps_responses ? 100.0 * (static_cast<double>(promoters) - static_cast<double>(detractors)) / nps_responses : 0;
  }
};

// An action Cairn took on a customer (the closed loop: a rescue or an outreach webhook).
struct Action {
  enum class Kind { kGoingCold, kCompetitor, kAngry, kRenewalDoubt, kOffer, kOther };
  Kind kind = Kind::kOther;
  std::string user_id;  // the simulated userId ("cust-0000042"); other ids are NotFound
  std::string channel;  // how it reached the customer (email, phone, ...); "" = email
};

// "going_cold" | "competitor" | "angry" | "renewal_doubt" | "offer" (also with the "rescue."
// prefix actions give their names) → Kind; anything else kOther.
Action::Kind ActionKindFromName(std::string_view name);

class Simulator {
 public:
  // InvalidArgument naming the field when the options are out of range.
  static Result<std::unique_ptr<Simulator>> Create(SimOptions options);
  ~Simulator();

  // The next message (minified JSON, no newline) whose timestamp is before `limit_ms`; false
  // when there is none yet (later calls with a later limit continue the same stream).
  // `time_ms` (optional) receives the message's timestamp.
  bool Next(int64_t limit_ms, std::string* line, int64_t* time_ms = nullptr);

  int64_t start_ms() const { return options_.start_ms; }
  int64_t history_end_ms() const { return end_ms_; }
  // Fraction of the history emitted (by event time), 0..1.
  double Progress() const;

  // Live mode: simulated time after the history's end runs `speed` times faster than the
  // timestamps say (default 1), so a demo shows a few interactions per second: an event at
  // simulated time t >= end is stamped end + (t − end) / speed. Set before reading past the end.
  void SetLiveSpeed(double speed);

  // The closed loop: Cairn acted on a customer at `at_ms` (a timestamp of the stream's clock).
  // The customer responds with the probabilities in docs/simulator.md (a dedicated agent calms
  // an angry customer, a counter-offer keeps one tempted by a competitor, a usage review saves a
  // doubtful renewal...). NotFound if the id is not a customer who is still simulated.
  Status ApplyAction(const Action& action, int64_t at_ms);

  const SimStats& stats() const { return stats_; }
  const SimOptions& options() const { return options_; }

  struct Customer;  // behaviour state (simulator.cc)

 private:
  explicit Simulator(SimOptions options);
  void Init();

  // Arrivals
  double Intensity(int64_t day, std::vector<double>* components) const;
  void PlanDay(int64_t day);
  void Arrive(int64_t t);

  // Scheduling
  void Schedule(uint32_t slot);
  void Wake(uint32_t slot, int64_t t);
  void Release(uint32_t slot);

  // Emission (behaviour.cc)
  int64_t Stamp(int64_t t) const;
  friend class Behaviour;

  struct WakeEntry {
    int64_t t;
    uint64_t index;  // ties go by customer index (not slot), so one customer's changed course
                     // (a closed-loop action) cannot reorder anyone else's
    uint32_t slot;
    uint32_t gen;
    bool operator>(const WakeEntry& o) const { return t != o.t ? t > o.t : index > o.index; }
  };
  struct Pending {
    int64_t t;
    uint64_t seq;
    std::string line;
    bool operator>(const Pending& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };

  SimOptions options_;
  int64_t end_ms_ = 0;
  double live_speed_ = 1;
  double norm_ = 0;                      // arrivals per unit of intensity
  std::vector<double> persona_cdf_;
  std::vector<std::vector<double>> campaign_persona_cdf_;
  std::vector<double> cpc_cents_;        // realised cost per click per campaign (spends the budget)

  // Arrivals of the current day, ascending; the day after is planned when these run out.
  int64_t planned_day_ = -1;
  double cum_intensity_ = 0;             // intensity of days before planned_day_
  std::vector<std::pair<int64_t, int8_t>> day_arrivals_;  // (time, campaign or -1)
  size_t day_next_ = 0;
  uint64_t next_index_ = 0;              // the next arriving customer's index
  Rng arrival_rng_;

  std::vector<std::unique_ptr<Customer>> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> gen_;
  std::unordered_map<uint64_t, uint32_t> slot_of_;  // customer index → slot
  std::priority_queue<WakeEntry, std::vector<WakeEntry>, std::greater<>> wakes_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending_;
  uint64_t pending_seq_ = 0;
  int64_t last_emitted_ms_ = 0;
  std::string scratch_;
  SimStats stats_;
};

}  // namespace cairn::sim
