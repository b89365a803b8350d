#include "rescue/rescue_stack.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "io/env.h"
#include "rescue/reachability.h"

namespace cairn::rescue {

Result<std::unique_ptr<RescueStack>> RescueStack::Open(const RescueConfig& config, RescueDeps deps) {
  if (deps.journey == nullptr || deps.ingestor == nullptr || !deps.describe || !deps.read) {
    return InvalidArgument("rescue: journey engine, ingestor, describe and read are required");
  }
  std::unique_ptr<RescueStack> s(new RescueStack());
  s->clock_ = deps.clock ? deps.clock : Clock::Real();
  const std::string dir = deps.data_dir;

  {  // always: internal actions (open_case) need no webhook url; webhooks go out only with one
    if (deps.consent == nullptr) s->consent_ = std::make_unique<actions::RecordedConsent>(deps.read);
    TouchRetryOptions touch_options;
    touch_options.metrics = deps.metrics;
    s->touches_ = std::make_unique<IngestTouchRecorder>(deps.ingestor, touch_options);
    actions::DispatcherOptions d;
    d.path = io::JoinPath(dir, "actions.db");
    d.endpoint = config.webhook;
    d.retry = config.retry;
    d.consent_policy = config.consent;
    d.quiet = config.quiet;
    d.cap = config.cap;
    d.consent = deps.consent ? deps.consent : s->consent_.get();
    d.touches = s->touches_.get();
    d.clock = deps.clock;
    d.metrics = deps.metrics;
    ASSIGN_OR_RETURN(s->dispatcher_, actions::Dispatcher::Open(std::move(d)));
  }

  BridgeOptions bo;
  bo.auto_act = config.auto_act;
  bo.post_purchase = config.post_purchase;
  bo.describe = deps.describe;
  bo.read = deps.read;

  RescueOptions ro;
  ro.path = io::JoinPath(dir, "rescue.db");
  ro.budget_per_period = config.budget_per_period;
  ro.budget_period_ms = config.budget_period_ms;
  ro.describe_customer = [describe = deps.describe](store::CustomerId c) { return describe(c).ids; };
  // Internal actions (open_case) reach staff, not the customer: never unreachable.
  ro.unreachable = [dispatcher = s->dispatcher_.get()](const PathConfig& p, const std::vector<std::string>& ids) {
    if (dispatcher != nullptr && dispatcher->IsInternal(p.action)) return std::string();
    return UnreachableReason(p.channel, ids);
  };
  ro.clock = deps.clock;
  ro.metrics = deps.metrics;
  RescueStack* self = s.get();
  if (s->dispatcher_) {
    ro.dispatch = [self](const Decision& d, const PathConfig& p) { return self->bridge_->Dispatch(d, p); };
  }
  ASSIGN_OR_RETURN(s->engine_, RescueEngine::Open(std::move(ro)));
  s->bridge_ = std::make_unique<JourneyBridge>(s->engine_.get(), s->dispatcher_.get(), std::move(bo));
  RETURN_IF_ERROR(s->bridge_->SetMap(*deps.journey->map()).WithContext("journey map rescue paths"));
  deps.journey->AddMapListener([self](const std::shared_ptr<const journey::JourneyMap>& map) {
    Status st = self->bridge_->SetMap(*map);
    if (!st.ok()) LOG_WARN("rescue: the new journey map's rescue paths were not applied: {}", st.ToString());
  });
  deps.journey->AddListener(s->bridge_.get());
  if (config.expiry_interval_ms > 0) {
    s->expiry_ = std::thread([self, ms = config.expiry_interval_ms] {
      NameThisThread("rescue-expiry");
      self->ExpiryLoop(ms);
    });
  }
  return s;
}

RescueStack::~RescueStack() { Stop(); }

void RescueStack::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (expiry_.joinable()) expiry_.join();
  if (dispatcher_) dispatcher_->Close();
  // After the dispatcher: no touch comes in any more; the waiting ones get a last chance.
  if (touches_) touches_->Close();
}

void RescueStack::ExpiryLoop(int64_t interval_ms) {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(interval_ms), [&] { return stop_; })) {
    lock.unlock();
    auto n = engine_->ExpireWindows(clock_->NowMillis());
    if (!n.ok()) LOG_EVERY_N_SEC(kWarn, 60, "rescue: closing expired outcome windows failed: {}", n.status().ToString());
    lock.lock();
  }
}

}  // namespace cairn::rescue
