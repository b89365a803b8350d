#include "api/dto/insights_dto.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <initializer_list>

#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"
#include "api/dto/segment_dto.h"
#include "api/dto/who_dto.h"

namespace cairn::api {
namespace json = boost::json;
using analytics::Period;

namespace {

Status Bad(std::string_view field, std::string_view what) {
  return InvalidArgument(std::string(field) + ": " + std::string(what));
}

Result<json::object> ParseObject(std::string_view text, std::initializer_list<std::string_view> allowed) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return InvalidArgument("body: not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return InvalidArgument("body: must be a JSON object");
  for (const auto& kv : v.as_object()) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || kv.key() == a;
    if (!ok) return Bad(kv.key(), "unknown field");
  }
  return std::move(v.as_object());
}

Result<std::string> GetString(const json::object& o, std::string_view key, std::string def,
                              std::string_view name = {}) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return def;
  if (!it->value().is_string()) return Bad(name.empty() ? key : name, "must be a string");
  return std::string(it->value().as_string());
}

// `name` names the field in errors when it is not `key` itself (a key of a nested object).
Result<int64_t> GetInt(const json::object& o, std::string_view key, int64_t def, int64_t lo, int64_t hi,
                       std::string_view name = {}) {
  if (name.empty()) name = key;
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return def;
  const json::value& v = it->value();
  int64_t n;
  if (v.is_int64()) n = v.as_int64();
  else if (v.is_uint64() && v.as_uint64() <= INT64_MAX) n = static_cast<int64_t>(v.as_uint64());
  else if (v.is_double() && std::trunc(v.as_double()) == v.as_double() && std::fabs(v.as_double()) < 9e15)
    n = static_cast<int64_t>(v.as_double());
  else return Bad(name, "must be an integer");
  if (n < lo || n > hi) return Bad(name, "must be " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

Result<bool> GetBool(const json::object& o, std::string_view key, bool def) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return def;
  if (!it->value().is_bool()) return Bad(key, "must be true or false");
  return it->value().as_bool();
}

Result<Period> GetPeriod(const json::object& o, std::string_view key, Period def) {
  ASSIGN_OR_RETURN(std::string s, GetString(o, key, ""));
  if (s.empty()) return def;
  Period p;
  if (!analytics::ParsePeriod(s, &p)) return Bad(key, "must be hour, day, week or month");
  return p;
}

// "from"/"to": string forms or ms.
Result<int64_t> GetTime(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return int64_t{0};
  if (it->value().is_string()) return ParseQueryTime(key, std::string(it->value().as_string()));
  return GetInt(o, key, 0, 1, INT64_MAX / 4);
}

Status GetRange(const json::object& o, int64_t* from, int64_t* to) {
  ASSIGN_OR_RETURN(*from, GetTime(o, "from"));
  ASSIGN_OR_RETURN(*to, GetTime(o, "to"));
  if ((*from == 0) != (*to == 0)) return Bad(*from == 0 ? "from" : "to", "give both from and to, or neither");
  if (*from != 0 && *to <= *from) return Bad("to", "must be after from");
  return Status::Ok();
}

// "segment": api/dto/segment_dto.h.
Result<analytics::Segment> GetSegment(const json::object& o) {
  auto it = o.find("segment");
  if (it == o.end()) return analytics::Segment{};
  return DecodeSegment(it->value());
}

// "who": an object with exactly `allowed` keys (plus the paging keys "limit" and "after"), or
// nullptr when absent / null.
Result<const json::object*> GetWho(const json::object& o, std::initializer_list<std::string_view> allowed,
                                   const char* shape) {
  auto it = o.find("who");
  if (it == o.end() || it->value().is_null()) return static_cast<const json::object*>(nullptr);
  if (!it->value().is_object()) return Bad("who", std::string("expected ") + shape);
  const json::object& w = it->value().as_object();
  for (const auto& kv : w) {
    bool ok = kv.key() == "limit" || kv.key() == "after";
    for (std::string_view a : allowed) ok = ok || kv.key() == a;
    if (!ok) return Bad("who." + std::string(kv.key()), "unknown field");
  }
  return &w;
}

// A paths node id as the answer names it, "<step>:<event>" (the event may hold ':').
Status ParseNodeId(const json::object& w, std::string_view key, uint32_t* step, std::string* event) {
  const std::string field = "who." + std::string(key);
  const json::value* v = w.if_contains(key);
  if (!v || v->is_null()) return Bad(field, "required");
  if (!v->is_string()) return Bad(field, "must be a node id like \"2:Product Viewed\"");
  std::string_view id = v->as_string();
  const size_t colon = id.find(':');
  unsigned n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + (colon == std::string_view::npos ? 0 : colon), n);
  if (colon == std::string_view::npos || colon == 0 || ec != std::errc() || end != id.data() + colon ||
      colon + 1 == id.size() || n > 5)
    return Bad(field, "must be a node id like \"2:Product Viewed\" (step 0..5, then the event)");
  *step = n;
  *event = std::string(id.substr(colon + 1));
  return Status::Ok();
}

