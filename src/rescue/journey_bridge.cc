#include "rescue/journey_bridge.h"

#include <date/date.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>

#include "base/json_string.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "rescue/segment_text.h"

namespace cairn::rescue {

std::vector<PathConfig> PathsFromMap(const journey::JourneyMap& map) {
  std::vector<PathConfig> out;
  for (const auto& p : map.rescue_paths()) {
    PathConfig c;
    c.name = p.name;
    c.action = p.action;
    c.channel = p.channel;
    c.purpose = p.purpose;
    c.cost = p.cost;
    c.prior_p_rescue = p.p_with;
    c.prior_p_none = p.p_without;
    c.prior_strength = p.prior_strength;
    c.outcome_window_ms = p.outcome_window_ms;
    c.outcome_events = p.outcome_events;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<actions::ChannelConstraint> ConstraintsFromMap(const journey::JourneyMap& map) {
  std::vector<actions::ChannelConstraint> out;
  for (const auto& c : map.critical()) {
    actions::ChannelConstraint cc;
    cc.name = c.name;
    for (const auto& t : c.tiers) cc.tiers.push_back({t.name, t.min_value, t.channels});
    out.push_back(std::move(cc));
  }
  return out;
}

JourneyBridge::JourneyBridge(RescueEngine* engine, actions::Dispatcher* dispatcher, BridgeOptions options)
    : engine_(engine), dispatcher_(dispatcher), options_(std::move(options)) {
  worker_ = std::thread([this] {
    NameThisThread("rescue-bridge");
    WorkLoop();
  });
}

JourneyBridge::~JourneyBridge() {
  Flush();
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void JourneyBridge::Enqueue(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    work_.push_back(std::move(work));
  }
  wake_.notify_all();
}

void JourneyBridge::Flush() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return work_.empty() && busy_ == 0; });
}

void JourneyBridge::WorkLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || !work_.empty(); });
    if (work_.empty()) return;  // stop_ and drained
    auto item = std::move(work_.front());
    work_.pop_front();
    ++busy_;
    lock.unlock();
    item();
    lock.lock();
    --busy_;
    if (work_.empty() && busy_ == 0) idle_.notify_all();
  }
}

Status JourneyBridge::SetMap(const journey::JourneyMap& map) {
  RETURN_IF_ERROR(engine_->SetPaths(PathsFromMap(map)));
  if (dispatcher_ != nullptr) dispatcher_->SetConstraints(ConstraintsFromMap(map));
  std::lock_guard lock(mu_);
  post_purchase_ = map.post_purchase();
  outbound_ = map.outbound_events();
  outbound_.emplace_back(kTouchEvent);
  return Status::Ok();
}

void JourneyBridge::OnSignal(const journey::Signal& s) {
  {
    std::lock_guard lock(mu_);
    signals_.push_back(s);
    if (signals_.size() > 1) return;  // the DecideQueued already queued will take it
  }
  Enqueue([this] { DecideQueued(); });
}

void JourneyBridge::DecideQueued() {
  // At most kMaxBurst per transaction, so API reads of the queue wait for one short commit at
  // most; the rest is decided by the next item.
  constexpr size_t kMaxBurst = 256;
  std::vector<journey::Signal> taken;
  {
    std::lock_guard lock(mu_);
    if (signals_.size() <= kMaxBurst) {
      taken.swap(signals_);
    } else {
      taken.assign(std::make_move_iterator(signals_.begin()), std::make_move_iterator(signals_.begin() + kMaxBurst));
      signals_.erase(signals_.begin(), signals_.begin() + kMaxBurst);
      work_.push_back([this] { DecideQueued(); });
      wake_.notify_all();
    }
  }
  std::vector<DerailmentSignal> signals;
  signals.reserve(taken.size());
  for (const auto& s : taken)
    signals.push_back({s.customer, s.path, s.reasons, s.value_at_stake, s.persona, s.value_tier, s.at_ms});
  auto decisions = engine_->DecideAll(signals);
  for (size_t i = 0; i < decisions.size(); ++i) {
    auto& d = decisions[i];
    if (!d.ok()) {
      LOG_EVERY_N_SEC(kWarn, 10, "rescue: deciding on a '{}' signal failed: {}", signals[i].path, d.status().ToString());
      continue;
    }
    if (options_.auto_act && d->status == RescueStatus::kOpen) {
      auto acted = engine_->Act(d->id, "auto_act");
      if (!acted.ok()) LOG_EVERY_N_SEC(kWarn, 10, "rescue: auto-act on {} failed: {}", d->id, acted.status().ToString());
    }
  }
}

