#include "api/dto/query_dto.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "api/dto/customer_dto.h"
#include "api/dto/json_writer.h"
#include "api/dto/segment_dto.h"
#include "api/dto/who_dto.h"

namespace cairn::api {

namespace json = boost::json;
using namespace analytics;

namespace {

Status Bad(std::string_view field, std::string_view what) {
  return InvalidArgument(fmt::format("{}: {}", field, what));
}

// Checks that `obj` has only `allowed` keys.
Status OnlyKeys(const json::object& obj, std::initializer_list<std::string_view> allowed, std::string_view where) {
  for (const auto& kv : obj) {
    bool ok = false;
    for (auto a : allowed) ok |= kv.key() == a;
    if (!ok) {
      std::string field = where.empty() ? std::string(kv.key()) : fmt::format("{}.{}", where, std::string_view(kv.key()));
      return Bad(field, "unknown field");
    }
  }
  return Status::Ok();
}

Result<std::string> GetString(const json::value& v, std::string_view field) {
  if (!v.is_string()) return Bad(field, "expected a string");
  return std::string(v.as_string());
}
Result<bool> GetBool(const json::value& v, std::string_view field) {
  if (!v.is_bool()) return Bad(field, "expected true or false");
  return v.as_bool();
}
Result<int64_t> GetInt(const json::value& v, std::string_view field) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v.as_uint64());
  if (v.is_double() && std::floor(v.as_double()) == v.as_double() && std::abs(v.as_double()) < 9e15)
    return static_cast<int64_t>(v.as_double());
  return Bad(field, "expected an integer");
}
Result<int64_t> GetDuration(const json::value& v, std::string_view field) {
  if (v.is_string()) return ParseDurationMs(v.as_string(), field);
  if (v.is_number()) {
    const double s = v.to_number<double>();
    if (!(s > 0) || s > 1e12) return Bad(field, "expected a positive duration");
    return static_cast<int64_t>(std::llround(s * 1000));
  }
  return Bad(field, "expected a duration like \"7d\" or a number of seconds");
}
Result<int64_t> GetTime(const json::value& v, std::string_view field) {
  if (v.is_string()) return ParseTimeMs(v.as_string(), field);
  if (v.is_int64() || v.is_uint64()) return GetInt(v, field);
  return Bad(field, "expected a date like \"2026-01-05\", an ISO time or ms since epoch");
}

Result<std::vector<PropertyFilter>> GetFilters(const json::value& v, const std::string& field) {
  if (!v.is_array()) return Bad(field, "expected an array of {\"property\",\"op\",\"value\"}");
  std::vector<PropertyFilter> out;
  size_t i = 0;
  for (const auto& fv : v.as_array()) {
    const std::string f = fmt::format("{}[{}]", field, i++);
    if (!fv.is_object()) return Bad(f, "expected an object {\"property\",\"op\",\"value\"}");
    const auto& o = fv.as_object();
    RETURN_IF_ERROR(OnlyKeys(o, {"property", "op", "value"}, f));
    PropertyFilter pf;
    const auto* p = o.if_contains("property");
    if (!p) return Bad(f + ".property", "required");
    ASSIGN_OR_RETURN(pf.property, GetString(*p, f + ".property"));
    if (pf.property.empty()) return Bad(f + ".property", "required");
    if (const auto* op = o.if_contains("op")) {
      ASSIGN_OR_RETURN(std::string ops, GetString(*op, f + ".op"));
      if (!ParsePropertyOp(ops, &pf.op))
        return Bad(f + ".op", "expected one of eq, neq, gt, gte, lt, lte, contains, is_set, is_not_set");
    }
    const auto* val = o.if_contains("value");
    if (PropertyOpTakesValue(pf.op)) {
      if (!val) return Bad(f + ".value", "required for this op");
      if (val->is_string()) {
        pf.value_text = std::string(val->as_string());
      } else if (val->is_number()) {
        pf.value_is_number = true;
        pf.value_number = val->to_number<double>();
        pf.value_text = json::serialize(*val);
      } else if (val->is_bool()) {
        pf.value_text = val->as_bool() ? "true" : "false";
      } else {
        return Bad(f + ".value", "expected a string, number or boolean");
      }
    } else if (val) {
      return Bad(f + ".value", "not allowed with is_set / is_not_set");
    }
    out.push_back(std::move(pf));
  }
  return out;
}

