#include "value/clv.h"

#include <cmath>

namespace cairn::value {

double PurchaseModel::ConditionalExpected(double t, int64_t x, double t_x, double T) const {
  return kind == PurchaseModelKind::kBgNbd ? BgNbdConditionalExpected(bgnbd, t, x, t_x, T)
                                           : ParetoNbdConditionalExpected(pareto_nbd, t, x, t_x, T);
}

double PurchaseModel::ProbAlive(int64_t x, double t_x, double T) const {
  return kind == PurchaseModelKind::kBgNbd ? BgNbdProbAlive(bgnbd, x, t_x, T)
                                           : ParetoNbdProbAlive(pareto_nbd, x, t_x, T);
}

Status ValidateClvOptions(const ClvOptions& o) {
  if (!(o.horizon > 0) || !std::isfinite(o.horizon)) return InvalidArgument("horizon: must be > 0");
  if (!(o.step > 0) || !std::isfinite(o.step)) return InvalidArgument("step: must be > 0");
  if (!(o.discount_rate > -1) || !std::isfinite(o.discount_rate)) return InvalidArgument("discount_rate: must be > -1");
  if (o.horizon / o.step > 100000) return InvalidArgument("step: more than 100000 steps in the horizon");
  return Status::Ok();
}

double DiscountedClv(const PurchaseModel& m, const GammaGammaParams& spend, const RfmSummary& s, const ClvOptions& o) {
  const double value = GammaGammaExpectedSpend(spend, s.x, s.m_x);
  const int steps = static_cast<int>(std::ceil(o.horizon / o.step - 1e-9));
  double prev = 0, total = 0, discount = 1;
  for (int i = 1; i <= steps; ++i) {
    const double t = std::min(o.horizon, i * o.step);
    const double cum = m.ConditionalExpected(t, s.x, s.t_x, s.T);
    discount /= (1 + o.discount_rate);
    total += (cum - prev) * discount;
    prev = cum;
  }
  return value * total;
}

CustomerValue ScoreCustomer(const PurchaseModel& m, const GammaGammaParams& spend, const RfmSummary& s,
                            const ClvOptions& o) {
  CustomerValue v;
  v.prob_alive = m.ProbAlive(s.x, s.t_x, s.T);
  v.expected_purchases = m.ConditionalExpected(o.horizon, s.x, s.t_x, s.T);
  v.expected_spend = GammaGammaExpectedSpend(spend, s.x, s.m_x);
  v.clv = DiscountedClv(m, spend, s, o);
  return v;
}

}  // namespace cairn::value
