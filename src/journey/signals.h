#pragma once
// What the journey engine tells the rest of Cairn (rescue, actions): derailment signals from the
// four detectors and the dwell timers, and every interaction under its canonical customer.
// Interface only: no implementation library needed to include it.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/interaction.h"

namespace cairn::journey {

struct Signal {
  store::CustomerId customer = 0;    // canonical (IdentityResolver::Find root)
  std::string path;                  // rescue path name from the map (going_cold, competitor, angry, renewal_doubt, ...)
  std::vector<std::string> reasons;  // human-readable, e.g. "in funnel stage interest for 21d > expected dwell 14d"
  std::string stage;                 // where the customer is, "funnel:interest"
  double value_at_stake = 0;         // business currency
  std::string persona;               // "" when no persona (and no default) applies
  std::string value_tier;            // reserved ("" for now)
  int64_t at_ms = 0;                 // event time of the interaction, or the timer's due time
  std::string episode;               // dedup key "<customer>:<path>:<ms the episode started>"
};

// One live interaction, under its canonical customer. `event` points into the committed batch:
// valid only during the listener call.
struct Touch {
  store::CustomerId customer = 0;
  std::string_view event;
  int64_t timestamp_ms = 0;
  double revenue = 0;
  bool order = false;  // the event is one of the map's value.order_events
};

// Receives the engine's output. Thread-safety: OnSignal and OnInteraction are called from the
// store's commit thread, the engine's worker thread (re-derivations, timers) — one at a time per
// engine (the engine serialises them) — and must be quick and must not call back into the engine.
class JourneyListener {
 public:
  virtual ~JourneyListener() = default;
  virtual void OnSignal(const Signal& signal) = 0;
  // Every live interaction (never recovery replays), under its canonical customer. is_order: the
  // event is one of the map's value.order_events (for post-purchase engagement).
  virtual void OnInteraction(store::CustomerId canonical, std::string_view event, int64_t ts_ms, double revenue,
                             bool is_order) {}
  // A committed batch's live interactions, in order (the engine calls this, not OnInteraction):
  // a listener that locks per call overrides it to lock once per batch. Default: OnInteraction
  // of each.
  virtual void OnInteractions(std::span<const Touch> touches) {
    for (const Touch& t : touches) OnInteraction(t.customer, t.event, t.timestamp_ms, t.revenue, t.order);
  }
};

}  // namespace cairn::journey