void Warnings(JsonWriter& w, const std::vector<std::string>& warnings) {
  w.Key("warnings").BeginArray();
  for (const auto& s : warnings) w.String(s);
  w.EndArray();
}

void Number(JsonWriter& w, double v) {
  if (v == std::trunc(v) && std::fabs(v) < 9e15) w.Int(static_cast<int64_t>(v));
  else w.Double(v);
}

void Series(JsonWriter& w, const analytics::TrendsPeriod& p) {
  w.Key("buckets").BeginArray();
  for (const auto& l : p.labels) w.String(l);
  w.EndArray();
  w.Key("series").BeginArray();
  for (const auto& s : p.series) {
    w.BeginObject().Key("label").String(s.label).Key("values").BeginArray();
    for (double v : s.values) Number(w, v);
    w.EndArray().Key("total");
    Number(w, s.total);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

Result<int64_t> ParseQueryTime(std::string_view field, const std::string& t) {
  int y, mo, d, h = 0, mi = 0, s = 0, ms = 0, n = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && static_cast<size_t>(n) == t.size()) {
  } else if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &n) == 6 &&
             static_cast<size_t>(n) == t.size()) {
  } else if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &s, &ms, &n) == 7 &&
             static_cast<size_t>(n) == t.size()) {
  } else {
    return Bad(field, "must be YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.mmm]Z or ms since the epoch");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || y < 1970)
    return Bad(field, "not a valid date/time");
  return analytics::DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * analytics::kDayMs +
         ((h * 60LL + mi) * 60 + s) * 1000 + ms;
}

