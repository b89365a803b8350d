#include "api/dto/case_dto.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <initializer_list>

#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"
#include "api/url.h"

namespace cairn::api {
namespace json = boost::json;
using namespace cairn::cases;

namespace {

constexpr int64_t kMinute = 60 * 1000;

Status Bad(std::string_view field, std::string_view what) { return InvalidArgument(fmt::format("{}: {}", field, what)); }

Result<json::object> ParseObject(std::string_view text, std::initializer_list<std::string_view> allowed) {
  boost::system::error_code ec;
  json::value v = json::parse(text.empty() ? std::string_view("{}") : text, ec);
  if (ec) return InvalidArgument("body: not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return InvalidArgument("body: must be a JSON object");
  for (const auto& kv : v.as_object()) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || kv.key() == a;
    if (!ok) return Bad(kv.key(), "unknown field");
  }
  return std::move(v.as_object());
}

const json::value* Find(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

Result<std::optional<std::string>> OptString(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return Bad(key, "must be a string");
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::string> Str(const json::object& o, std::string_view key, std::string def = "") {
  ASSIGN_OR_RETURN(auto s, OptString(o, key));
  return s ? *s : def;
}

Result<std::optional<double>> OptNumber(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  if (v == nullptr) return std::optional<double>();
  if (v->is_int64()) return std::optional<double>(static_cast<double>(v->as_int64()));
  if (v->is_uint64()) return std::optional<double>(static_cast<double>(v->as_uint64()));
  if (v->is_double() && std::isfinite(v->as_double())) return std::optional<double>(v->as_double());
  return Bad(key, "must be a number");
}

Result<int64_t> Int(const json::object& o, std::string_view key, int64_t def, int64_t lo, int64_t hi) {
  ASSIGN_OR_RETURN(auto d, OptNumber(o, key));
  if (!d) return def;
  if (std::trunc(*d) != *d) return Bad(key, "must be an integer");
  if (*d < static_cast<double>(lo) || *d > static_cast<double>(hi)) return Bad(key, fmt::format("must be {}..{}", lo, hi));
  return static_cast<int64_t>(*d);
}

Result<bool> Bool(const json::object& o, std::string_view key, bool def) {
  const json::value* v = Find(o, key);
  if (v == nullptr) return def;
  if (!v->is_bool()) return Bad(key, "must be true or false");
  return v->as_bool();
}

template <typename E, typename ParseFn>
Result<std::optional<E>> OptEnum(const json::object& o, std::string_view key, ParseFn parse, std::string_view choices) {
  ASSIGN_OR_RETURN(auto s, OptString(o, key));
  if (!s) return std::optional<E>();
  auto e = parse(*s);
  if (!e) return Bad(key, fmt::format("'{}' is not one of {}", *s, choices));
  return std::optional<E>(*e);
}

constexpr std::string_view kSeverities = "low, medium, high, critical";
constexpr std::string_view kTiers = "standard, high, vip";
constexpr std::string_view kLevels = "agent, team_lead, manager, director, executive";
constexpr std::string_view kResolutions = "refund, replacement, fix, explanation, goodwill";
constexpr std::string_view kStatuses = "new, triaged, in_progress, waiting_on_customer, resolved, closed, reopened";

Result<Resolution> ParseResolution(const json::value& v) {
  if (!v.is_object()) return Bad("resolution", "must be an object {type, amount}");
  const json::object& o = v.as_object();
  for (const auto& kv : o)
    if (kv.key() != "type" && kv.key() != "amount") return Bad(fmt::format("resolution.{}", std::string_view(kv.key())), "unknown field");
  ASSIGN_OR_RETURN(auto type, OptEnum<ResolutionType>(o, "type", ParseResolutionType, kResolutions));
  if (!type) return Bad("resolution.type", "required");
  ASSIGN_OR_RETURN(auto amount, OptNumber(o, "amount"));
  if (amount && *amount < 0) return Bad("resolution.amount", "must not be negative");
  return Resolution{*type, amount.value_or(0)};
}

bool ParseHhMm(std::string_view s, int* minutes) {
  if (s.size() != 5 || s[2] != ':') return false;
  int h = 0, m = 0;
  if (std::from_chars(s.data(), s.data() + 2, h).ptr != s.data() + 2) return false;
  if (std::from_chars(s.data() + 3, s.data() + 5, m).ptr != s.data() + 5) return false;
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  *minutes = h * 60 + m;
  return true;
}

void WriteTime(JsonWriter& w, std::string_view key, int64_t ms) {
  w.Key(key);
  if (ms == 0) w.Null();
  else w.String(FormatIsoMillis(ms));
}

void WriteResolution(JsonWriter& w, const Resolution& r) {
  w.BeginObject().Key("type").String(Name(r.type)).Key("amount").Double(r.amount).EndObject();
}

void WriteCase(JsonWriter& w, const Case& c) {
  w.BeginObject();
  w.Key("id").UInt(c.id);
  w.Key("customer").String(CustomerIdString(c.customer));
  w.Key("channel").String(c.channel);
  w.Key("category").String(c.category);
  w.Key("severity").String(Name(c.severity));
  w.Key("tier").String(Name(c.tier));
  w.Key("description").String(c.description);
  w.Key("rootCause").String(c.root_cause);
  w.Key("status").String(Name(c.status));
  w.Key("allowedTransitions").BeginArray();
  for (CaseStatus s : AllowedTransitions(c.status)) w.String(Name(s));
  w.EndArray();
  w.Key("assignee");
  c.assignee.empty() ? w.Null() : w.String(c.assignee);
  w.Key("origin").String(c.origin);
  w.Key("resolution");
  if (c.resolution) WriteResolution(w, *c.resolution);
  else w.Null();
  w.Key("pendingResolution");
  if (c.pending_resolution) {
    w.BeginObject().Key("type").String(Name(c.pending_resolution->type)).Key("amount").Double(c.pending_resolution->amount);
    w.Key("proposedBy").String(c.pending_by);
    w.Key("approvalLevel").String(c.approval_level ? Name(*c.approval_level) : "");
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("secondaryOf");
  c.secondary_of ? w.UInt(c.secondary_of) : w.Null();
  WriteTime(w, "openedAt", c.opened_at_ms);
  WriteTime(w, "updatedAt", c.updated_at_ms);
  WriteTime(w, "firstResponseAt", c.first_response_at_ms);
  WriteTime(w, "resolvedAt", c.resolved_at_ms);
  WriteTime(w, "closedAt", c.closed_at_ms);
  w.Key("reopenCount").Int(c.reopen_count);
  w.Key("escalationLevel");
  c.escalation_level ? w.String(Name(*c.escalation_level)) : w.Null();
  w.Key("version").Int(c.version);
  w.Key("sla").BeginObject();
  w.Key("calendar").String(c.sla.calendar.empty() ? "24x7" : c.sla.calendar);
  w.Key("firstResponseTargetMinutes").Double(static_cast<double>(c.sla.first_response_target_ms) / kMinute);
  w.Key("resolutionTargetMinutes").Double(static_cast<double>(c.sla.resolution_target_ms) / kMinute);
  WriteTime(w, "firstResponseDue", c.sla.first_response_due_ms);
  w.Key("firstResponseBreached").Bool(c.sla.first_response_breached);
  WriteTime(w, "resolutionDue", c.sla.resolution_due_ms);
  w.Key("resolutionPaused").Bool(c.status == CaseStatus::kWaitingOnCustomer);
  w.Key("resolutionRemainingMs").Int(c.sla.resolution_remaining_ms);
  w.Key("resolutionBreached").Bool(c.sla.resolution_breached);
  WriteTime(w, "breachedAt", c.sla.breached_at_ms);
  WriteTime(w, "nextEscalationAt", c.sla.next_escalation_ms);
  w.EndObject();
  w.Key("messageId");
  c.message_id.empty() ? w.Null() : w.String(c.message_id);
  w.EndObject();
}

void WriteComment(JsonWriter& w, const CaseComment& c) {
  w.BeginObject().Key("id").UInt(c.id);
  WriteTime(w, "at", c.at_ms);
  w.Key("author").String(c.author).Key("body").String(c.body).Key("public").Bool(c.is_public).EndObject();
}

void WriteAgent(JsonWriter& w, const Agent& a) {
  w.BeginObject().Key("id").String(a.id).Key("name").String(a.name).Key("team").String(a.team);
  w.Key("level").String(Name(a.level)).Key("skills").BeginArray();
  for (const auto& s : a.skills) w.String(s);
  w.EndArray().Key("active").Bool(a.active).EndObject();
}

void WritePareto(JsonWriter& w, std::string_view key, const std::vector<ParetoRow>& rows) {
  w.Key(key).BeginArray();
  for (const auto& r : rows)
    w.BeginObject().Key("key").String(r.key).Key("count").Int(r.count).Key("share").Double(r.share)
        .Key("cumulative").Double(r.cumulative).EndObject();
  w.EndArray();
}

void WriteAttainment(JsonWriter& w, std::string_view key, const std::vector<SlaAttainment>& rows) {
  w.Key(key).BeginArray();
  for (const auto& r : rows) {
    w.BeginObject().Key("key").String(r.key).Key("cases").Int(r.cases);
    w.Key("firstResponseMet").Int(r.first_response_met).Key("firstResponseTotal").Int(r.first_response_total);
    w.Key("resolutionMet").Int(r.resolution_met).Key("resolutionTotal").Int(r.resolution_total);
    w.Key("attainment").Double(r.attainment).EndObject();
  }
  w.EndArray();
}

}  // namespace

Result<int64_t> ParseTimeParam(std::string_view field, std::string_view text) {
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc() && p == text.data() + text.size()) return ms;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, frac = 0;
  char tail[8] = {0};
  const std::string t(text);
  int n = std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%7s", &y, &mo, &d, &h, &mi, &s, &frac, tail);
  bool ok = false;
  if (t.size() == 10 && std::sscanf(t.c_str(), "%4d-%2d-%2d", &y, &mo, &d) == 3) ok = true;
  else if (n == 8 && std::string_view(tail) == "Z") ok = true;
  else if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%7s", &y, &mo, &d, &h, &mi, &s, tail) == 7 &&
           std::string_view(tail) == "Z") {
    frac = 0;
    ok = true;
  }
  using namespace std::chrono;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ok || !ymd.ok() || h > 23 || mi > 59 || s > 60)
    return Bad(field, fmt::format("'{}' is not a time (ms since epoch, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", text));
  return duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count() + ((h * 60 + mi) * 60 + s) * 1000LL + frac;
}

Result<uint64_t> ParseCaseId(std::string_view text) {
  uint64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || p != text.data() + text.size() || id == 0) return Bad("id", fmt::format("'{}' is not a case id", text));
  return id;
}

