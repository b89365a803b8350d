#include "value/value_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/logging.h"

namespace cairn::value {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

ValueEngine::ValueEngine(ValueEngineOptions options, ScanFn scan, CanonicalFn canonical, ResolveFn resolve, Clock* clock)
    : options_(std::move(options)),
      scan_(std::move(scan)),
      canonical_(std::move(canonical)),
      resolve_(std::move(resolve)),
      clock_(clock ? clock : Clock::Real()) {}

ValueEngine::~ValueEngine() { Stop(); }

void ValueEngine::Start() {
  if (options_.refit_interval_s <= 0 || loop_.joinable()) return;
  loop_ = std::thread([this] {
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
  std::unordered_map<store::CustomerId, std::vector<Purchase>> purchases;
  RETURN_IF_ERROR(scan_([&](const store::Interaction& in) {
    ++out.interactions_scanned;
    if (IsPurchase(in, options_.purchases)) {
      ++out.purchases;
      purchases[canonical_(in.customer)].push_back({DayOf(in.timestamp_ms, options_.purchases), in.revenue});
    }
    return true;
  }));
  out.scan_seconds = Seconds(t0);

  // 2. Summaries (calibration = everything up to today; no holdout).
  RfmOptions rfm;
  rfm.days_per_unit = options_.days_per_unit;
  rfm.calibration_end_day = out.calibration_end_day;
  rfm.holdout_end_day = out.calibration_end_day;
  std::vector<store::CustomerId> ids;
  std::vector<RfmSummary> rows;
  for (auto& [id, p] : purchases) {
    if (auto s = Summarize(p, rfm)) {
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
  if (!out.purchase_report.converged)
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
  for (size_t i = 0; i < rows.size(); ++i) {
    CustomerValue v;
    if (out.spend_fitted) {
      v = ScoreCustomer(model, out.gamma_gamma, rows[i], options_.clv);
    } else {
      // Without a spend model, a customer's spend is their own average (trial value if no repeat).
      v.prob_alive = model.ProbAlive(rows[i].x, rows[i].t_x, rows[i].T);
      v.expected_purchases = model.ConditionalExpected(options_.clv.horizon, rows[i].x, rows[i].t_x, rows[i].T);
      v.expected_spend = rows[i].x > 0 ? rows[i].m_x : rows[i].first_value;
      v.clv = v.expected_spend * v.expected_purchases;
    }
    state->customers.emplace(ids[i], std::make_pair(rows[i], v));
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

  FitOutcome result = out;
  {
    std::lock_guard lock(state_mu_);
    state_ = std::move(state);
  }
  LOG_INFO("value: fitted {} customers ({} purchases) in {:.2f}s", result.customers, result.purchases,
           result.scan_seconds + result.fit_seconds + result.score_seconds);
  return result;
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
    v.rfm = it->second.first;
    v.value = it->second.second;
  }
  return v;
}

Result<ValueSummaryView> ValueEngine::Summary() {
  auto state = Current();
  if (!state) return FailedPrecondition("no value fit yet: POST /v1/value/fit (or configure periodic refits)");
  return state->summary;
}

std::optional<CustomerValue> ValueEngine::ValueOf(store::CustomerId customer) const {
  auto state = Current();
  if (!state) return std::nullopt;
  auto it = state->customers.find(canonical_(customer));
  if (it == state->customers.end()) return std::nullopt;
  return it->second.second;
}

}  // namespace cairn::value
