#pragma once
// Survey answers and the scores computed from them (DOMAIN.md §8):
//   NPS  (0–10):  % promoters (9–10) − % detractors (0–6), in [-100, 100], with a 95% interval;
//   CSAT (1–5):   % satisfied (4–5) and the mean;
//   CES  (1–7):   mean effort score and % easy (5–7; higher = easier, CES 2.0 wording).
// Pure functions: no I/O, no clock. Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cairn::feedback {

// Stored as integers in feedback.db (docs/format/cases.md): never renumber.
enum class SurveyKind : uint8_t { kNps = 1, kCsat = 2, kCes = 3 };

std::string_view SurveyKindName(SurveyKind k);  // "nps", "csat", "ces"
std::optional<SurveyKind> ParseSurveyKind(std::string_view name);
// The valid score range of a kind, inclusive.
int MinScore(SurveyKind k);
int MaxScore(SurveyKind k);
// InvalidArgument naming `score` when out of range.
Status ValidateScore(SurveyKind k, int score);

// Score bands, used to group comments: NPS detractor 0–6 / passive 7–8 / promoter 9–10;
// CSAT 1–2 / 3 / 4–5; CES 1–3 / 4 / 5–7.
enum class Band : uint8_t { kLow = 0, kMid = 1, kHigh = 2 };
Band BandOf(SurveyKind k, int score);
std::string_view BandName(SurveyKind k, Band b);  // "detractor"/"passive"/"promoter", else "low"/"neutral"/"high"

// One answer as recorded. Dimension fields are free text ("" = unknown).
struct SurveyResponse {
  uint64_t id = 0;             // assigned by the store
  uint64_t customer = 0;       // canonical customer id at record time (0 = anonymous)
  SurveyKind kind = SurveyKind::kNps;
  int score = 0;
  int64_t at_ms = 0;           // when it was answered
  std::string comment;
  std::string channel;
  std::string segment;
  std::string persona;
  std::string phase;           // journey phase
  std::string case_category;   // category of the case the survey is about, if any
  uint64_t case_id = 0;        // the case the survey is about (CSAT after resolution), 0 = none
  std::string message_id;      // source interaction's messageId, "" for API answers
  uint64_t source_seq = 0;     // source interaction's store seq, 0 for API answers
};

struct NpsStats {
  int64_t responses = 0, promoters = 0, passives = 0, detractors = 0;
  double nps = 0;                  // % promoters − % detractors; 0 when no responses
  double ci_low = 0, ci_high = 0;  // 95% normal-approximation interval, clamped to [-100, 100]
  void Add(int score);
  void Finish();  // computes nps and the interval from the counts
};

struct CsatStats {
  int64_t responses = 0, satisfied = 0;  // satisfied: 4–5
  int64_t sum = 0;
  double csat = 0;  // % satisfied
  double mean = 0;
  void Add(int score);
  void Finish();
};

struct CesStats {
  int64_t responses = 0, easy = 0;  // easy: 5–7
  int64_t sum = 0;
  double mean = 0;
  double easy_pct = 0;
  void Add(int score);
  void Finish();
};

}  // namespace cairn::feedback