Result<NewCase> ParseNewCase(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"customer", "channel", "category", "severity", "tier", "description", "origin", "actor"}));
  NewCase c;
  ASSIGN_OR_RETURN(c.customer, Str(o, "customer"));
  if (c.customer.empty()) return Bad("customer", "required");
  ASSIGN_OR_RETURN(c.channel, Str(o, "channel"));
  ASSIGN_OR_RETURN(c.category, Str(o, "category"));
  ASSIGN_OR_RETURN(c.description, Str(o, "description"));
  ASSIGN_OR_RETURN(auto sev, OptEnum<Severity>(o, "severity", ParseSeverity, kSeverities));
  if (sev) c.severity = *sev;
  ASSIGN_OR_RETURN(c.tier, OptEnum<ValueTier>(o, "tier", ParseTier, kTiers));
  ASSIGN_OR_RETURN(c.origin, Str(o, "origin", "api"));
  if (c.origin != "api" && c.origin != "journey") return Bad("origin", "must be api or journey");
  ASSIGN_OR_RETURN(c.actor, Str(o, "actor", "api"));
  return c;
}

Result<CaseUpdate> ParseCaseUpdate(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"category", "description", "rootCause", "channel", "severity", "tier", "actor", "version"}));
  CaseUpdate u;
  ASSIGN_OR_RETURN(u.category, OptString(o, "category"));
  ASSIGN_OR_RETURN(u.description, OptString(o, "description"));
  ASSIGN_OR_RETURN(u.root_cause, OptString(o, "rootCause"));
  ASSIGN_OR_RETURN(u.channel, OptString(o, "channel"));
  ASSIGN_OR_RETURN(u.severity, OptEnum<Severity>(o, "severity", ParseSeverity, kSeverities));
  ASSIGN_OR_RETURN(u.tier, OptEnum<ValueTier>(o, "tier", ParseTier, kTiers));
  ASSIGN_OR_RETURN(u.actor, Str(o, "actor", "api"));
  ASSIGN_OR_RETURN(u.expected_version, Int(o, "version", 0, 1, INT64_MAX / 2));
  return u;
}

