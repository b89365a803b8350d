// The engine: arrivals, the wake-up heap, ordered emission. Customer behaviour is in
// behaviour.cc; docs/simulator.md describes both.

#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/behaviour.h"

namespace cairn::sim {
namespace {

constexpr int64_t kDayMs = 86'400'000;

// Share of a day's web arrivals by UTC hour: quiet nights, a lunch bump, busy evenings.
constexpr double kHourWeights[24] = {0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 0.6, 1.0, 1.3, 1.4, 1.4, 1.4,
                                     1.5, 1.4, 1.3, 1.3, 1.4, 1.5, 1.8, 2.0, 2.0, 1.8, 1.3, 0.8};

}  // namespace

Action::Kind ActionKindFromName(std::string_view name) {
  if (name.substr(0, 7) == "rescue.") name.remove_prefix(7);  // actions' names: "rescue.<path>"
  if (name == "going_cold") return Action::Kind::kGoingCold;
  if (name == "competitor") return Action::Kind::kCompetitor;
  if (name == "angry") return Action::Kind::kAngry;
  if (name == "renewal_doubt") return Action::Kind::kRenewalDoubt;
  if (name == "offer") return Action::Kind::kOffer;
  return Action::Kind::kOther;
}

Result<std::unique_ptr<Simulator>> Simulator::Create(SimOptions options) {
  RETURN_IF_ERROR(ValidateSimOptions(options));
  std::unique_ptr<Simulator> sim(new Simulator(std::move(options)));
  sim->Init();
  return sim;
}

Simulator::Simulator(SimOptions options) : options_(std::move(options)) {}
Simulator::~Simulator() = default;

void Simulator::Init() {
  end_ms_ = options_.start_ms + options_.days * kDayMs;
  arrival_rng_.s = Mix64(options_.seed ^ 0xa5a5a5a5deadbeefull);

  auto cdf = [](const std::vector<double>& w) {
    std::vector<double> c(w.size());
    double sum = 0;
    for (double x : w) sum += x;
    double acc = 0;
    for (size_t i = 0; i < w.size(); ++i) c[i] = (acc += w[i] / sum);
    c.back() = 1.0;
    return c;
  };
  std::vector<double> shares;
  for (const auto& p : options_.personas) shares.push_back(p.share);
  persona_cdf_ = cdf(shares);
  double clicks = 0;
  for (const auto& c : options_.campaigns) clicks += c.budget / c.cost_per_click;
  for (const auto& c : options_.campaigns) {
    campaign_persona_cdf_.push_back(c.persona_weights.empty() ? persona_cdf_ : cdf(c.persona_weights));
    // The campaign's expected arrivals at this customer count; the realised cost per click makes
    // its spend come out at its budget.
    double expected = options_.customers * (1 - options_.organic_share) * (c.budget / c.cost_per_click) / clicks;
    cpc_cents_.push_back(expected > 0 ? c.budget * 100 / expected : 0);
  }
  // Organic arrivals follow trend × weekday over the history; normalise them to organic_share.
  double organic = 0;
  for (int d = 0; d < options_.days; ++d) organic += Intensity(d, nullptr);
  norm_ = organic;  // from now on Intensity() divides the organic part by this
}

// Expected share of all arrivals on `day` (days past the history continue the trend and any
// campaign still running). `components` (optional) receives [organic, campaign 0, ...].
double Simulator::Intensity(int64_t day, std::vector<double>* components) const {
  int64_t weekday = ((options_.start_ms / kDayMs + day) % 7 + 4) % 7;  // 1970-01-01 was a Thursday (4)
  double weekly = (weekday == 0 || weekday == 6) ? options_.weekend_factor : 1.0;
  double trend = 1.0 + options_.growth_per_year * (static_cast<double>(day) / 365.0);
  double organic_raw = trend * weekly;
  if (norm_ == 0) return organic_raw;  // Init's first pass: the organic normaliser
  double organic = options_.organic_share * organic_raw / norm_;
  if (components) components->assign(1, organic);
  double total = organic;
  double clicks = 0;
  for (const auto& c : options_.campaigns) clicks += c.budget / c.cost_per_click;
  for (const auto& c : options_.campaigns) {
    double x = 0;
    if (day >= c.start_day && day < c.end_day)
      x = (1 - options_.organic_share) * (c.budget / c.cost_per_click) / clicks / (c.end_day - c.start_day);
    if (components) components->push_back(x);
    total += x;
  }
  return total;
}

// Draws the arrivals of `day`: their number is the whole part of the cumulative expected count,
// so the history holds exactly `customers` arrivals; times follow the hour weights.
void Simulator::PlanDay(int64_t day) {
  std::vector<double> comp;
  double x = Intensity(day, &comp);
  double before = cum_intensity_;
  cum_intensity_ += x;
  auto whole = [&](double cum) {
    double v = std::floor(cum * static_cast<double>(options_.customers) + 1e-6);
    return static_cast<int64_t>(v);
  };
  int64_t n = whole(cum_intensity_) - whole(before);
  if (day < options_.days && day == options_.days - 1)
    n = static_cast<int64_t>(options_.customers) - static_cast<int64_t>(next_index_);  // exact total
  planned_day_ = day;
  day_arrivals_.clear();
  day_next_ = 0;
  const int64_t day_start = options_.start_ms + day * kDayMs;
  for (int64_t i = 0; i < n; ++i) {
    // A time in the day, weighted by the UTC hour (rejection sampling; the largest weight is 2),
    // so the daily rhythm holds whatever time of day the history starts at.
    int64_t t;
    do {
      t = day_start + static_cast<int64_t>(arrival_rng_.Unit() * kDayMs);
    } while (arrival_rng_.Unit() * 2.0 >= kHourWeights[(t / 3'600'000) % 24]);
    double pick = arrival_rng_.Unit() * x, acc = 0;
    int8_t campaign = -1;
    for (size_t k = 0; k < comp.size(); ++k) {
      acc += comp[k];
      if (pick < acc || k + 1 == comp.size()) {
        campaign = static_cast<int8_t>(static_cast<int>(k) - 1);
        break;
      }
    }
    day_arrivals_.emplace_back(t, campaign);
  }
  std::sort(day_arrivals_.begin(), day_arrivals_.end());
}

void Simulator::SetLiveSpeed(double speed) { live_speed_ = speed > 0 ? speed : 1; }

int64_t Simulator::Stamp(int64_t t) const {
  if (t < end_ms_ || live_speed_ == 1) return t;
  return end_ms_ + static_cast<int64_t>(static_cast<double>(t - end_ms_) / live_speed_);
}

double Simulator::Progress() const {
  if (last_emitted_ms_ <= options_.start_ms) return 0;
  return std::min(1.0, static_cast<double>(last_emitted_ms_ - options_.start_ms) / (end_ms_ - options_.start_ms));
}

void Simulator::Schedule(uint32_t slot) {
  Customer& c = *slots_[slot];
  int64_t t = Behaviour::NextWake(c);
  if (t == std::numeric_limits<int64_t>::max()) {
    Release(slot);
    return;
  }
  wakes_.push({t, c.index, slot, ++gen_[slot]});
}

void Simulator::Release(uint32_t slot) {
  slot_of_.erase(slots_[slot]->index);
  slots_[slot].reset();
  ++gen_[slot];
  free_slots_.push_back(slot);
  --stats_.live_customers;
}

void Simulator::Arrive(int64_t t) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    gen_.push_back(0);
  }
  int8_t campaign = day_arrivals_[day_next_ - 1].second;
  slots_[slot] = Behaviour::NewCustomer(*this, next_index_, campaign, t);
  slot_of_[next_index_] = slot;
  ++next_index_;
  ++stats_.live_customers;
  stats_.peak_live_customers = std::max(stats_.peak_live_customers, stats_.live_customers);
  Wake(slot, t);
}

