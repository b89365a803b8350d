#include "cases/intake.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>

#include "base/logging.h"

namespace cairn::cases {
namespace {

// A string property, or "" when absent or not a string.
std::string Str(simdjson::dom::object props, std::string_view key) {
  std::string_view v;
  if (props[key].get_string().get(v) == simdjson::SUCCESS) return std::string(v);
  return "";
}

// A numeric property (int, uint, double, or a numeric string).
bool Num(simdjson::dom::object props, std::string_view key, double* out) {
  simdjson::dom::element e;
  if (props[key].get(e) != simdjson::SUCCESS) return false;
  if (e.is_number()) {
    double d = 0;
    if (e.get_double().get(d) == simdjson::SUCCESS) {
      *out = d;
      return true;
    }
    int64_t i = 0;
    if (e.get_int64().get(i) == simdjson::SUCCESS) {
      *out = static_cast<double>(i);
      return true;
    }
    return false;
  }
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    char* end = nullptr;
    std::string tmp(s);
    double d = std::strtod(tmp.c_str(), &end);
    if (!tmp.empty() && end == tmp.c_str() + tmp.size()) {
      *out = d;
      return true;
    }
  }
  return false;
}

}  // namespace

Intake::Intake(CaseManager* cases, std::function<uint64_t(uint64_t)> canonical, metrics::Registry* metrics)
    : cases_(cases), canonical_(std::move(canonical)) {
  if (metrics == nullptr) metrics = metrics::Registry::Default();
  skipped_ = metrics->GetCounter("cairn_cases_intake_skipped_total",
                                 "Complaint Filed / Survey Responded interactions skipped as malformed.");
}

void Intake::OnCommit(const store::Batch& batch) {
  for (const auto& r : batch.interactions) {
    if (!Wants(r)) continue;
    Status s = Apply(r);
    if (!s.ok()) {
      skipped_->Inc();
      LOG_EVERY_N_SEC(kWarn, 10, "cases: skipped {} seq {}: {}", r.event, r.seq, s.ToString());
    }
  }
}

Status Intake::Apply(const store::Interaction& r) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.payload).get(doc) != simdjson::SUCCESS) return InvalidArgument("payload: not JSON");
  simdjson::dom::object props;
  if (doc["properties"].get_object().get(props) != simdjson::SUCCESS) {
    // No properties: parse an empty object so lookups just miss.
    static const simdjson::padded_string kEmpty(std::string_view("{}"));
    thread_local simdjson::dom::parser empty_parser;
    if (empty_parser.parse(kEmpty).get_object().get(props) != simdjson::SUCCESS) return Internal("empty object");
  }
  const uint64_t customer = canonical_ ? canonical_(r.customer) : r.customer;
  std::string channel = Str(props, "channel");
  if (channel.empty()) channel = r.channel;

  if (r.event == kComplaintEvent) {
    NewCase nc;
    nc.customer_id = customer;
    nc.channel = channel;
    nc.category = Str(props, "category");
    nc.description = Str(props, "description");
    if (nc.description.empty()) nc.description = Str(props, "comment");
    if (nc.description.empty()) nc.description = Str(props, "message");
    if (std::string sev = Str(props, "severity"); !sev.empty()) {
      auto s = ParseSeverity(sev);
      if (!s) return InvalidArgument(fmt::format("properties.severity: '{}' is not low|medium|high|critical", sev));
      nc.severity = *s;
    }
    if (std::string tier = Str(props, "valueTier"); !tier.empty()) {
      auto t = ParseTier(tier);
      if (!t) return InvalidArgument(fmt::format("properties.valueTier: '{}' is not standard|high|vip", tier));
      nc.tier = *t;
    }
    nc.origin = "interaction";
    nc.actor = "customer";
    nc.message_id = r.message_id;
    nc.source_seq = r.seq;
    nc.at_ms = r.received_at_ms;
    return cases_->OpenCase(nc).status();
  }

  feedback::SurveyInput in;
  auto& resp = in.response;
  std::string kind = Str(props, "survey");
  if (kind.empty()) kind = Str(props, "type");
  if (kind.empty()) kind = Str(props, "kind");
  if (kind.empty()) kind = "nps";
  auto k = feedback::ParseSurveyKind(kind);
  if (!k) return InvalidArgument(fmt::format("properties.survey: '{}' is not nps|csat|ces", kind));
  resp.kind = *k;
  double score = 0;
  if (!Num(props, "score", &score) || score != std::floor(score))
    return InvalidArgument("properties.score: required, an integer");
  if (score < -1e6 || score > 1e6) return InvalidArgument("properties.score: out of range");
  resp.score = static_cast<int>(score);
  resp.customer = customer;
  resp.at_ms = r.timestamp_ms;
  resp.comment = Str(props, "comment");
  resp.channel = channel;
  resp.segment = Str(props, "segment");
  resp.persona = Str(props, "persona");
  resp.phase = Str(props, "phase");
  resp.case_category = Str(props, "category");
  double case_id = 0;
  if (Num(props, "caseId", &case_id) && case_id > 0) resp.case_id = static_cast<uint64_t>(case_id);
  resp.message_id = r.message_id;
  resp.source_seq = r.seq;
  return cases_->RecordSurvey(in).status();
}

}  // namespace cairn::cases