Result<int64_t> ParseQueryDuration(std::string_view field, const std::string& t) {
  int64_t n = 0;
  const char* end = t.data() + t.size();
  auto [p, ec] = std::from_chars(t.data(), end, n);
  if (ec != std::errc() || n < 0 || n > 100'000'000'000LL) return Bad(field, "must be like 30m, 12h, 7d or ms");
  const std::string_view unit(p, static_cast<size_t>(end - p));
  int64_t mult;
  if (unit.empty() || unit == "ms") mult = 1;
  else if (unit == "s") mult = 1000;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = analytics::kDayMs;
  else if (unit == "w") mult = 7 * analytics::kDayMs;
  else return Bad(field, "unit must be ms, s, m, h, d or w");
  return n * mult;
}

Result<analytics::TrendsSpec> ParseTrendsSpec(std::string_view text) {
  ASSIGN_OR_RETURN(json::object o, ParseObject(text, {"event", "measure", "property", "interval", "from", "to",
                                                      "breakdown", "top_n", "compare", "segment"}));
  analytics::TrendsSpec s;
  ASSIGN_OR_RETURN(s.event, GetString(o, "event", ""));
  ASSIGN_OR_RETURN(std::string m, GetString(o, "measure", "count"));
  if (m == "count") s.measure = analytics::TrendsSpec::Measure::kCount;
  else if (m == "uniques") s.measure = analytics::TrendsSpec::Measure::kUniques;
  else if (m == "sum") s.measure = analytics::TrendsSpec::Measure::kSum;
  else if (m == "avg") s.measure = analytics::TrendsSpec::Measure::kAvg;
  else return Bad("measure", "must be count, uniques, sum or avg");
  ASSIGN_OR_RETURN(s.property, GetString(o, "property", "revenue"));
  ASSIGN_OR_RETURN(s.interval, GetPeriod(o, "interval", Period::kDay));
  RETURN_IF_ERROR(GetRange(o, &s.from_ms, &s.to_ms));
  ASSIGN_OR_RETURN(s.segment, GetSegment(o));
  ASSIGN_OR_RETURN(std::string b, GetString(o, "breakdown", "none"));
  if (b == "none") s.breakdown = analytics::TrendsSpec::Breakdown::kNone;
  else if (b == "channel") s.breakdown = analytics::TrendsSpec::Breakdown::kChannel;
  else if (b == "event") s.breakdown = analytics::TrendsSpec::Breakdown::kEvent;
  else return Bad("breakdown", "must be none, channel or event");
  ASSIGN_OR_RETURN(int64_t top, GetInt(o, "top_n", 10, 1, 100));
  s.top_n = static_cast<uint32_t>(top);
  ASSIGN_OR_RETURN(s.compare_previous, GetBool(o, "compare", false));
  return s;
}

Result<analytics::LifecycleSpec> ParseLifecycleSpec(std::string_view text) {
  ASSIGN_OR_RETURN(json::object o, ParseObject(text, {"event", "period", "from", "to", "segment", "who"}));
  analytics::LifecycleSpec s;
  ASSIGN_OR_RETURN(s.event, GetString(o, "event", ""));
  ASSIGN_OR_RETURN(s.period, GetPeriod(o, "period", Period::kWeek));
  RETURN_IF_ERROR(GetRange(o, &s.from_ms, &s.to_ms));
  ASSIGN_OR_RETURN(s.segment, GetSegment(o));
  ASSIGN_OR_RETURN(const json::object* w,
                   GetWho(o, {"period", "status"}, "{\"period\": \"2026-01-05\", \"status\": \"new\"}"));
  if (w) {
    analytics::LifecycleWho who;
    ASSIGN_OR_RETURN(std::string status, GetString(*w, "status", "", "who.status"));
    if (status == "new") who.status = analytics::LifecycleStatus::kNew;
    else if (status == "returning") who.status = analytics::LifecycleStatus::kReturning;
    else if (status == "resurrecting") who.status = analytics::LifecycleStatus::kResurrecting;
    else if (status == "dormant") who.status = analytics::LifecycleStatus::kDormant;
    else return Bad("who.status", "must be new, returning, resurrecting or dormant");
    const json::value* p = w->if_contains("period");
    if (!p || p->is_null()) return Bad("who.period", "required (the period's start, as rows[].start gives it)");
    if (p->is_string()) {
      ASSIGN_OR_RETURN(who.period_ms, ParseQueryTime("who.period", std::string(p->as_string())));
    } else {
      ASSIGN_OR_RETURN(who.period_ms, GetInt(*w, "period", 0, 0, INT64_MAX / 4, "who.period"));
    }
    ASSIGN_OR_RETURN(who.page, DecodeWhoPage(*w, "who"));
    s.who = who;
  }
  return s;
}

Result<analytics::StickinessSpec> ParseStickinessSpec(std::string_view text) {
  ASSIGN_OR_RETURN(json::object o, ParseObject(text, {"event", "interval", "from", "to", "segment", "who"}));
  analytics::StickinessSpec s;
  ASSIGN_OR_RETURN(s.event, GetString(o, "event", ""));
  ASSIGN_OR_RETURN(s.interval, GetPeriod(o, "interval", Period::kDay));
  RETURN_IF_ERROR(GetRange(o, &s.from_ms, &s.to_ms));
  ASSIGN_OR_RETURN(s.segment, GetSegment(o));
  ASSIGN_OR_RETURN(const json::object* w, GetWho(o, {"periods"}, "{\"periods\": n}"));
  if (w) {
    analytics::StickinessWho who;
    if (!w->contains("periods")) return Bad("who.periods", "required (customers active on exactly this many periods)");
    ASSIGN_OR_RETURN(int64_t k, GetInt(*w, "periods", 1, 1, 50'000, "who.periods"));
    who.periods = static_cast<uint32_t>(k);
    ASSIGN_OR_RETURN(who.page, DecodeWhoPage(*w, "who"));
    s.who = who;
  }
  return s;
}

Result<analytics::PathsSpec> ParsePathsSpec(std::string_view text) {
  ASSIGN_OR_RETURN(json::object o, ParseObject(text, {"anchor", "direction", "depth", "from", "to", "window", "exclude",
                                                      "collapse_repeats", "max_nodes_per_step", "segment", "who"}));
  analytics::PathsSpec s;
  ASSIGN_OR_RETURN(s.anchor, GetString(o, "anchor", ""));
  ASSIGN_OR_RETURN(std::string dir, GetString(o, "direction", "next"));
  if (dir == "next") s.direction = analytics::PathsSpec::Direction::kNext;
  else if (dir == "previous") s.direction = analytics::PathsSpec::Direction::kPrevious;
  else return Bad("direction", "must be next or previous");
  ASSIGN_OR_RETURN(int64_t depth, GetInt(o, "depth", 3, 1, 5));
  s.depth = static_cast<uint32_t>(depth);
  RETURN_IF_ERROR(GetRange(o, &s.from_ms, &s.to_ms));
  ASSIGN_OR_RETURN(s.segment, GetSegment(o));
  if (auto it = o.find("window"); it != o.end() && !it->value().is_null()) {
    if (it->value().is_string()) {
      ASSIGN_OR_RETURN(s.window_ms, ParseQueryDuration("window", std::string(it->value().as_string())));
    } else {
      ASSIGN_OR_RETURN(s.window_ms, GetInt(o, "window", 0, 0, INT64_MAX / 4));
    }
  }
  if (auto it = o.find("exclude"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return Bad("exclude", "must be an array of event names");
    for (const auto& e : it->value().as_array()) {
      if (!e.is_string()) return Bad("exclude", "must be an array of event names");
      s.exclude.emplace_back(e.as_string());
    }
  }
  ASSIGN_OR_RETURN(s.collapse_repeats, GetBool(o, "collapse_repeats", false));
  ASSIGN_OR_RETURN(int64_t maxn, GetInt(o, "max_nodes_per_step", 10, 1, 50));
  s.max_nodes_per_step = static_cast<uint32_t>(maxn);
  ASSIGN_OR_RETURN(const json::object* w,
                   GetWho(o, {"node", "status", "source", "target"},
                          "{\"node\": \"1:Product Viewed\"} or {\"source\": \"0:Signed Up\", \"target\": \"1:Product Viewed\"}"));
  if (w) {
    analytics::PathsWho who;
    const bool node = w->contains("node"), link = w->contains("source") || w->contains("target");
    if (node == link) return Bad("who", "give either node (with status) or source and target");
    if (node) {
      RETURN_IF_ERROR(ParseNodeId(*w, "node", &who.step, &who.event));
      ASSIGN_OR_RETURN(std::string status, GetString(*w, "status", "reached", "who.status"));
      if (status == "reached") who.kind = analytics::PathsWho::Kind::kNode;
      else if (status == "dropped") who.kind = analytics::PathsWho::Kind::kDropped;
      else return Bad("who.status", "must be reached or dropped");
    } else {
      if (w->contains("status")) return Bad("who.status", "only with node (a link is taken, not dropped)");
      who.kind = analytics::PathsWho::Kind::kLink;
      RETURN_IF_ERROR(ParseNodeId(*w, "source", &who.step, &who.event));
      uint32_t target_step = 0;
      RETURN_IF_ERROR(ParseNodeId(*w, "target", &target_step, &who.target));
      if (target_step != who.step + 1) return Bad("who.target", "must be a node of the step after the source's");
    }
    ASSIGN_OR_RETURN(who.page, DecodeWhoPage(*w, "who"));
    s.who = std::move(who);
  }
  return s;
}

std::string TrendsToJson(const analytics::TrendsResult& r) {
  JsonWriter w;
  w.BeginObject().Key("interval").String(analytics::PeriodName(r.interval));
  w.Key("from").String(FormatIsoMillis(r.from_ms)).Key("to").String(FormatIsoMillis(r.to_ms));
  Series(w, r.current);
  if (r.has_previous) {
    w.Key("previous").BeginObject();
    Series(w, r.previous);
    w.EndObject();
  }
  Warnings(w, r.warnings);
  w.EndObject();
  return w.Take();
}

std::string LifecycleToJson(const analytics::LifecycleResult& r) {
  JsonWriter w;
  w.BeginObject().Key("period").String(analytics::PeriodName(r.period)).Key("rows").BeginArray();
  for (const auto& row : r.rows)
    w.BeginObject()
        .Key("start").String(row.start)
        .Key("new").UInt(row.new_customers)
        .Key("returning").UInt(row.returning)
        .Key("resurrecting").UInt(row.resurrecting)
        .Key("dormant").UInt(row.dormant)
        .EndObject();
  w.EndArray();
  if (r.who) {
    w.Key("who").BeginObject().Key("period").String(r.who_period);
    WriteWhoList(*r.who, &w);
    w.EndObject();
  }
  Warnings(w, r.warnings);
  w.EndObject();
  return w.Take();
}

std::string StickinessToJson(const analytics::StickinessResult& r) {
  JsonWriter w;
  w.BeginObject().Key("interval").String(analytics::PeriodName(r.interval));
  w.Key("periods").UInt(r.periods).Key("customers").UInt(r.customers).Key("average");
  Number(w, std::round(r.average * 1000) / 1000);
  w.Key("counts").BeginArray();
  for (uint64_t c : r.counts) w.UInt(c);
  w.EndArray();
  if (r.who) {
    w.Key("who").BeginObject();
    WriteWhoList(*r.who, &w);
    w.EndObject();
  }
  Warnings(w, r.warnings);
  w.EndObject();
  return w.Take();
}

std::string PathsToJson(const analytics::PathsResult& r) {
  JsonWriter w;
  w.BeginObject().Key("customers").UInt(r.customers).Key("nodes").BeginArray();
  for (const auto& n : r.nodes)
    w.BeginObject()
        .Key("id").String(n.id)
        .Key("step").UInt(n.step)
        .Key("event").String(n.event)
        .Key("count").UInt(n.count)
        .Key("dropoff").UInt(n.dropoff)
        .EndObject();
  w.EndArray().Key("links").BeginArray();
  for (const auto& l : r.links)
    w.BeginObject().Key("source").String(l.source).Key("target").String(l.target).Key("count").UInt(l.count).EndObject();
  w.EndArray();
  if (r.who) {
    w.Key("who").BeginObject();
    WriteWhoList(*r.who, &w);
    w.EndObject();
  }
  Warnings(w, r.warnings);
  w.EndObject();
  return w.Take();
}

}  // namespace cairn::api
