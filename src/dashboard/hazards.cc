#include "dashboard/hazards.h"

#include <fmt/format.h>


namespace cairn::dashboard {

std::vector<Hazard> EvaluateHazards(const HazardInputs& in, const HazardOptions& o) {
  std::vector<Hazard> out;
  auto add = [&](std::string light, bool on, std::string why, std::string link) {
    out.push_back(Hazard{std::move(light), on, std::move(why), std::move(link)});
  };

  // projected_miss / eta_slipping: per goal; the light is on if any goal trips it.
  {
    std::vector<std::string> miss, slip;
    bool any_goal = in.goals && !in.goals->empty();
    if (in.goals) {
      for (const GoalView& g : *in.goals) {
        if (g.reached || !g.error.empty()) continue;
        if (!g.on_track) {
          miss.push_back(g.eta_day ? fmt::format("'{}' forecast {} after deadline {} (P(on time) {:.0f}%)", g.goal.name,
                                                 DayString(*g.eta_day), DayString(g.goal.deadline_day),
                                                 100 * g.p_on_time)
                                   : fmt::format("'{}' not reached within the forecast horizon (deadline {})",
                                                 g.goal.name, DayString(g.goal.deadline_day)));
        }
        if (g.eta_day && g.eta_week_ago_day && *g.eta_day - *g.eta_week_ago_day > o.eta_slip_days) {
          slip.push_back(fmt::format("'{}' ETA moved {} days later since last week ({} → {})", g.goal.name,
                                     *g.eta_day - *g.eta_week_ago_day, DayString(*g.eta_week_ago_day),
                                     DayString(*g.eta_day)));
        } else if (!g.eta_day && g.eta_week_ago_day) {
          slip.push_back(fmt::format("'{}' ETA moved beyond the forecast horizon since last week ({})", g.goal.name,
                                     DayString(*g.eta_week_ago_day)));
        }
      }
    }
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
      return s;
    };
    add("projected_miss", !miss.empty(),
        !miss.empty() ? join(miss) : any_goal ? "every open goal is forecast to meet its deadline" : "no goals set",
        "/v1/dashboard");
    add("eta_slipping", !slip.empty(),
        !slip.empty() ? join(slip)
        : any_goal    ? fmt::format("no goal's ETA moved more than {} days later since last week", o.eta_slip_days)
                      : "no goals set",
        "/v1/dashboard");
  }

  // complaint_spike
  if (!in.complaints_7d || !in.complaints_weekly_baseline) {
    add("complaint_spike", false, in.no_source_reason, "/v1/complaints/analysis");
  } else {
    double now = static_cast<double>(*in.complaints_7d), base = *in.complaints_weekly_baseline;
    bool on = now >= o.complaint_ratio * base && now - base >= o.complaint_min_excess;
    add("complaint_spike", on,
        fmt::format("{} complaints in the last 7 days vs {:.1f}/week in the 4 weeks before ({})", *in.complaints_7d,
                    base, on ? "spike" : "within the usual range"),
        "/v1/complaints/analysis");
  }

  // nps_drop
  if (!in.nps_30d || !in.nps_prev_30d) {
    add("nps_drop", false, in.no_source_reason, "/v1/feedback/scores");
  } else if (in.nps_responses_30d < o.nps_min_responses || in.nps_responses_prev_30d < o.nps_min_responses) {
    add("nps_drop", false,
        fmt::format("too few NPS answers to compare ({} in the last 30 days, {} before; {} needed in each)",
                    in.nps_responses_30d, in.nps_responses_prev_30d, o.nps_min_responses),
        "/v1/feedback/scores");
  } else {
    double drop = *in.nps_prev_30d - *in.nps_30d;
    bool on = drop >= o.nps_drop_points;
    add("nps_drop", on,
        fmt::format("NPS {:.1f} in the last 30 days vs {:.1f} the 30 days before ({:+.1f} points)", *in.nps_30d,
                    *in.nps_prev_30d, -drop),
        "/v1/feedback/scores");
  }

  // value_at_risk
  if (!in.value_at_risk_now) {
    add("value_at_risk", false, in.no_source_reason, "/v1/journey/overview");
  } else if (!in.value_at_risk_week_ago) {
    add("value_at_risk", false,
        fmt::format("value at stake {:.2f}; no reading from a week ago yet to compare", *in.value_at_risk_now),
        "/v1/journey/overview");
  } else {
    double before = *in.value_at_risk_week_ago, now = *in.value_at_risk_now;
    bool on = now > before * (1 + o.value_at_risk_rise) && now > before;
    add("value_at_risk", on,
        fmt::format("value at stake {:.2f} vs {:.2f} a week ago ({:+.0f}%)", now, before,
                    before > 0 ? 100 * (now - before) / before : 100.0),
        "/v1/journey/overview");
  }

  // rescues_overdue / slas_overdue
  if (!in.rescues_overdue)
    add("rescues_overdue", false, in.no_source_reason, "/v1/rescues?status=open");
  else
    add("rescues_overdue", *in.rescues_overdue > 0,
        fmt::format("{} open rescue(s) past their due time", *in.rescues_overdue), "/v1/rescues?status=open");
  if (!in.slas_overdue)
    add("slas_overdue", false, in.no_source_reason, "/v1/cases");
  else
    add("slas_overdue", *in.slas_overdue > 0, fmt::format("{} open case(s) past an SLA", *in.slas_overdue),
        "/v1/cases");
  return out;
}

}  // namespace cairn::dashboard
