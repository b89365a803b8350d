#pragma once
// Intake: the durable interaction stream → cases and survey answers. app::Hub calls OnCommit for
// every committed batch (live and WAL replay), in seq order, on the WAL thread.
//
//   track "Complaint Filed"   → a case. properties: category, severity (low|medium|high|critical,
//                               default medium), description (or comment / message), valueTier
//                               (standard|high|vip), channel (else the interaction's channel).
//   track "Survey Responded"  → survey answers. properties: nps (0–10), csat (1–5), ces (1–7) —
//                               any of them, one answer each (DOMAIN.md's shape; `survey` then
//                               names the survey) — or survey (or type / kind: nps|csat|ces,
//                               default nps) with score; comment (kept on the first answer),
//                               segment, persona, phase, caseId, category; channel as above. A
//                               detractor answer with a comment also opens a case.
//
// The case opens at the interaction's received_at (the SLA clock starts when Cairn knew of the
// complaint); answers count at the interaction's event time. Idempotent: both are keyed by the
// interaction's seq (an answer's with a bit per survey kind), so a replayed batch changes nothing. A malformed event is skipped with a
// rate-limited warning and counted (cairn_cases_intake_skipped_total); it never blocks the WAL.
// Thread-safe (CaseManager is).

#include <functional>
#include <vector>

#include "base/metrics.h"
#include "cases/case_manager.h"
#include "store/interaction.h"

namespace cairn::cases {

inline constexpr std::string_view kComplaintEvent = "Complaint Filed";
inline constexpr std::string_view kSurveyEvent = "Survey Responded";

class Intake {
 public:
  // `canonical`: the customer id now (identity union-find root) of a stored id.
  Intake(CaseManager* cases, std::function<uint64_t(uint64_t)> canonical, metrics::Registry* metrics = nullptr);

  // True when the interaction is one Intake handles (cheap: type and event name only).
  static bool Wants(const store::Interaction& r) {
    return r.type == store::MessageType::kTrack && (r.event == kComplaintEvent || r.event == kSurveyEvent);
  }

  // Every complaint and answer of the batch in one CaseManager::ApplyStream: one transaction (one
  // fsync) per file for the batch, not one per interaction.
  void OnCommit(const store::Batch& batch);
  // One interaction; InvalidArgument naming the property when it is malformed.
  Status Apply(const store::Interaction& r);

 private:
  // The case / answers one interaction makes, appended to `writes`; InvalidArgument (and nothing
  // appended) when it is malformed.
  Status Parse(const store::Interaction& r, std::vector<StreamWrite>* writes) const;

  CaseManager* cases_;
  std::function<uint64_t(uint64_t)> canonical_;
  metrics::Counter* skipped_;
};

}  // namespace cairn::cases
