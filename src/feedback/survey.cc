#include "feedback/survey.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cairn::feedback {

std::string_view SurveyKindName(SurveyKind k) {
  switch (k) {
    case SurveyKind::kNps: return "nps";
    case SurveyKind::kCsat: return "csat";
    case SurveyKind::kCes: return "ces";
  }
  return "?";
}

std::optional<SurveyKind> ParseSurveyKind(std::string_view name) {
  if (name == "nps" || name == "NPS") return SurveyKind::kNps;
  if (name == "csat" || name == "CSAT") return SurveyKind::kCsat;
  if (name == "ces" || name == "CES") return SurveyKind::kCes;
  return std::nullopt;
}

int MinScore(SurveyKind k) { return k == SurveyKind::kNps ? 0 : 1; }
int MaxScore(SurveyKind k) { return k == SurveyKind::kNps ? 10 : k == SurveyKind::kCsat ? 5 : 7; }

Status ValidateScore(SurveyKind k, int score) {
  if (score < MinScore(k) || score > MaxScore(k))
    return InvalidArgument(fmt::format("score: {} is outside {}..{} for a {} survey", score, MinScore(k), MaxScore(k),
                                       SurveyKindName(k)));
  return Status::Ok();
}

Band BandOf(SurveyKind k, int score) {
  switch (k) {
    case SurveyKind::kNps: return score <= 6 ? Band::kLow : score <= 8 ? Band::kMid : Band::kHigh;
    case SurveyKind::kCsat: return score <= 2 ? Band::kLow : score == 3 ? Band::kMid : Band::kHigh;
    case SurveyKind::kCes: return score <= 3 ? Band::kLow : score == 4 ? Band::kMid : Band::kHigh;
  }
  return Band::kMid;
}

std::string_view BandName(SurveyKind k, Band b) {
  if (k == SurveyKind::kNps) return b == Band::kLow ? "detractor" : b == Band::kMid ? "passive" : "promoter";
  return b == Band::kLow ? "low" : b == Band::kMid ? "neutral" : "high";
}

void NpsStats::Add(int score) {
  ++responses;
  if (score >= 9) ++promoters;
  else if (score >= 7) ++passives;
  else ++detractors;
}

void NpsStats::Finish() {
  if (responses == 0) {
    nps = ci_low = ci_high = 0;
    return;
  }
  const double n = static_cast<double>(responses);
  const double pp = promoters / n, pd = detractors / n;
  nps = 100.0 * (pp - pd);
  // Each answer scores +1, 0 or -1; NPS/100 is their mean. Its variance is
  // E[x²] − E[x]² = (pp + pd) − (pp − pd)², so the standard error is sqrt(that / n).
  const double var = std::max(0.0, (pp + pd) - (pp - pd) * (pp - pd));
  const double half = 1.96 * std::sqrt(var / n) * 100.0;
  ci_low = std::max(-100.0, nps - half);
  ci_high = std::min(100.0, nps + half);
}

void CsatStats::Add(int score) {
  ++responses;
  sum += score;
  if (score >= 4) ++satisfied;
}

void CsatStats::Finish() {
  csat = responses ? 100.0 * static_cast<double>(satisfied) / static_cast<double>(responses) : 0;
  mean = responses ? static_cast<double>(sum) / static_cast<double>(responses) : 0;
}

void CesStats::Add(int score) {
  ++responses;
  sum += score;
  if (score >= 5) ++easy;
}

void CesStats::Finish() {
  easy_pct = responses ? 100.0 * static_cast<double>(easy) / static_cast<double>(responses) : 0;
  mean = responses ? static_cast<double>(sum) / static_cast<double>(responses) : 0;
}

}  // namespace cairn::feedback
