#include "app/export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "api/dto/action_dto.h"
#include "api/dto/case_dto.h"
#include "api/dto/consent_dto.h"
#include "api/dto/customer_dto.h"
#include "api/dto/journey_dto.h"
#include "api/dto/rescue_dto.h"
#include "api/dto/value_dto.h"
#include "app/consent_wiring.h"
#include "app/rescue_files.h"
#include "app/value_cmd.h"
#include "base/json_string.h"
#include "base/logging.h"
#include "feedback/feedback_store.h"
#include "ingest/timestamp.h"
#include "io/env.h"
#include "store/segment_reader.h"
#include "value/value_engine.h"
#include "value/value_service.h"

namespace cairn::app {

namespace {

std::string Iso(int64_t ms) {
  char buf[32];
  return std::string(ingest::FormatIso8601Ms(ms, buf));
}

void Str(std::string* out, std::string_view s) { AppendJsonString(out, s); }

// One feedback.db answer (docs/export.md "surveys").
void AppendSurvey(const feedback::SurveyResponse& r, std::string* out) {
  *out += "{\"id\":";
  *out += std::to_string(r.id);
  *out += ",\"customer\":";
  Str(out, fmt::format("c:{}", r.customer));
  *out += ",\"kind\":";
  Str(out, feedback::SurveyKindName(r.kind));
  *out += ",\"score\":";
  *out += std::to_string(r.score);
  *out += ",\"at\":";
  Str(out, Iso(r.at_ms));
  for (auto [key, value] : {std::pair<std::string_view, const std::string*>{"comment", &r.comment},
                            {"channel", &r.channel}, {"segment", &r.segment}, {"persona", &r.persona},
                            {"phase", &r.phase}, {"case_category", &r.case_category}, {"message_id", &r.message_id}}) {
    *out += ",\"";
    *out += key;
    *out += "\":";
    Str(out, *value);
  }
  *out += ",\"case_id\":";
  *out += r.case_id == 0 ? std::string("null") : std::to_string(r.case_id);
  *out += '}';
}

}  // namespace

CustomerExporter::~CustomerExporter() = default;

Result<std::unique_ptr<CustomerExporter>> CustomerExporter::Open(const ExportSources& sources,
                                                                 const std::string& any_identity) {
  if (sources.hub == nullptr) return InvalidArgument("export: hub is required");
  Hub* hub = sources.hub;
  std::unique_ptr<CustomerExporter> e(new CustomerExporter());
  e->sources_ = sources;
  if (e->sources_.piece_bytes < 1024) e->sources_.piece_bytes = 1024;
  // The profile resolves the id (NotFound before a byte is produced) and names the canonical id.
  ASSIGN_OR_RETURN(entity::Profile profile, hub->GetProfile(any_identity));
  e->root_ = profile.id;
  const std::string cid = fmt::format("c:{}", e->root_);
  e->members_ = hub->identity()->Members(e->root_);
  e->members_.push_back(e->root_);
  std::sort(e->members_.begin(), e->members_.end());
  e->members_.erase(std::unique(e->members_.begin(), e->members_.end()), e->members_.end());
  e->snapshot_ = hub->store()->GetSnapshot();

  std::string& h = e->head_;
  h += "{\"format\":\"cairn.customer-export\",\"version\":";
  h += std::to_string(kExportVersion);
  h += ",\"exported_at\":";
  Str(&h, Iso(Clock::Real()->NowMillis()));
  h += ",\"customer\":";
  Str(&h, cid);
  h += ",\"member_ids\":[";
  for (size_t i = 0; i < e->members_.size(); ++i) {
    if (i) h += ',';
    Str(&h, fmt::format("c:{}", e->members_[i]));
  }
  h += "],\"profile\":";
  h += api::ProfileToJson(profile);  // identities, traits, groups, merges, first/last seen

  h += ",\"consents\":";
  if (hub->consents() != nullptr) {
    ASSIGN_OR_RETURN(auto view, hub->consents()->GetConsents(cid));
    h += api::ConsentViewToJson(view);
  } else {
    h += "null";
  }

  h += ",\"journey\":";
  if (hub->journey() != nullptr) {
    auto j = hub->journey()->GetJourney(cid);
    if (j.ok()) h += api::JourneyToJson(*j, {});
    else if (j.status().code() == Code::kNotFound) h += "null";
    else return j.status().WithContext("export: journey");
  } else {
    h += "null";
  }

  h += ",\"cases\":[";
  if (hub->cases() != nullptr) {
    cases::CaseFilter f;
    f.customer = cid;
    f.limit = 100;
    bool first = true;
    while (true) {
      auto list = hub->cases()->ListCases(f);
      if (!list.ok() && list.status().code() == Code::kNotFound) break;  // no case ever named them
      if (!list.ok()) return list.status().WithContext("export: cases");
      for (const auto& c : list->cases) {
        ASSIGN_OR_RETURN(auto detail, hub->cases()->GetCase(c.id));
        if (!first) h += ',';
        first = false;
        h += api::CaseDetailToJson(detail);
      }
      if (list->next_before == 0) break;
      f.before_id = list->next_before;
    }
  }
  h += "]";

  // Rescue decisions, and every action sent or held back for the customer with its gate verdicts
  // and delivery attempts (webhook payloads included): the live modules when serving, else the
  // files (RescueFiles). Few per customer: the frequency cap bounds them.
  ASSIGN_OR_RETURN(auto rescue_files, RescueFiles::Open(hub->rescue(), hub->data_dir()));
  h += ",\"rescues\":[";
  if (rescue::RescueEngine* engine = rescue_files->engine()) {
    std::vector<rescue::Decision> decisions;
    for (store::CustomerId m : e->members_) {
      ASSIGN_OR_RETURN(auto list, engine->ListForCustomer(m));
      decisions.insert(decisions.end(), list.begin(), list.end());
    }
    std::sort(decisions.begin(), decisions.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    for (size_t i = 0; i < decisions.size(); ++i) {
      if (i) h += ',';
      h += api::DecisionToJson(decisions[i]);
    }
    e->rescues_ = decisions.size();
  }
  h += "],\"actions\":[";
  if (actions::Dispatcher* dispatcher = rescue_files->dispatcher()) {
    ASSIGN_OR_RETURN(auto list, dispatcher->ListForCustomers(e->members_));
    for (size_t i = 0; i < list.size(); ++i) {
      ASSIGN_OR_RETURN(auto gates, dispatcher->Gates(list[i].id));
      ASSIGN_OR_RETURN(auto attempts, dispatcher->Attempts(list[i].id));
      if (i) h += ',';
      h += api::ActionDetailToJson(list[i], gates, attempts);
    }
    e->actions_ = list.size();
  }
  h += "]";

  // Survey answers as feedback.db holds them (those recorded through the API too; the
  // interactions' own "Survey Responded" messages are in survey_answers below).
  h += ",\"surveys\":[";
  if (hub->cases() != nullptr) {
    ASSIGN_OR_RETURN(auto answers, hub->cases()->feedback_store()->ListForCustomers(e->members_));
    for (size_t i = 0; i < answers.size(); ++i) {
      if (i) h += ',';
      AppendSurvey(answers[i], &h);
    }
    e->surveys_ = answers.size();
  }
  h += "]";

  h += ",\"value\":";
  if (sources.value != nullptr) {
    auto v = sources.value->GetCustomer(cid);
    if (v.ok()) {
      h += api::CustomerValueToJson(*v);
    } else {
      h += "null,\"value_note\":";
      Str(&h, v.status().ToString());
    }
  } else {
    h += "null,\"value_note\":\"the value engine is not running here\"";
  }
  h += ",\"interactions\":[";
  return e;
}

void CustomerExporter::WriteInteraction(const store::Interaction& in, std::string* out) {
  if (!first_interaction_) *out += ',';
  first_interaction_ = false;
  ++interactions_;
  *out += "{\"seq\":";
  *out += std::to_string(in.seq);
  *out += ",\"customer\":";
  Str(out, fmt::format("c:{}", in.customer));
  *out += ",\"timestamp\":";
  Str(out, Iso(in.timestamp_ms));
  *out += ",\"received_at\":";
  Str(out, Iso(in.received_at_ms));
  *out += ",\"type\":";
  Str(out, store::MessageTypeName(in.type));
  *out += ",\"event\":";
  Str(out, in.event);
  *out += ",\"channel\":";
  Str(out, in.channel);
  *out += ",\"source\":";
  *out += std::to_string(in.source);
  *out += ",\"message_id\":";
  Str(out, in.message_id);
  *out += ",\"message\":";
  // The message as received (minified JSON, stored losslessly); never empty for stored rows.
  *out += in.payload.empty() ? std::string_view("null") : std::string_view(in.payload);
  *out += '}';
  if (in.type == store::MessageType::kTrack && in.event == "Survey Responded") survey_answers_.push_back(in.payload);
}

// Appends interactions until `out` holds about a piece or they run out (then phase_ moves on).
Status CustomerExporter::FillInteractions(std::string* out) {
  const auto& segments = snapshot_->segments();
  const uint64_t snap_seq = snapshot_->seq();
  auto is_member = [this](store::CustomerId c) { return std::binary_search(members_.begin(), members_.end(), c); };
  while (phase_ == Phase::kSegments && out->size() < sources_.piece_bytes) {
    if (segment_ >= segments.size()) {
      phase_ = Phase::kMemTable;
      break;
    }
    const store::SegmentReader& seg = *segments[segment_];
    if (block_ >= seg.block_count()) {
      ++segment_;
      block_ = 0;
      continue;
    }
    const auto& entry = seg.block(block_);
    const size_t b = block_++;
    // Blocks are clustered by customer: skip those whose range holds no member.
    auto it = std::lower_bound(members_.begin(), members_.end(), entry.first_customer);
    if (it == members_.end() || *it > entry.last_customer) continue;
    store::FixedColumns cols;
    RETURN_IF_ERROR(seg.ReadBlock(b, store::segment::kAllColumns, &cols));
    store::Interaction row;
    for (size_t i = 0; i < cols.rows; ++i) {
      if (!is_member(cols.customer[i]) || cols.seq[i] >= snap_seq) continue;
      seg.MaterializeRow(cols, i, &row);
      WriteInteraction(row, out);
    }
  }
  if (phase_ == Phase::kMemTable) {
    if (mem_next_ == 0 && mem_rows_.empty()) {
      // The memtable is bounded by the store's flush size; keep only this customer's rows.
      for (auto& r : snapshot_->MemTableRows()) {
        if (is_member(r.customer)) mem_rows_.push_back(std::move(r));
      }
    }
    while (mem_next_ < mem_rows_.size() && out->size() < sources_.piece_bytes) WriteInteraction(mem_rows_[mem_next_++], out);
    if (mem_next_ >= mem_rows_.size()) {
      mem_rows_.clear();
      mem_rows_.shrink_to_fit();
      phase_ = Phase::kTail;
    }
  }
  return Status::Ok();
}

Result<std::string> CustomerExporter::Next() {
  std::string out;
  out.reserve(sources_.piece_bytes + 4096);
  if (phase_ == Phase::kHead) {
    out = std::move(head_);
    head_ = {};
    phase_ = Phase::kSegments;
  }
  if (phase_ == Phase::kSegments || phase_ == Phase::kMemTable) RETURN_IF_ERROR(FillInteractions(&out));
  if (phase_ == Phase::kTail && out.size() < sources_.piece_bytes) {
    out += "],\"survey_answers\":[";
    for (size_t i = 0; i < survey_answers_.size(); ++i) {
      if (i) out += ',';
      out += survey_answers_[i];
    }
    out += "],\"counts\":{\"interactions\":";
    out += std::to_string(interactions_);
    out += ",\"survey_answers\":";
    out += std::to_string(survey_answers_.size());
    out += ",\"rescues\":";
    out += std::to_string(rescues_);
    out += ",\"actions\":";
    out += std::to_string(actions_);
    out += ",\"surveys\":";
    out += std::to_string(surveys_);
    out += "}}\n";
    phase_ = Phase::kDone;
  }
  return out;
}

std::function<Result<std::function<Result<std::string>()>>(const std::string&)> ExportFunction(
    Hub* hub, value::ValueService* value) {
  return [hub, value](const std::string& id) -> Result<std::function<Result<std::string>()>> {
    ExportSources src;
    src.hub = hub;
    src.value = value;
    ASSIGN_OR_RETURN(auto opened, CustomerExporter::Open(src, id));
    std::shared_ptr<CustomerExporter> exporter(std::move(opened));
    return std::function<Result<std::string>()>([exporter] { return exporter->Next(); });
  };
}

namespace {

struct ExportFlags {
  std::string data;
  std::string customer;
  std::string out;
  bool value = true;
};

int RunExport(const ExportFlags& f) {
  HubOptions ho;
  ho.data_dir = f.data;
  ho.create_keys_if_none = false;
  ho.store.background_work = false;
  auto hub = Hub::Open(ho);
  if (!hub.ok()) {
    std::fprintf(stderr, "cairn export: %s\n", hub.status().ToString().c_str());
    return 1;
  }
  Hub* h = hub->get();
  std::unique_ptr<value::ValueEngine> value_engine;
  ExportSources src;
  src.hub = h;
  if (f.value) {
    // Value needs a fit over everyone (as `cairn value` does); without purchases it says why.
    value_engine = MakeValueEngine(h);
    auto fit = value_engine->Fit();
    if (!fit.ok()) std::fprintf(stderr, "cairn export: no value section: %s\n", fit.status().ToString().c_str());
    src.value = value_engine.get();
  }
  Status s;
  auto exporter = CustomerExporter::Open(src, f.customer);
  if (!exporter.ok()) {
    s = exporter.status();
  } else {
    io::Env* env = io::Env::Posix();
    std::unique_ptr<io::WritableFile> file;
    const std::string tmp = f.out + ".tmp";
    if (!f.out.empty()) {
      auto opened = env->NewWritableFile(tmp);
      if (!opened.ok()) s = opened.status();
      else file = std::move(*opened);
    }
    while (s.ok()) {
      auto piece = (*exporter)->Next();
      if (!piece.ok()) {
        s = piece.status();
        break;
      }
      if (piece->empty()) break;
      if (file) {
        s = file->Append(*piece);
      } else if (std::fwrite(piece->data(), 1, piece->size(), stdout) != piece->size()) {
        s = IOError("stdout: write failed");
      }
    }
    if (file) {
      if (s.ok()) s = file->Sync();
      Status c = file->Close();
      if (s.ok()) s = c;
      if (s.ok()) s = env->RenameFile(tmp, f.out);
      if (!s.ok()) (void)env->RemoveFile(tmp);
    } else {
      std::fflush(stdout);
    }
    if (s.ok()) {
      std::fprintf(stderr, "cairn export: c:%llu: %llu interactions%s%s\n",
                   static_cast<unsigned long long>((*exporter)->customer()),
                   static_cast<unsigned long long>((*exporter)->interactions_written()), f.out.empty() ? "" : " → ",
                   f.out.c_str());
    }
  }
  if (value_engine) value_engine->Stop();
  Status c = h->Close();
  if (s.ok()) s = c;
  if (!s.ok()) {
    std::fprintf(stderr, "cairn export: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void AddExportCommand(CLI::App* cli) {
  auto flags = std::make_shared<ExportFlags>();
  auto* cmd = cli->add_subcommand("export", "Export one customer's data as a JSON bundle (docs/export.md)");
  cmd->add_option("--data", flags->data, "data directory (not in use by a server)")->required();
  cmd->add_option("--customer", flags->customer, "any of the customer's ids (userId, email, anonymousId, c:N)")->required();
  cmd->add_option("--out", flags->out, "output file (default: stdout); written whole or not at all");
  cmd->add_flag("!--no-value", flags->value, "skip the value section (no model fit)");
  cmd->final_callback([flags] {
    int rc = RunExport(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
    throw CLI::Success();
  });
}

}  // namespace cairn::app