Result<TransitionRequest> ParseTransition(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"to", "actor", "resolution", "note", "version"}));
  TransitionRequest r;
  ASSIGN_OR_RETURN(auto to, OptEnum<CaseStatus>(o, "to", ParseStatus, kStatuses));
  if (!to) return Bad("to", "required");
  r.to = *to;
  ASSIGN_OR_RETURN(r.actor, Str(o, "actor", "api"));
  ASSIGN_OR_RETURN(r.note, Str(o, "note"));
  ASSIGN_OR_RETURN(r.expected_version, Int(o, "version", 0, 1, INT64_MAX / 2));
  if (const json::value* v = Find(o, "resolution")) {
    ASSIGN_OR_RETURN(Resolution res, ParseResolution(*v));
    r.resolution = res;
  }
  return r;
}

Result<CaseComment> ParseCaseComment(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"author", "body", "public"}));
  CaseComment c;
  ASSIGN_OR_RETURN(c.author, Str(o, "author", "api"));
  ASSIGN_OR_RETURN(c.body, Str(o, "body"));
  if (c.body.empty()) return Bad("body", "required");
  ASSIGN_OR_RETURN(c.is_public, Bool(o, "public", true));
  return c;
}

Result<AssignRequest> ParseAssign(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"agent", "actor", "version"}));
  AssignRequest r;
  const json::value* agent = Find(o, "agent");
  if (agent != nullptr && !agent->is_string()) return Bad("agent", "must be a string (or null to unassign)");
  if (agent != nullptr) r.agent = std::string(agent->as_string());
  ASSIGN_OR_RETURN(r.actor, Str(o, "actor", "api"));
  ASSIGN_OR_RETURN(r.version, Int(o, "version", 0, 1, INT64_MAX / 2));
  return r;
}