void Simulator::Wake(uint32_t slot, int64_t t) {
  Behaviour b(*this, *slots_[slot], t);
  b.Run();
  Schedule(slot);
}

bool Simulator::Next(int64_t limit_ms, std::string* line, int64_t* time_ms) {
  // Simulated time of the limit (live mode compresses time past the history's end).
  int64_t limit = limit_ms;
  if (limit_ms > end_ms_ && live_speed_ != 1) {
    double sim = static_cast<double>(end_ms_) + static_cast<double>(limit_ms - end_ms_) * live_speed_;
    limit = sim > 9.0e18 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(sim);
  }
  while (true) {
    // The earliest thing that can still produce an interaction: an arrival or a customer's wake.
    while (day_next_ >= day_arrivals_.size()) {
      int64_t day = planned_day_ + 1;
      if (options_.start_ms + day * kDayMs >= limit) break;  // not needed yet
      PlanDay(day);
    }
    int64_t next_arrival = day_next_ < day_arrivals_.size() ? day_arrivals_[day_next_].first
                                                            : std::numeric_limits<int64_t>::max();
    while (!wakes_.empty() && (!slots_[wakes_.top().slot] || wakes_.top().gen != gen_[wakes_.top().slot])) wakes_.pop();
    int64_t next_wake = wakes_.empty() ? std::numeric_limits<int64_t>::max() : wakes_.top().t;
    int64_t next_event = std::min(next_arrival, next_wake);
    // Everything that comes later is at or after next_event, so a pending message before it is
    // next in time order.
    if (!pending_.empty() && pending_.top().t <= next_event && pending_.top().t < limit) {
      Pending& p = const_cast<Pending&>(pending_.top());
      line->swap(p.line);
      if (time_ms) *time_ms = Stamp(p.t);
      last_emitted_ms_ = std::max(last_emitted_ms_, p.t);
      pending_.pop();
      ++stats_.interactions;
      return true;
    }
    if (next_event >= limit) {
      // Nothing before the limit can be generated; pending messages before it were sent above.
      if (next_event == std::numeric_limits<int64_t>::max() && planned_day_ < 0) return false;
      return false;
    }
    if (next_arrival <= next_wake) {
      ++day_next_;
      Arrive(next_arrival);
    } else {
      WakeEntry w = wakes_.top();
      wakes_.pop();
      Wake(w.slot, w.t);
    }
  }
}

