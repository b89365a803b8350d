#include "app/cases_wiring.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <future>

#include "app/hub.h"
#include "app/yaml_fields.h"
#include "base/json_string.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "journey/engine.h"
#include "value/value_service.h"

namespace cairn::app {

namespace {

using yaml_fields::Bad;
using yaml_fields::Scalar;

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string IsoMillis(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ((ms % 1000) + 1000) % 1000);
}

// userId first (it addresses the person), else the anonymous id; "" when the customer has neither.
std::string CustomerKey(const ingest::IdentityResolver& identity, uint64_t customer) {
  std::string anon;
  for (const auto& k : identity.Keys(identity.Find(customer))) {
    if (k.starts_with("u:")) return k;
    if (k.starts_with("a:") && anon.empty()) anon = k;
  }
  return anon;
}

std::string_view EventName(const cases::CaseEvent& e) {
  if (!e.from) return "Case Opened";
  if (e.c.status == cases::CaseStatus::kResolved) return "Case Resolved";
  return "Case Updated";
}


}  // namespace

Status ApplyCasesSection(const YAML::Node& node, CasesWiringOptions* out) {
  if (!node.IsMap()) return Bad("cases", node, "expected a mapping");
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>(), key = "cases." + name;
    const YAML::Node& v = kv.second;
    if (name == "csat_request") {
      RETURN_IF_ERROR(Scalar(v, key, &out->csat_request));
    } else if (name == "csat_purpose") {
      RETURN_IF_ERROR(Scalar(v, key, &out->csat_purpose));
      if (out->csat_purpose.empty()) return Bad(key, v, "must not be empty");
    } else if (name == "escalation_actions") {
      RETURN_IF_ERROR(Scalar(v, key, &out->escalation_actions));
    } else if (name == "escalation_purpose" || name == "escalation_channel") {
      std::string* field = name == "escalation_purpose" ? &out->escalation_purpose : &out->escalation_channel;
      RETURN_IF_ERROR(Scalar(v, key, field));
      if (field->empty()) return Bad(key, v, "must not be empty");
    } else if (name == "value_tiers") {
      if (!v.IsMap()) return Bad(key, v, "expected a mapping {high: n, vip: n}");
      for (const auto& t : v) {
        const std::string tier = t.first.as<std::string>(), tkey = key + "." + tier;
        if (tier == "high") RETURN_IF_ERROR(Scalar(t.second, tkey, &out->value_tiers.high));
        else if (tier == "vip") RETURN_IF_ERROR(Scalar(t.second, tkey, &out->value_tiers.vip));
        else return Bad(tkey, t.first, "unknown key (expected high, vip)");
      }
      if (!(out->value_tiers.high >= 0) || !(out->value_tiers.vip >= out->value_tiers.high))
        return Bad(key, v, "need 0 <= high <= vip");
    } else {
      return Bad(key, kv.first, "unknown key");
    }
  }
  return Status::Ok();
}

void SetSurveyDimensions(Hub* hub, const value::ValueOracle* personas) {
  std::function<std::string(uint64_t)> persona_of, phase_of;
  if (personas != nullptr) {
    persona_of = [personas](uint64_t customer) -> std::string {
      auto p = personas->PersonaOf(customer);  // canonicalises merges itself
      return p ? p->name : std::string();
    };
  }
  if (hub->journey() != nullptr) {
    phase_of = [hub](uint64_t customer) -> std::string {
      journey::CustomerState state;
      if (!hub->journey()->GetState(hub->identity()->Find(customer), &state)) return "";
      const auto& stages = hub->journey()->map()->view(journey::View::kPhase).stages;
      const size_t at = state.stage[static_cast<int>(journey::View::kPhase)];
      return at < stages.size() ? stages[at].name : std::string();
    };
  }
  hub->cases()->SetCustomerDimensions(std::move(persona_of), std::move(phase_of));
}

