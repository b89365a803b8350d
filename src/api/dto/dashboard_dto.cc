#include "api/dto/dashboard_dto.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "api/dto/json_writer.h"

namespace cairn::api {
namespace json = boost::json;
using dashboard::DayString;

namespace {

Status Bad(std::string_view field, std::string_view what) { return InvalidArgument(fmt::format("{}: {}", field, what)); }

Result<json::object> ParseObject(std::string_view text, std::initializer_list<std::string_view> allowed) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Bad("body", fmt::format("not valid JSON ({})", ec.message()));
  if (!v.is_object()) return Bad("body", "must be a JSON object");
  for (const auto& kv : v.as_object()) {
    bool ok = false;
    for (auto a : allowed) ok = ok || kv.key() == a;
    if (!ok && kv.key() != "id" && kv.key() != "created_ms" && kv.key() != "updated_ms") return Bad(kv.key(), "unknown field");
  }
  return std::move(v.as_object());
}

// Each setter: absent → keep *out (error if `required`); present → checked and stored.
Status GetString(const json::object& o, std::string_view key, bool required, std::string* out) {
  auto it = o.find(key);
  if (it == o.end()) return required ? Bad(key, "required") : Status::Ok();
  if (!it->value().is_string()) return Bad(key, "must be a string");
  *out = std::string(it->value().as_string());
  return Status::Ok();
}

Status GetNumber(const json::object& o, std::string_view key, bool required, double* out) {
  auto it = o.find(key);
  if (it == o.end()) return required ? Bad(key, "required") : Status::Ok();
  const json::value& v = it->value();
  if (v.is_double()) *out = v.as_double();
  else if (v.is_int64()) *out = static_cast<double>(v.as_int64());
  else if (v.is_uint64()) *out = static_cast<double>(v.as_uint64());
  else return Bad(key, "must be a number");
  if (!std::isfinite(*out)) return Bad(key, "must be finite");
  return Status::Ok();
}

Status GetDay(const json::object& o, std::string_view key, bool required, int64_t* out) {
  auto it = o.find(key);
  if (it == o.end()) return required ? Bad(key, "required") : Status::Ok();
  if (!it->value().is_string()) return Bad(key, "must be a date string YYYY-MM-DD");
  auto d = dashboard::ParseDay(std::string_view(it->value().as_string()));
  if (!d) return Bad(key, fmt::format("'{}' is not a date YYYY-MM-DD", std::string_view(it->value().as_string())));
  *out = *d;
  return Status::Ok();
}

void Stamps(JsonWriter& w, int64_t created, int64_t updated) {
  w.Key("created_ms").Int(created).Key("updated_ms").Int(updated);
}

void WriteGoal(JsonWriter& w, const dashboard::Goal& g) {
  w.BeginObject().Key("id").Int(g.id).Key("name").String(g.name).Key("metric").String(g.metric);
  w.Key("target").Double(g.target).Key("start").String(DayString(g.start_day));
  w.Key("deadline").String(DayString(g.deadline_day));
  Stamps(w, g.created_ms, g.updated_ms);
  w.EndObject();
}
void WriteBudget(JsonWriter& w, const dashboard::Budget& b) {
  w.BeginObject().Key("id").Int(b.id).Key("name").String(b.name).Key("amount").Double(b.amount);
  w.Key("start").String(DayString(b.start_day)).Key("end").String(DayString(b.end_day));
  Stamps(w, b.created_ms, b.updated_ms);
  w.EndObject();
}
void WriteActivity(JsonWriter& w, const dashboard::Activity& a) {
  w.BeginObject().Key("id").Int(a.id).Key("name").String(a.name).Key("channel").String(a.channel);
  w.Key("budget_id");
  if (a.budget_id) w.Int(a.budget_id); else w.Null();
  w.Key("cost").Double(a.cost).Key("date").String(DayString(a.day)).Key("status").String(a.status);
  Stamps(w, a.created_ms, a.updated_ms);
  w.EndObject();
}
void OptDay(JsonWriter& w, std::string_view key, const std::optional<int64_t>& d) {
  w.Key(key);
  if (d) w.String(DayString(*d)); else w.Null();
}
void OptNum(JsonWriter& w, std::string_view key, const std::optional<double>& d) {
  w.Key(key);
  if (d) w.Double(*d); else w.Null();
}

}  // namespace

