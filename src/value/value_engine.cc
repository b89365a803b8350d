#include "value/value_engine.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/logging.h"
#include "base/thread_name.h"
#include "value/scorer.h"

namespace cairn::value {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// One customer's behaviour at the fit (`today`): the discovered personas' features and the facts
// of the persona rules.
PersonaInput BehaviourOf(store::CustomerId id, const RfmSummary& rfm,
                         const std::unordered_map<store::CustomerId, std::vector<Purchase>>& purchases,
                         const std::unordered_map<store::CustomerId, std::array<uint32_t, kChannelGroups.size()>>& channels,
                         int64_t today) {
  PersonaInput p;
  const auto& list = purchases.at(id);
  int64_t last = rfm.first_day;
  double total = 0;
  std::vector<int64_t> days;
  days.reserve(list.size());
  for (const auto& pu : list) {
    if (pu.day > today) continue;
    last = std::max(last, pu.day);
    total += pu.value;
    days.push_back(pu.day);
  }
  std::sort(days.begin(), days.end());
  const double purchase_days = static_cast<double>(std::unique(days.begin(), days.end()) - days.begin());
  p.purchases = std::max(1.0, purchase_days);
  p.average_order = total / p.purchases;
  p.recency_days = static_cast<double>(today - last);
  p.tenure_days = static_cast<double>(today - rfm.first_day);
  if (auto it = channels.find(id); it != channels.end()) {
    double n = 0;
    for (uint32_t c : it->second) n += c;
    for (size_t g = 0; g < kChannelGroups.size(); ++g) p.channel_share[g] = n > 0 ? it->second[g] / n : 0;
  }
  return p;
}

// CLV distribution of one group; `clvs` is sorted in place.
void Describe(std::vector<double>* clvs, double alive_sum, ClvGroup* g) {
  std::sort(clvs->begin(), clvs->end());
  g->customers = static_cast<int64_t>(clvs->size());
  for (double c : *clvs) g->clv_total += c;
  if (clvs->empty()) return;
  g->clv_mean = g->clv_total / static_cast<double>(clvs->size());
  g->clv_median = (*clvs)[(clvs->size() - 1) / 2];
  g->mean_prob_alive = alive_sum / static_cast<double>(clvs->size());
}

}  // namespace

ValueEngine::ValueEngine(ValueEngineOptions options, ScanFn scan, CanonicalFn canonical, ResolveFn resolve, Clock* clock)
    : options_(std::move(options)),
      scan_(std::move(scan)),
      canonical_(std::move(canonical)),
      resolve_(std::move(resolve)),
      clock_(clock ? clock : Clock::Real()) {}

ValueEngine::ValueEngine(ValueEngineOptions options, ColumnScanFn scan, CanonicalFn canonical, ResolveFn resolve,
                         Clock* clock)
    : options_(std::move(options)),
      column_scan_(std::move(scan)),
      canonical_(std::move(canonical)),
      resolve_(std::move(resolve)),
      clock_(clock ? clock : Clock::Real()) {}

ValueEngine::~ValueEngine() { Stop(); }

// Everything a fit takes from the interactions, per canonical customer. Row() is the reference
// semantics; Block() computes exactly the same from columns, with the per-row work reduced to
// code-table lookups: the dictionaries are translated once per segment, merges (canonical_) and
// the skip predicate are asked once per run of equal customers, and channel counts are added to
// the map once per run.
class ValueEngine::Collector final : public InteractionSink {
 public:
  Collector(const ValueEngine& engine, State* state, FitOutcome* out) : e_(engine), state_(state), out_(out) {}

  std::unordered_map<store::CustomerId, std::vector<Purchase>> purchases;
  // Interactions per channel group per customer (every interaction, not only purchases): the
  // channel-mix features of the personas.
  std::unordered_map<store::CustomerId, std::array<uint32_t, kChannelGroups.size()>> channels;
  std::vector<ItemPurchase> item_purchases;
  std::unordered_map<store::CustomerId, SubscriptionEvents> subs;