Result<std::string> CaseEventMessage(const cases::CaseEvent& e, const std::string& customer_key) {
  std::string id_field;
  std::string_view value;
  if (customer_key.starts_with("u:")) id_field = "userId";
  else if (customer_key.starts_with("a:")) id_field = "anonymousId";
  else return InvalidArgument(fmt::format("customer_key: need u:… or a:…, got '{}'", customer_key));
  value = std::string_view(customer_key).substr(2);
  const cases::Case& c = e.c;
  std::string props = fmt::format(R"({{"caseId":{},"status":{},"from":{},"origin":{},"category":{},"severity":{},)"
                                  R"("tier":{},"channel":{},"actor":{},"direction":"outbound")",
                                  c.id, Quoted(cases::Name(c.status)), e.from ? Quoted(cases::Name(*e.from)) : "null",
                                  Quoted(c.origin), Quoted(c.category), Quoted(cases::Name(c.severity)),
                                  Quoted(cases::Name(c.tier)), Quoted(c.channel), Quoted(e.actor));
  if (c.status == cases::CaseStatus::kResolved) {
    props += fmt::format(R"(,"well":{},"slaBreached":{},"reopenCount":{})", e.resolved_well() ? "true" : "false",
                         c.sla.resolution_breached || c.sla.first_response_breached ? "true" : "false", c.reopen_count);
    if (c.resolution)
      props += fmt::format(R"(,"resolution":{{"type":{},"amount":{}}})", Quoted(cases::Name(c.resolution->type)),
                           c.resolution->amount);
  }
  props += '}';
  std::string msg = fmt::format(R"({{"type":"track","event":{},"{}":{},"messageId":"cairn-case-{}-v{}","timestamp":{},)"
                                R"("properties":{})",
                                Quoted(EventName(e)), id_field, Quoted(value), c.id, c.version, Quoted(IsoMillis(e.at_ms)),
                                props);
  if (!c.channel.empty()) msg += fmt::format(R"(,"context":{{"channel":{}}})", Quoted(c.channel));
  msg += '}';
  return msg;
}

std::string EscalationPayload(const cases::OutboxItem& item) {
  const cases::Case& c = item.event.c;
  const cases::EscalationRecord& e = *item.escalation;
  return fmt::format(R"({{"caseId":{},"customer":"c:{}","level":{},"action":{},"reason":{},"agent":{},"escalatedAt":{},)"
                     R"("case":{{"status":{},"category":{},"severity":{},"tier":{},"channel":{},"assignee":{},"version":{}}}}})",
                     c.id, c.customer, Quoted(cases::Name(e.level)), Quoted(e.action), Quoted(e.reason),
                     e.to_agent.empty() ? "null" : Quoted(e.to_agent), Quoted(IsoMillis(e.at_ms)),
                     Quoted(cases::Name(c.status)), Quoted(c.category), Quoted(cases::Name(c.severity)),
                     Quoted(cases::Name(c.tier)), Quoted(c.channel), Quoted(c.assignee), c.version);
}

Result<std::unique_ptr<CasesWiring>> CasesWiring::Start(Hub* hub, CasesWiringOptions options) {
  if (hub == nullptr || hub->cases() == nullptr || hub->pipeline() == nullptr)
    return InvalidArgument("cases wiring: the hub's case engine and ingest pipeline are required");
  std::unique_ptr<CasesWiring> w(new CasesWiring(hub, std::move(options)));
  if (const char* d = std::getenv("CAIRN_TEST_CASE_EVENT_DELAY_MS")) w->test_delay_ms_ = std::atoll(d);
  CasesWiring* self = w.get();
  // The internal action first: an outbox row may ask for nothing of it, but a rescue action
  // pending from the last run may run as soon as the dispatcher thread looks.
  if (hub->rescue() != nullptr && hub->rescue()->dispatcher() != nullptr) {
    hub->rescue()->dispatcher()->RegisterInternal("open_case", [self](const actions::ActionRecord& a) {
      return self->OpenCaseAction(a.request.payload_json, a.id, a.request.customer, a.request.channel, a.request.source_ref);
    });
  }
  hub->cases()->SetOutboxListener([self] {
    {
      std::lock_guard lock(self->mu_);
      self->kicked_ = true;
    }
    self->cv_.notify_all();
  });
  w->thread_ = std::thread([self] {
    NameThisThread("cases-outbox");
    self->Loop();
  });
  return w;
}

CasesWiring::~CasesWiring() { Stop(); }

void CasesWiring::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  hub_->cases()->SetOutboxListener(nullptr);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool CasesWiring::Flush(int64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto pending = hub_->cases()->PendingOutbox(1);
    if (pending.ok() && pending->empty()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void CasesWiring::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    kicked_ = false;
    lock.unlock();
    bool retry = false;
    size_t handed = 0;
    auto items = hub_->cases()->PendingOutbox(64);
    if (!items.ok()) {
      LOG_EVERY_N_SEC(kWarn, 10, "cases: reading the outbox: {}", items.status().ToString());
      retry = true;
    } else {
      for (const cases::OutboxItem& item : *items) {
        if (test_delay_ms_ > 0) {
          std::unique_lock held(mu_);
          if (cv_.wait_for(held, std::chrono::milliseconds(test_delay_ms_), [&] { return stop_; })) break;
        } else if (std::lock_guard check(mu_); stop_) {
          break;
        }
        if (HandOn(item) == Outcome::kRetry) {
          retry = true;
          break;
        }
        // Acked one by one: a crash re-sends at most the row being handed on.
        Status acked = hub_->cases()->AckOutbox({item.id});
        if (!acked.ok()) {
          LOG_EVERY_N_SEC(kWarn, 10, "cases: acking outbox row {}: {}", item.id, acked.ToString());
          retry = true;
          break;
        }
        ++handed;
      }
    }
    lock.lock();
    if (stop_) break;
    if (!retry && handed == 64) continue;  // a full page: there may be more
    // Wait for new rows; after a failure retry within a second anyway.
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || kicked_; });
  }
}

