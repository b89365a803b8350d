#include "cases/case_outbox.h"

#include <fmt/format.h>

#include <charconv>
#include <string>

namespace cairn::cases {

const std::string_view kOutboxSchema = R"sql(
CREATE TABLE case_outbox (
  id INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  case_id INTEGER NOT NULL, version INTEGER NOT NULL, at_ms INTEGER NOT NULL, actor TEXT NOT NULL,
  from_status INTEGER NOT NULL,
  customer INTEGER NOT NULL, status INTEGER NOT NULL, origin TEXT NOT NULL, category TEXT NOT NULL,
  severity INTEGER NOT NULL, tier INTEGER NOT NULL, channel TEXT NOT NULL, assignee TEXT NOT NULL,
  reopen_count INTEGER NOT NULL, fr_breached INTEGER NOT NULL, res_breached INTEGER NOT NULL,
  resolution_type INTEGER NOT NULL, resolution_amount REAL NOT NULL, resolved_at INTEGER NOT NULL,
  escalation_level INTEGER NOT NULL,
  esc_level INTEGER NOT NULL, esc_action TEXT NOT NULL, esc_reason TEXT NOT NULL, esc_to_agent TEXT NOT NULL
);
)sql";

namespace {

constexpr int64_t kKindEvent = 1, kKindEscalation = 2;

constexpr std::string_view kCols =
    "id, kind, case_id, version, at_ms, actor, from_status, customer, status, origin, category, severity, tier, "
    "channel, assignee, reopen_count, fr_breached, res_breached, resolution_type, resolution_amount, resolved_at, "
    "escalation_level, esc_level, esc_action, esc_reason, esc_to_agent";

}  // namespace

Status AppendOutbox(entity::SqliteDb* db, const OutboxItem& item) {
  const Case& c = item.event.c;
  ASSIGN_OR_RETURN(auto s, db->Prepare(fmt::format("INSERT INTO case_outbox ({}) VALUES "
                                                   "(NULL,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                                   kCols)));
  const EscalationRecord* e = item.escalation ? &*item.escalation : nullptr;
  s.Bind(1, item.escalation ? kKindEscalation : kKindEvent);
  s.BindU64(2, c.id);
  s.Bind(3, c.version);
  s.Bind(4, item.event.at_ms);
  s.Bind(5, item.event.actor);
  s.Bind(6, item.event.from ? static_cast<int64_t>(*item.event.from) : 0);
  s.BindU64(7, c.customer);
  s.Bind(8, static_cast<int64_t>(c.status));
  s.Bind(9, c.origin);
  s.Bind(10, c.category);
  s.Bind(11, static_cast<int64_t>(c.severity));
  s.Bind(12, static_cast<int64_t>(c.tier));
  s.Bind(13, c.channel);
  s.Bind(14, c.assignee);
  s.Bind(15, static_cast<int64_t>(c.reopen_count));
  s.Bind(16, static_cast<int64_t>(c.sla.first_response_breached));
  s.Bind(17, static_cast<int64_t>(c.sla.resolution_breached));
  s.Bind(18, c.resolution ? static_cast<int64_t>(c.resolution->type) : 0);
  s.Bind(19, fmt::format("{:.2f}", c.resolution ? c.resolution->amount : 0.0));
  s.Bind(20, c.resolved_at_ms);
  s.Bind(21, c.escalation_level ? static_cast<int64_t>(*c.escalation_level) : 0);
  s.Bind(22, e ? static_cast<int64_t>(e->level) : 0);
  static const std::string kNone;  // "", never NULL (a default string_view binds NULL)
  s.Bind(23, e ? e->action : kNone);
  s.Bind(24, e ? e->reason : kNone);
  s.Bind(25, e ? e->to_agent : kNone);
  return s.Run();
}

Result<std::vector<OutboxItem>> ReadOutbox(entity::SqliteDb* db, size_t limit) {
  std::vector<OutboxItem> out;
  ASSIGN_OR_RETURN(auto s, db->Prepare(fmt::format("SELECT {} FROM case_outbox ORDER BY id LIMIT ?", kCols)));
  s.Bind(1, static_cast<int64_t>(limit));
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    OutboxItem item;
    int i = 0;
    item.id = s.U64(i++);
    const int64_t kind = s.Int64(i++);
    Case& c = item.event.c;
    c.id = s.U64(i++);
    c.version = s.Int64(i++);
    item.event.at_ms = s.Int64(i++);
    item.event.actor = s.Text(i++);
    if (int64_t from = s.Int64(i++); from != 0) item.event.from = static_cast<CaseStatus>(from);
    c.customer = s.U64(i++);
    c.status = static_cast<CaseStatus>(s.Int64(i++));
    c.origin = s.Text(i++);
    c.category = s.Text(i++);
    c.severity = static_cast<Severity>(s.Int64(i++));
    c.tier = static_cast<ValueTier>(s.Int64(i++));
    c.channel = s.Text(i++);
    c.assignee = s.Text(i++);
    c.reopen_count = static_cast<int>(s.Int64(i++));
    c.sla.first_response_breached = s.Int64(i++) != 0;
    c.sla.resolution_breached = s.Int64(i++) != 0;
    const int64_t rt = s.Int64(i++);
    std::string_view amount_text = s.Text(i++);  // REAL read as text, as cases.amounts are
    double amount = 0;
    std::from_chars(amount_text.data(), amount_text.data() + amount_text.size(), amount);
    if (rt != 0) c.resolution = Resolution{static_cast<ResolutionType>(rt), amount};
    c.resolved_at_ms = s.Int64(i++);
    if (int64_t el = s.Int64(i++); el != 0) c.escalation_level = static_cast<AgentLevel>(el);
    if (kind == kKindEscalation) {
      EscalationRecord e;
      e.at_ms = item.event.at_ms;
      e.level = static_cast<AgentLevel>(s.Int64(i++));
      e.action = s.Text(i++);
      e.reason = s.Text(i++);
      e.to_agent = s.Text(i++);
      item.escalation = std::move(e);
    }
    out.push_back(std::move(item));
  }
  return out;
}

Status DeleteOutbox(entity::SqliteDb* db, const std::vector<uint64_t>& ids) {
  if (ids.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto tx, entity::Transaction::Begin(db, entity::Transaction::Mode::kImmediate));
  for (uint64_t id : ids) {
    ASSIGN_OR_RETURN(auto s, db->Prepare("DELETE FROM case_outbox WHERE id = ?"));
    RETURN_IF_ERROR(s.BindU64(1, id).Run());
  }
  return tx.Commit();
}

}  // namespace cairn::cases
