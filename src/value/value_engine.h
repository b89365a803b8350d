#pragma once
// ValueEngine: live customer value over the event store. A fit scans every interaction (through
// the `scan` callback, e.g. a store Snapshot's ForEach), groups purchases by canonical customer,
// builds RFM summaries with the calibration period ending today, fits the purchase model and the
// Gamma-Gamma spend model, and scores every customer. The result is an immutable snapshot swapped
// in whole, so readers never see a half-finished fit. Optionally refits periodically.
//
// Thread-safety: all methods are thread-safe; fits are serialised.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
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
  // Refit every this many seconds from Start() (0 = only on Fit()). Default 0.
  int64_t refit_interval_s = 0;
};

class ValueEngine final : public ValueService, public ValueOracle {
 public:
  using ScanFn = std::function<Status(const std::function<bool(const store::Interaction&)>&)>;
  using CanonicalFn = std::function<store::CustomerId(store::CustomerId)>;
  using ResolveFn = std::function<Result<store::CustomerId>(const std::string& any_identity)>;

  // `clock` may be null (system clock). Callbacks must be thread-safe and outlive the engine.
  ValueEngine(ValueEngineOptions options, ScanFn scan, CanonicalFn canonical, ResolveFn resolve,
              Clock* clock = nullptr);
  ~ValueEngine() override;

  // Starts the periodic refit thread (no-op when refit_interval_s == 0).
  void Start();
  void Stop();

  Result<FitOutcome> Fit() override;
  Result<CustomerValueView> GetCustomer(const std::string& any_identity) override;
  Result<ValueSummaryView> Summary() override;
  std::optional<CustomerValue> ValueOf(store::CustomerId customer) const override;

 private:
  struct State {
    FitOutcome fit;
    std::unordered_map<store::CustomerId, std::pair<RfmSummary, CustomerValue>> customers;
    ValueSummaryView summary;
  };
  std::shared_ptr<const State> Current() const;
  int64_t NowMs() const;

  const ValueEngineOptions options_;
  const ScanFn scan_;
  const CanonicalFn canonical_;
  const ResolveFn resolve_;
  Clock* clock_;

  std::mutex fit_mu_;                       // serialises fits
  mutable std::mutex state_mu_;
  std::shared_ptr<const State> state_;      // guarded by state_mu_

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stop_ = false;                       // guarded by loop_mu_
  std::thread loop_;
};

}  // namespace cairn::value