  Status Row(const store::Interaction& in) override {
    ++out_->interactions_scanned;
    if (const int g = ChannelGroupOf(in.channel); g >= 0) ++channels[e_.canonical_(in.customer)][g];
    const bool purchase = IsPurchase(in, e_.options_.purchases);
    if (in.type == store::MessageType::kTrack && !in.event.empty()) {
      const auto& o = e_.options_;
      const bool start = in.event == o.subscription_started, renew = in.event == o.subscription_renewed;
      if (start || renew || in.event == o.subscription_cancelled)
        Subscription(e_.canonical_(in.customer), start, renew, in.timestamp_ms, in.revenue);
    }
    if (e_.extract_) Extract(in, purchase);
    if (purchase) {
      ++out_->purchases;
      purchases[e_.canonical_(in.customer)].push_back({DayOf(in.timestamp_ms, e_.options_.purchases), in.revenue});
    }
    return Status::Ok();
  }

  Status Block(const InteractionBlock& b) override {
    const auto& o = e_.options_;
    if (b.events.data() != events_.data() || b.events.size() != events_.size()) {
      events_ = b.events;
      purchase_code_.assign(b.events.size() + 1, 0);  // + an entry for codes out of range
      sub_code_.assign(b.events.size() + 1, 0);
      for (size_t c = 0; c < b.events.size(); ++c) {
        const std::string& name = b.events[c];
        purchase_code_[c] = std::find(o.purchases.events.begin(), o.purchases.events.end(), name) != o.purchases.events.end();
        if (name.empty()) continue;
        sub_code_[c] = name == o.subscription_started ? 1 : name == o.subscription_renewed ? 2
                       : name == o.subscription_cancelled ? 3 : 0;
      }
    }
    if (b.channels.data() != channel_dict_.data() || b.channels.size() != channel_dict_.size()) {
      channel_dict_ = b.channels;
      group_code_.assign(b.channels.size() + 1, -1);
      for (size_t c = 0; c < b.channels.size(); ++c) group_code_[c] = static_cast<int8_t>(ChannelGroupOf(b.channels[c]));
    }
    const uint32_t nevents = static_cast<uint32_t>(b.events.size()), nchannels = static_cast<uint32_t>(b.channels.size());
    const uint8_t track = static_cast<uint8_t>(store::MessageType::kTrack);
    const uint8_t identify = static_cast<uint8_t>(store::MessageType::kIdentify);
    const bool by_revenue = o.purchases.any_positive_revenue;
    const size_t n = b.customer.size();
    std::array<uint32_t, kChannelGroups.size()> run_channels{};
    bool run_has_channel = false, skip = false;
    store::CustomerId raw = 0, canonical = 0;
    std::vector<Purchase>* bought = nullptr;
    auto end_run = [&] {
      if (run_has_channel) {
        auto& counts = channels[canonical];
        for (size_t g = 0; g < counts.size(); ++g) counts[g] += run_channels[g];
      }
      run_channels = {};
      run_has_channel = false;
    };
    for (size_t i = 0; i < n; ++i) {
      if (i == 0 || b.customer[i] != raw) {
        if (i > 0 && !skip) end_run();
        raw = b.customer[i];
        skip = b.skip && b.skip(raw);
        canonical = skip ? 0 : e_.canonical_(raw);
        bought = nullptr;
      }
      if (skip) continue;
      ++out_->interactions_scanned;
      const uint32_t ch = b.channel[i] < nchannels ? b.channel[i] : nchannels;
      if (const int g = group_code_[ch]; g >= 0) {
        ++run_channels[static_cast<size_t>(g)];
        run_has_channel = true;
      }
      const uint32_t ev = b.event[i] < nevents ? b.event[i] : nevents;
      const bool is_track = b.type[i] == track;
      const bool purchase = (by_revenue && b.revenue[i] > 0) || (is_track && purchase_code_[ev]);
      if (is_track && sub_code_[ev] != 0)
        Subscription(canonical, sub_code_[ev] == 1, sub_code_[ev] == 2, b.timestamp_ms[i], b.revenue[i]);
      if (e_.extract_ && (purchase || b.type[i] == identify) && b.payload) {
        ASSIGN_OR_RETURN(std::string_view payload, b.payload(i));
        row_.customer = raw;
        row_.timestamp_ms = b.timestamp_ms[i];
        row_.event = ev < nevents ? b.events[ev] : std::string();
        row_.type = static_cast<store::MessageType>(b.type[i]);
        row_.channel = ch < nchannels ? b.channels[ch] : std::string();
        row_.revenue = b.revenue[i];
        row_.payload.assign(payload);
        Extract(row_, purchase, canonical);
      }
      if (purchase) {
        ++out_->purchases;
        if (!bought) bought = &purchases[canonical];
        bought->push_back({DayOf(b.timestamp_ms[i], o.purchases), b.revenue[i]});
      }
    }
    if (n > 0 && !skip) end_run();
    return Status::Ok();
  }

