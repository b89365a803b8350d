#pragma once
// Feedback DTOs for /v1/feedback/*: survey answers in, scores and comment themes out.
//   POST /v1/feedback/responses {"customer","survey":"nps|csat|ces","score","comment","channel",
//        "segment","persona","phase","category","caseId","at"} → {"id","caseId"}
//   GET /v1/feedback/{nps|csat|ces}?from=&to=&by=&channel=&segment=&persona=&phase=&category=
//        nps → {"nps","promoters","passives","detractors","responses","ci":{"low","high"},
//               "groups":[{"key", ...same fields}]}
//        csat → {"csat","mean","satisfied","responses","groups"}; ces → {"ces","easy","mean",
//               "responses","groups"} (ces = mean effort score, easy = % of 5–7)
//   GET /v1/feedback/themes?survey=&from=&to=&top= → {"comments","positive","negative",
//        "bands":[{"band","comments","terms":[{"term","count"}],"bigrams"}],"delight","annoyance"}

#include <string>
#include <string_view>

#include "base/result.h"
#include "feedback/feedback_service.h"

namespace cairn::api {

Result<feedback::SurveyInput> ParseSurveyInput(std::string_view body);
Result<feedback::ScoreQuery> ParseScoreQuery(std::string_view query, feedback::SurveyKind kind);
struct ThemesQuery {
  feedback::SurveyKind kind = feedback::SurveyKind::kNps;
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;
  size_t top = 10;
};
Result<ThemesQuery> ParseThemesQuery(std::string_view query);

std::string RecordedSurveyToJson(const feedback::RecordedSurvey& r);
std::string ScoreReportToJson(const feedback::ScoreReport& report);
std::string ThemesToJson(const feedback::CommentThemes& themes);

}  // namespace cairn::api