void JourneyBridge::OnInteraction(store::CustomerId canonical, std::string_view event, int64_t ts_ms, double revenue,
                                  bool is_order) {
  const journey::Touch one{canonical, event, ts_ms, revenue, is_order};
  OnInteractions({&one, 1});
}

void JourneyBridge::OnInteractions(std::span<const journey::Touch> touches) {
  std::vector<RescueEngine::Observed> observed;  // the customers' own interactions, for outcomes
  observed.reserve(touches.size());
  std::vector<std::function<void()>> work;  // post-purchase prompts and answers, in order
  const bool post_purchase = Webhooks() && options_.post_purchase;
  {
    std::lock_guard lock(mu_);
    for (const journey::Touch& t : touches) {
      if (std::find(outbound_.begin(), outbound_.end(), t.event) != outbound_.end()) continue;  // ours
      observed.push_back({t.customer, t.event, t.timestamp_ms});
      if (t.event == "Survey Responded") {
        auto it = prompted_.find(t.customer);
        if (it != prompted_.end() && t.timestamp_ms >= it->second) {
          prompted_.erase(it);
          if (post_purchase) work.push_back([this, c = t.customer, ts = t.timestamp_ms] { RoutePostPurchaseAnswer(c, ts); });
          continue;
        }
      }
      const auto& after = post_purchase_.after_events;
      if (post_purchase && t.order && std::find(after.begin(), after.end(), t.event) != after.end()) {
        // Remembered at once, so an answer arriving before the worker runs still routes.
        prompted_[t.customer] = t.timestamp_ms;
        work.push_back([this, c = t.customer, e = std::string(t.event), ts = t.timestamp_ms, revenue = t.revenue] {
          PromptAfterOrder(c, e, ts, revenue);
        });
      }
    }
  }
  // Cheap (nothing unless some decision waits, then a hash lookup each): stays on this thread so an
  // outcome is matched in interaction order.
  engine_->ObserveInteractions(observed);
  for (auto& w : work) Enqueue(std::move(w));
}

void JourneyBridge::PromptAfterOrder(store::CustomerId canonical, std::string event, int64_t ts_ms, double revenue) {
  journey::PostPurchase pp;
  {
    std::lock_guard lock(mu_);
    pp = post_purchase_;
  }
  CustomerInfo info = options_.describe(canonical);
  actions::ActionRequest r = BaseRequest(canonical, info);
  if (r.customer_key.empty()) return;  // no identity to address the prompt to
  r.name = "post_purchase.prompt";
  r.purpose = "service";  // asking how the purchase went is part of serving it
  r.channel = pp.channel;
  r.source_ref = fmt::format("order:{}:{}", canonical, ts_ms);
  r.not_before_ms = ts_ms + pp.delay_ms;
  r.payload_json = fmt::format(R"({{"order":{{"event":{},"at":{},"revenue":{}}},"ask":"happy_or_unhappy"}})",
                               Quoted(event), Quoted(IsoMillis(ts_ms)), revenue);
  auto submitted = dispatcher_->Submit(std::move(r));
  if (!submitted.ok()) LOG_EVERY_N_SEC(kWarn, 10, "post-purchase: prompt not queued: {}", submitted.status().ToString());
}

