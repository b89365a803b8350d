#pragma once
// RFM summary: the sufficient statistics of the purchase models (BG/NBD, Pareto/NBD) and of the
// spend model (Gamma-Gamma), computed from one customer's purchases. Pure functions, no I/O.
//
// Conventions (Fader, Hardie & Lee 2005; verified on CDNOW, see docs/value.md):
// - Time is counted in whole days. All purchases of one customer on one day are merged into one
//   transaction (their values summed). The first purchase day is the trial; it is not a repeat.
// - x   = number of repeat purchase days in the calibration period (days ≤ calibration_end_day).
// - t_x = (last calibration purchase day − first day) / days_per_unit (0 when x = 0).
// - T   = (calibration_end_day − first day) / days_per_unit.
// - m_x = calibration repeat value / x (the trial is excluded); 0 when x = 0.
// - holdout: purchase days in (calibration_end_day, holdout_end_day] and their value.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/interaction.h"

namespace cairn::value {

// One purchase: a day number (any fixed origin, e.g. days since the Unix epoch) and its value.
struct Purchase {
  int64_t day = 0;
  double value = 0;
};

struct RfmOptions {
  // Length of the model's time unit in days (7 = weeks, as in the papers). Must be > 0.
  double days_per_unit = 7;
  // Last day (inclusive) of the calibration period, same origin as Purchase::day.
  int64_t calibration_end_day = 0;
  // Last day (inclusive) of the holdout period; equal to calibration_end_day for no holdout.
  int64_t holdout_end_day = 0;
};

struct RfmSummary {
  int64_t x = 0;        // repeat purchase days in calibration
  double t_x = 0;       // recency, time units since the first purchase
  double T = 0;         // age at calibration end, time units
  double m_x = 0;       // average repeat value (calibration); 0 when x == 0
  double first_value = 0;     // value of the trial day
  int64_t first_day = 0;      // day of the trial purchase
  int64_t holdout_x = 0;      // purchase days in the holdout period
  double holdout_value = 0;   // their value
};

// Validates options (days_per_unit > 0, holdout_end_day ≥ calibration_end_day).
Status ValidateRfmOptions(const RfmOptions& options);

// Summarises one customer's purchases (any order). nullopt when the customer made no purchase up
// to calibration_end_day (not part of the calibration cohort).
std::optional<RfmSummary> Summarize(std::span<const Purchase> purchases, const RfmOptions& options);
// The same for purchases already sorted by day (no copy, no allocation).
std::optional<RfmSummary> SummarizeSorted(std::span<const Purchase> by_day, const RfmOptions& options);

// Which interactions are purchases, and how their time maps to days.
struct PurchaseRule {
  // Track events that are purchases (exact event names). Default: Segment's e-commerce spec.
  std::vector<std::string> events = {"Order Completed"};
  // Also count any interaction whose revenue is > 0, whatever its event name. Default true.
  bool any_positive_revenue = true;
  // Offset added to UTC before cutting days, minutes (the business's time zone). Default 0.
  int32_t utc_offset_minutes = 0;
};

bool IsPurchase(const store::Interaction& interaction, const PurchaseRule& rule);
// The day number (days since 1970-01-01 in the rule's time zone) of a timestamp.
int64_t DayOf(int64_t timestamp_ms, const PurchaseRule& rule);

// The purchases among one customer's interactions (value = revenue).
std::vector<Purchase> PurchasesOf(std::span<const store::Interaction> interactions,
                                  const PurchaseRule& rule);

// A set of customers' summaries, aligned by index.
struct SummaryTable {
  std::vector<uint64_t> ids;
  std::vector<RfmSummary> rows;
};

// Column view of summaries for the likelihoods, with identical (x, t_x, T) rows merged into one
// weighted row (the likelihood only depends on those three): real data cut to whole days has many
// duplicates, which makes fitting millions of customers cheap.
struct FitData {
  std::vector<double> x, t_x, T, weight;
  int64_t max_x = 0;
  double customers = 0;  // Σ weight
  // The index the likelihoods tabulate over (IndexFitData; CompressForFit fills it): the distinct
  // t_x and T values ascending (`ages`), each row's positions in it, and Σ weight per x. Terms such
  // as ln(α + T) are then computed once per distinct age, not once per row: day-granular data have
  // a few hundred ages for any number of customers.
  std::vector<double> ages;
  std::vector<uint32_t> t_x_age, T_age;
  std::vector<double> weight_by_x;  // size max_x + 1
  bool Indexed() const { return t_x_age.size() == x.size() && T_age.size() == x.size() && !weight_by_x.empty(); }
};
FitData CompressForFit(std::span<const RfmSummary> rows);
// (Re)builds the index fields of `data` from x, t_x, T and weight.
void IndexFitData(FitData& data);

}  // namespace cairn::value
