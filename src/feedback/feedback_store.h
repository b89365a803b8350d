#pragma once
// FeedbackStore: survey answers in DIR/feedback.db (SQLite, WAL mode; docs/format/cases.md) and
// the scores computed over them.
//
// Every answer is also kept in memory as narrow columns (kind, score, time, customer and the
// interned dimensions), so a score over millions of answers, grouped by a dimension or by
// time, is one linear pass with no SQL (issue 5: NPS over 10M answers by segment < 200 ms).
// Comments live only in SQLite and are read for theme analysis.
//
// Idempotence: an answer from an interaction carries its store seq; recording the same seq again
// is a no-op (returns the existing id), so WAL replay after a crash never double-counts.
//
// Thread-safe: writes serialise on a mutex; score queries take a shared lock on the columns.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "entity/sqlite_db.h"
#include "feedback/comments.h"
#include "feedback/survey.h"

namespace cairn::feedback {

enum class GroupBy { kNone, kChannel, kSegment, kPersona, kPhase, kCategory, kDay, kWeek, kMonth };
std::optional<GroupBy> ParseGroupBy(std::string_view name);  // "", channel, segment, persona, phase, category, day, week, month

struct ScoreQuery {
  SurveyKind kind = SurveyKind::kNps;
  int64_t from_ms = INT64_MIN;  // inclusive
  int64_t to_ms = INT64_MAX;    // exclusive
  GroupBy group_by = GroupBy::kNone;
  // Filters; empty = any.
  std::string channel, segment, persona, phase, category;
  // When set, only answers of these customers (include) / of customers not in it (exclude).
  const std::unordered_set<uint64_t>* include_customers = nullptr;
  const std::unordered_set<uint64_t>* exclude_customers = nullptr;
  // Customer-level dimensions (docs/cases.md "Surveys"): an answer that carried no persona
  // (phase) of its own takes its customer's persona (journey phase) now, from these functions
  // (customer id as recorded → value, "" = unknown; anonymous answers stay ""). Each is called at
  // most once per distinct customer per query, only when the query groups or filters by that
  // dimension; they must be thread-safe and must not call back into the store. Null = none.
  std::function<std::string(uint64_t)> persona_of;
  std::function<std::string(uint64_t)> phase_of;
};

struct ScoreGroup {
  std::string key;  // dimension value ("" = unknown) or period start "YYYY-MM-DD"
  NpsStats nps;
  CsatStats csat;
  CesStats ces;
};

struct ScoreReport {
  SurveyKind kind = SurveyKind::kNps;
  ScoreGroup total;
  std::vector<ScoreGroup> groups;  // sorted by key; empty for GroupBy::kNone
};

class FeedbackStore {
 public:
  static Result<std::unique_ptr<FeedbackStore>> Open(const std::string& path);
  ~FeedbackStore();

  // Validates (kind/score range, InvalidArgument naming the field) and stores. Returns the id.
  Result<uint64_t> Record(const SurveyResponse& response);
  // Several answers in one transaction (the interaction stream's path). Ids in order.
  Result<std::vector<uint64_t>> RecordAll(const std::vector<SurveyResponse>& responses);

  ScoreReport Scores(const ScoreQuery& query) const;

  // Comment themes of one kind in [from_ms, to_ms) (at most the latest 200k comments).
  Result<CommentThemes> Themes(SurveyKind kind, int64_t from_ms, int64_t to_ms, size_t top) const;

  // CSAT answers given about cases: case id → the latest score.
  Result<std::unordered_map<uint64_t, int>> CsatByCase() const;

  // Export (docs/export.md): every answer of `customers` (a customer's merged ids), by id
  // ascending. Scans the table (no customer index: exports are rare, answers few per customer).
  Result<std::vector<SurveyResponse>> ListForCustomers(const std::vector<uint64_t>& customers) const;

  // Erasure (docs/erasure.md): the answers of `customers` keep their scores (NPS stays right) but
  // lose the customer (0), comment and message id; the file is VACUUMed, its -wal truncated.
  Status EraseCustomers(const std::vector<uint64_t>& customers);

  const CommentAnalyzer& analyzer() const { return analyzer_; }
  size_t size() const;

 private:
  explicit FeedbackStore(std::unique_ptr<entity::SqliteDb> db) : db_(std::move(db)) {}
  Status Load();
  Result<uint64_t> RecordLocked(const SurveyResponse& r, bool* inserted);
  uint32_t Intern(const std::string& s);  // requires cols_mu_ exclusive
  void AppendColumns(const SurveyResponse& r);

  mutable std::mutex db_mu_;  // guards db_
  std::unique_ptr<entity::SqliteDb> db_;

  mutable std::shared_mutex cols_mu_;  // guards everything below
  struct Columns {
    std::vector<uint8_t> kind;
    std::vector<int8_t> score;
    std::vector<int64_t> at_ms;
    std::vector<int32_t> day;  // at_ms / 1 day (at_ms ≥ 0 is enforced), for period grouping
    std::vector<uint64_t> customer;
    std::vector<uint32_t> cust;  // dense ordinal of `customer` (index into customers_), 0 = anonymous
    std::vector<uint32_t> dims[5];  // channel, segment, persona, phase, category: ids into names
  } cols_;
  std::vector<std::string> names_{""};  // id 0 = ""
  std::unordered_map<std::string, uint32_t> name_ids_{{"", 0}};
  std::vector<uint64_t> customers_{0};  // ordinal → customer id (ordinal 0 = anonymous, 0)
  std::unordered_map<uint64_t, uint32_t> customer_ords_{{0, 0}};

  CommentAnalyzer analyzer_;
};

}  // namespace cairn::feedback
