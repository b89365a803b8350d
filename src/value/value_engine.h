#pragma once
// ValueEngine: live customer value over the event store. A fit scans every interaction (through
// the `scan` callback, e.g. a store Snapshot's ForEach), groups purchases by canonical customer,
// builds RFM summaries with the calibration period ending today, fits the purchase model and the
// Gamma-Gamma spend model, and scores every customer. The result is an immutable snapshot swapped
// in whole, so readers never see a half-finished fit. Optionally refits periodically.
//
// Thread-safety: all methods are thread-safe; fits are serialised.

#include <array>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/clock.h"
#include "value/value_service.h"

namespace cairn::value {

struct ValueEngineOptions {
  PurchaseRule purchases;                                 // which interactions are purchases
  double days_per_unit = 7;                               // model time unit (weeks)
  PurchaseModelKind model = PurchaseModelKind::kBgNbd;    // purchase model
  ClvOptions clv;                                         // horizon, step, discount
  FitOptions fit;                                         // optimiser settings
  PersonaOptions personas;                                // discovered personas (k, seed, ...)
  OfferOptions offers;                                    // next best offer rules
  size_t offers_per_customer = 5;                         // offers in a customer's answer. Default 5.
  // Latest product version for feature-update guidance ("" = none). Default "".
  std::string latest_version;
  // Subscriptions (contractual CLV, sBG): the event names of a start, a renewal, a cancellation
  // (DOMAIN.md §1 grow/retain), and the discount rate per renewal period. Default 0.01.
  std::string subscription_started = "Subscription Started";
  std::string subscription_renewed = "Subscription Renewed";
  std::string subscription_cancelled = "Subscription Cancelled";
  double subscription_discount_rate = 0.01;
  // The configured rule instead of the sBG fit: when in (0, 1), every active subscriber renews with
  // this probability each period, so retentionNext = p and the discounted expected payments are
  // Σ_{k≥1} p^k (1+d)^{1−k} = p(1+d)/(1+d−p). Default 0 = fit the sBG on the renewals.
  double subscription_renewal_probability = 0;
  // Refit every this many seconds from Start() (0 = only on Fit()). Default 0.
  int64_t refit_interval_s = 0;
};

// One block of interactions column by column (a segment block as store::FixedColumns holds it),
// for the column-path scan: all spans the same length; event and channel codes index the given
// dictionaries (a segment's).
struct InteractionBlock {
  std::span<const std::string> events, channels;  // dictionaries
  std::span<const store::CustomerId> customer;    // as ingested (merges are applied by the engine)
  std::span<const int64_t> timestamp_ms;
  std::span<const uint32_t> event, channel;
  std::span<const uint8_t> type;                  // store::MessageType values
  std::span<const double> revenue;
  // Row i's payload; asked only when an extractor is set, and only for purchases and identifies.
  std::function<Result<std::string_view>(size_t row)> payload;
  // Rows of customers for whom this answers true are left out (e.g. analytics consent denied);
  // asked once per run of equal customers, with the customer as ingested. Optional.
  std::function<bool(store::CustomerId)> skip;
};

// What a column-path scan feeds: segment blocks, and single rows for what is in no segment yet
// (the memtable). Both count exactly the same way.
class InteractionSink {
 public:
  virtual ~InteractionSink() = default;
  virtual Status Block(const InteractionBlock& block) = 0;
  virtual Status Row(const store::Interaction& row) = 0;
};

class ValueEngine final : public ValueService, public ValueOracle {
 public:
  using ScanFn = std::function<Status(const std::function<bool(const store::Interaction&)>&)>;
  // The column path (docs/value.md "Live value"): feeds every interaction to the sink, segment
  // blocks whole (no Interaction per row) and memtable rows one by one.
  using ColumnScanFn = std::function<Status(InteractionSink&)>;
  using CanonicalFn = std::function<store::CustomerId(store::CustomerId)>;
  using ResolveFn = std::function<Result<store::CustomerId>(const std::string& any_identity)>;
  // What an interaction says beyond its columns, for next best offer: the products it bought
  // (purchases) and the product version the customer uses (e.g. an identify trait). Set by app/,
  // which reads the payload; optional (without it there are no co-purchase offers).
  struct Extras {
    std::vector<std::string> items;
    std::string version;
    std::string segment;  // the segment trait of an identify ("" = not stated)
  };
  // On the column path it is called for purchases and identifies only, with the row's customer,
  // timestamp, event, type, channel, revenue and payload filled.
  using ExtractFn = std::function<void(const store::Interaction&, bool is_purchase, Extras* out)>;
  // The consent hook for offers (purpose `personalisation`, DOMAIN.md §11): called with the
  // canonical customer; `allowed` false withholds the offers and `evidence` says why. Unset: offers
  // are shown and the answer says consent was not checked.
  struct ConsentAnswer {
    bool allowed = true;
    std::string evidence;
  };
  using ConsentFn = std::function<Result<ConsentAnswer>(store::CustomerId canonical)>;
  // The rule personas (declared in the journey map, docs/journey.md "Personas"): the name of the
  // first rule that holds for the canonical customer given these facts (null: not modelled), or
  // nullopt when none holds. Unset: no rule personas. Called during a fit (once per scored
  // customer) and by GetCustomer; must not call back into the engine.
  using RulePersonaFn = std::function<std::optional<std::string>(store::CustomerId canonical, const CustomerFacts* facts)>;