 private:
  void Subscription(store::CustomerId c, bool start, bool renew, int64_t timestamp_ms, double revenue) {
    SubscriptionEvents& e = subs[c];
    if (start) e.started = true;
    if (renew) ++e.renewals;
    if (!start && !renew) e.cancelled = true;
    if ((start || renew) && timestamp_ms >= e.last_payment_ms) {
      e.last_payment_ms = timestamp_ms;
      e.value = revenue;
    }
  }
  void Extract(const store::Interaction& in, bool purchase, std::optional<store::CustomerId> canonical = {}) {
    extras_.items.clear();
    extras_.version.clear();
    extras_.segment.clear();
    e_.extract_(in, purchase, &extras_);
    if (extras_.items.empty() && extras_.version.empty() && extras_.segment.empty()) return;
    const store::CustomerId c = canonical ? *canonical : e_.canonical_(in.customer);
    Extras& owned = state_->owned[c];
    const int64_t day = DayOf(in.timestamp_ms, e_.options_.purchases);
    for (auto& item : extras_.items) {
      item_purchases.push_back({c, item, day});
      owned.items.push_back(std::move(item));
    }
    if (!extras_.version.empty()) owned.version = extras_.version;  // the latest statement wins (scan order)
    if (!extras_.segment.empty()) owned.segment = extras_.segment;
  }

  const ValueEngine& e_;
  State* state_;
  FitOutcome* out_;
  Extras extras_;
  store::Interaction row_;  // a purchase or identify handed to the extractor (column path)
  // Code tables of the current dictionaries.
  std::span<const std::string> events_, channel_dict_;
  std::vector<uint8_t> purchase_code_, sub_code_;  // sub: 1 start, 2 renewal, 3 cancellation
  std::vector<int8_t> group_code_;                 // kChannelGroups index, -1 none
};

void ValueEngine::Start() {
  if (options_.refit_interval_s <= 0 || loop_.joinable()) return;
  loop_ = std::thread([this] {
    NameThisThread("value-refit");
    std::unique_lock lock(loop_mu_);
    while (!stop_) {
      lock.unlock();
      auto r = Fit();
      if (!r.ok()) LOG_WARN("value: periodic fit failed: {}", r.status().ToString());
      lock.lock();
      loop_cv_.wait_for(lock, std::chrono::seconds(options_.refit_interval_s), [this] { return stop_; });
    }
  });
}

void ValueEngine::Stop() {
  {
    std::lock_guard lock(loop_mu_);
    stop_ = true;
  }
  loop_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
}

int64_t ValueEngine::NowMs() const { return clock_->NowMillis(); }

std::shared_ptr<const ValueEngine::State> ValueEngine::Current() const {
  std::lock_guard lock(state_mu_);
  return state_;
}

