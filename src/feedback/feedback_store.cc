#include "feedback/feedback_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <map>

namespace cairn::feedback {
namespace {

constexpr uint32_t kApplicationId = 0x43464244;  // "CFBD": Cairn feedback db

// Schema steps (docs/format/cases.md, "feedback.db").
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE survey_responses (
  id INTEGER PRIMARY KEY,
  customer INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  score INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  segment TEXT NOT NULL DEFAULT '',
  persona TEXT NOT NULL DEFAULT '',
  phase TEXT NOT NULL DEFAULT '',
  case_category TEXT NOT NULL DEFAULT '',
  case_id INTEGER NOT NULL DEFAULT 0,
  message_id TEXT NOT NULL DEFAULT '',
  source_seq INTEGER
);
CREATE UNIQUE INDEX survey_responses_source_seq ON survey_responses(source_seq) WHERE source_seq IS NOT NULL;
CREATE INDEX survey_responses_case ON survey_responses(case_id) WHERE case_id != 0;
)sql";

std::string DayString(int64_t ms) {
  using namespace std::chrono;
  auto day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  year_month_day ymd(day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

// Start of the period containing `ms`, as a sortable key.
std::string PeriodKey(GroupBy g, int64_t ms) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  if (g == GroupBy::kWeek) {
    weekday wd(day);
    day -= days((wd.c_encoding() + 6) % 7);  // ISO weeks start on Monday
  } else if (g == GroupBy::kMonth) {
    year_month_day ymd(day);
    day = sys_days(ymd.year() / ymd.month() / 1);
  }
  return DayString(duration_cast<milliseconds>(day.time_since_epoch()).count());
}

}  // namespace

std::optional<GroupBy> ParseGroupBy(std::string_view n) {
  if (n.empty() || n == "none") return GroupBy::kNone;
  if (n == "channel") return GroupBy::kChannel;
  if (n == "segment") return GroupBy::kSegment;
  if (n == "persona") return GroupBy::kPersona;
  if (n == "phase") return GroupBy::kPhase;
  if (n == "category") return GroupBy::kCategory;
  if (n == "day") return GroupBy::kDay;
  if (n == "week") return GroupBy::kWeek;
  if (n == "month") return GroupBy::kMonth;
  return std::nullopt;
}

Result<std::unique_ptr<FeedbackStore>> FeedbackStore::Open(const std::string& path, metrics::Counter* commits) {
  entity::SqliteOptions options;
  options.full_sync = true;  // answers from the stream must be durable before the WAL may drop them
  options.commits = commits;
  ASSIGN_OR_RETURN(auto db, entity::SqliteDb::Open(path, options));
  RETURN_IF_ERROR(db->Migrate(kApplicationId, {kSchemaV1}));
  std::unique_ptr<FeedbackStore> store(new FeedbackStore(std::move(db)));
  RETURN_IF_ERROR(store->Load());
  return store;
}

FeedbackStore::~FeedbackStore() = default;

Status FeedbackStore::Load() {
  std::lock_guard lock(db_mu_);
  std::unique_lock cols(cols_mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT customer, kind, score, at_ms, channel, segment, persona, phase, "
                                           "case_category FROM survey_responses ORDER BY id"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    SurveyResponse r;
    r.customer = stmt.U64(0);
    r.kind = static_cast<SurveyKind>(stmt.Int64(1));
    r.score = static_cast<int>(stmt.Int64(2));
    r.at_ms = stmt.Int64(3);
    r.channel = stmt.Text(4);
    r.segment = stmt.Text(5);
    r.persona = stmt.Text(6);
    r.phase = stmt.Text(7);
    r.case_category = stmt.Text(8);
    AppendColumns(r);
  }
  return Status::Ok();
}

uint32_t FeedbackStore::Intern(const std::string& s) {
  auto [it, inserted] = name_ids_.emplace(s, static_cast<uint32_t>(names_.size()));
  if (inserted) names_.push_back(s);
  return it->second;
}

void FeedbackStore::AppendColumns(const SurveyResponse& r) {
  cols_.kind.push_back(static_cast<uint8_t>(r.kind));
  cols_.score.push_back(static_cast<int8_t>(r.score));
  cols_.at_ms.push_back(r.at_ms);
  cols_.day.push_back(static_cast<int32_t>(r.at_ms / 86400000));
  cols_.customer.push_back(r.customer);
  auto [ord, added] = customer_ords_.emplace(r.customer, static_cast<uint32_t>(customers_.size()));
  if (added) customers_.push_back(r.customer);
  cols_.cust.push_back(ord->second);
  cols_.dims[0].push_back(Intern(r.channel));
  cols_.dims[1].push_back(Intern(r.segment));
  cols_.dims[2].push_back(Intern(r.persona));
  cols_.dims[3].push_back(Intern(r.phase));
  cols_.dims[4].push_back(Intern(r.case_category));
}

Result<uint64_t> FeedbackStore::RecordLocked(const SurveyResponse& r, bool* inserted) {
  *inserted = false;
  RETURN_IF_ERROR(ValidateScore(r.kind, r.score));
  // 1970-01-01 .. 2200-01-01: keeps period grouping (dense per-day arrays) bounded.
  if (r.at_ms < 0 || r.at_ms >= 7258118400000)
    return InvalidArgument(fmt::format("at: {} ms is outside 1970..2200", r.at_ms));
  if (r.source_seq != 0) {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id FROM survey_responses WHERE source_seq = ?"));
    q.BindU64(1, r.source_seq);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) return q.U64(0);  // replay of an answer already recorded
  }
  ASSIGN_OR_RETURN(auto ins, db_->Prepare(
                                 "INSERT INTO survey_responses (customer, kind, score, at_ms, comment, channel, segment, "
                                 "persona, phase, case_category, case_id, message_id, source_seq) "
                                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  ins.BindU64(1, r.customer).Bind(2, static_cast<int64_t>(r.kind)).Bind(3, static_cast<int64_t>(r.score));
  ins.Bind(4, r.at_ms).Bind(5, r.comment).Bind(6, r.channel).Bind(7, r.segment).Bind(8, r.persona);
  ins.Bind(9, r.phase).Bind(10, r.case_category).BindU64(11, r.case_id).Bind(12, r.message_id);
  if (r.source_seq != 0) ins.BindU64(13, r.source_seq);
  else ins.BindNull(13);
  RETURN_IF_ERROR(ins.Run());
  *inserted = true;
  return static_cast<uint64_t>(db_->last_insert_rowid());
}

Result<uint64_t> FeedbackStore::Record(const SurveyResponse& response) {
  ASSIGN_OR_RETURN(auto ids, RecordAll({response}));
  return ids.front();
}

Result<std::vector<uint64_t>> FeedbackStore::RecordAll(const std::vector<SurveyResponse>& responses) {
  for (const auto& r : responses) RETURN_IF_ERROR(ValidateScore(r.kind, r.score));
  std::vector<uint64_t> ids;
  ASSIGN_OR_RETURN(Writer w, BeginWrite());
  for (const auto& r : responses) {
    ASSIGN_OR_RETURN(uint64_t id, w.Record(r));
    ids.push_back(id);
  }
  RETURN_IF_ERROR(w.Commit());
  return ids;
}

Result<FeedbackStore::Writer> FeedbackStore::BeginWrite() {
  std::unique_lock lock(db_mu_);
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
  return Writer(this, std::move(lock), std::move(tx));
}

FeedbackStore::Writer::~Writer() = default;  // tx_ rolls back unless committed, then lock_ unlocks

Result<uint64_t> FeedbackStore::Writer::Record(const SurveyResponse& r) {
  // RecordLocked is one SELECT and at most one INSERT (atomic by itself): a refusal writes nothing.
  bool inserted = false;
  ASSIGN_OR_RETURN(uint64_t id, store_->RecordLocked(r, &inserted));
  if (inserted) added_.push_back(r);
  return id;
}

Status FeedbackStore::Writer::Commit() {
  if (committed_) return FailedPrecondition("feedback.db: write already committed");
  RETURN_IF_ERROR(tx_.Commit());
  committed_ = true;
  std::unique_lock cols(store_->cols_mu_);
  for (const SurveyResponse& r : added_) store_->AppendColumns(r);
  added_.clear();
  return Status::Ok();
}

size_t FeedbackStore::size() const {
  std::shared_lock cols(cols_mu_);
  return cols_.kind.size();
}

std::shared_ptr<const FeedbackStore::LookedUp> FeedbackStore::LookUp(int which,
                                                                    const std::function<std::string(uint64_t)>& fn,
                                                                    const ScoreQuery& q) const {
  const std::vector<uint32_t>& own = cols_.dims[2 + which];  // the answers' own persona / phase
  // Extends `d` to every customer and every answer: customers from ordinal `d->by_customer.size()`
  // are looked up (neighbours often share a value, so the last one is checked before the
  // dictionary), then answers from `d->by_answer.size()` get their own value, else their
  // customer's. The per-answer column makes a query a sequential scan.
  auto fill = [&](LookedUp* d) {
    auto local = [&](const std::string& v) {
      auto [it, inserted] = d->index.emplace(v, static_cast<uint32_t>(d->names.size()));
      if (inserted) d->names.push_back(v);
      return it->second;
    };
    size_t ord = std::max<size_t>(d->by_customer.size(), 1);
    d->by_customer.resize(customers_.size(), 0);  // ordinal 0 (anonymous) stays ""
    std::string last;
    uint32_t last_id = 0;
    for (; ord < customers_.size(); ++ord) {
      std::string v = fn(customers_[ord]);
      if (v != last) {
        last_id = local(v);
        last = std::move(v);
      }
      d->by_customer[ord] = last_id;
    }
    std::vector<int64_t> from_names(names_.size(), -1);  // names_ id → local id, on first use
    size_t i = d->by_answer.size();
    d->by_answer.resize(own.size());
    for (; i < own.size(); ++i) {
      const uint32_t v = own[i];
      if (v == 0) {
        d->by_answer[i] = d->by_customer[cols_.cust[i]];
      } else {
        if (from_names[v] < 0) from_names[v] = local(names_[v]);
        d->by_answer[i] = static_cast<uint32_t>(from_names[v]);
      }
    }
  };
  if (q.dimension_max_age_ms <= 0) {
    auto d = std::make_shared<LookedUp>();
    fill(d.get());
    return d;
  }
  std::lock_guard lock(looked_up_mu_);
  std::shared_ptr<const LookedUp>& kept = looked_up_[which];
  if (kept && kept->source == q.dimension_source && q.now_ms >= kept->at_ms &&
      q.now_ms - kept->at_ms < q.dimension_max_age_ms) {
    if (kept->by_customer.size() == customers_.size() && kept->by_answer.size() == own.size()) return kept;
    auto d = std::make_shared<LookedUp>(*kept);  // answers and customers since: only them
    fill(d.get());
    kept = d;
    return kept;
  }
  auto d = std::make_shared<LookedUp>();
  d->source = q.dimension_source;
  d->at_ms = q.now_ms;
  fill(d.get());
  kept = d;
  return kept;
}

ScoreReport FeedbackStore::Scores(const ScoreQuery& q) const {
  ScoreReport report;
  report.kind = q.kind;
  std::shared_lock cols(cols_mu_);
  int dim = -1;
  switch (q.group_by) {
    case GroupBy::kChannel: dim = 0; break;
    case GroupBy::kSegment: dim = 1; break;
    case GroupBy::kPersona: dim = 2; break;
    case GroupBy::kPhase: dim = 3; break;
    case GroupBy::kCategory: dim = 4; break;
    default: break;
  }
  const std::string* filters[5] = {&q.channel, &q.segment, &q.persona, &q.phase, &q.category};
  // Every dimension is a column of ids per answer with its dictionary. Persona and phase are also
  // customer-level: an answer without its own value takes its customer's (q.persona_of /
  // q.phase_of), in a column of their own (LookUp) with a dictionary of their own.
  const uint32_t* col[5];
  const std::vector<std::string>* dict[5];
  const std::unordered_map<std::string, uint32_t>* index[5];
  std::shared_ptr<const LookedUp> looked[5];
  const std::function<std::string(uint64_t)>* derive[5] = {nullptr, nullptr, &q.persona_of, &q.phase_of, nullptr};
  for (int d = 0; d < 5; ++d) {
    col[d] = cols_.dims[d].data();
    dict[d] = &names_;
    index[d] = &name_ids_;
    if (derive[d] == nullptr || !*derive[d] || (dim != d && filters[d]->empty())) continue;
    looked[d] = LookUp(d - 2, *derive[d], q);
    col[d] = looked[d]->by_answer.data();
    dict[d] = &looked[d]->names;
    index[d] = &looked[d]->index;
  }
  // Filters become dimension ids; a value never seen matches nothing.
  int64_t want[5];
  for (int d = 0; d < 5; ++d) {
    if (filters[d]->empty()) {
      want[d] = -1;
      continue;
    }
    auto it = index[d]->find(*filters[d]);
    if (it == index[d]->end()) return report;
    want[d] = it->second;
  }
  const bool by_period = q.group_by == GroupBy::kDay || q.group_by == GroupBy::kWeek || q.group_by == GroupBy::kMonth;
  // Per-group score histograms (11 buckets cover every kind), turned into stats at the end.
  // Groups are dense arrays: by dimension id, or by day offset from the first day seen.
  using Hist = std::array<int64_t, 11>;
  Hist total{};
  std::vector<Hist> by_dim(dim >= 0 ? dict[dim]->size() : 0);
  std::vector<Hist> by_day;  // day (since epoch) − base_day
  int64_t base_day = 0;
  int active[5];
  int n_active = 0;
  for (int d = 0; d < 5; ++d)
    if (want[d] >= 0) active[n_active++] = d;
  const uint8_t kind = static_cast<uint8_t>(q.kind);
  const size_t n = cols_.kind.size();
  const uint8_t* kinds = cols_.kind.data();
  const int64_t* ats = cols_.at_ms.data();
  const int8_t* scores = cols_.score.data();
  const int32_t* days = cols_.day.data();
  const uint32_t* group_dim = dim >= 0 ? col[dim] : nullptr;
  Hist* dim_hists = by_dim.data();
  for (size_t i = 0; i < n; ++i) {
    if (kinds[i] != kind) continue;
    const int64_t at = ats[i];
    if (at < q.from_ms || at >= q.to_ms) continue;
    bool ok = true;
    for (int k = 0; k < n_active && ok; ++k) ok = col[active[k]][i] == static_cast<uint32_t>(want[active[k]]);
    if (!ok) continue;
    if (q.include_customers && !q.include_customers->contains(cols_.customer[i])) continue;
    if (q.include_sorted && !std::binary_search(q.include_sorted->begin(), q.include_sorted->end(), cols_.customer[i])) continue;
    if (q.exclude_customers && q.exclude_customers->contains(cols_.customer[i])) continue;
    const int s = scores[i];
    ++total[s];
    if (dim >= 0) {
      ++dim_hists[group_dim[i]][s];
    } else if (by_period) {
      const int64_t day = days[i];
      if (by_day.empty()) base_day = day;
      if (day < base_day) {
        by_day.insert(by_day.begin(), static_cast<size_t>(base_day - day), Hist{});
        base_day = day;
      }
      const size_t off = static_cast<size_t>(day - base_day);
      if (off >= by_day.size()) by_day.resize(off + 1, Hist{});
      ++by_day[off][s];
    }
  }
  auto fill = [&](ScoreGroup* g, const Hist& h) {
    for (int s = 0; s <= 10; ++s) {
      if (h[s] == 0) continue;
      switch (q.kind) {
        case SurveyKind::kNps:
          g->nps.responses += h[s];
          (s >= 9 ? g->nps.promoters : s >= 7 ? g->nps.passives : g->nps.detractors) += h[s];
          break;
        case SurveyKind::kCsat:
          g->csat.responses += h[s];
          g->csat.sum += h[s] * s;
          if (s >= 4) g->csat.satisfied += h[s];
          break;
        case SurveyKind::kCes:
          g->ces.responses += h[s];
          g->ces.sum += h[s] * s;
          if (s >= 5) g->ces.easy += h[s];
          break;
      }
    }
    g->nps.Finish();
    g->csat.Finish();
    g->ces.Finish();
  };
  fill(&report.total, total);
  if (dim >= 0) {
    for (size_t id = 0; id < by_dim.size(); ++id) {
      const Hist& h = by_dim[id];
      int64_t count = 0;
      for (int64_t c : h) count += c;
      if (count == 0) continue;
      ScoreGroup g;
      g.key = (*dict[dim])[id];
      fill(&g, h);
      report.groups.push_back(std::move(g));
    }
  } else if (by_period) {
    std::map<std::string, Hist> periods;
    for (size_t off = 0; off < by_day.size(); ++off) {
      const Hist& h = by_day[off];
      const int64_t day = base_day + static_cast<int64_t>(off);
      Hist& p = periods[PeriodKey(q.group_by, day * 86400000)];
      for (int s = 0; s <= 10; ++s) p[s] += h[s];
    }
    for (const auto& [key, h] : periods) {
      ScoreGroup g;
      g.key = key;
      fill(&g, h);
      report.groups.push_back(std::move(g));
    }
  }
  std::sort(report.groups.begin(), report.groups.end(),
            [](const ScoreGroup& a, const ScoreGroup& b) { return a.key < b.key; });
  return report;
}

Result<CommentThemes> FeedbackStore::Themes(SurveyKind kind, int64_t from_ms, int64_t to_ms, size_t top) const {
  std::vector<std::pair<int, std::string>> rows;
  {
    std::lock_guard lock(db_mu_);
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT score, comment FROM survey_responses WHERE kind = ? AND comment != '' "
                                          "AND at_ms >= ? AND at_ms < ? ORDER BY id DESC LIMIT 200000"));
    q.Bind(1, static_cast<int64_t>(kind)).Bind(2, from_ms).Bind(3, to_ms);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      rows.emplace_back(static_cast<int>(q.Int64(0)), std::string(q.Text(1)));
    }
  }
  return analyzer_.Themes(kind, rows, top);
}