CasesWiring::Outcome CasesWiring::HandOn(const cases::OutboxItem& item) {
  if (item.escalation) return Escalate(item);
  return Record(item.event);
}

CasesWiring::Outcome CasesWiring::Record(const cases::CaseEvent& e) {
  const std::string key = CustomerKey(*hub_->identity(), e.c.customer);
  if (key.empty()) {
    LOG_EVERY_N_SEC(kWarn, 10, "cases: case {} not on the timeline: customer c:{} has no userId or anonymousId", e.c.id,
                    e.c.customer);
    return Outcome::kDone;
  }
  auto msg = CaseEventMessage(e, key);
  if (!msg.ok()) return Outcome::kDone;
  ingest::IngestRequest req;
  req.dialect = ingest::Dialect::kSegmentSingle;
  req.single_type = store::MessageType::kTrack;
  req.body = std::move(*msg);
  req.received_at_ms = e.at_ms;
  req.historical = true;  // a replayed or imported complaint may open its case at an old instant
  req.trusted_source = kCasesSource;
  // Wait until the event is durable (or refused): only then may its outbox row go.
  auto done = std::make_shared<std::promise<Result<ingest::IngestOutcome>>>();
  auto answer = done->get_future();
  hub_->pipeline()->Ingest(std::move(req), [done](Result<ingest::IngestOutcome> outcome) { done->set_value(std::move(outcome)); });
  if (answer.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    LOG_EVERY_N_SEC(kWarn, 10, "cases: event of case {} not yet stored after 30 s; trying again", e.c.id);
    return Outcome::kRetry;  // a late success makes the retry a duplicate
  }
  Result<ingest::IngestOutcome> outcome = answer.get();
  if (!outcome.ok()) {
    LOG_EVERY_N_SEC(kWarn, 10, "cases: event of case {} not recorded (will retry): {}", e.c.id, outcome.status().ToString());
    return outcome.status().Is(Code::kInvalidArgument) ? Outcome::kDone : Outcome::kRetry;
  }
  if (!outcome->rejected.empty()) {
    LOG_EVERY_N_SEC(kWarn, 10, "cases: event of case {} rejected: {}", e.c.id, outcome->rejected[0].error);
    return Outcome::kDone;  // the same message would be rejected again
  }
  if (e.c.status == cases::CaseStatus::kResolved && options_.csat_request) return RequestCsat(e, key);
  return Outcome::kDone;
}

namespace {

// Submit's answer as an outbox outcome: refusals that would repeat (bad request, nowhere to
// send) are logged and done; anything else (the database busy, I/O) is retried.
bool Permanent(const Status& s) { return s.Is(Code::kInvalidArgument) || s.Is(Code::kFailedPrecondition); }

}  // namespace

CasesWiring::Outcome CasesWiring::RequestCsat(const cases::CaseEvent& e, const std::string& key) {
  actions::Dispatcher* d = hub_->rescue() ? hub_->rescue()->dispatcher() : nullptr;
  if (d == nullptr || !d->CanSend("csat_request")) return Outcome::kDone;  // no webhook: nowhere to send it
  const cases::Case& c = e.c;
  actions::ActionRequest r;
  r.customer = c.customer;
  r.customer_key = (key.starts_with("u:") ? "userId:" : "anonymousId:") + key.substr(2);
  r.name = "csat_request";
  r.purpose = options_.csat_purpose;
  r.channel = c.channel.empty() ? "email" : c.channel;
  // One request per resolution: a case reopened and resolved again asks again.
  r.source_ref = fmt::format("case:{}:v{}", c.id, c.version);
  r.payload_json = fmt::format(R"({{"caseId":{},"customer":"c:{}","channel":{},"category":{},"resolvedAt":{})", c.id,
                               c.customer, Quoted(r.channel), Quoted(c.category), Quoted(IsoMillis(c.resolved_at_ms)));
  if (c.resolution)
    r.payload_json += fmt::format(R"(,"resolution":{{"type":{},"amount":{}}})", Quoted(cases::Name(c.resolution->type)),
                                  c.resolution->amount);
  r.payload_json += R"(,"answerWith":{"event":"Survey Responded","properties":{"csat":"1-5","caseId":)" +
                    std::to_string(c.id) + "}}}";
  auto submitted = d->Submit(std::move(r));
  if (submitted.ok()) return Outcome::kDone;
  LOG_EVERY_N_SEC(kWarn, 10, "cases: CSAT request for case {} not queued: {}", c.id, submitted.status().ToString());
  return Permanent(submitted.status()) ? Outcome::kDone : Outcome::kRetry;
}

