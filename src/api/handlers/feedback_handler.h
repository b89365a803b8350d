#pragma once
// FeedbackHandler: surveys (role checked by the router, docs/access.md). Shapes: dto/feedback_dto.h.
//   POST /v1/feedback/responses                        → 201 {"id","caseId"}
//   GET  /v1/feedback/nps|csat|ces?from=&to=&by=&...   → scores (with groups when by= is given)
//   GET  /v1/feedback/themes?survey=&from=&to=&top=     → comment themes
// Without Services::feedback every route answers 503. Thread-safe.

#include "api/http_types.h"
#include "api/services.h"
#include "feedback/survey.h"

namespace cairn::api {

class FeedbackHandler {
 public:
  explicit FeedbackHandler(const Services* services) : services_(services) {}
  void Record(const ApiRequest& r, Responder respond);
  void Scores(const ApiRequest& r, feedback::SurveyKind kind, Responder respond);
  void Themes(const ApiRequest& r, Responder respond);

 private:
  bool Admit(const ApiRequest& r, Responder& respond) const;
  const Services* services_;
};

}  // namespace cairn::api
