#pragma once
// FeedbackService: what the HTTP layer (and other modules) call for surveys. Implemented by
// cases::CaseManager, because a detractor answer with a comment opens a case.
// Implementations are thread-safe.

#include <cstdint>
#include <string>

#include "base/result.h"
#include "feedback/comments.h"
#include "feedback/feedback_store.h"
#include "feedback/survey.h"

namespace cairn::feedback {

struct SurveyInput {
  std::string customer;  // any identity the directory knows, or "c:<n>"; "" = anonymous
  SurveyResponse response;  // response.customer is filled in from `customer`
};

struct RecordedSurvey {
  uint64_t id = 0;
  uint64_t case_id = 0;  // the case a detractor comment opened, 0 if none
};

class FeedbackService {
 public:
  virtual ~FeedbackService() = default;
  // InvalidArgument naming the field (kind, score, customer).
  virtual Result<RecordedSurvey> RecordSurvey(const SurveyInput& input) = 0;
  virtual Result<ScoreReport> Scores(const ScoreQuery& query) = 0;
  virtual Result<CommentThemes> Themes(SurveyKind kind, int64_t from_ms, int64_t to_ms, size_t top) = 0;
};

}  // namespace cairn::feedback
