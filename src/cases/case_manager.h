#pragma once
// CaseManager: the case engine over DIR/cases.db (and the survey store DIR/feedback.db). Formats:
// docs/format/cases.md. Semantics: docs/cases.md.
//
// - Cases, agents, SLA policies, calendars and the escalation chain live in SQLite (WAL mode,
//   synchronous=FULL: a case opened from the interaction stream is durable before the WAL that
//   carried it may be dropped).
// - SLA timers: a min-heap of (due, case, kind) in memory, rebuilt at Open from open cases only.
//   CheckBreaches pops what is due; an entry made stale by a later change is recognised against
//   the case's stored deadline and dropped (no scan of all cases, no eager deletion).
// - A breach is the first instant past a due time: a response at exactly the due instant is on
//   time; `due + 1 ms` breaches, and the breach is recorded at `due + 1 ms`.
// - Every change runs in one IMMEDIATE transaction under one mutex (a committed batch of the
//   interaction stream: one for all its writes, ApplyStream), bumps the case version and
//   appends audit entries; callers may pass the version they read (expected_version) to refuse
//   an update based on a stale read (FailedPrecondition) — no lost updates either way.
//
// Thread-safe.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/result.h"
#include "cases/case_service.h"
#include "entity/sqlite_db.h"
#include "feedback/feedback_service.h"
#include "feedback/feedback_store.h"

namespace cairn::cases {

enum class AssignmentStrategy { kNone, kRoundRobin, kLeastLoaded };

// One write of the interaction stream (cases::Intake): a complaint's case or a survey answer.
using StreamWrite = std::variant<NewCase, feedback::SurveyInput>;

struct CaseManagerOptions {
  std::string dir;                // required: cases.db and feedback.db are created here
  Clock* clock = nullptr;         // default Clock::Real()
  // How new cases get an assignee: among active agents of level `agent` whose skills include the
  // case's category (or "*", or no skills); default least loaded (fewest open cases, then id).
  AssignmentStrategy assignment = AssignmentStrategy::kLeastLoaded;
  // Any identity ("user-1", "c:42") → canonical customer id. Default: accepts "c:<n>" only.
  std::function<Result<uint64_t>(const std::string&)> resolve_customer;
  // A stored customer id → its canonical id now (identity merges). Default: identity.
  // Cases are canonicalised on read: a case opened for an anonymous id that later merged into a
  // known customer is reported (and filtered) under the customer's id now; the stored id is
  // re-keyed the next time the case changes.
  std::function<uint64_t(uint64_t)> canonical;
  // Every id that belongs to a canonical customer now (identity union-find members, the root
  // included), for the customer filter and secondary errors across merges. Default: {root}.
  std::function<std::vector<uint64_t>(uint64_t)> members;
  // A customer's new case within this window after an earlier one is a secondary error.
  // Default 30 days.
  int64_t secondary_window_ms = 30LL * 24 * 3600 * 1000;
  // How old the persona / journey phase looked up for survey scores may be (SetCustomerDimensions;
  // feedback::ScoreQuery::dimension_max_age_ms): within it, a score by persona or phase reuses
  // the values looked up for every customer instead of asking again per customer. Default 30 s;
  // 0 = ask at every query.
  int64_t survey_dimension_max_age_ms = 30000;
  // Level notified at once when a critical case opens. Default manager.
  AgentLevel critical_notify_level = AgentLevel::kManager;
  // Run a thread that calls CheckBreaches when timers fall due (at least once a second).
  // Default false (tests drive CheckBreaches themselves).
  bool timer_thread = false;
  metrics::Registry* metrics = nullptr;  // default metrics::Registry::Default()
};

class CaseManager final : public CaseService, public feedback::FeedbackService {
 public:
  static Result<std::unique_ptr<CaseManager>> Open(CaseManagerOptions options);
  ~CaseManager() override;