Result<std::string> ParseApprove(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"approver"}));
  ASSIGN_OR_RETURN(std::string a, Str(o, "approver"));
  if (a.empty()) return Bad("approver", "required");
  return a;
}

Result<Agent> ParseAgent(std::string_view body, const std::string& id) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"name", "team", "level", "skills", "active"}));
  Agent a;
  a.id = id;
  ASSIGN_OR_RETURN(a.name, Str(o, "name"));
  ASSIGN_OR_RETURN(a.team, Str(o, "team"));
  ASSIGN_OR_RETURN(auto level, OptEnum<AgentLevel>(o, "level", ParseLevel, kLevels));
  if (!level) return Bad("level", "required");
  a.level = *level;
  if (const json::value* v = Find(o, "skills")) {
    if (!v->is_array()) return Bad("skills", "must be an array of strings");
    for (const auto& s : v->as_array()) {
      if (!s.is_string()) return Bad("skills", "must be an array of strings");
      a.skills.emplace_back(s.as_string());
    }
  }
  ASSIGN_OR_RETURN(a.active, Bool(o, "active", true));
  return a;
}

Result<double> ParseLimit(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"limit"}));
  const json::value* v = Find(o, "limit");
  if (v == nullptr) return -1.0;  // null: unlimited
  ASSIGN_OR_RETURN(auto d, OptNumber(o, "limit"));
  if (*d < 0) return Bad("limit", "must not be negative (null = unlimited)");
  return *d;
}