void JourneyBridge::RoutePostPurchaseAnswer(store::CustomerId customer, int64_t ts_ms) {
  if (!options_.read) return;
  auto interactions = options_.read(customer);
  if (!interactions.ok()) {
    LOG_EVERY_N_SEC(kWarn, 10, "post-purchase: reading the survey answer failed: {}", interactions.status().ToString());
    return;
  }
  // The answer: the customer's Survey Responded at ts_ms (the last one if several).
  std::optional<int64_t> nps;
  simdjson::dom::parser parser;
  for (const auto& in : *interactions) {
    if (in.event != "Survey Responded" || in.timestamp_ms != ts_ms) continue;
    simdjson::dom::element doc;
    if (parser.parse(in.payload).get(doc) != simdjson::SUCCESS) continue;
    int64_t v;
    double dv;
    if (doc["properties"]["nps"].get_int64().get(v) == simdjson::SUCCESS) nps = v;
    else if (doc["properties"]["nps"].get_double().get(dv) == simdjson::SUCCESS) nps = static_cast<int64_t>(dv);
  }
  if (!nps) return;  // a CSAT-only answer or no score: nothing to route
  journey::PostPurchase pp;
  {
    std::lock_guard lock(mu_);
    pp = post_purchase_;
  }
  CustomerInfo info = options_.describe(customer);
  actions::ActionRequest r = BaseRequest(customer, info);
  if (r.customer_key.empty()) return;
  if (*nps >= pp.happy_min_nps) {
    r.name = "post_purchase." + pp.happy_action;
    r.purpose = "marketing";  // a review / referral ask is promotion: it needs marketing consent
  } else if (*nps <= pp.unhappy_max_nps) {
    r.name = "post_purchase." + pp.unhappy_action;
    r.purpose = "service";
    r.expected_gain = 1e9;  // helping an unhappy customer outranks promotions under the cap
  } else {
    return;  // passive: no follow-up
  }
  r.channel = pp.channel;
  r.source_ref = fmt::format("survey:{}:{}", customer, ts_ms);
  r.payload_json = fmt::format(R"({{"nps":{},"answeredAt":{}}})", *nps, Quoted(IsoMillis(ts_ms)));
  auto submitted = dispatcher_->Submit(std::move(r));
  if (!submitted.ok()) LOG_EVERY_N_SEC(kWarn, 10, "post-purchase: follow-up not queued: {}", submitted.status().ToString());
}

actions::ActionRequest JourneyBridge::BaseRequest(store::CustomerId customer, const CustomerInfo& info) const {
  actions::ActionRequest r;
  r.customer = customer;
  for (const auto& id : info.ids) {
    if (id.starts_with("userId:") || id.starts_with("anonymousId:")) {
      r.customer_key = id;
      break;
    }
  }
  r.time_zone = info.time_zone;
  r.customer_value = info.value;
  return r;
}

Result<std::string> JourneyBridge::Dispatch(const Decision& d, const PathConfig& path) {
  if (dispatcher_ == nullptr) return FailedPrecondition("actions are not configured (actions.webhook.url)");
  // A path whose action is an internal kind (open_case) goes through the dispatcher under that
  // name; any other needs a webhook: without one the team acts by hand (no reference).
  const bool internal = dispatcher_->IsInternal(path.action);
  if (!internal && !dispatcher_->CanSend("rescue." + d.path)) return std::string();
  CustomerInfo info = options_.describe(d.customer);
  actions::ActionRequest r = BaseRequest(d.customer, info);
  if (r.customer_key.empty()) {
    return FailedPrecondition(fmt::format("customer c:{} has no userId or anonymousId to address the action to", d.customer));
  }
  r.name = internal ? path.action : "rescue." + d.path;
  r.purpose = path.purpose;
  r.channel = path.channel;
  r.expected_gain = d.expected_gain;
  r.source_ref = fmt::format("rescue:{}", d.id);
  std::string reasons = "[";
  for (size_t i = 0; i < d.reasons.size(); ++i) {
    if (i) reasons += ',';
    AppendJsonString(&reasons, d.reasons[i]);
  }
  reasons += ']';
  r.payload_json = fmt::format(
      R"({{"rescue":{},"path":{},"action":{},"reasons":{},"valueAtStake":{},"expectedGain":{},"persona":{}}})", d.id,
      Quoted(d.path), Quoted(path.action), reasons, d.value_at_stake, d.expected_gain, Quoted(d.persona));
  ASSIGN_OR_RETURN(auto a, dispatcher_->Submit(std::move(r)));
  return fmt::format("action:{}", a.id);
}

}  // namespace cairn::rescue