  // CaseService
  Result<Case> OpenCase(const NewCase& request) override;
  Result<CaseDetail> GetCase(uint64_t id) override;
  Result<CaseList> ListCases(const CaseFilter& filter) override;
  Result<Case> UpdateCase(uint64_t id, const CaseUpdate& update) override;
  Result<Case> Transition(uint64_t id, const TransitionRequest& request) override;
  Result<Case> Assign(uint64_t id, const std::string& agent_id, const std::string& actor,
                      int64_t expected_version) override;
  Result<CaseComment> AddComment(uint64_t id, const CaseComment& comment) override;
  Result<Case> Approve(uint64_t id, const std::string& approver) override;
  Result<Agent> PutAgent(const Agent& agent) override;
  Result<std::vector<Agent>> ListAgents() override;
  Status SetAuthorityLimit(AgentLevel level, double limit) override;
  Result<std::vector<std::pair<AgentLevel, double>>> AuthorityLimits() override;
  Status PutPolicy(const SlaPolicy& policy) override;
  Result<std::vector<SlaPolicy>> ListPolicies() override;
  Status PutCalendar(const CalendarSpec& spec) override;
  Result<std::vector<CalendarSpec>> ListCalendars() override;
  Status SetEscalationChain(const std::vector<EscalationStep>& steps) override;
  Result<std::vector<EscalationStep>> EscalationChain() override;
  Result<size_t> CheckBreaches(int64_t now_ms) override;
  Result<ComplaintAnalysis> Analyze(int64_t from_ms, int64_t to_ms) override;

  // feedback::FeedbackService
  Result<feedback::RecordedSurvey> RecordSurvey(const feedback::SurveyInput& input) override;
  Result<feedback::ScoreReport> Scores(const feedback::ScoreQuery& query) override;
  Result<feedback::CommentThemes> Themes(feedback::SurveyKind kind, int64_t from_ms, int64_t to_ms,
                                         size_t top) override;

  // The writes of one committed batch of the interaction stream (cases::Intake), in order, in one
  // transaction per file — feedback.db committed first, then cases.db — so a batch costs one
  // fsync of each, not one per answer and case. Each write does what OpenCase / RecordSurvey do
  // (a later one sees the cases earlier ones opened), and its Status is returned in its place: a
  // refused write (malformed, InvalidArgument) writes nothing and leaves the others in. Idempotent when the writes
  // carry their source_seq: a batch applied again (WAL replay) records nothing twice, also after
  // a crash between the two commits. If the transaction fails as a whole, each write is made
  // again in its own transactions. Listeners, timers and counters see only committed writes.
  std::vector<Status> ApplyStream(const std::vector<StreamWrite>& writes);

  // Status changes (open, every transition) after they are durable, in commit order. Called
  // under the manager's lock: the listener must only queue (never call back into the manager,
  // never block). Null clears it. Set before traffic; thread-safe.
  void SetEventListener(std::function<void(const CaseEvent&)> listener);

  // The value tier of new cases without an explicit tier from the customer's predicted CLV
  // (nullopt = not modelled: standard). Null clears it. Thread-safe; may be set while serving.
  // InvalidArgument when thresholds are negative or vip < high.
  Status SetValueModel(std::function<std::optional<double>(uint64_t)> clv, TierThresholds thresholds);

  // Customer-level survey dimensions (docs/cases.md "Surveys"): an answer without its own persona
  // (phase) is counted under its customer's persona from the value engine (phase from the journey
  // engine) as of the query, at most survey_dimension_max_age_ms old. Either may be null (none). The functions take a customer id as
  // recorded (possibly merged since: canonicalise inside), return "" when unknown, must be
  // thread-safe and must not call into this manager. Thread-safe; may be set while serving.
  void SetCustomerDimensions(std::function<std::string(uint64_t)> persona_of,
                             std::function<std::string(uint64_t)> phase_of);

  // The outbox (docs/format/cases.md `case_outbox`): every status change and every escalation
  // step writes a row in the transaction of the change. Whoever hands them on (app::CasesWiring)
  // reads them oldest first and acks them once they are durable elsewhere; a crash in between
  // hands them on again (receivers are idempotent). Erasure deletes the rows of erased cases.
  Result<std::vector<OutboxItem>> PendingOutbox(size_t limit);
  Status AckOutbox(const std::vector<uint64_t>& ids);  // unknown ids are ignored
  // Called after a commit that wrote outbox rows, under the manager's lock: it must only signal
  // (never call back into the manager, never block). Null clears it. Thread-safe.
  void SetOutboxListener(std::function<void()> listener);

  // Pending SLA timers (heap entries, stale ones included until popped).
  size_t pending_timers() const;
  feedback::FeedbackStore* feedback_store() { return feedback_.get(); }

  // Erasure (docs/erasure.md): anonymises the cases of `customers` (any ids, merged or not) —
  // customer 0, description, root cause and message id cleared, comments deleted, audit values and
  // escalation reasons cleared; counts, categories, states, SLA times and source_seq (WAL replay
  // idempotency) kept — and their survey answers (customer 0, comment cleared; scores kept). Both
  // files are then VACUUMed and their -wal truncated. Returns the number of cases anonymised.
  Result<size_t> EraseCustomers(const std::vector<uint64_t>& customers);

