#pragma once
// RescueStack: rescue decisions + actions opened together in a data directory and hooked to the
// journey engine — what app/Hub holds. Files: DIR/rescue.db, DIR/actions.db.
//
// Without a webhook url, rescues are still decided, queued and learned from; acting on one only
// records that the team acted (there is nowhere to send it), and post-purchase prompts are off.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "actions/dispatcher.h"
#include "actions/gates.h"
#include "ingest/ingestor.h"
#include "journey/engine.h"
#include "rescue/journey_bridge.h"
#include "rescue/rescue_engine.h"
#include "rescue/touch_recorder.h"

namespace cairn::rescue {

// Configuration (app/config.cc reads it from the `rescue:` and `actions:` sections).
struct RescueConfig {
  double budget_per_period = 0;               // 0 = no budget (default)
  int64_t budget_period_ms = 30LL * 86400000;  // default 30 days
  bool auto_act = false;                      // default false: rescues wait in the queue
  bool post_purchase = true;                  // default true (needs a webhook url)
  actions::WebhookEndpoint webhook;           // url "" = no actions are sent
  RetryPolicy retry;
  actions::QuietHours quiet;
  actions::FrequencyCap cap;
  actions::ConsentPolicy consent;
  int64_t expiry_interval_ms = 60000;         // how often outcome windows are checked; default 1 min
};

struct RescueDeps {
  std::string data_dir;
  journey::JourneyEngine* journey = nullptr;  // required: signals, interactions, the map
  ingest::Ingestor* ingestor = nullptr;       // required: records delivered actions
  std::function<CustomerInfo(store::CustomerId)> describe;  // required
  actions::RecordedConsent::ReadFn read;      // required: survey answers (and consent without `consent`)
  // The consent gate of every action (the hub's consent ledger); null: consent is read from the
  // customer's interactions (actions::RecordedConsent). Outlives the stack.
  actions::ConsentChecker* consent = nullptr;
  Clock* clock = nullptr;
  metrics::Registry* metrics = nullptr;
};

class RescueStack {
 public:
  static Result<std::unique_ptr<RescueStack>> Open(const RescueConfig& config, RescueDeps deps);
  ~RescueStack();  // Stop()

  RescueEngine* engine() { return engine_.get(); }
  // Always open (internal actions such as open_case need no webhook); without a webhook url only
  // internal actions are sent (Dispatcher::CanSend).
  actions::Dispatcher* dispatcher() { return dispatcher_.get(); }

  // Stops sending and the expiry timer (decisions may still be recorded). Idempotent.
  void Stop();

 private:
  RescueStack() = default;
  void ExpiryLoop(int64_t interval_ms);

  Clock* clock_ = nullptr;
  std::unique_ptr<actions::RecordedConsent> consent_;
  std::unique_ptr<IngestTouchRecorder> touches_;
  std::unique_ptr<actions::Dispatcher> dispatcher_;
  std::unique_ptr<RescueEngine> engine_;
  std::unique_ptr<JourneyBridge> bridge_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread expiry_;
};

}  // namespace cairn::rescue