Result<SlaPolicy> ParsePolicy(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"severity", "tier", "firstResponseMinutes", "resolutionMinutes", "calendar"}));
  SlaPolicy p;
  ASSIGN_OR_RETURN(auto sev, OptEnum<Severity>(o, "severity", ParseSeverity, kSeverities));
  if (!sev) return Bad("severity", "required");
  p.severity = *sev;
  ASSIGN_OR_RETURN(auto tier, OptEnum<ValueTier>(o, "tier", ParseTier, kTiers));
  p.tier = tier.value_or(ValueTier::kStandard);
  ASSIGN_OR_RETURN(int64_t fr, Int(o, "firstResponseMinutes", -1, 0, 525600));
  ASSIGN_OR_RETURN(int64_t res, Int(o, "resolutionMinutes", -1, 0, 5256000));
  if (fr < 0) return Bad("firstResponseMinutes", "required");
  if (res < 0) return Bad("resolutionMinutes", "required");
  p.first_response_ms = fr * kMinute;
  p.resolution_ms = res * kMinute;
  ASSIGN_OR_RETURN(p.calendar, Str(o, "calendar"));
  if (p.calendar == "24x7") p.calendar.clear();
  return p;
}

Result<CalendarSpec> ParseCalendar(std::string_view body, const std::string& name) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"timezone", "hours", "holidays"}));
  CalendarSpec spec;
  spec.name = name;
  ASSIGN_OR_RETURN(spec.timezone, Str(o, "timezone", "UTC"));
  static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  const json::value* hours = Find(o, "hours");
  if (hours == nullptr || !hours->is_object()) return Bad("hours", "required: {\"mon\": [\"09:00-17:00\"], ...}");
  for (const auto& kv : hours->as_object()) {
    int d = -1;
    for (int i = 0; i < 7; ++i)
      if (kv.key() == kDays[i]) d = i;
    const std::string field = fmt::format("hours.{}", std::string_view(kv.key()));
    if (d < 0) return Bad(field, "unknown day (mon..sun)");
    if (!kv.value().is_array()) return Bad(field, "must be an array of \"HH:MM-HH:MM\"");
    for (const auto& iv : kv.value().as_array()) {
      if (!iv.is_string()) return Bad(field, "must be an array of \"HH:MM-HH:MM\"");
      std::string_view t = iv.as_string();
      size_t dash = t.find('-');
      int a = 0, b = 0;
      if (dash == std::string_view::npos || !ParseHhMm(t.substr(0, dash), &a) || !ParseHhMm(t.substr(dash + 1), &b) || b <= a)
        return Bad(field, fmt::format("'{}' is not an interval HH:MM-HH:MM", t));
      spec.hours[d].emplace_back(a, b);
    }
  }
  if (const json::value* h = Find(o, "holidays")) {
    if (!h->is_array()) return Bad("holidays", "must be an array of \"YYYY-MM-DD\"");
    for (const auto& d : h->as_array()) {
      if (!d.is_string()) return Bad("holidays", "must be an array of \"YYYY-MM-DD\"");
      spec.holidays.emplace_back(d.as_string());
    }
  }
  return spec;
}

