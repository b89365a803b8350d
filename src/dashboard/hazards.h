#pragma once
// Hazard lights (docs/dashboard.md "Hazard lights"): pure rules over numbers gathered elsewhere,
// so each light's threshold is testable on its own. Every light is always present in the answer,
// in a fixed order, with `on` and a one-line `why`; a light whose input is missing says so
// ("no data source yet") and is off.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dashboard/dashboard_service.h"

namespace cairn::dashboard {

struct HazardOptions {
  // eta_slipping: on when a goal's ETA moved later by more than this many days since last week.
  // Default 7.
  int eta_slip_days = 7;
  // complaint_spike: on when complaints in the last 7 days ≥ ratio × the weekly baseline AND
  // exceed it by at least min_excess. Defaults 1.5 and 5.
  double complaint_ratio = 1.5;
  double complaint_min_excess = 5;
  // nps_drop: on when NPS of the last 30 days is at least this many points below the 30 days
  // before, each window with at least min_responses answers. Defaults 10 points, 20 answers.
  double nps_drop_points = 10;
  int64_t nps_min_responses = 20;
  // value_at_risk: on when the value at stake grew by more than this fraction against the reading
  // of about a week ago. Default 0.2 (20%).
  double value_at_risk_rise = 0.2;
};

// Inputs; nullopt = that source is not wired (or has no data yet) — `why` says which.
struct HazardInputs {
  const std::vector<GoalView>* goals = nullptr;
  std::optional<int64_t> complaints_7d;
  std::optional<double> complaints_weekly_baseline;
  std::optional<double> nps_30d, nps_prev_30d;
  int64_t nps_responses_30d = 0, nps_responses_prev_30d = 0;
  std::optional<double> value_at_risk_now, value_at_risk_week_ago;
  std::optional<int64_t> rescues_overdue;   // open rescue decisions older than their due time
  std::optional<int64_t> slas_overdue;      // open cases past an SLA
  std::string no_source_reason = "no data source yet";
};

std::vector<Hazard> EvaluateHazards(const HazardInputs& in, const HazardOptions& options);

}  // namespace cairn::dashboard