Result<FitOutcome> ValueEngine::Fit() {
  std::lock_guard fit_lock(fit_mu_);
  RETURN_IF_ERROR(ValidateClvOptions(options_.clv));
  auto state = std::make_shared<State>();
  FitOutcome& out = state->fit;
  out.days_per_unit = options_.days_per_unit;
  out.model = options_.model;
  out.clv = options_.clv;
  out.calibration_end_day = DayOf(NowMs(), options_.purchases);

  // 1. Scan: purchases per canonical customer. Interactions carry the customer at ingest time;
  //    merges are applied here through `canonical_`.
  auto t0 = std::chrono::steady_clock::now();
  Collector collected(*this, state.get(), &out);
  if (column_scan_) {
    RETURN_IF_ERROR(column_scan_(collected));
  } else {
    Status row_status;
    RETURN_IF_ERROR(scan_([&](const store::Interaction& in) {
      row_status = collected.Row(in);
      return row_status.ok();
    }));
    RETURN_IF_ERROR(row_status);
  }
  auto& purchases = collected.purchases;
  const auto& channels = collected.channels;
  auto& item_purchases = collected.item_purchases;
  const auto& subs = collected.subs;
  out.scan_seconds = Seconds(t0);

  // 2. Summaries (calibration = everything up to today; no holdout).
  RfmOptions rfm;
  rfm.days_per_unit = options_.days_per_unit;
  rfm.calibration_end_day = out.calibration_end_day;
  rfm.holdout_end_day = out.calibration_end_day;
  // Customers in id order, so that the fit and the personas do not depend on hash-map order.
  std::vector<store::CustomerId> buyers;
  buyers.reserve(purchases.size());
  for (const auto& [id, p] : purchases) buyers.push_back(id);
  std::sort(buyers.begin(), buyers.end());
  std::vector<store::CustomerId> ids;
  std::vector<RfmSummary> rows;
  for (store::CustomerId id : buyers) {
    if (auto s = Summarize(purchases.at(id), rfm)) {
      ids.push_back(id);
      rows.push_back(*s);
    }
  }
  out.customers = static_cast<int64_t>(rows.size());
  if (rows.empty()) return FailedPrecondition("value fit: no purchases yet (events counted as purchases: " +
                                              fmt::format("{}", fmt::join(options_.purchases.events, ", ")) +
                                              (options_.purchases.any_positive_revenue ? ", or any revenue > 0)" : ")"));

  // 3. Fit.
  t0 = std::chrono::steady_clock::now();
  PurchaseModel model;
  model.kind = options_.model;
  const FitData data = CompressForFit(rows);
  if (options_.model == PurchaseModelKind::kBgNbd) {
    ASSIGN_OR_RETURN(auto fit, FitBgNbd(data, options_.fit));
    out.bgnbd = model.bgnbd = fit.params;
    out.purchase_report = fit.report;
  } else {
    ASSIGN_OR_RETURN(auto fit, FitParetoNbd(data, options_.fit));
    out.pareto_nbd = model.pareto_nbd = fit.params;
    out.purchase_report = fit.report;
  }
  // A maximum that is not a clean convergence (on a parameter's bound: BG/NBD with b -> infinity
  // when no one has dropped out yet, as in a young business's data; or starts stopping at
  // different heights along the flat ridge toward that limit) is kept, its report saying so,
  // rather than leaving the business without any value figures. A search that did not reach a
  // maximum (gradient not ~0, no finite likelihood) refuses the fit.
  if (!out.purchase_report.stationary)
    return FailedPrecondition("value fit: the purchase model did not converge: " + out.purchase_report.message);
  const SpendData spend = SpendDataOf(rows);
  auto gg = FitGammaGamma(spend, options_.fit);
  if (gg.ok() && gg->report.converged && gg->params.q > 1) {
    out.spend_fitted = true;
    out.gamma_gamma = gg->params;
    out.spend_report = gg->report;
  } else {
    out.spend_report.message = gg.ok() ? gg->report.message : std::string(gg.status().message());
  }
  out.fit_seconds = Seconds(t0);

  // 4. Score every customer.
  t0 = std::chrono::steady_clock::now();
  std::vector<double> clvs;
  clvs.reserve(rows.size());
  ValueSummaryView& sum = state->summary;
  sum.prob_alive_bands.assign(4, 0);
  double alive_sum = 0;
  CustomerScorer scorer(model, out.gamma_gamma, options_.clv);  // ScoreCustomer's numbers, cached per (x, T)
  for (size_t i = 0; i < rows.size(); ++i) {
    CustomerValue v;
    if (out.spend_fitted) {
      v = scorer.Score(rows[i]);
    } else {
      // Without a spend model, a customer's spend is their own average (trial value if no repeat).
      v.prob_alive = model.ProbAlive(rows[i].x, rows[i].t_x, rows[i].T);
      v.expected_purchases = model.ConditionalExpected(options_.clv.horizon, rows[i].x, rows[i].t_x, rows[i].T);
      v.expected_spend = rows[i].x > 0 ? rows[i].m_x : rows[i].first_value;
      v.clv = v.expected_spend * v.expected_purchases;
    }
    state->customers.emplace(ids[i], Scored{rows[i], v, BehaviourOf(ids[i], rows[i], purchases, channels, out.calibration_end_day), -1, -1, true});
    clvs.push_back(v.clv);
    alive_sum += v.prob_alive;
    sum.prob_alive_bands[std::min<size_t>(3, static_cast<size_t>(v.prob_alive * 4))]++;
    sum.clv_total += v.clv;
  }
  std::sort(clvs.begin(), clvs.end());
  sum.fitted = true;
  sum.clv_mean = sum.clv_total / static_cast<double>(clvs.size());
  sum.mean_prob_alive = alive_sum / static_cast<double>(clvs.size());
  for (double q : {0.1, 0.25, 0.5, 0.75, 0.9, 0.99})
    sum.clv_quantiles.emplace_back(q, clvs[std::min(clvs.size() - 1, static_cast<size_t>(q * static_cast<double>(clvs.size())))]);
  out.score_seconds = Seconds(t0);
  out.fitted_at_ms = NowMs();
  sum.fit = out;

  // 5. Personas over the customers who bought (ids matched to the previous fit's), then the rule
  //    personas and the CLV by persona and segment (before subscriptions replace CLVs).
  DiscoverPersonasInto(state.get(), ids, Current());
  GroupClv(state.get());

  // 6. Subscriptions: sBG on renewals.
  FitSubscriptions(state.get(), subs);
  sum.fit.subscribers = out.subscribers = state->fit.subscribers;

  // 7. Next best offer rules from the products of every purchase.
  for (auto& [c, owned] : state->owned) {
    std::sort(owned.items.begin(), owned.items.end());
    owned.items.erase(std::unique(owned.items.begin(), owned.items.end()), owned.items.end());
  }
  if (!item_purchases.empty()) {
    auto model = OfferModel::Build(item_purchases, options_.offers);
    if (model.ok()) state->offers = std::move(model).value();
    else LOG_WARN("value: next best offer rules not built: {}", model.status().ToString());
  }

  sum.fit = out;
  FitOutcome result = out;
  {
    std::lock_guard lock(state_mu_);
    state_ = std::move(state);
  }
  LOG_INFO("value: fitted {} customers ({} purchases) in {:.2f}s", result.customers, result.purchases,
           result.scan_seconds + result.fit_seconds + result.score_seconds);
  return result;
}

