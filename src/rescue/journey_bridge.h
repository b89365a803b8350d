#pragma once
// JourneyBridge: wires the journey engine's output to rescue decisions and actions.
//   journey Signal            → RescueEngine::Decide (and Act at once when auto_act is on)
//   every live interaction    → RescueEngine::ObserveInteraction (outcomes; our own outbound
//                               touches never count)
//   an order (is_order)       → the post-purchase prompt ("happy? unhappy?"), sent after the map's
//                               delay as an action (DOMAIN.md §6)
//   a survey answer after it  → happy (NPS >= happy_min_nps): the review/referral ask;
//                               unhappy (NPS <= unhappy_max_nps): the support contact (the angry
//                               path itself is the journey engine's detector)
// plus the map → rescue/actions configuration (paths, channel constraints). Delivered actions are
// recorded as interactions by IngestTouchRecorder (touch_recorder.h).
//
// Thread-safety: the JourneyListener callbacks come from the store's commit thread (and the
// engine's worker); they only do an in-memory outcome lookup and queue the rest — decisions,
// prompts and answer routing read profiles and write SQLite on the bridge's own thread, so ingest
// never waits for them. A decision therefore lands a moment after its signal (Flush() waits).
// Everything here is thread-safe.

#include <functional>
#include <memory>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <span>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "actions/dispatcher.h"
#include "ingest/ingestor.h"
#include "journey/journey_map.h"
#include "journey/signals.h"
#include "rescue/rescue_engine.h"

namespace cairn::rescue {

// The event name of the interaction recorded for a delivered action (properties.direction is
// "outbound"); journey maps should list it among outbound_events.
inline constexpr std::string_view kTouchEvent = "Action Sent";
// The source id of interactions Cairn records about its own actions (not a write key's).
inline constexpr uint32_t kActionsSource = 0xFFFFFFFEu;

std::vector<PathConfig> PathsFromMap(const journey::JourneyMap& map);
std::vector<actions::ChannelConstraint> ConstraintsFromMap(const journey::JourneyMap& map);

struct CustomerInfo {
  std::vector<std::string> ids;  // "userId:alice", "email:a@x.io", ... (userId first when known)
  std::string time_zone;         // IANA name from the profile's traits, "" if none
  double value = 0;              // for channel-constraint tiers (e.g. realised + journey value)
};

struct BridgeOptions {
  // Act on every rescue worth it at once (no human in the loop). Default false: rescues wait in
  // the queue (GET /v1/rescues?status=open) for the team.
  bool auto_act = false;
  // Send post-purchase prompts and route their answers. Default true (when a dispatcher exists).
  bool post_purchase = true;
  std::function<CustomerInfo(store::CustomerId)> describe;  // required
  // Reads a customer's interactions (merges applied), for the NPS of a survey answer.
  actions::RecordedConsent::ReadFn read;
};

class JourneyBridge final : public journey::JourneyListener {
 public:
  // `dispatcher` may be null (no actions configured): rescues are still decided and queued.
  JourneyBridge(RescueEngine* engine, actions::Dispatcher* dispatcher, BridgeOptions options);
  ~JourneyBridge() override;  // stops the answer-routing thread

  // Applies a (new) map: rescue paths, channel constraints, post-purchase, outbound events.
  Status SetMap(const journey::JourneyMap& map);

  // journey::JourneyListener
  void OnSignal(const journey::Signal& signal) override;
  void OnInteraction(store::CustomerId canonical, std::string_view event, int64_t ts_ms, double revenue,
                     bool is_order) override;
  // A batch's interactions: the bridge's lock and the rescue engine's once per batch, not per
  // interaction (this runs on the store's commit thread).
  void OnInteractions(std::span<const journey::Touch> touches) override;

  // Waits until everything queued so far has been handled (tests, shutdown).
  void Flush();

  // RescueOptions::dispatch: the action of an acted rescue.
  Result<std::string> Dispatch(const Decision& decision, const PathConfig& path);

 private:
  actions::ActionRequest BaseRequest(store::CustomerId customer, const CustomerInfo& info) const;
  // Webhooks can go out (post-purchase prompts and their follow-ups are webhooks).
  bool Webhooks() const { return dispatcher_ != nullptr && dispatcher_->CanSend("post_purchase.prompt"); }
  // Decides every signal queued so far in one go (RescueEngine::DecideAll: one commit).
  void DecideQueued();
  void PromptAfterOrder(store::CustomerId customer, std::string event, int64_t ts_ms, double revenue);
  void RoutePostPurchaseAnswer(store::CustomerId customer, int64_t ts_ms);
  void WorkLoop();
  void Enqueue(std::function<void()> work);

  RescueEngine* engine_;
  actions::Dispatcher* dispatcher_;
  BridgeOptions options_;
  std::mutex mu_;  // guards the fields below
  journey::PostPurchase post_purchase_;
  std::vector<std::string> outbound_;
  // Customers prompted after an order and not yet routed: customer → prompt time.
  std::unordered_map<store::CustomerId, int64_t> prompted_;
  // Work handed off the journey callback thread, in arrival order.
  std::deque<std::function<void()>> work_;
  size_t busy_ = 0;  // items taken off work_ and not finished
  // Signals waiting for DecideQueued; one DecideQueued item is in work_ while this is non-empty.
  std::vector<journey::Signal> signals_;
  bool stop_ = false;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::thread worker_;
};

}  // namespace cairn::rescue