Result<std::vector<EscalationStep>> ParseEscalation(std::string_view body) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"steps"}));
  const json::value* steps = Find(o, "steps");
  if (steps == nullptr || !steps->is_array()) return Bad("steps", "required: [{\"afterMinutes\", \"level\", \"action\"}]");
  std::vector<EscalationStep> out;
  for (size_t i = 0; i < steps->as_array().size(); ++i) {
    const json::value& v = steps->as_array()[i];
    const std::string field = fmt::format("steps[{}]", i);
    if (!v.is_object()) return Bad(field, "must be an object");
    const json::object& s = v.as_object();
    for (const auto& kv : s)
      if (kv.key() != "afterMinutes" && kv.key() != "level" && kv.key() != "action")
        return Bad(fmt::format("{}.{}", field, std::string_view(kv.key())), "unknown field");
    EscalationStep step;
    auto after = Int(s, "afterMinutes", 0, 0, 5256000);
    if (!after.ok()) return after.status().WithContext(field);
    step.after_ms = *after * kMinute;
    auto level = OptEnum<AgentLevel>(s, "level", ParseLevel, kLevels);
    if (!level.ok()) return level.status().WithContext(field);
    if (!*level) return Bad(field + ".level", "required");
    step.level = **level;
    auto action = Str(s, "action", "notify");
    if (!action.ok()) return action.status().WithContext(field);
    if (*action != "notify" && *action != "reassign") return Bad(field + ".action", "must be notify or reassign");
    step.reassign = *action == "reassign";
    out.push_back(step);
  }
  return out;
}

Result<CaseFilter> ParseCaseFilter(std::string_view query) {
  ASSIGN_OR_RETURN(auto params, ParseQuery(query));
  CaseFilter f;
  for (const auto& [k, v] : params) {
    if (k == "status") {
      auto s = ParseStatus(v);
      if (!s) return Bad("status", fmt::format("'{}' is not one of {}", v, kStatuses));
      f.status = *s;
    } else if (k == "assignee") {
      f.assignee = v;
    } else if (k == "breached") {
      if (v != "true" && v != "false") return Bad("breached", "must be true or false");
      f.breached = v == "true";
    } else if (k == "category") {
      f.category = v;
    } else if (k == "customer") {
      f.customer = v;
    } else if (k == "limit") {
      size_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > 1000) return Bad("limit", "must be 1..1000");
      f.limit = n;
    } else if (k == "before") {
      ASSIGN_OR_RETURN(f.before_id, ParseCaseId(v));
    } else {
      return Bad(k, "unknown parameter");
    }
  }
  return f;
}

std::string CaseToJson(const Case& c) {
  JsonWriter w;
  WriteCase(w, c);
  return w.str();
}