void ValueEngine::DiscoverPersonasInto(State* state, const std::vector<store::CustomerId>& ids,
                                       const std::shared_ptr<const State>& previous) const {
  std::vector<PersonaInput> inputs(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) inputs[i] = state->customers.at(ids[i]).behaviour;
  std::span<const Persona> prev;
  if (previous && previous->summary.personas.available) prev = previous->summary.personas.model.personas;
  PersonasView& view = state->summary.personas;
  view.fitted_at_ms = state->fit.fitted_at_ms;
  auto model = DiscoverPersonas(inputs, options_.personas, prev);
  if (!model.ok()) {
    view.reason = std::string(model.status().message());
    return;
  }
  view.available = true;
  view.model = std::move(model).value();
  auto& personas = view.model.personas;
  std::vector<double> clv_sum(personas.size(), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    const int idx = view.model.assignment[i];
    auto& scored = state->customers.at(ids[i]);
    scored.persona = idx;
    clv_sum[idx] += scored.value.clv;
  }
  for (size_t c = 0; c < personas.size(); ++c)
    personas[c].mean_clv = personas[c].size > 0 ? clv_sum[c] / static_cast<double>(personas[c].size) : 0;
  view.model.assignment.clear();
  view.model.assignment.shrink_to_fit();
}

void ValueEngine::GroupClv(State* state) const {
  // Rule personas, asked once per scored customer with the fit's facts.
  std::unordered_map<std::string, int> rule_index;
  if (rules_) {
    for (auto& [id, scored] : state->customers) {
      const CustomerFacts facts{scored.value, scored.behaviour};
      std::optional<std::string> rule = rules_(id, &facts);
      if (!rule) continue;
      auto [it, fresh] = rule_index.emplace(*rule, static_cast<int>(state->rule_names.size()));
      if (fresh) state->rule_names.push_back(*rule);
      scored.rule = it->second;
    }
  }
  // Groups: rule personas (by name), discovered personas (by index), none; segments by name.
  const auto& discovered = state->summary.personas.model.personas;
  struct Acc {
    std::vector<double> clvs;
    double alive = 0;
  };
  std::vector<Acc> by_rule(state->rule_names.size()), by_discovered(discovered.size());
  Acc none;
  std::map<std::string, Acc> by_segment;
  for (const auto& [id, scored] : state->customers) {
    Acc& a = scored.rule >= 0 ? by_rule[scored.rule] : scored.persona >= 0 ? by_discovered[scored.persona] : none;
    a.clvs.push_back(scored.value.clv);
    a.alive += scored.value.prob_alive;
    if (segment_trait_.empty()) continue;
    auto owned = state->owned.find(id);
    Acc& seg = by_segment[owned == state->owned.end() ? std::string() : owned->second.segment];
    seg.clvs.push_back(scored.value.clv);
    seg.alive += scored.value.prob_alive;
  }
  ValueSummaryView& sum = state->summary;
  // Rule personas in the map's order would need the map; first-seen order is not stable across
  // hash orders, so they are listed by name.
  std::vector<size_t> order(state->rule_names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return state->rule_names[a] < state->rule_names[b]; });
  for (size_t i : order) {
    ClvGroup g{state->rule_names[i], "rule"};
    Describe(&by_rule[i].clvs, by_rule[i].alive, &g);
    sum.by_persona.push_back(std::move(g));
  }
  for (size_t i = 0; i < discovered.size(); ++i) {
    if (by_discovered[i].clvs.empty()) continue;  // every member matched a rule
    ClvGroup g{discovered[i].name, "discovered", discovered[i].id};
    Describe(&by_discovered[i].clvs, by_discovered[i].alive, &g);
    sum.by_persona.push_back(std::move(g));
  }
  if (!none.clvs.empty()) {
    ClvGroup g{"", "none"};
    Describe(&none.clvs, none.alive, &g);
    sum.by_persona.push_back(std::move(g));
  }
  sum.segment_trait = segment_trait_;
  for (auto& [name, acc] : by_segment) {
    if (name.empty()) continue;
    ClvGroup g{name, "trait"};
    Describe(&acc.clvs, acc.alive, &g);
    sum.by_segment.push_back(std::move(g));
  }
  if (auto it = by_segment.find(""); it != by_segment.end()) {
    ClvGroup g{"", "none"};
    Describe(&it->second.clvs, it->second.alive, &g);
    sum.by_segment.push_back(std::move(g));
  }
}