Status Simulator::ApplyAction(const Action& action, int64_t at_ms) {
  const std::string& prefix = options_.id_prefix;
  if (action.user_id.size() <= prefix.size() || action.user_id.compare(0, prefix.size(), prefix) != 0)
    return NotFound("not a simulated customer: " + action.user_id);
  uint64_t index = 0;
  for (size_t i = prefix.size(); i < action.user_id.size(); ++i) {
    char ch = action.user_id[i];
    if (ch < '0' || ch > '9' || index > 1'000'000'000'000ull) return NotFound("not a simulated customer: " + action.user_id);
    index = index * 10 + static_cast<uint64_t>(ch - '0');
  }
  auto it = slot_of_.find(index);
  if (it == slot_of_.end()) return NotFound("customer is no longer simulated: " + action.user_id);
  // The action lands at the stream's current simulated time (never before what was emitted).
  int64_t t = at_ms;
  if (t >= end_ms_ && live_speed_ != 1)
    t = end_ms_ + static_cast<int64_t>(static_cast<double>(t - end_ms_) * live_speed_);
  t = std::max(t, last_emitted_ms_);
  ++stats_.actions_applied;
  uint32_t slot = it->second;
  Behaviour b(*this, *slots_[slot], t);
  if (b.Respond(action)) ++stats_.rescued;
  Schedule(slot);
  return Status::Ok();
}

}  // namespace cairn::sim