Result<int64_t> ParseDashboardId(std::string_view what, std::string_view text) {
  int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || p != text.data() + text.size() || id <= 0) return Bad("id", fmt::format("'{}' is not a {} id", text, what));
  return id;
}

Result<dashboard::Goal> ParseGoal(std::string_view body, dashboard::Goal g, bool create, int64_t today) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"name", "metric", "target", "start", "deadline"}));
  if (create) g.start_day = today;
  RETURN_IF_ERROR(GetString(o, "name", create, &g.name));
  RETURN_IF_ERROR(GetString(o, "metric", create, &g.metric));
  RETURN_IF_ERROR(GetNumber(o, "target", create, &g.target));
  RETURN_IF_ERROR(GetDay(o, "start", false, &g.start_day));
  RETURN_IF_ERROR(GetDay(o, "deadline", create, &g.deadline_day));
  return g;
}

Result<dashboard::Budget> ParseBudget(std::string_view body, dashboard::Budget b, bool create, int64_t today) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"name", "amount", "start", "end"}));
  if (create) b.start_day = today;
  RETURN_IF_ERROR(GetString(o, "name", create, &b.name));
  RETURN_IF_ERROR(GetNumber(o, "amount", create, &b.amount));
  RETURN_IF_ERROR(GetDay(o, "start", false, &b.start_day));
  RETURN_IF_ERROR(GetDay(o, "end", create, &b.end_day));
  return b;
}

Result<dashboard::Activity> ParseActivity(std::string_view body, dashboard::Activity a, bool create, int64_t today) {
  ASSIGN_OR_RETURN(auto o, ParseObject(body, {"name", "channel", "budget_id", "cost", "date", "status"}));
  if (create) a.day = today;
  RETURN_IF_ERROR(GetString(o, "name", create, &a.name));
  RETURN_IF_ERROR(GetString(o, "channel", false, &a.channel));
  RETURN_IF_ERROR(GetNumber(o, "cost", false, &a.cost));
  RETURN_IF_ERROR(GetDay(o, "date", false, &a.day));
  RETURN_IF_ERROR(GetString(o, "status", false, &a.status));
  if (auto it = o.find("budget_id"); it != o.end()) {
    if (it->value().is_null()) a.budget_id = 0;
    else if (it->value().is_int64() && it->value().as_int64() > 0) a.budget_id = it->value().as_int64();
    else return Bad("budget_id", "must be a budget id or null");
  }
  return a;
}

std::string GoalToJson(const dashboard::Goal& g) {
  JsonWriter w;
  WriteGoal(w, g);
  return w.Take();
}
std::string GoalsToJson(const std::vector<dashboard::Goal>& goals) {
  JsonWriter w;
  w.BeginObject().Key("goals").BeginArray();
  for (const auto& g : goals) WriteGoal(w, g);
  w.EndArray().EndObject();
  return w.Take();
}
std::string BudgetToJson(const dashboard::Budget& b) {
  JsonWriter w;
  WriteBudget(w, b);
  return w.Take();
}
std::string BudgetsToJson(const std::vector<dashboard::Budget>& budgets) {
  JsonWriter w;
  w.BeginObject().Key("budgets").BeginArray();
  for (const auto& b : budgets) WriteBudget(w, b);
  w.EndArray().EndObject();
  return w.Take();
}
std::string ActivityToJson(const dashboard::Activity& a) {
  JsonWriter w;
  WriteActivity(w, a);
  return w.Take();
}
std::string ActivitiesToJson(const std::vector<dashboard::Activity>& activities) {
  JsonWriter w;
  w.BeginObject().Key("activities").BeginArray();
  for (const auto& a : activities) WriteActivity(w, a);
  w.EndArray().EndObject();
  return w.Take();
}