std::optional<PersonaRef> ValueEngine::PersonaAt(const State& state, const Scored& scored, bool discovered_only) {
  if (scored.rule >= 0 && !discovered_only) return PersonaRef{0, state.rule_names[scored.rule], "rule"};
  if (scored.persona < 0) return std::nullopt;
  const Persona& p = state.summary.personas.model.personas[scored.persona];
  return PersonaRef{p.id, p.name, "discovered"};
}

void ValueEngine::OffersFor(const State& state, CustomerValueView* v) const {
  auto it = state.owned.find(v->customer);
  std::vector<Offer> offers;
  if (it != state.owned.end()) {
    if (auto update = FeatureUpdateOffer(it->second.version, options_.latest_version)) offers.push_back(*update);
    if (state.offers && offers.size() < options_.offers_per_customer) {
      auto more = state.offers->Recommend(it->second.items, options_.offers_per_customer - offers.size());
      offers.insert(offers.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
  }
  if (offers.empty()) return;
  if (!consent_) {
    v->consent_evidence = "not checked: no consent ledger wired";
  } else {
    auto answer = consent_(v->customer);
    if (!answer.ok()) {
      // Fail closed: an offer without a known consent answer is not shown.
      v->offers_withheld = "consent for personalisation could not be checked: " + std::string(answer.status().message());
      return;
    }
    v->consent_evidence = answer->evidence;
    if (!answer->allowed) {
      v->offers_withheld = "no consent for personalisation";
      return;
    }
  }
  v->offers = std::move(offers);
}

void ValueEngine::FitSubscriptions(State* state,
                                   const std::unordered_map<store::CustomerId, SubscriptionEvents>& subs) const {
  FitOutcome& out = state->fit;
  out.subscription_discount_rate = options_.subscription_discount_rate;
  std::vector<store::CustomerId> ids;
  for (const auto& [c, e] : subs)
    if (e.started || e.renewals > 0) ids.push_back(c);
  std::sort(ids.begin(), ids.end());
  out.subscribers = static_cast<int64_t>(ids.size());
  if (ids.empty()) {
    out.subscription_reason = "no subscription events";
    return;
  }
  const double rule = options_.subscription_renewal_probability, d = options_.subscription_discount_rate;
  if (rule > 0) {
    // The configured rule: no fit; a constant renewal probability.
    out.subscription_renewal_probability = rule;
    out.subscription_reason = fmt::format("configured rule: renewal probability {}", rule);
  } else {
    std::vector<SbgObservation> data;
    data.reserve(ids.size());
    for (auto c : ids) data.push_back({subs.at(c).renewals, subs.at(c).cancelled, 1});
    auto fit = FitSbg(data, options_.fit);
    if (!fit.ok() || !fit->report.converged) {
      out.subscription_reason = fit.ok() ? "did not converge: " + fit->report.message : std::string(fit.status().message());
      return;
    }
    out.subscription_fitted = true;
    out.sbg = fit->params;
    out.subscription_report = fit->report;
  }
  for (auto c : ids) {
    const SubscriptionEvents& e = subs.at(c);
    SubscriptionView v;
    v.renewals = e.renewals;
    v.active = !e.cancelled;
    v.value_per_period = e.value;
    if (v.active && rule > 0) {
      v.retention_next = rule;
      v.expected_payments = rule * (1 + d) / (1 + d - rule);
      v.clv = v.value_per_period * v.expected_payments;
    } else if (v.active) {
      v.retention_next = SbgRetentionRate(out.sbg, e.renewals + 1);
      v.expected_payments = SbgDiscountedResidualLifetime(out.sbg, e.renewals, d);
      v.clv = v.value_per_period * v.expected_payments;
    }
    state->subscribers.emplace(c, v);
    // The oracle (journey value at stake, rescue) sees the contractual CLV for subscribers.
    auto it = state->customers.find(c);
    if (it == state->customers.end()) it = state->customers.emplace(c, Scored{}).first;
    it->second.value.clv = v.clv;
    it->second.value.prob_alive = v.retention_next;
  }
}

Result<CustomerValueView> ValueEngine::GetCustomer(const std::string& any_identity) {
  ASSIGN_OR_RETURN(store::CustomerId id, resolve_(any_identity));
  auto state = Current();
  if (!state) return FailedPrecondition("no value fit yet: POST /v1/value/fit (or configure periodic refits)");
  CustomerValueView v;
  v.customer = canonical_(id);
  v.fitted_at_ms = state->fit.fitted_at_ms;
  auto it = state->customers.find(v.customer);
  if (it != state->customers.end()) {
    v.modelled = true;
    v.rfm = it->second.rfm;
    v.value = it->second.value;
    v.persona = PersonaAt(*state, it->second);
  }
  // Rule personas are judged now (the journey state moves between fits) with the fit's facts; a
  // customer the fit did not model can still match rules that read no value facts.
  if (rules_) {
    std::optional<CustomerFacts> facts;
    if (it != state->customers.end() && it->second.bought) facts = CustomerFacts{it->second.value, it->second.behaviour};
    if (auto rule = rules_(v.customer, facts ? &*facts : nullptr)) v.persona = PersonaRef{0, *rule, "rule"};
    else if (it != state->customers.end()) v.persona = PersonaAt(*state, it->second, /*discovered_only=*/true);
  }
  if (auto sub = state->subscribers.find(v.customer); sub != state->subscribers.end()) v.subscription = sub->second;
  OffersFor(*state, &v);
  return v;
}

Result<ValueSummaryView> ValueEngine::Summary() {
  auto state = Current();
  if (!state) return FailedPrecondition("no value fit yet: POST /v1/value/fit (or configure periodic refits)");
  return state->summary;
}

Result<ValueSummaryView> ValueEngine::SummaryOf(const std::vector<uint64_t>& customers) {
  auto state = Current();
  if (!state) return FailedPrecondition("no value fit yet: POST /v1/value/fit (or configure periodic refits)");
  const ValueSummaryView& all = state->summary;
  ValueSummaryView sum;
  sum.fitted = all.fitted;
  sum.fit = all.fit;
  sum.personas = all.personas;
  sum.segment_trait = all.segment_trait;
  sum.prob_alive_bands.assign(4, 0);
  // The groups keep the whole summary's order: (source, name, id) → its index there.
  struct Acc {
    std::vector<double> clvs;
    double alive = 0;
  };
  auto key = [](const ClvGroup& g) { return g.source + '\x1f' + g.name + '\x1f' + std::to_string(g.id); };
  std::unordered_map<std::string, size_t> persona_at, segment_at;
  for (size_t i = 0; i < all.by_persona.size(); ++i) persona_at.emplace(key(all.by_persona[i]), i);
  for (size_t i = 0; i < all.by_segment.size(); ++i) segment_at.emplace(all.by_segment[i].name, i);
  std::vector<Acc> by_persona(all.by_persona.size()), by_segment(all.by_segment.size());
  std::vector<double> clvs;
  double alive = 0;
  for (uint64_t id : customers) {
    auto it = state->customers.find(id);
    if (it == state->customers.end()) continue;
    const Scored& scored = it->second;
    clvs.push_back(scored.value.clv);
    alive += scored.value.prob_alive;
    sum.prob_alive_bands[std::min<size_t>(3, static_cast<size_t>(scored.value.prob_alive * 4))]++;
    sum.clv_total += scored.value.clv;
    ClvGroup g{"", "none"};
    if (auto p = PersonaAt(*state, scored)) g = ClvGroup{p->name, p->source, p->source == "discovered" ? p->id : 0};
    if (auto at = persona_at.find(key(g)); at != persona_at.end()) {
      by_persona[at->second].clvs.push_back(scored.value.clv);
      by_persona[at->second].alive += scored.value.prob_alive;
    }
    if (!sum.segment_trait.empty()) {
      auto owned = state->owned.find(id);
      auto at = segment_at.find(owned == state->owned.end() ? std::string() : owned->second.segment);
      if (at != segment_at.end()) {
        by_segment[at->second].clvs.push_back(scored.value.clv);
        by_segment[at->second].alive += scored.value.prob_alive;
      }
    }
  }
  if (!clvs.empty()) {
    std::sort(clvs.begin(), clvs.end());
    sum.clv_mean = sum.clv_total / static_cast<double>(clvs.size());
    sum.mean_prob_alive = alive / static_cast<double>(clvs.size());
    for (double q : {0.1, 0.25, 0.5, 0.75, 0.9, 0.99})
      sum.clv_quantiles.emplace_back(q, clvs[std::min(clvs.size() - 1, static_cast<size_t>(q * static_cast<double>(clvs.size())))]);
  }
  for (size_t i = 0; i < by_persona.size(); ++i) {
    if (by_persona[i].clvs.empty()) continue;
    ClvGroup g{all.by_persona[i].name, all.by_persona[i].source, all.by_persona[i].id};
    Describe(&by_persona[i].clvs, by_persona[i].alive, &g);
    sum.by_persona.push_back(std::move(g));
  }
  for (size_t i = 0; i < by_segment.size(); ++i) {
    if (by_segment[i].clvs.empty()) continue;
    ClvGroup g{all.by_segment[i].name, all.by_segment[i].source};
    Describe(&by_segment[i].clvs, by_segment[i].alive, &g);
    sum.by_segment.push_back(std::move(g));
  }
  return sum;
}

std::optional<CustomerValue> ValueEngine::ValueOf(store::CustomerId customer) const {
  auto state = Current();
  if (!state) return std::nullopt;
  auto it = state->customers.find(canonical_(customer));
  if (it == state->customers.end()) return std::nullopt;
  return it->second.value;
}

std::optional<PersonaRef> ValueEngine::PersonaOf(store::CustomerId customer) const {
  auto state = Current();
  if (!state) return std::nullopt;
  auto it = state->customers.find(canonical_(customer));
  if (it == state->customers.end()) return std::nullopt;
  return PersonaAt(*state, it->second);
}

std::optional<CustomerFacts> ValueEngine::FactsOf(store::CustomerId customer) const {
  auto state = Current();
  if (!state) return std::nullopt;
  auto it = state->customers.find(canonical_(customer));
  if (it == state->customers.end() || !it->second.bought) return std::nullopt;
  return CustomerFacts{it->second.value, it->second.behaviour};
}

Result<PersonasView> ValueEngine::Personas() {
  auto state = Current();
  if (!state) return FailedPrecondition("no value fit yet: POST /v1/value/fit (or configure periodic refits)");
  return state->summary.personas;
}

}  // namespace cairn::value
