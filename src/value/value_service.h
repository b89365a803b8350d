#pragma once
// ValueService: what the HTTP edge asks of customer value (docs/value.md "Live value");
// ValueOracle: what the journey engine / rescue asks (a customer's predicted CLV and P(alive)).
// Interfaces only (no implementation dependencies) so api/ can include them. Implementations are
// thread-safe; readers see the last completed fit (an immutable snapshot swapped in whole).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/interaction.h"
#include "value/clv.h"
#include "value/fit.h"
#include "value/offers.h"
#include "value/personas.h"
#include "value/rfm.h"
#include "value/sbg.h"

namespace cairn::value {

// The outcome of one fit over the business's interactions.
struct FitOutcome {
  int64_t fitted_at_ms = 0;            // wall clock when the fit finished
  int64_t calibration_end_day = 0;     // days since 1970-01-01 (the day of the fit)
  double days_per_unit = 7;
  int64_t interactions_scanned = 0;
  int64_t purchases = 0;
  int64_t customers = 0;               // customers with at least one purchase (scored)
  PurchaseModelKind model = PurchaseModelKind::kBgNbd;
  BgNbdParams bgnbd;                   // when model == kBgNbd
  ParetoNbdParams pareto_nbd;          // when model == kParetoNbd
  FitReport purchase_report;
  bool spend_fitted = false;           // false when too few repeat buyers: spend = own average
  GammaGammaParams gamma_gamma;
  FitReport spend_report;
  ClvOptions clv;
  double scan_seconds = 0, fit_seconds = 0, score_seconds = 0;
  // Subscriptions (docs/value.md "Subscription CLV"): the shifted-beta-geometric fit over the
  // customers with subscription events; `subscription_reason` says why not when unfitted.
  int64_t subscribers = 0;
  bool subscription_fitted = false;
  std::string subscription_reason;
  SbgParams sbg;
  FitReport subscription_report;
  double subscription_discount_rate = 0;
  // > 0 when the configured rule was used instead of the sBG (ValueEngineOptions::
  // subscription_renewal_probability); subscription_fitted is then false.
  double subscription_renewal_probability = 0;
};

// One subscriber as of the last fit.
struct SubscriptionView {
  int64_t renewals = 0;         // Subscription Renewed events
  bool active = true;           // false after Subscription Cancelled
  double value_per_period = 0;  // revenue of the latest start/renewal
  double retention_next = 0;    // P(renews once more | renewals so far); 0 when cancelled
  double expected_payments = 0; // DERL: discounted expected future payments (0 when cancelled)
  double clv = 0;               // value_per_period × expected_payments
};

// A customer's persona (docs/value.md "Personas"). A rule persona (declared in the journey map)
// wins over a discovered one (k-means); a rule persona has id 0, a discovered one keeps its id
// (≥ 1) across refits.
struct PersonaRef {
  int id = 0;
  std::string name;
  std::string source = "discovered";  // "rule" | "discovered"
};

// What the last fit knows of one customer, in natural units: the inputs of the persona rules'
// value fields (docs/journey.md "Personas") and of the discovered personas.
struct CustomerFacts {
  CustomerValue value;     // P(alive), E[purchases], E[spend], CLV
  PersonaInput behaviour;  // recency, purchase days, average per purchase day, tenure, channel mix
};

// CLV distribution of one group of scored customers (a persona or a segment).
struct ClvGroup {
  std::string name;
  std::string source;        // personas: "rule" | "discovered"; segments: "trait" | "none"
  int id = 0;                // discovered personas: their id; otherwise 0
  int64_t customers = 0;
  double clv_total = 0, clv_mean = 0, clv_median = 0;  // median: the lower middle value
  double mean_prob_alive = 0;
};

// The personas of the last fit. `available` is false (and `reason` says why) when too few
// customers bought to cluster them; the CLV fit itself still stands.
struct PersonasView {
  bool available = false;
  std::string reason;
  int64_t fitted_at_ms = 0;
  PersonaModel model;  // model.assignment is left empty here (per customer: PersonaOf)
};

// One customer's value as of the last fit.
struct CustomerValueView {
  store::CustomerId customer = 0;
  bool modelled = false;   // false: no purchase yet (or no fit yet); the fields below are zero
  RfmSummary rfm;
  CustomerValue value;
  int64_t fitted_at_ms = 0;
  std::optional<PersonaRef> persona;  // when modelled and personas are available
  std::optional<SubscriptionView> subscription;  // subscribers, when the sBG model is fitted
  // Next best offers (docs/value.md "Next best offer"), best first, each with its reason; empty
  // when withheld (offers_withheld says why, e.g. no consent for `personalisation`).
  std::vector<Offer> offers;
  std::string offers_withheld;
  std::string consent_evidence;  // what the consent hook said, when it was asked
};

struct ValueSummaryView {
  bool fitted = false;
  FitOutcome fit;
  // CLV distribution over scored customers.
  double clv_total = 0, clv_mean = 0;
  std::vector<std::pair<double, double>> clv_quantiles;  // (q, value) for q in 0.1, 0.25, 0.5, 0.75, 0.9, 0.99
  double mean_prob_alive = 0;
  // Customers by P(alive) band: [0, 0.25), [0.25, 0.5), [0.5, 0.75), [0.75, 1].
  std::vector<int64_t> prob_alive_bands;
  PersonasView personas;  // sizes, CLV mean per persona
  // CLV by final persona (rule personas first, by name; then discovered, by id; customers
  // with neither under source "none") and by segment (the identify trait configured as the
  // segment; "" = no segment, listed last), as of the fit.
  std::vector<ClvGroup> by_persona;
  std::vector<ClvGroup> by_segment;
  std::string segment_trait;  // the trait segments come from ("" = segments not read)
};

class ValueService {
 public:
  virtual ~ValueService() = default;
  // Refits now on every interaction (blocking; one fit at a time — a concurrent call waits).
  virtual Result<FitOutcome> Fit() = 0;
  // NotFound when no customer has that identity; FailedPrecondition when nothing was fitted yet.
  virtual Result<CustomerValueView> GetCustomer(const std::string& any_identity) = 0;
  // FailedPrecondition when nothing was fitted yet.
  virtual Result<ValueSummaryView> Summary() = 0;
  // The summary over only these canonical customers (sorted ascending; the dashboard's segment
  // filter): the CLV distribution, P(alive) bands and the groups by persona and segment count
  // just them (groups they have no member in are left out); the fit and the discovered personas
  // are the whole fit's. FailedPrecondition when nothing was fitted yet.
  virtual Result<ValueSummaryView> SummaryOf(const std::vector<uint64_t>& customers) {
    return FailedPrecondition("value summary: this value service takes no segment filter");
  }
  // The discovered personas of the last fit; FailedPrecondition when nothing was fitted yet.
  virtual Result<PersonasView> Personas() = 0;
};

class ValueOracle {
 public:
  virtual ~ValueOracle() = default;
  // The customer's value as of the last fit (any id; merges are canonicalised); nullopt when not
  // modelled (no purchase, or no fit yet). Cheap (a hash lookup); thread-safe.
  virtual std::optional<CustomerValue> ValueOf(store::CustomerId customer) const = 0;
  // The customer's persona as of the last fit (any id; merges canonicalised): for
  // breakdowns by persona (analytics) and per-persona arms (journey/rescue): the rule persona of
  // the fit when one held, else the discovered one. nullopt when the customer has no purchase,
  // nothing was fitted, or neither a rule held nor personas could be discovered.
  // Cheap (a hash lookup); thread-safe.
  virtual std::optional<PersonaRef> PersonaOf(store::CustomerId customer) const { return std::nullopt; }
  // The customer's facts as of the last fit (any id; merges canonicalised): for the journey map's
  // persona rules over value. nullopt when not modelled. Cheap (a hash lookup); thread-safe.
  virtual std::optional<CustomerFacts> FactsOf(store::CustomerId customer) const { return std::nullopt; }
};

}  // namespace cairn::value
