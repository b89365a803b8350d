#pragma once
// JourneyService: what the HTTP edge asks of the journey engine (api/ includes this interface
// only; app/ hands in the implementation). Plain structs, no JSON.
// Thread-safety: implementations are thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace cairn::journey {

struct MapErrorView {
  int line = 0, column = 0;
  std::string message;
};

struct StageView {
  std::string name;
  int64_t entered_ms = 0;  // 0 = never entered
};

struct ViewState {
  std::string view;    // phase | lifecycle | funnel
  std::string stage;
  int64_t since_ms = 0;
  int64_t dwell_ms = 0;  // expected dwell (0 = none)
  bool stuck = false;    // now - since > dwell
  std::vector<StageView> stages;
};

struct TransitionView {
  int64_t at_ms = 0;
  std::string view, from, to;
};

struct EmotionPointView {
  int64_t at_ms = 0;
  double score = 0;
  std::string label, cause;
};

struct CustomerJourney {
  uint64_t customer = 0;
  ViewState phase, lifecycle, funnel;
  std::string emotion_label;
  double emotion_score = 0;
  std::string currency;
  double realised_value = 0, journey_value = 0, predicted_clv = 0, value_at_stake = 0;
  // How journey_value was reached (journey_value.h ValueBasis): "stage_conversion",
  // "predicted_purchases" or "repeat_rate".
  std::string journey_value_basis;
  std::string persona;
  uint64_t interactions = 0, orders = 0;
  int64_t first_ms = 0, last_ms = 0;
  std::vector<std::string> derailing;  // rescue paths active now
  std::vector<TransitionView> history;
  std::vector<EmotionPointView> emotion_curve;
};

struct StageCount {
  std::string name;
  uint64_t customers = 0;  // currently here
  uint64_t entered = 0;    // ever entered
  uint64_t stuck = 0;      // here past the expected dwell
  uint64_t drop_off = 0;   // entered, never went further, and not here any more or stuck here
};
struct FlowCount {
  std::string from, to;
  uint64_t count = 0;
};
struct ViewOverview {
  std::string view;
  std::vector<StageCount> stages;
  std::vector<FlowCount> transitions;
};
struct PhaseEmotion {
  std::string phase;
  double average = 0;
  std::string label;
  uint64_t customers = 0;
};
struct PathAtStake {
  std::string path;
  uint64_t customers = 0;
  double value_at_stake = 0;
};
// Which customers an overview (or JourneyEngine::Members) counts: those whose persona and
// lifecycle stage NOW are these (an empty field is any). The dashboard's segment filter
// (analytics/spec/segment.h has the same two fields, same meaning).
struct OverviewFilter {
  std::string persona;    // the journey persona: a rule persona of the map, else its default
  std::string lifecycle;  // a stage name of the lifecycle view
  bool empty() const { return persona.empty() && lifecycle.empty(); }
};

struct JourneyOverview {
  uint64_t customers = 0;  // the customers the filter kept
  std::string currency;
  std::vector<ViewOverview> views;
  std::vector<PhaseEmotion> emotion_by_phase;
  std::vector<PathAtStake> at_stake;
  std::vector<std::pair<std::string, uint64_t>> emotion_labels;  // customers per emotion label
  // Customers per persona (the map's rule personas in order, then the default), of those kept.
  std::vector<std::pair<std::string, uint64_t>> personas;
};

// The names a segment filter can take (the dashboard's filter bar): the map's personas (its
// rules in order, then the default: the names Overview().personas lists) and its lifecycle stages.
struct SegmentNames {
  std::vector<std::string> personas;
  std::vector<std::string> lifecycle;
};

struct MapUpdate {
  uint32_t fingerprint = 0;
  uint64_t customers_rederived = 0;
};

class JourneyService {
 public:
  virtual ~JourneyService() = default;
  // The map in force, as YAML text.
  virtual std::string MapYaml() const = 0;
  // Validates `yaml`; on success it replaces the map, is saved, and every customer is re-derived.
  // InvalidArgument (and *errors filled) when invalid: the current map stays.
  virtual Result<MapUpdate> PutMap(const std::string& yaml, std::vector<MapErrorView>* errors) = 0;
  // NotFound when no customer has that identity.
  virtual Result<CustomerJourney> GetJourney(const std::string& any_identity) = 0;
  // Every count over the customers `filter` keeps (an unknown persona or stage keeps nobody).
  virtual Result<JourneyOverview> Overview(const OverviewFilter& filter) = 0;
  // Every customer.
  Result<JourneyOverview> Overview() { return Overview(OverviewFilter{}); }
  // From the map in force: O(personas + stages), no pass over the customers.
  virtual SegmentNames Segments() const = 0;
};

}  // namespace cairn::journey
