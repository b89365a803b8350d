#include "api/dto/feedback_dto.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "api/dto/case_dto.h"
#include "api/dto/json_writer.h"
#include "api/url.h"

namespace cairn::api {
namespace json = boost::json;
using feedback::SurveyKind;

namespace {

Status Bad(std::string_view field, std::string_view what) { return InvalidArgument(fmt::format("{}: {}", field, what)); }

// Local copies of the names (api/ links no core implementation library).
std::optional<SurveyKind> KindOf(std::string_view s) {
  if (s == "nps") return SurveyKind::kNps;
  if (s == "csat") return SurveyKind::kCsat;
  if (s == "ces") return SurveyKind::kCes;
  return std::nullopt;
}

std::optional<feedback::GroupBy> GroupOf(std::string_view n) {
  using G = feedback::GroupBy;
  static constexpr std::pair<std::string_view, G> kNames[] = {
      {"", G::kNone},         {"none", G::kNone},     {"channel", G::kChannel}, {"segment", G::kSegment},
      {"persona", G::kPersona}, {"phase", G::kPhase}, {"category", G::kCategory}, {"day", G::kDay},
      {"week", G::kWeek},     {"month", G::kMonth}};
  for (const auto& [name, g] : kNames)
    if (name == n) return g;
  return std::nullopt;
}

void WriteTerms(JsonWriter& w, std::string_view key, const std::vector<feedback::TermCount>& terms) {
  w.Key(key).BeginArray();
  for (const auto& t : terms) w.BeginObject().Key("term").String(t.term).Key("count").Int(t.count).EndObject();
  w.EndArray();
}

void WriteGroup(JsonWriter& w, SurveyKind kind, const feedback::ScoreGroup& g) {
  switch (kind) {
    case SurveyKind::kNps:
      w.Key("nps").Double(g.nps.nps).Key("promoters").Int(g.nps.promoters).Key("passives").Int(g.nps.passives);
      w.Key("detractors").Int(g.nps.detractors).Key("responses").Int(g.nps.responses);
      w.Key("ci").BeginObject().Key("level").Double(0.95).Key("low").Double(g.nps.ci_low).Key("high").Double(g.nps.ci_high).EndObject();
      break;
    case SurveyKind::kCsat:
      w.Key("csat").Double(g.csat.csat).Key("mean").Double(g.csat.mean).Key("satisfied").Int(g.csat.satisfied);
      w.Key("responses").Int(g.csat.responses);
      break;
    case SurveyKind::kCes:
      w.Key("ces").Double(g.ces.mean).Key("easy").Double(g.ces.easy_pct).Key("mean").Double(g.ces.mean);
      w.Key("responses").Int(g.ces.responses);
      break;
  }
}

}  // namespace

Result<feedback::SurveyInput> ParseSurveyInput(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return InvalidArgument("body: not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return InvalidArgument("body: must be a JSON object");
  feedback::SurveyInput in;
  auto& r = in.response;
  bool have_score = false;
  for (const auto& kv : v.as_object()) {
    std::string_view k = kv.key();
    const json::value& val = kv.value();
    if (val.is_null()) continue;
    auto str = [&](std::string* dst) -> Status {
      if (!val.is_string()) return Bad(k, "must be a string");
      *dst = std::string(val.as_string());
      return Status::Ok();
    };
    if (k == "customer") RETURN_IF_ERROR(str(&in.customer));
    else if (k == "comment") RETURN_IF_ERROR(str(&r.comment));
    else if (k == "channel") RETURN_IF_ERROR(str(&r.channel));
    else if (k == "segment") RETURN_IF_ERROR(str(&r.segment));
    else if (k == "persona") RETURN_IF_ERROR(str(&r.persona));
    else if (k == "phase") RETURN_IF_ERROR(str(&r.phase));
    else if (k == "category") RETURN_IF_ERROR(str(&r.case_category));
    else if (k == "survey") {
      std::string s;
      RETURN_IF_ERROR(str(&s));
      auto kind = KindOf(s);
      if (!kind) return Bad("survey", fmt::format("'{}' is not nps, csat or ces", s));
      r.kind = *kind;
    } else if (k == "score") {
      if (!(val.is_int64() || val.is_uint64() || (val.is_double() && std::trunc(val.as_double()) == val.as_double())))
        return Bad("score", "must be an integer");
      double d = val.is_int64() ? static_cast<double>(val.as_int64()) : val.is_uint64() ? static_cast<double>(val.as_uint64()) : val.as_double();
      if (d < -1000 || d > 1000) return Bad("score", "out of range");
      r.score = static_cast<int>(d);
      have_score = true;
    } else if (k == "caseId") {
      if (!val.is_int64() || val.as_int64() <= 0) return Bad("caseId", "must be a case id");
      r.case_id = static_cast<uint64_t>(val.as_int64());
    } else if (k == "at") {
      std::string s;
      if (val.is_int64()) r.at_ms = val.as_int64();
      else {
        RETURN_IF_ERROR(str(&s));
        ASSIGN_OR_RETURN(r.at_ms, ParseTimeParam("at", s));
      }
    } else {
      return Bad(k, "unknown field");
    }
  }
  if (!have_score) return Bad("score", "required");
  return in;
}

Result<feedback::ScoreQuery> ParseScoreQuery(std::string_view query, SurveyKind kind) {
  ASSIGN_OR_RETURN(auto params, ParseQuery(query));
  feedback::ScoreQuery q;
  q.kind = kind;
  for (const auto& [k, v] : params) {
    if (k == "from") {
      ASSIGN_OR_RETURN(q.from_ms, ParseTimeParam("from", v));
    } else if (k == "to") {
      ASSIGN_OR_RETURN(q.to_ms, ParseTimeParam("to", v));
    } else if (k == "by") {
      auto g = GroupOf(v);
      if (!g) return Bad("by", "must be channel, segment, persona, phase, category, day, week or month");
      q.group_by = *g;
    } else if (k == "channel") q.channel = v;
    else if (k == "segment") q.segment = v;
    else if (k == "persona") q.persona = v;
    else if (k == "phase") q.phase = v;
    else if (k == "category") q.category = v;
    else return Bad(k, "unknown parameter");
  }
  if (q.to_ms <= q.from_ms) return Bad("to", "must be after from");
  return q;
}

Result<ThemesQuery> ParseThemesQuery(std::string_view query) {
  ASSIGN_OR_RETURN(auto params, ParseQuery(query));
  ThemesQuery t;
  for (const auto& [k, v] : params) {
    if (k == "survey") {
      auto kind = KindOf(v);
      if (!kind) return Bad("survey", "must be nps, csat or ces");
      t.kind = *kind;
    } else if (k == "from") {
      ASSIGN_OR_RETURN(t.from_ms, ParseTimeParam("from", v));
    } else if (k == "to") {
      ASSIGN_OR_RETURN(t.to_ms, ParseTimeParam("to", v));
    } else if (k == "top") {
      size_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > 100) return Bad("top", "must be 1..100");
      t.top = n;
    } else {
      return Bad(k, "unknown parameter");
    }
  }
  return t;
}

std::string RecordedSurveyToJson(const feedback::RecordedSurvey& r) {
  JsonWriter w;
  w.BeginObject().Key("id").UInt(r.id).Key("caseId");
  r.case_id ? w.UInt(r.case_id) : w.Null();
  w.EndObject();
  return w.str();
}

std::string ScoreReportToJson(const feedback::ScoreReport& report) {
  JsonWriter w;
  w.BeginObject();
  WriteGroup(w, report.kind, report.total);
  w.Key("groups").BeginArray();
  for (const auto& g : report.groups) {
    w.BeginObject().Key("key").String(g.key);
    WriteGroup(w, report.kind, g);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string ThemesToJson(const feedback::CommentThemes& t) {
  JsonWriter w;
  w.BeginObject().Key("comments").Int(t.comments).Key("positive").Int(t.positive).Key("negative").Int(t.negative);
  w.Key("bands").BeginArray();
  for (const auto& b : t.bands) {
    w.BeginObject().Key("band").String(b.band).Key("comments").Int(b.comments);
    WriteTerms(w, "terms", b.terms);
    WriteTerms(w, "bigrams", b.bigrams);
    w.EndObject();
  }
  w.EndArray();
  WriteTerms(w, "delight", t.delight);
  WriteTerms(w, "annoyance", t.annoyance);
  w.EndObject();
  return w.str();
}

}  // namespace cairn::api
