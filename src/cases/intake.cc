#include "cases/intake.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
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

// One survey answer of a Survey Responded interaction.
Result<feedback::SurveyInput> MakeAnswer(const store::Interaction& r, simdjson::dom::object props, uint64_t customer,
                                         const std::string& channel, feedback::SurveyKind kind, double score,
                                         bool with_comment) {
  const char* name = kind == feedback::SurveyKind::kNps ? "nps" : kind == feedback::SurveyKind::kCsat ? "csat" : "ces";
  if (score != std::floor(score) || score < -1e6 || score > 1e6)
    return InvalidArgument(fmt::format("properties.{}: an integer score is required", name));
  feedback::SurveyInput in;
  auto& resp = in.response;
  resp.kind = kind;
  resp.score = static_cast<int>(score);
  resp.customer = customer;
  resp.at_ms = r.timestamp_ms;
  if (with_comment) resp.comment = Str(props, "comment");  // once per interaction, not per score
  resp.channel = channel;
  resp.segment = Str(props, "segment");
  resp.persona = Str(props, "persona");
  resp.phase = Str(props, "phase");
  resp.case_category = Str(props, "category");
  double case_id = 0;
  if (Num(props, "caseId", &case_id) && case_id > 0) resp.case_id = static_cast<uint64_t>(case_id);
  resp.message_id = r.message_id;
  // The idempotence key (UNIQUE in feedback.db): the seq, with bit 60 for CSAT and 61 for CES
  // (docs/format/cases.md), so one interaction's several scores replay once each.
  resp.source_seq = r.seq | (kind == feedback::SurveyKind::kCsat ? (1ULL << 60)
                             : kind == feedback::SurveyKind::kCes ? (1ULL << 61) : 0);
  return in;
}

}  // namespace

Intake::Intake(CaseManager* cases, std::function<uint64_t(uint64_t)> canonical, metrics::Registry* metrics)
    : cases_(cases), canonical_(std::move(canonical)) {
  if (metrics == nullptr) metrics = metrics::Registry::Default();
  skipped_ = metrics->GetCounter("cairn_cases_intake_skipped_total",
                                 "Complaint Filed / Survey Responded interactions skipped as malformed.");
}

void Intake::OnCommit(const store::Batch& batch) {
  std::vector<StreamWrite> writes;
  std::vector<size_t> owner;  // writes[i] comes from batch.interactions[owner[i]]
  std::vector<std::pair<size_t, Status>> refused;  // (interaction, error)
  for (size_t i = 0; i < batch.interactions.size(); ++i) {
    const auto& r = batch.interactions[i];
    if (!Wants(r)) continue;
    Status s = Parse(r, &writes);
    owner.resize(writes.size(), i);
    if (!s.ok()) refused.emplace_back(i, std::move(s));
  }
  if (writes.empty() && refused.empty()) return;  // the common batch: no transaction at all
  std::vector<Status> results = cases_->ApplyStream(writes);
  for (size_t w = 0; w < writes.size(); ++w)
    if (!results[w].ok()) refused.emplace_back(owner[w], std::move(results[w]));
  // One count per interaction, with its first error (a parse error comes before its writes').
  std::stable_sort(refused.begin(), refused.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t k = 0; k < refused.size(); ++k) {
    if (k > 0 && refused[k].first == refused[k - 1].first) continue;
    const auto& r = batch.interactions[refused[k].first];
    skipped_->Inc();
    LOG_EVERY_N_SEC(kWarn, 10, "cases: skipped {} seq {}: {}", r.event, r.seq, refused[k].second.ToString());
  }
}

Status Intake::Apply(const store::Interaction& r) {
  std::vector<StreamWrite> writes;
  Status first_error = Parse(r, &writes);
  for (Status& s : cases_->ApplyStream(writes))
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  return first_error;
}

Status Intake::Parse(const store::Interaction& r, std::vector<StreamWrite>* writes) const {
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
    writes->push_back(std::move(nc));
    return Status::Ok();
  }

  // Two shapes. DOMAIN.md's: the scores as properties `nps`, `csat`, `ces` (any of them, one
  // answer each; `survey` then names the survey, e.g. "post_purchase"). The explicit one:
  // `survey` (or `type`/`kind`) = nps|csat|ces with `score`.
  struct Answer {
    feedback::SurveyKind kind;
    double score;
  };
  std::vector<Answer> answers;
  for (auto [key, kind] : {std::pair{"nps", feedback::SurveyKind::kNps}, std::pair{"csat", feedback::SurveyKind::kCsat},
                           std::pair{"ces", feedback::SurveyKind::kCes}}) {
    double v = 0;
    if (Num(props, key, &v)) answers.push_back({kind, v});
  }
  if (answers.empty()) {
    std::string kind = Str(props, "survey");
    if (kind.empty()) kind = Str(props, "type");
    if (kind.empty()) kind = Str(props, "kind");
    if (kind.empty()) kind = "nps";
    auto k = feedback::ParseSurveyKind(kind);
    if (!k) return InvalidArgument(fmt::format("properties.survey: '{}' is not nps|csat|ces (or send properties.nps|csat|ces)", kind));
    double score = 0;
    if (!Num(props, "score", &score)) return InvalidArgument("properties.score: required, an integer");
    answers.push_back({*k, score});
  }
  Status first_error;  // a malformed score is refused; the interaction's other scores still count
  for (size_t i = 0; i < answers.size(); ++i) {
    auto in = MakeAnswer(r, props, customer, channel, answers[i].kind, answers[i].score, /*with_comment=*/i == 0);
    if (in.ok()) writes->push_back(std::move(in).value());
    else if (first_error.ok()) first_error = in.status();
  }
  return first_error;
}


}  // namespace cairn::cases
