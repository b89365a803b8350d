#pragma once
// Customer lifetime value: a purchase model (BG/NBD or Pareto/NBD) for how many purchases, the
// Gamma-Gamma model for how much each is worth, discounted over a horizon.

#include <cstdint>

#include "base/result.h"
#include "value/bgnbd.h"
#include "value/gamma_gamma.h"
#include "value/pareto_nbd.h"
#include "value/rfm.h"

namespace cairn::value {

enum class PurchaseModelKind { kBgNbd, kParetoNbd };

// A fitted purchase model of either kind (plain data; cheap to copy).
struct PurchaseModel {
  PurchaseModelKind kind = PurchaseModelKind::kBgNbd;
  BgNbdParams bgnbd;
  ParetoNbdParams pareto_nbd;

  double ConditionalExpected(double t, int64_t x, double t_x, double T) const;
  double ProbAlive(int64_t x, double t_x, double T) const;
};

struct ClvOptions {
  // How far ahead, in model time units (weeks for weekly summaries). Default 52.
  double horizon = 52;
  // Discounting step, in model time units: purchases expected in step i are discounted by
  // (1 + discount_rate)^−i. Default 4.345 (a month of weeks).
  double step = 4.345;
  // Discount rate per step. Default 0.01 (≈12.7% a year for monthly steps).
  double discount_rate = 0.01;
};
Status ValidateClvOptions(const ClvOptions& options);

// Σ_{i=1..⌈H/step⌉} E[M|x,m_x] · (E[Y(i·step)] − E[Y((i−1)·step)]) / (1+d)^i for one customer.
double DiscountedClv(const PurchaseModel& purchases, const GammaGammaParams& spend, const RfmSummary& summary,
                     const ClvOptions& options);

// Everything Cairn predicts for one customer.
struct CustomerValue {
  double prob_alive = 0;
  double expected_purchases = 0;  // E[Y(horizon) | x, t_x, T]
  double expected_spend = 0;      // E[M | x, m_x]
  double clv = 0;                 // discounted, over the horizon
};
CustomerValue ScoreCustomer(const PurchaseModel& purchases, const GammaGammaParams& spend, const RfmSummary& summary,
                            const ClvOptions& options);

}  // namespace cairn::value