Result<std::unordered_map<uint64_t, int>> FeedbackStore::CsatByCase() const {
  std::unordered_map<uint64_t, int> out;
  std::lock_guard lock(db_mu_);
  ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT case_id, score FROM survey_responses WHERE case_id != 0 AND kind = ? "
                                        "ORDER BY at_ms, id"));
  q.Bind(1, static_cast<int64_t>(SurveyKind::kCsat));
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out[q.U64(0)] = static_cast<int>(q.Int64(1));  // later rows overwrite: the latest answer wins
  }
  return out;
}

Result<std::vector<SurveyResponse>> FeedbackStore::ListForCustomers(const std::vector<uint64_t>& customers) const {
  std::vector<SurveyResponse> out;
  if (customers.empty()) return out;
  std::lock_guard lock(db_mu_);
  std::string in;
  for (uint64_t c : customers) fmt::format_to(std::back_inserter(in), "{}{}", in.empty() ? "" : ",", c);
  ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format(
      "SELECT id, customer, kind, score, at_ms, comment, channel, segment, persona, phase, case_category, case_id, "
      "message_id, COALESCE(source_seq, 0) FROM survey_responses WHERE customer IN ({}) ORDER BY id", in)));
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    SurveyResponse r;
    r.id = q.U64(0);
    r.customer = q.U64(1);
    r.kind = static_cast<SurveyKind>(q.Int64(2));
    r.score = static_cast<int>(q.Int64(3));
    r.at_ms = q.Int64(4);
    r.comment = std::string(q.Text(5));
    r.channel = std::string(q.Text(6));
    r.segment = std::string(q.Text(7));
    r.persona = std::string(q.Text(8));
    r.phase = std::string(q.Text(9));
    r.case_category = std::string(q.Text(10));
    r.case_id = q.U64(11);
    r.message_id = std::string(q.Text(12));
    r.source_seq = q.U64(13);
    out.push_back(std::move(r));
  }
  return out;
}