  // `clock` may be null (system clock). Callbacks must be thread-safe and outlive the engine.
  ValueEngine(ValueEngineOptions options, ScanFn scan, CanonicalFn canonical, ResolveFn resolve,
              Clock* clock = nullptr);
  // The same over the column path; every answer is the same as the row path's over the same
  // interactions (tested, app/value_cmd_test.cc).
  ValueEngine(ValueEngineOptions options, ColumnScanFn scan, CanonicalFn canonical, ResolveFn resolve,
              Clock* clock = nullptr);
  ~ValueEngine() override;

  // Set before Start()/Fit(); callbacks must be thread-safe and outlive the engine.
  void SetExtractor(ExtractFn extract) { extract_ = std::move(extract); }
  void SetPersonalisationConsent(ConsentFn consent) { consent_ = std::move(consent); }
  void SetRulePersonas(RulePersonaFn rules) { rules_ = std::move(rules); }
  // The trait whose value is a customer's segment in the summary ("" = no segments); the extractor
  // reports it (Extras::segment). Set before Start()/Fit().
  void SetSegmentTrait(std::string trait) { segment_trait_ = std::move(trait); }

  // Starts the periodic refit thread (no-op when refit_interval_s == 0).
  void Start();
  void Stop();

  Result<FitOutcome> Fit() override;
  Result<CustomerValueView> GetCustomer(const std::string& any_identity) override;
  Result<ValueSummaryView> Summary() override;
  Result<ValueSummaryView> SummaryOf(const std::vector<uint64_t>& customers) override;
  Result<PersonasView> Personas() override;
  std::optional<CustomerValue> ValueOf(store::CustomerId customer) const override;
  std::optional<PersonaRef> PersonaOf(store::CustomerId customer) const override;
  std::optional<CustomerFacts> FactsOf(store::CustomerId customer) const override;

 private:
  struct Scored {
    RfmSummary rfm;
    CustomerValue value;
    PersonaInput behaviour;  // the facts of the persona rules and the discovered personas
    int persona = -1;  // index into summary.personas.model.personas, -1 = none
    int rule = -1;     // index into State::rule_names: the rule persona at the fit, -1 = none
    bool bought = false;  // scored by the purchase model (false: a subscriber without purchases)
  };
  struct State {
    FitOutcome fit;
    std::unordered_map<store::CustomerId, Scored> customers;
    ValueSummaryView summary;
    std::optional<OfferModel> offers;  // when any purchase named its products
    std::unordered_map<store::CustomerId, Extras> owned;  // items bought (sorted, unique), version, segment
    std::unordered_map<store::CustomerId, SubscriptionView> subscribers;
    std::vector<std::string> rule_names;  // rule personas that held for someone, in first-seen order
  };
  struct SubscriptionEvents {
    bool started = false, cancelled = false;
    int64_t renewals = 0;
    int64_t last_payment_ms = -1;
    double value = 0;
  };
  // Fits the sBG on the subscribers and fills state->subscribers; the oracle's CLV of an active
  // subscriber becomes the subscription CLV (their payments are renewals, not free repeat purchases).
  void FitSubscriptions(State* state, const std::unordered_map<store::CustomerId, SubscriptionEvents>& subs) const;
  std::shared_ptr<const State> Current() const;
  // Fills v->offers (feature update first, then complements and co-purchases), asking the consent
  // hook first.
  void OffersFor(const State& state, CustomerValueView* v) const;
  // Fills state->summary.personas and each scored customer's persona (a failure to cluster, e.g.
  // too few customers, is recorded as the view's reason, not an error of the fit).
  // Clusters the scored customers `ids` on their behaviour.
  void DiscoverPersonasInto(State* state, const std::vector<store::CustomerId>& ids,
                            const std::shared_ptr<const State>& previous) const;
  int64_t NowMs() const;
  // Each scored customer's rule persona (through rules_) and the summary's CLV by persona and by
  // segment; after the discovered personas, before subscriptions (groups sum the purchase-model
  // CLV, as the summary's distribution does).
  void GroupClv(State* state) const;
  // PersonaRef of a scored customer: the rule persona when one held at the fit (unless
  // `discovered_only`), else the discovered one.
  static std::optional<PersonaRef> PersonaAt(const State& state, const Scored& scored, bool discovered_only = false);

  class Collector;  // the scan's accumulations (value_engine.cc)

  const ValueEngineOptions options_;
  const ScanFn scan_;             // one of scan_ / column_scan_ is set
  const ColumnScanFn column_scan_;
  const CanonicalFn canonical_;
  const ResolveFn resolve_;
  Clock* clock_;
  ExtractFn extract_;
  ConsentFn consent_;
  RulePersonaFn rules_;
  std::string segment_trait_;

  std::mutex fit_mu_;                       // serialises fits
  mutable std::mutex state_mu_;
  std::shared_ptr<const State> state_;      // guarded by state_mu_

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stop_ = false;                       // guarded by loop_mu_
  std::thread loop_;
};

}  // namespace cairn::value