CasesWiring::Outcome CasesWiring::Escalate(const cases::OutboxItem& item) {
  if (!options_.escalation_actions) return Outcome::kDone;
  actions::Dispatcher* d = hub_->rescue() ? hub_->rescue()->dispatcher() : nullptr;
  if (d == nullptr || !d->CanSend("case_escalation")) return Outcome::kDone;  // recorded on the case only
  const cases::Case& c = item.event.c;
  const cases::EscalationRecord& e = *item.escalation;
  const std::string key = CustomerKey(*hub_->identity(), c.customer);
  actions::ActionRequest r;
  r.customer = c.customer;
  r.customer_key = key.empty() ? fmt::format("customerId:c:{}", c.customer)
                               : (key.starts_with("u:") ? "userId:" : "anonymousId:") + key.substr(2);
  r.name = "case_escalation";
  // A notice to the team about the customer, not a message to them (docs/cases.md "Escalation").
  r.audience = actions::Audience::kStaff;
  r.purpose = options_.escalation_purpose;
  r.channel = options_.escalation_channel;
  // Once per step: the case version of the step and its level and action name it.
  r.source_ref = fmt::format("case:{}:v{}:escalate:{}:{}", c.id, c.version, cases::Name(e.level), e.action);
  r.payload_json = EscalationPayload(item);
  auto submitted = d->Submit(std::move(r));
  if (submitted.ok()) return Outcome::kDone;
  LOG_EVERY_N_SEC(kWarn, 10, "cases: escalation notice for case {} not queued: {}", c.id, submitted.status().ToString());
  return Permanent(submitted.status()) ? Outcome::kDone : Outcome::kRetry;
}

Result<std::string> CasesWiring::OpenCaseAction(const std::string& payload_json, int64_t action_id, uint64_t customer,
                                                const std::string& channel, const std::string& source_ref) {
  // The rescue's payload: {"rescue":id,"path":…,"action":…,"reasons":[…],"valueAtStake":…,…}.
  int64_t rescue_id = 0;
  std::string path = "angry", reasons;
  double at_stake = 0;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(payload_json).get(doc) == simdjson::SUCCESS) {
    if (doc["rescue"].get_int64().get(rescue_id) != simdjson::SUCCESS) rescue_id = 0;
    std::string_view p;
    if (doc["path"].get_string().get(p) == simdjson::SUCCESS) path = std::string(p);
    if (doc["valueAtStake"].get_double().get(at_stake) != simdjson::SUCCESS) at_stake = 0;
    simdjson::dom::array list;
    if (doc["reasons"].get_array().get(list) == simdjson::SUCCESS) {
      for (auto item : list) {
        std::string_view s;
        if (item.get_string().get(s) != simdjson::SUCCESS) continue;
        if (!reasons.empty()) reasons += "; ";
        reasons += s;
      }
    }
  }
  cases::NewCase nc;
  nc.customer_id = customer;
  nc.channel = channel;
  nc.category = "rescue." + path;
  nc.description = fmt::format("Opened by rescue {} ({} path, {:.2f} at stake): {}", source_ref, path, at_stake,
                               reasons.empty() ? "no reasons given" : reasons);
  nc.severity = cases::Severity::kHigh;
  nc.origin = "journey";
  nc.actor = "rescue";
  nc.message_id = fmt::format("cairn-action-{}", action_id);
  // Once per action: its id with bit 61 set is the case's idempotence key (a Complaint Filed
  // uses its plain store seq, a survey answer bit 62), so a handler run again after a crash
  // finds the case it opened.
  nc.source_seq = static_cast<uint64_t>(action_id) | (1ULL << 61);
  ASSIGN_OR_RETURN(cases::Case c, hub_->cases()->OpenCase(nc));
  const std::string ref = fmt::format("case:{}", c.id);
  if (rescue_id != 0 && hub_->rescue() != nullptr) {
    Status s = hub_->rescue()->engine()->AppendActionRef(rescue_id, ref);
    if (!s.ok()) LOG_WARN("cases: case {} not recorded on rescue {}: {}", c.id, rescue_id, s.ToString());
  }
  return ref;
}

}  // namespace cairn::app
