#include "api/handlers/feedback_handler.h"

#include "api/dto/feedback_dto.h"
#include "api/responses.h"
#include "feedback/feedback_service.h"

namespace cairn::api {

bool FeedbackHandler::Admit(const ApiRequest& r, Responder& respond) const {
  if (services_->feedback == nullptr) {
    respond(ServiceUnavailable("feedback"));
    return false;
  }
  return true;
}

void FeedbackHandler::Record(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto in = ParseSurveyInput(r.body);
  if (!in.ok()) return respond(ErrorFromStatus(in.status()));
  auto rec = services_->feedback->RecordSurvey(*in);
  if (!rec.ok()) return respond(ErrorFromStatus(rec.status(), {}, "POST /v1/feedback/responses"));
  respond(JsonResponse(201, RecordedSurveyToJson(*rec)));
}

void FeedbackHandler::Scores(const ApiRequest& r, feedback::SurveyKind kind, Responder respond) {
  if (!Admit(r, respond)) return;
  auto q = ParseScoreQuery(r.query, kind);
  if (!q.ok()) return respond(ErrorFromStatus(q.status()));
  auto report = services_->feedback->Scores(*q);
  if (!report.ok()) return respond(ErrorFromStatus(report.status(), {}, "GET /v1/feedback/scores"));
  respond(JsonResponse(200, ScoreReportToJson(*report)));
}

void FeedbackHandler::Themes(const ApiRequest& r, Responder respond) {
  if (!Admit(r, respond)) return;
  auto q = ParseThemesQuery(r.query);
  if (!q.ok()) return respond(ErrorFromStatus(q.status()));
  auto t = services_->feedback->Themes(q->kind, q->from_ms, q->to_ms, q->top);
  if (!t.ok()) return respond(ErrorFromStatus(t.status(), {}, "GET /v1/feedback/themes"));
  respond(JsonResponse(200, ThemesToJson(*t)));
}

}  // namespace cairn::api