Status FeedbackStore::EraseCustomers(const std::vector<uint64_t>& customers) {
  {
    std::lock_guard lock(db_mu_);
    RETURN_IF_ERROR(db_->SecureDelete());
    ASSIGN_OR_RETURN(entity::Transaction txn, entity::Transaction::Begin(db_.get(), entity::Transaction::Mode::kImmediate));
    for (uint64_t c : customers) {
      ASSIGN_OR_RETURN(entity::Stmt st, db_->Prepare(
          "UPDATE survey_responses SET customer = 0, comment = '', message_id = '' WHERE customer = ?1"));
      RETURN_IF_ERROR(st.BindU64(1, c).Run());
    }
    RETURN_IF_ERROR(txn.Commit());
    RETURN_IF_ERROR(db_->Scrub());
  }
  std::unique_lock cols(cols_mu_);
  for (size_t i = 0; i < cols_.customer.size(); ++i) {
    if (std::find(customers.begin(), customers.end(), cols_.customer[i]) == customers.end()) continue;
    cols_.customer[i] = 0;
    cols_.cust[i] = 0;  // anonymous: no persona or phase is derived for it any more
  }
  // Nothing looked up about an erased customer is kept.
  std::lock_guard lock(looked_up_mu_);
  for (auto& kept : looked_up_) kept.reset();
  return Status::Ok();
}

}  // namespace cairn::feedback