Result<json::object> ParseObject(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return InvalidArgument(fmt::format("body: invalid JSON ({})", ec.message()));
  if (!v.is_object()) return InvalidArgument("body: expected a JSON object");
  return std::move(v.as_object());
}

}  // namespace

Result<int64_t> ParseDurationMs(std::string_view text, std::string_view field) {
  const auto bad = Bad(field, "expected a duration like \"500ms\", \"45s\", \"30m\", \"12h\", \"7d\" or \"2w\"");
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return bad;
  double v;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, v);
  if (ec != std::errc() || end != text.data() + i) return bad;
  const std::string_view unit = text.substr(i);
  double mult;
  if (unit == "ms") mult = 1;
  else if (unit == "s" || unit.empty()) mult = 1000;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = 86'400'000;
  else if (unit == "w") mult = 604'800'000;
  else return bad;
  const double ms = v * mult;
  if (!(ms >= 1) || ms > 1e15) return Bad(field, "duration out of range");
  return static_cast<int64_t>(std::llround(ms));
}

Result<int64_t> ParseTimeMs(std::string_view s, std::string_view field) {
  const auto bad = Bad(field, "expected a date like \"2026-01-05\" or a time like \"2026-01-05T10:00:00Z\"");
  auto num = [&](size_t pos, size_t len, int* out) {
    if (pos + len > s.size()) return false;
    int v = 0;
    for (size_t k = pos; k < pos + len; ++k) {
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
      v = v * 10 + (s[k] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!num(0, 4, &y) || s.size() < 10 || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' || !num(8, 2, &d)) return bad;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return bad;
  size_t p = 10;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != ' ') return bad;
    if (!num(p + 1, 2, &h) || s.size() < p + 9 || s[p + 3] != ':' || !num(p + 4, 2, &mi) || s[p + 6] != ':' ||
        !num(p + 7, 2, &sec))
      return bad;
    p += 9;
    if (p < s.size() && s[p] == '.') {
      size_t q = p + 1;
      int digits = 0;
      ms = 0;
      while (q < s.size() && std::isdigit(static_cast<unsigned char>(s[q]))) {
        if (digits < 3) ms = ms * 10 + (s[q] - '0');
        ++digits;
        ++q;
      }
      if (digits == 0) return bad;
      for (int k = digits; k < 3; ++k) ms *= 10;
      p = q;
    }
    if (p != s.size() - 1 || s[p] != 'Z') return bad;
    if (h > 23 || mi > 59 || sec > 60) return bad;
  }
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kDayMs + h * kHourMs + mi * 60'000LL +
         sec * 1000LL + ms;
}

Result<FunnelSpec> DecodeFunnelSpec(std::string_view text) {
  ASSIGN_OR_RETURN(json::object o, ParseObject(text));
  RETURN_IF_ERROR(OnlyKeys(o, {"steps", "window", "order", "counting", "exclusions", "from", "to", "breakdown",
                               "over_time", "who", "segment"},
                           ""));
  FunnelSpec spec;
  const auto* steps = o.if_contains("steps");
  if (!steps) return Bad("steps", "required");
  if (!steps->is_array()) return Bad("steps", "expected an array of {\"event\": name}");
  size_t i = 0;
  for (const auto& sv : steps->as_array()) {
    const std::string f = fmt::format("steps[{}]", i++);
    FunnelStep st;
    if (sv.is_string()) {
      st.event = std::string(sv.as_string());
    } else if (sv.is_object()) {
      const auto& so = sv.as_object();
      RETURN_IF_ERROR(OnlyKeys(so, {"event", "where", "optional", "within"}, f));
      const auto* ev = so.if_contains("event");
      if (!ev) return Bad(f + ".event", "required");
      ASSIGN_OR_RETURN(st.event, GetString(*ev, f + ".event"));
      if (const auto* w = so.if_contains("where")) { ASSIGN_OR_RETURN(st.where, GetFilters(*w, f + ".where")); }
      if (const auto* op = so.if_contains("optional")) { ASSIGN_OR_RETURN(st.optional, GetBool(*op, f + ".optional")); }
      if (const auto* wi = so.if_contains("within")) { ASSIGN_OR_RETURN(st.within_ms, GetDuration(*wi, f + ".within")); }
    } else {
      return Bad(f, "expected {\"event\": name} or a name");
    }
    spec.steps.push_back(std::move(st));
  }
  if (const auto* w = o.if_contains("window")) { ASSIGN_OR_RETURN(spec.window_ms, GetDuration(*w, "window")); }
  if (const auto* v = o.if_contains("order")) {
    ASSIGN_OR_RETURN(std::string s, GetString(*v, "order"));
    if (s == "ordered") spec.order = FunnelOrder::kOrdered;
    else if (s == "strict") spec.order = FunnelOrder::kStrict;
    else if (s == "any") spec.order = FunnelOrder::kAny;
    else return Bad("order", "expected ordered, strict or any");
  }
  if (const auto* v = o.if_contains("counting")) {
    ASSIGN_OR_RETURN(std::string s, GetString(*v, "counting"));
    if (s == "uniques") spec.counting = FunnelCounting::kUniques;
    else if (s == "totals") spec.counting = FunnelCounting::kTotals;
    else return Bad("counting", "expected uniques or totals");
  }
  if (const auto* v = o.if_contains("exclusions")) {
    if (!v->is_array()) return Bad("exclusions", "expected an array");
    size_t k = 0;
    for (const auto& ev : v->as_array()) {
      const std::string f = fmt::format("exclusions[{}]", k++);
      if (!ev.is_object()) return Bad(f, "expected {\"event\",\"from_step\",\"to_step\"}");
      const auto& eo = ev.as_object();
      RETURN_IF_ERROR(OnlyKeys(eo, {"event", "where", "from_step", "to_step"}, f));
      FunnelExclusion ex;
      const auto* e = eo.if_contains("event");
      if (!e) return Bad(f + ".event", "required");
      ASSIGN_OR_RETURN(ex.event, GetString(*e, f + ".event"));
      if (const auto* w = eo.if_contains("where")) { ASSIGN_OR_RETURN(ex.where, GetFilters(*w, f + ".where")); }
      // 1-based in JSON; default: between the first and the last step.
      int64_t a = 1, b = static_cast<int64_t>(spec.steps.size());
      if (const auto* x = eo.if_contains("from_step")) { ASSIGN_OR_RETURN(a, GetInt(*x, f + ".from_step")); }
      if (const auto* x = eo.if_contains("to_step")) { ASSIGN_OR_RETURN(b, GetInt(*x, f + ".to_step")); }
      if (a < 1 || b < 1 || a > 1000 || b > 1000) return Bad(f, "from_step and to_step are step numbers from 1");
      ex.from_step = static_cast<size_t>(a - 1);
      ex.to_step = static_cast<size_t>(b - 1);
      spec.exclusions.push_back(std::move(ex));
    }
  }
  if (const auto* v = o.if_contains("segment")) { ASSIGN_OR_RETURN(spec.segment, DecodeSegment(*v)); }
  if (const auto* v = o.if_contains("from")) { ASSIGN_OR_RETURN(spec.from_ms, GetTime(*v, "from")); }
  if (const auto* v = o.if_contains("to")) { ASSIGN_OR_RETURN(spec.to_ms, GetTime(*v, "to")); }
  if (const auto* v = o.if_contains("breakdown")) {
    if (!v->is_object()) return Bad("breakdown", "expected {\"by\": \"channel\" | \"property\", ...}");
    const auto& bo = v->as_object();
    RETURN_IF_ERROR(OnlyKeys(bo, {"by", "property", "attribution", "step", "limit"}, "breakdown"));
    auto& bd = spec.breakdown;
    std::string by = bo.contains("property") ? "property" : "";
    if (const auto* x = bo.if_contains("by")) { ASSIGN_OR_RETURN(by, GetString(*x, "breakdown.by")); }
    if (by == "channel") {
      bd.kind = FunnelBreakdown::Kind::kChannel;
    } else if (by == "property") {
      bd.kind = FunnelBreakdown::Kind::kProperty;
      const auto* p = bo.if_contains("property");
      if (!p) return Bad("breakdown.property", "required");
      ASSIGN_OR_RETURN(bd.property, GetString(*p, "breakdown.property"));
    } else {
      return Bad("breakdown.by", "expected channel or property (traits and personas are not supported yet)");
    }
    if (const auto* x = bo.if_contains("attribution")) {
      ASSIGN_OR_RETURN(std::string a, GetString(*x, "breakdown.attribution"));
      if (a == "first_touch") bd.attribution = Attribution::kFirstTouch;
      else if (a == "last_touch") bd.attribution = Attribution::kLastTouch;
      else if (a == "step") bd.attribution = Attribution::kStep;
      else return Bad("breakdown.attribution", "expected first_touch, last_touch or step");
    }
    if (const auto* x = bo.if_contains("step")) {
      ASSIGN_OR_RETURN(int64_t s, GetInt(*x, "breakdown.step"));
      if (s < 1 || s > 1000) return Bad("breakdown.step", "a step number from 1");
      bd.attribution_step = static_cast<size_t>(s - 1);
      if (!bo.contains("attribution")) bd.attribution = Attribution::kStep;
    } else if (bd.attribution == Attribution::kStep) {
      return Bad("breakdown.step", "required with attribution step");
    }
    if (const auto* x = bo.if_contains("limit")) {
      ASSIGN_OR_RETURN(int64_t l, GetInt(*x, "breakdown.limit"));
      if (l < 1 || l > 1000) return Bad("breakdown.limit", "must be in [1, 1000]");
      bd.limit = static_cast<size_t>(l);
    }
  }
  if (const auto* v = o.if_contains("over_time")) {
    ASSIGN_OR_RETURN(std::string s, GetString(*v, "over_time"));
    Period p;
    if (!ParsePeriod(s, &p) || p == Period::kHour) return Bad("over_time", "expected day, week or month");
    spec.over_time = p;
  }
  if (const auto* v = o.if_contains("who")) {
    if (!v->is_object()) return Bad("who", "expected {\"step\": n, \"status\": \"reached\" | \"dropped\"}");
    const auto& wo = v->as_object();
    RETURN_IF_ERROR(OnlyKeys(wo, {"step", "status", "limit", "after"}, "who"));
    FunnelWho who;
    const auto* st = wo.if_contains("step");
    if (!st) return Bad("who.step", "required");
    ASSIGN_OR_RETURN(int64_t s, GetInt(*st, "who.step"));
    if (s < 1 || s > 1000) return Bad("who.step", "a step number from 1");
    who.step = static_cast<size_t>(s - 1);
    if (const auto* x = wo.if_contains("status")) {
      ASSIGN_OR_RETURN(std::string status, GetString(*x, "who.status"));
      if (status == "reached") who.dropped = false;
      else if (status == "dropped") who.dropped = true;
      else return Bad("who.status", "expected reached or dropped");
    }
    if (const auto* x = wo.if_contains("limit")) {
      ASSIGN_OR_RETURN(int64_t l, GetInt(*x, "who.limit"));
      if (l < 1 || l > 10000) return Bad("who.limit", "must be in [1, 10000]");
      who.limit = static_cast<size_t>(l);
    }
    if (const auto* x = wo.if_contains("after")) { ASSIGN_OR_RETURN(who.after, DecodeCustomerCursor(*x, "who.after")); }
    spec.who = who;
  }
  return spec;
}

Result<RetentionRequest> DecodeRetentionRequest(std::string_view text) {
  ASSIGN_OR_RETURN(json::object o, ParseObject(text));
  RETURN_IF_ERROR(OnlyKeys(o, {"start_event", "start_where", "return_event", "return_where", "period", "periods", "mode",
                               "min_returns", "revenue", "from", "to", "breakdown", "segment", "who"},
                           ""));
  RetentionRequest req;
  auto& spec = req.spec;
  if (const auto* v = o.if_contains("start_event"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(spec.start_event, GetString(*v, "start_event"));
  }
  if (const auto* v = o.if_contains("return_event"); v && !v->is_null()) {
    ASSIGN_OR_RETURN(spec.return_event, GetString(*v, "return_event"));
  }
  if (const auto* v = o.if_contains("start_where")) { ASSIGN_OR_RETURN(spec.start_where, GetFilters(*v, "start_where")); }
  if (const auto* v = o.if_contains("return_where")) { ASSIGN_OR_RETURN(spec.return_where, GetFilters(*v, "return_where")); }
  if (const auto* v = o.if_contains("period")) {
    ASSIGN_OR_RETURN(std::string s, GetString(*v, "period"));
    if (!ParsePeriod(s, &spec.period) || spec.period == Period::kHour) return Bad("period", "expected day, week or month");
  }
  if (const auto* v = o.if_contains("periods")) {
    ASSIGN_OR_RETURN(int64_t n, GetInt(*v, "periods"));
    if (n < 1 || n > 400) return Bad("periods", "must be in [1, 400]");
    spec.periods = static_cast<size_t>(n);
  }
  if (const auto* v = o.if_contains("mode")) {
    ASSIGN_OR_RETURN(std::string s, GetString(*v, "mode"));
    if (s == "on") spec.on_or_after = false;
    else if (s == "on_or_after") spec.on_or_after = true;
    else return Bad("mode", "expected on or on_or_after");
  }
  if (const auto* v = o.if_contains("min_returns")) {
    ASSIGN_OR_RETURN(int64_t n, GetInt(*v, "min_returns"));
    if (n < 1 || n > 1'000'000) return Bad("min_returns", "must be in [1, 1000000]");
    spec.min_returns = static_cast<uint32_t>(n);
  }
  if (const auto* v = o.if_contains("revenue")) { ASSIGN_OR_RETURN(req.revenue, GetBool(*v, "revenue")); }
  if (const auto* v = o.if_contains("segment")) { ASSIGN_OR_RETURN(spec.segment, DecodeSegment(*v)); }
  if (const auto* v = o.if_contains("from")) { ASSIGN_OR_RETURN(spec.from_ms, GetTime(*v, "from")); }
  if (const auto* v = o.if_contains("to")) { ASSIGN_OR_RETURN(spec.to_ms, GetTime(*v, "to")); }
  if (const auto* v = o.if_contains("breakdown")) {
    if (!v->is_object()) return Bad("breakdown", "expected {\"by\": \"channel\" | \"property\", ...}");
    const auto& bo = v->as_object();
    RETURN_IF_ERROR(OnlyKeys(bo, {"by", "property"}, "breakdown"));
    std::string by = bo.contains("property") ? "property" : "";
    if (const auto* x = bo.if_contains("by")) { ASSIGN_OR_RETURN(by, GetString(*x, "breakdown.by")); }
    if (by == "channel") {
      spec.breakdown = RetentionSpec::BreakdownKind::kChannel;
    } else if (by == "property") {
      spec.breakdown = RetentionSpec::BreakdownKind::kProperty;
      const auto* p = bo.if_contains("property");
      if (!p) return Bad("breakdown.property", "required");
      ASSIGN_OR_RETURN(spec.breakdown_property, GetString(*p, "breakdown.property"));
    } else {
      return Bad("breakdown.by", "expected channel or property");
    }
  }
  if (const auto* v = o.if_contains("who")) {
    if (!v->is_object())
      return Bad("who", "expected {\"cohort\": \"2026-01-05\", \"period\": n, \"status\": \"returned\" | \"not_returned\"}");
    const auto& wo = v->as_object();
    RETURN_IF_ERROR(OnlyKeys(wo, {"cohort", "period", "status", "breakdown", "limit", "after"}, "who"));
    RetentionWho who;
    const auto* c = wo.if_contains("cohort");
    if (!c) return Bad("who.cohort", "required (the cohort's start, e.g. \"2026-01-05\")");
    ASSIGN_OR_RETURN(who.cohort_ms, GetTime(*c, "who.cohort"));
    if (const auto* x = wo.if_contains("period")) {
      ASSIGN_OR_RETURN(int64_t k, GetInt(*x, "who.period"));
      if (k < 0 || k > 400) return Bad("who.period", "0 (the cohort) or a period from 1");
      who.period = static_cast<size_t>(k);
    }
    if (const auto* x = wo.if_contains("status")) {
      ASSIGN_OR_RETURN(std::string status, GetString(*x, "who.status"));
      if (status == "returned") who.returned = true;
      else if (status == "not_returned") who.returned = false;
      else return Bad("who.status", "expected returned or not_returned");
    }
    if (const auto* x = wo.if_contains("breakdown")) { ASSIGN_OR_RETURN(who.breakdown, GetString(*x, "who.breakdown")); }
    ASSIGN_OR_RETURN(who.page, DecodeWhoPage(wo, "who"));
    spec.who = std::move(who);
  }
  return req;
}

namespace {

void WriteDurations(const DurationStats& d, JsonWriter* w) {
  w->BeginObject();
  w->Key("count").UInt(d.count);
  if (d.count > 0) {
    w->Key("min_ms").Int(d.min_ms).Key("p25_ms").Int(d.p25_ms).Key("median_ms").Int(d.median_ms);
    w->Key("p75_ms").Int(d.p75_ms).Key("p90_ms").Int(d.p90_ms).Key("p99_ms").Int(d.p99_ms);
    w->Key("max_ms").Int(d.max_ms).Key("avg_ms").Int(d.avg_ms);
  }
  w->Key("histogram").BeginArray();
  static const char* kLabels[] = {"<1m", "1m-10m", "10m-1h", "1h-6h", "6h-1d", "1d-3d", "3d-7d", "7d-14d", "14d-30d", ">=30d"};
  for (size_t i = 0; i < d.histogram.size() && i < std::size(kLabels); ++i)
    w->BeginObject().Key("bucket").String(kLabels[i]).Key("count").UInt(d.histogram[i]).EndObject();
  w->EndArray();
  w->EndObject();
}

void WriteCounts(const std::vector<uint64_t>& counts, JsonWriter* w) {
  w->BeginArray();
  for (uint64_t c : counts) w->UInt(c);
  w->EndArray();
}

void WriteWarnings(const std::vector<std::string>& warnings, JsonWriter* w) {
  w->Key("warnings").BeginArray();
  for (const auto& s : warnings) w->String(s);
  w->EndArray();
}

}  // namespace

std::string FunnelResultToJson(const FunnelSpec& spec, const FunnelResult& r, double elapsed_ms) {
  JsonWriter w;
  w.BeginObject();
  w.Key("steps").BeginArray();
  const uint64_t first = r.steps.empty() ? 0 : r.steps[0].count;
  for (size_t s = 0; s < r.steps.size(); ++s) {
    const auto& st = r.steps[s];
    w.BeginObject();
    w.Key("event").String(st.event);
    w.Key("count").UInt(st.count);
    w.Key("conversion").Double(first ? static_cast<double>(st.count) / static_cast<double>(first) : 0.0);
    if (s > 0 && spec.order != FunnelOrder::kAny) {
      w.Key("time_to_convert").BeginObject();
      w.Key("from_previous");
      WriteDurations(st.from_previous, &w);
      w.Key("from_first");
      WriteDurations(st.from_first, &w);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  if (spec.breakdown.kind != FunnelBreakdown::Kind::kNone) {
    w.Key("breakdown").BeginArray();
    for (const auto& row : r.breakdown) {
      w.BeginObject().Key("value").String(row.key).Key("counts");
      WriteCounts(row.counts, &w);
      w.EndObject();
    }
    w.EndArray();
  }
  if (spec.over_time) {
    w.Key("over_time").BeginArray();
    for (const auto& row : r.over_time) {
      w.BeginObject().Key("start").String(row.key).Key("counts");
      WriteCounts(row.counts, &w);
      w.EndObject();
    }
    w.EndArray();
  }
  if (spec.who) {
    w.Key("who").BeginObject();
    w.Key("step").UInt(spec.who->step + 1);
    w.Key("status").String(spec.who->dropped ? "dropped" : "reached");
    w.Key("customers").BeginArray();
    for (uint64_t id : r.who) w.String(CustomerIdString(id));
    w.EndArray();
    w.Key("next");
    if (r.who_next) w.String(CustomerIdString(*r.who_next));
    else w.Null();
    w.EndObject();
  }
  WriteWarnings(r.warnings, &w);
  w.Key("stats").BeginObject();
  w.Key("customers").UInt(r.customers_scanned).Key("interactions").UInt(r.rows_scanned).Key("ms").Double(elapsed_ms);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

std::string RetentionResultToJson(const RetentionSpec& spec, const RetentionResult& r, bool with_revenue,
                                  double elapsed_ms) {
  JsonWriter w;
  w.BeginObject();
  w.Key("period").String(PeriodName(spec.period));
  w.Key("cohorts").BeginArray();
  for (const auto& c : r.cohorts) {
    w.BeginObject();
    if (spec.breakdown != RetentionSpec::BreakdownKind::kNone) w.Key("breakdown").String(c.breakdown);
    w.Key("start").String(c.start);
    w.Key("size").UInt(c.size);
    w.Key("returned");
    WriteCounts(c.returned, &w);
    if (with_revenue) {
      w.Key("revenue").BeginArray();
      for (double v : c.revenue) w.Double(v);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  if (spec.who && r.who) {
    w.Key("who").BeginObject();
    w.Key("cohort").String(PeriodLabel(PeriodOf(spec.who->cohort_ms, spec.period), spec.period));
    if (spec.breakdown != RetentionSpec::BreakdownKind::kNone) w.Key("breakdown").String(spec.who->breakdown);
    w.Key("period").UInt(spec.who->period);
    w.Key("status").String(spec.who->returned ? "returned" : "not_returned");
    WriteWhoList(*r.who, &w);
    w.EndObject();
  }
  WriteWarnings(r.warnings, &w);
  w.Key("stats").BeginObject();
  w.Key("customers").UInt(r.customers_scanned).Key("interactions").UInt(r.rows_scanned).Key("ms").Double(elapsed_ms);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace cairn::api