std::string DashboardToJson(const dashboard::DashboardView& v) {
  JsonWriter w;
  w.BeginObject().Key("today").String(DayString(v.today)).Key("as_of_seq").Int(v.as_of_seq);
  w.Key("filtered").Bool(v.filtered);
  if (v.segment_customers) w.Key("segment_customers").Int(*v.segment_customers);
  if (v.trip) {
    w.Key("trip").BeginObject().Key("from").String(DayString(v.trip->from_day)).Key("to").String(DayString(v.trip->to_day));
    w.Key("totals").BeginObject();
    for (const auto& [metric, total] : v.trip->totals) w.Key(metric).Double(total);
    w.EndObject().EndObject();
  }
  w.Key("goals").BeginArray();
  for (const auto& g : v.goals) {
    w.BeginObject().Key("id").Int(g.goal.id).Key("name").String(g.goal.name).Key("metric").String(g.goal.metric);
    w.Key("target").Double(g.goal.target).Key("start").String(DayString(g.goal.start_day));
    w.Key("deadline").String(DayString(g.goal.deadline_day));
    w.Key("progress").Double(g.progress).Key("fraction").Double(g.fraction);
    OptDay(w, "eta", g.eta_day);
    OptDay(w, "eta_low", g.eta_low_day);
    OptDay(w, "eta_high", g.eta_high_day);
    w.Key("reached").Bool(g.reached).Key("on_track").Bool(g.on_track).Key("p_on_time").Double(g.p_on_time);
    OptDay(w, "eta_week_ago", g.eta_week_ago_day);
    w.Key("speed").BeginObject().Key("rate_recent").Double(g.rate_recent);
    OptNum(w, "rate_needed", g.rate_needed);
    w.EndObject();
    w.Key("method").String(g.method);
    w.Key("error");
    if (g.error.empty()) w.Null(); else w.String(g.error);
    w.EndObject();
  }
  w.EndArray();
  w.Key("fuel").BeginArray();
  for (const auto& b : v.budgets) {
    w.BeginObject().Key("id").Int(b.budget.id).Key("name").String(b.budget.name).Key("amount").Double(b.budget.amount);
    w.Key("spent").Double(b.spent).Key("planned").Double(b.planned).Key("left").Double(b.left);
    w.Key("burn_per_day").Double(b.burn_per_day);
    OptNum(w, "runway_days", b.runway_days);
    w.EndObject();
  }
  w.EndArray();
  w.Key("rev").BeginObject().Key("touches_7d").Double(v.rev.touches_7d).Key("touches_prev_7d").Double(v.rev.touches_prev_7d);
  w.Key("activities_7d").Int(v.rev.activities_7d).EndObject();
  w.Key("ride").BeginObject();
  OptNum(w, "nps_30d", v.ride.nps_30d);
  OptNum(w, "nps_prev_30d", v.ride.nps_prev_30d);
  w.Key("complaints_7d").Int(v.ride.complaints_7d).Key("complaints_weekly_baseline").Double(v.ride.complaints_weekly_baseline);
  w.EndObject();
  w.Key("mirrors").BeginObject().Key("event").String(v.mirrors.event);
  w.Key("from").String(DayString(v.mirrors.from_day)).Key("to").String(DayString(v.mirrors.to_day));
  w.Key("weeks").BeginArray();
  for (size_t i = 0; i < v.mirrors.week_days.size(); ++i)
    w.BeginObject().Key("start").String(DayString(v.mirrors.week_days[i])).Key("mentions").Double(v.mirrors.mentions[i]).EndObject();
  w.EndArray().Key("total").Double(v.mirrors.total).EndObject();
  w.Key("hazards").BeginArray();
  for (const auto& h : v.hazards)
    w.BeginObject().Key("light").String(h.light).Key("on").Bool(h.on).Key("why").String(h.why).Key("link").String(h.link).EndObject();
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace cairn::api