  // Stops the timer thread. Idempotent.
  void Close();

 private:
  struct Ctx;
  struct Effects;
  struct Timer {
    int64_t due;
    uint64_t case_id;
    uint8_t kind;  // 1 first response, 2 resolution, 3 escalation step
    bool operator>(const Timer& o) const { return due > o.due; }
  };

  explicit CaseManager(CaseManagerOptions options);
  Status Init();
  Status LoadConfig();
  Status LoadTimers();
  void TimerLoop();

  Result<uint64_t> ResolveCustomer(const std::string& customer, uint64_t given) const;
  Result<Case> LoadCase(uint64_t id);
  // The writes, inside the caller's transaction on db_ (and `answers`, feedback.db's); each is all
  // or nothing by itself (a savepoint) and stages what happens in memory after commit in `fx`.
  // Require mu_.
  Result<Case> OpenInTx(const NewCase& request, int64_t now, Effects* fx);
  Result<Case> MutateInTx(uint64_t id, int64_t expected_version, const std::function<Status(Case&, Ctx&)>& fn,
                          Effects* fx);
  Result<feedback::RecordedSurvey> RecordSurveyInTx(const feedback::SurveyInput& input,
                                                    feedback::FeedbackStore::Writer& answers, Effects* fx);
  void ApplyEffects(const Effects& fx);  // requires mu_; after the commit
  Status WriteCase(Case* c, bool insert);
  Status WriteCtx(const Case& c, Ctx& ctx);  // audit, escalations (and their outbox rows)
  Status WriteEvent(const Case& c, std::optional<CaseStatus> from, const std::string& actor, int64_t at_ms, Ctx& ctx);
  Result<Case> Mutate(uint64_t id, int64_t expected_version, const std::function<Status(Case&, Ctx&)>& fn);
  void PushTimers(const Case& c);
  uint64_t Canonical(uint64_t id) const { return options_.canonical ? options_.canonical(id) : id; }
  std::vector<uint64_t> MembersOf(uint64_t root) const;

  std::shared_ptr<const BusinessCalendar> CalendarOf(const std::string& name) const;
  void StartSla(Case& c);
  void Breach(Case& c, uint8_t kind, int64_t at_ms, Ctx& ctx);
  void RunEscalations(Case& c, int64_t now, Ctx& ctx);
  void NoteFirstResponse(Case& c, int64_t now, Ctx& ctx);
  Status ApplyTransition(Case& c, CaseStatus to, const std::string& actor, Ctx& ctx);
  const Agent* FindAgentForLevel(AgentLevel level, const std::string& team);
  Result<int64_t> OpenLoad(const std::string& agent_id);
  std::string PickAssignee(const std::string& category);
  double LimitOf(AgentLevel level) const;
  bool Can(AgentLevel level, double amount) const { return LimitOf(level) < 0 || amount <= LimitOf(level); }
  AgentLevel RequiredLevel(double amount) const;

  CaseManagerOptions options_;
  Clock* clock_;
  std::unique_ptr<feedback::FeedbackStore> feedback_;

  mutable std::mutex mu_;  // guards everything below
  std::unique_ptr<entity::SqliteDb> db_;
  std::map<std::string, Agent> agents_;
  std::map<std::pair<int, int>, SlaPolicy> policies_;
  std::map<std::string, std::shared_ptr<const BusinessCalendar>> calendars_;
  std::vector<EscalationStep> chain_;
  double limits_[6] = {0, 0, 0, 0, 0, -1};
  std::map<std::string, std::string> round_robin_;  // category → last agent picked
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::function<void(const CaseEvent&)> listener_;
  std::function<void()> outbox_listener_;
  std::function<std::optional<double>(uint64_t)> clv_;
  std::function<std::string(uint64_t)> persona_of_, phase_of_;
  uint64_t dimension_source_ = 0;  // guarded by mu_: bumped by SetCustomerDimensions
  TierThresholds thresholds_;

  metrics::Counter* opened_ = nullptr;
  metrics::Counter* breaches_ = nullptr;
  metrics::Counter* escalations_ = nullptr;
  metrics::Counter* secondary_ = nullptr;

  std::condition_variable timer_cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread timer_thread_;
};

}  // namespace cairn::cases
