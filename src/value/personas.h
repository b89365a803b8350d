#pragma once
// Discovered personas (DOMAIN.md §2, docs/value.md "Personas"): k-means on standardised recency,
// frequency, monetary value, tenure and channel mix of the customers who bought, k chosen by the
// silhouette coefficient (or configured), each cluster named and described in words from its
// centroid, persona ids kept stable across refits by matching the new clusters to the previous ones.
// Pure functions, no I/O; deterministic from the seed.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "value/kmeans.h"

namespace cairn::value {

// Channel groups of the mix features (DOMAIN.md §1 channels; everything not listed is "other").
inline constexpr std::array<const char*, 5> kChannelGroups = {"web", "mobile", "email", "store", "other"};
// Index into kChannelGroups of a channel name; -1 for an empty channel (not counted).
int ChannelGroupOf(std::string_view channel);

// One customer's behaviour, in natural units.
struct PersonaInput {
  double recency_days = 0;   // days from the last purchase to the fit
  double purchases = 0;      // purchase days, trial included (≥ 1)
  double average_order = 0;  // value per purchase day
  double tenure_days = 0;    // days from the first purchase to the fit
  std::array<double, kChannelGroups.size()> channel_share{};  // shares of interactions per group (sum 1, or all 0)
};

// Feature vector used for clustering (before standardisation): recency_days, ln(1+purchases),
// ln(1+average_order), tenure_days, the channel shares. The logs tame the long right tails of
// counts and spend, which would otherwise make a handful of big buyers their own clusters.
inline constexpr size_t kPersonaDims = 4 + kChannelGroups.size();
std::array<double, kPersonaDims> PersonaFeatures(const PersonaInput& in);
// Inline (not extern): the api layer names the features in its JSON and links no core library.
inline constexpr std::array<const char*, kPersonaDims> kPersonaFeatureNames = {
    "recencyDays", "lnPurchases", "lnAverageOrder", "tenureDays", "web", "mobile", "email", "store", "other"};

struct PersonaOptions {
  // Clusters; 0 = choose k in [k_min, k_max] by the highest mean silhouette. Default 0.
  int k = 0;
  int k_min = 2;   // Default 2.
  int k_max = 6;   // Default 6.
  int restarts = 8;        // k-means++ restarts per k. Default 8.
  uint64_t seed = 1;       // Default 1.
  // k is chosen on a deterministic sample of at most this many customers (the final clustering
  // uses all of them). Default 5000.
  size_t choose_sample = 5000;
  // Silhouette computed within a sample of at most this many. Default 2000.
  size_t silhouette_sample = 2000;
  // Fewer customers than this: no personas (FailedPrecondition). Default 20.
  size_t min_customers = 20;
};
Status ValidatePersonaOptions(const PersonaOptions& options);

struct Persona {
  int id = 0;                 // stable across refits (matched to the previous fit's personas)
  std::string name;           // e.g. "Frequent high spenders on mobile"
  std::string description;    // one sentence from the centroid
  int64_t size = 0;           // customers
  double share = 0;           // size / customers clustered
  PersonaInput centroid;      // mean behaviour of the members, natural units
  std::array<double, kPersonaDims> z{};        // centroid in standard deviations from the mean
  std::array<double, kPersonaDims> features{}; // centroid in feature units (for matching refits)
  double mean_clv = 0;        // filled by the value engine
};

struct PersonaModel {
  std::vector<Persona> personas;        // ordered by id
  std::vector<int> assignment;          // per input: index into `personas`
  int k = 0;
  bool k_from_silhouette = false;       // false: configured
  double silhouette = 0;                // of the chosen clustering (on the sample)
  std::vector<std::pair<int, double>> silhouette_by_k;  // (k, score) when chosen by silhouette
  int64_t customers = 0;
  std::vector<std::string> constant_features;  // no spread: standardised to 0 (e.g. a single channel)
};

// Clusters `inputs`. `previous` (may be empty): the last fit's personas, whose ids are carried
// over to the nearest new clusters (greedy by distance in the new standardised space); clusters
// without a match get fresh ids. FailedPrecondition with fewer than min_customers inputs.
Result<PersonaModel> DiscoverPersonas(std::span<const PersonaInput> inputs, const PersonaOptions& options,
                                      std::span<const Persona> previous = {});

}  // namespace cairn::value