std::string CaseDetailToJson(const CaseDetail& d) {
  JsonWriter w;
  w.BeginObject().Key("case");
  WriteCase(w, d.c);
  w.Key("comments").BeginArray();
  for (const auto& c : d.comments) WriteComment(w, c);
  w.EndArray().Key("audit").BeginArray();
  for (const auto& a : d.audit) {
    w.BeginObject();
    WriteTime(w, "at", a.at_ms);
    w.Key("actor").String(a.actor).Key("action").String(a.action).Key("field").String(a.field);
    w.Key("from").String(a.from).Key("to").String(a.to).EndObject();
  }
  w.EndArray().Key("escalations").BeginArray();
  for (const auto& e : d.escalations) {
    w.BeginObject();
    WriteTime(w, "at", e.at_ms);
    w.Key("level").String(Name(e.level)).Key("action").String(e.action).Key("reason").String(e.reason);
    w.Key("toAgent");
    e.to_agent.empty() ? w.Null() : w.String(e.to_agent);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string CaseListToJson(const CaseList& list) {
  JsonWriter w;
  w.BeginObject().Key("cases").BeginArray();
  for (const auto& c : list.cases) WriteCase(w, c);
  w.EndArray().Key("nextBefore");
  list.next_before ? w.UInt(list.next_before) : w.Null();
  w.EndObject();
  return w.str();
}

std::string CommentToJson(const CaseComment& c) {
  JsonWriter w;
  WriteComment(w, c);
  return w.str();
}

std::string AgentToJson(const Agent& a) {
  JsonWriter w;
  WriteAgent(w, a);
  return w.str();
}

std::string AgentsToJson(const std::vector<Agent>& agents) {
  JsonWriter w;
  w.BeginObject().Key("agents").BeginArray();
  for (const auto& a : agents) WriteAgent(w, a);
  w.EndArray().EndObject();
  return w.str();
}

std::string LimitsToJson(const std::vector<std::pair<AgentLevel, double>>& limits) {
  JsonWriter w;
  w.BeginObject().Key("limits").BeginArray();
  for (const auto& [level, limit] : limits) {
    w.BeginObject().Key("level").String(Name(level)).Key("limit");
    limit < 0 ? w.Null() : w.Double(limit);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string PoliciesToJson(const std::vector<SlaPolicy>& policies) {
  JsonWriter w;
  w.BeginObject().Key("policies").BeginArray();
  for (const auto& p : policies) {
    w.BeginObject().Key("severity").String(Name(p.severity)).Key("tier").String(Name(p.tier));
    w.Key("firstResponseMinutes").Double(static_cast<double>(p.first_response_ms) / kMinute);
    w.Key("resolutionMinutes").Double(static_cast<double>(p.resolution_ms) / kMinute);
    w.Key("calendar").String(p.calendar.empty() ? "24x7" : p.calendar).EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string CalendarsToJson(const std::vector<CalendarSpec>& calendars) {
  static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  JsonWriter w;
  w.BeginObject().Key("calendars").BeginArray();
  for (const auto& c : calendars) {
    w.BeginObject().Key("name").String(c.name).Key("timezone").String(c.timezone).Key("hours").BeginObject();
    for (int d = 0; d < 7; ++d) {
      w.Key(kDays[d]).BeginArray();
      for (auto [a, b] : c.hours[d]) w.String(fmt::format("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60));
      w.EndArray();
    }
    w.EndObject().Key("holidays").BeginArray();
    for (const auto& h : c.holidays) w.String(h);
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string EscalationToJson(const std::vector<EscalationStep>& steps) {
  JsonWriter w;
  w.BeginObject().Key("steps").BeginArray();
  for (const auto& s : steps) {
    w.BeginObject().Key("afterMinutes").Double(static_cast<double>(s.after_ms) / kMinute);
    w.Key("level").String(Name(s.level)).Key("action").String(s.reassign ? "reassign" : "notify").EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string AnalysisToJson(const ComplaintAnalysis& a) {
  JsonWriter w;
  w.BeginObject().Key("cases").Int(a.cases).Key("open").Int(a.open).Key("resolved").Int(a.resolved);
  WritePareto(w, "categories", a.categories);
  WritePareto(w, "rootCauses", a.root_causes);
  w.Key("timeToResolution").BeginObject().Key("meanHours").Double(a.mean_resolution_hours);
  w.Key("medianHours").Double(a.median_resolution_hours).EndObject();
  w.Key("secondaryErrors").BeginObject().Key("count").Int(a.secondary).Key("rate").Double(a.secondary_rate).EndObject();
  w.Key("slaAttainment").Double(a.sla_attainment);
  WriteAttainment(w, "byAgent", a.by_agent);
  WriteAttainment(w, "byTeam", a.by_team);
  w.Key("csatAfterResolution").BeginObject().Key("responses").Int(a.csat_responses);
  w.Key("csat").Double(a.csat_after_resolution).EndObject();
  w.Key("recovery").BeginObject();
  w.Key("wellResolvedNps").Double(a.recovery.well_resolved_nps).Key("wellResolvedResponses").Int(a.recovery.well_resolved_responses);
  w.Key("neverComplainedNps").Double(a.recovery.never_complained_nps);
  w.Key("neverComplainedResponses").Int(a.recovery.never_complained_responses);
  w.Key("poorlyResolvedNps").Double(a.recovery.poorly_resolved_nps);
  w.Key("poorlyResolvedResponses").Int(a.recovery.poorly_resolved_responses);
  w.EndObject().EndObject();
  return w.str();
}

std::string TransitionConflictJson(std::string_view message, CaseStatus current) {
  JsonWriter w;
  w.BeginObject().Key("error").String(message).Key("status").String(Name(current)).Key("allowed").BeginArray();
  for (CaseStatus s : AllowedTransitions(current)) w.String(Name(s));
  w.EndArray().EndObject();
  return w.str();
}

}  // namespace cairn::api
