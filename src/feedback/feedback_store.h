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

#include "base/metrics.h"
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
  // The same as include_customers, as a list sorted ascending (binary search per answer): a large
  // segment's members are already one, and a set of ~1M built per query cost more than the scan.
  const std::vector<uint64_t>* include_sorted = nullptr;
  // Customer-level dimensions (docs/cases.md "Surveys"): an answer that carried no persona
  // (phase) of its own takes its customer's persona (journey phase) now, from these functions
  // (customer id as recorded → value, "" = unknown; anonymous answers stay ""). Each is called at
  // most once per distinct customer per query, only when the query groups or filters by that
  // dimension; they must be thread-safe and must not call back into the store. Null = none.
  std::function<std::string(uint64_t)> persona_of;
  std::function<std::string(uint64_t)> phase_of;
  // How old the looked-up persona / phase of a customer may be, in ms. 0 (default): every
  // distinct customer is looked up at every query (exact as of now; ~0.1–0.4 µs each, so 3M
  // customers cost ~1 s). > 0: the values looked up for every customer are kept (one small id per
  // customer and dimension) and reused by queries within that age — only customers first seen
  // since are looked up — then looked up afresh. `now_ms` dates them; `dimension_source` names
  // the functions (a different value drops what was kept).
  int64_t dimension_max_age_ms = 0;
  int64_t now_ms = 0;
  uint64_t dimension_source = 0;
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
  // `commits` (optional) counts feedback.db's committed write transactions (one fsync each).
  static Result<std::unique_ptr<FeedbackStore>> Open(const std::string& path, metrics::Counter* commits = nullptr);
  ~FeedbackStore();

  // One write transaction for several answers (the interaction stream: one commit, one fsync,
  // per committed batch). It holds the store's write lock from BeginWrite until Commit or its
  // destruction (uncommitted = rolled back, nothing recorded). Answers become visible to Scores
  // at Commit. Move-only; not thread-safe itself.
  class Writer {
   public:
    Writer(Writer&&) noexcept = default;
    Writer& operator=(Writer&&) = delete;
    ~Writer();
    // As FeedbackStore::Record, inside the transaction; all or nothing per answer (a refused one
    // leaves no trace and the transaction goes on).
    Result<uint64_t> Record(const SurveyResponse& response);
    Status Commit();
    // False once SQLite has rolled the transaction back by itself (some I/O errors do).
    bool in_transaction() const { return !committed_ && store_->db_->in_transaction(); }

   private:
    friend class FeedbackStore;
    Writer(FeedbackStore* store, std::unique_lock<std::mutex> lock, entity::Transaction tx)
        : store_(store), lock_(std::move(lock)), tx_(std::move(tx)) {}
    FeedbackStore* store_;
    std::unique_lock<std::mutex> lock_;  // store_->db_mu_
    entity::Transaction tx_;
    std::vector<SurveyResponse> added_;  // inserted (not replays): appended to the columns at Commit
    bool committed_ = false;
  };
  Result<Writer> BeginWrite();

  // Validates (kind/score range, InvalidArgument naming the field) and stores. Returns the id.
  Result<uint64_t> Record(const SurveyResponse& response);
  // Several answers in one transaction, all or none. Ids in order.
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
  // One customer-level dimension (persona, phase) looked up for every customer ordinal.
  struct LookedUp {
    uint64_t source = 0;
    int64_t at_ms = 0;
    std::vector<std::string> names{""};  // local ids; 0 = "" (unknown, anonymous)
    std::unordered_map<std::string, uint32_t> index{{"", 0}};  // names → local id
    std::vector<uint32_t> by_customer;  // by customer ordinal: the looked-up value
    std::vector<uint32_t> by_answer;    // by answer: its own value, else its customer's
  };
  // The persona (which = 0) or phase (1) of every answer — its own, else its customer's looked
  // up through `fn` — kept or looked up afresh as the query's dimension_max_age_ms says.
  // Requires cols_mu_ (shared is enough).
  std::shared_ptr<const LookedUp> LookUp(int which, const std::function<std::string(uint64_t)>& fn,
                                         const ScoreQuery& q) const;

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

  mutable std::mutex looked_up_mu_;  // guards looked_up_; held while looking up (one refresh at a time)
  mutable std::shared_ptr<const LookedUp> looked_up_[2];  // persona, phase (dimension_max_age_ms > 0)

  CommentAnalyzer analyzer_;
};

}  // namespace cairn::feedback
