#include "value/personas.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

#include <fmt/format.h>

namespace cairn::value {
namespace {

constexpr size_t kRecency = 0, kFrequency = 1, kMonetary = 2, kTenure = 3, kChannel0 = 4;
// A centroid more than this many standard deviations from the mean earns a word ("frequent").
constexpr double kWordZ = 0.5;

std::vector<double> Flatten(std::span<const PersonaInput> inputs) {
  std::vector<double> pts;
  pts.reserve(inputs.size() * kPersonaDims);
  for (const auto& in : inputs) {
    auto f = PersonaFeatures(in);
    pts.insert(pts.end(), f.begin(), f.end());
  }
  return pts;
}

// Words for a centroid: a short name and a one-sentence description.
void Describe(Persona* p, int64_t total) {
  const auto& z = p->z;
  const auto& c = p->centroid;
  std::string freq = z[kFrequency] > kWordZ    ? "Frequent"
                     : z[kFrequency] < -kWordZ ? (c.purchases < 1.5 ? "One-time" : "Occasional")
                                               : "Regular";
  std::string spend = z[kMonetary] > kWordZ ? "high spenders" : z[kMonetary] < -kWordZ ? "low spenders" : "mid spenders";
  std::string name = freq + " " + spend;
  size_t top = 0;
  for (size_t g = 1; g < kChannelGroups.size(); ++g)
    if (c.channel_share[g] > c.channel_share[top]) top = g;
  if (c.channel_share[top] >= 0.5) name += std::string(top == 3 ? " in " : " on ") + kChannelGroups[top];
  if (z[kRecency] > kWordZ) name += ", lapsed";
  else if (z[kTenure] < -kWordZ) name += ", new";
  p->name = std::move(name);

  std::string channels;
  std::vector<size_t> order(kChannelGroups.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return c.channel_share[a] > c.channel_share[b]; });
  for (size_t g : order) {
    if (c.channel_share[g] < 0.05) continue;
    if (!channels.empty()) channels += ", ";
    channels += fmt::format("{} {:.0f}%", kChannelGroups[g], 100 * c.channel_share[g]);
  }
  p->description = fmt::format(
      "{} of {} customers ({:.0f}%): on average {:.1f} purchase days, {:.2f} per purchase day, last purchase "
      "{:.0f} days ago, customers for {:.0f} days{}{}.",
      p->size, total, 100 * p->share, c.purchases, c.average_order, c.recency_days, c.tenure_days,
      channels.empty() ? "" : "; channels: ", channels);
}

// Greedy matching of new clusters to previous personas: repeatedly pair the closest (new, old)
// in the new standardised space. Returns per new cluster the previous id or 0.
std::vector<int> MatchPrevious(const std::vector<std::array<double, kPersonaDims>>& new_z,
                               std::span<const Persona> previous, const ColumnScale& scale) {
  std::vector<int> ids(new_z.size(), 0);
  struct Pair {
    double d;
    size_t n, o;
  };
  std::vector<Pair> pairs;
  for (size_t o = 0; o < previous.size(); ++o) {
    std::array<double, kPersonaDims> oz = previous[o].features;
    Standardize(oz, scale);
    for (size_t n = 0; n < new_z.size(); ++n) {
      double d = 0;
      for (size_t j = 0; j < kPersonaDims; ++j) d += (oz[j] - new_z[n][j]) * (oz[j] - new_z[n][j]);
      pairs.push_back({d, n, o});
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.d < b.d; });
  std::vector<bool> new_used(new_z.size()), old_used(previous.size());
  for (const auto& p : pairs) {
    if (new_used[p.n] || old_used[p.o]) continue;
    new_used[p.n] = old_used[p.o] = true;
    ids[p.n] = previous[p.o].id;
  }
  return ids;
}

}  // namespace

int ChannelGroupOf(std::string_view channel) {
  if (channel.empty()) return -1;
  for (size_t g = 0; g + 1 < kChannelGroups.size(); ++g)
    if (channel == kChannelGroups[g]) return static_cast<int>(g);
  return static_cast<int>(kChannelGroups.size() - 1);
}

std::array<double, kPersonaDims> PersonaFeatures(const PersonaInput& in) {
  std::array<double, kPersonaDims> f{};
  f[kRecency] = in.recency_days;
  f[kFrequency] = std::log1p(std::max(0.0, in.purchases));
  f[kMonetary] = std::log1p(std::max(0.0, in.average_order));
  f[kTenure] = in.tenure_days;
  for (size_t g = 0; g < kChannelGroups.size(); ++g) f[kChannel0 + g] = in.channel_share[g];
  return f;
}

Status ValidatePersonaOptions(const PersonaOptions& o) {
  if (o.k < 0) return InvalidArgument("personas.k must be ≥ 0 (0 = choose by silhouette)");
  if (o.k == 0 && (o.k_min < 2 || o.k_max < o.k_min))
    return InvalidArgument("personas.k_min must be ≥ 2 and personas.k_max ≥ k_min");
  if (o.restarts < 1) return InvalidArgument("personas.restarts must be ≥ 1");
  if (o.choose_sample < 10 || o.silhouette_sample < 10)
    return InvalidArgument("personas sample sizes must be ≥ 10");
  return Status::Ok();
}

Result<PersonaModel> DiscoverPersonas(std::span<const PersonaInput> inputs, const PersonaOptions& options,
                                      std::span<const Persona> previous) {
  RETURN_IF_ERROR(ValidatePersonaOptions(options));
  const size_t n = inputs.size();
  if (n < std::max<size_t>(options.min_customers, 2))
    return FailedPrecondition(fmt::format("personas: {} customers with purchases, at least {} needed", n,
                                          std::max<size_t>(options.min_customers, 2)));
  std::vector<double> pts = Flatten(inputs);
  const ColumnScale scale = ScaleOf(pts, kPersonaDims);
  Standardize(pts, scale);

  PersonaModel model;
  model.customers = static_cast<int64_t>(n);
  for (size_t j = 0; j < kPersonaDims; ++j)
    if (scale.constant[j]) model.constant_features.push_back(kPersonaFeatureNames[j]);

  int k = options.k;
  if (k == 0) {
    // Choose k on a deterministic sample: silhouette is O(m²) and k-means runs once per k.
    std::vector<double> sample_pts;
    if (n > options.choose_sample) {
      std::vector<size_t> idx(n);
      std::iota(idx.begin(), idx.end(), 0);
      std::mt19937_64 rng(options.seed ^ 0x9e3779b97f4a7c15ULL);
      for (size_t i = 0; i < options.choose_sample; ++i) {
        const size_t j = i + static_cast<size_t>(rng() % (n - i));
        std::swap(idx[i], idx[j]);
      }
      idx.resize(options.choose_sample);
      std::sort(idx.begin(), idx.end());
      for (size_t i : idx) sample_pts.insert(sample_pts.end(), pts.begin() + i * kPersonaDims, pts.begin() + (i + 1) * kPersonaDims);
    } else {
      sample_pts = pts;
    }
    const size_t m = sample_pts.size() / kPersonaDims;
    double best = -std::numeric_limits<double>::infinity();
    for (int kk = options.k_min; kk <= options.k_max && static_cast<size_t>(kk) < m; ++kk) {
      KMeansOptions ko{.k = kk, .restarts = options.restarts, .max_iterations = 100, .seed = options.seed};
      ASSIGN_OR_RETURN(auto km, KMeans(sample_pts, kPersonaDims, ko));
      const double s = Silhouette(sample_pts, kPersonaDims, km.labels, kk, options.silhouette_sample, options.seed);
      model.silhouette_by_k.emplace_back(kk, s);
      if (s > best + 1e-9) {  // ties keep the smaller k (the simpler description)
        best = s;
        k = kk;
      }
    }
    if (k == 0) k = 1;
    model.k_from_silhouette = true;
  }
  k = std::min<int>(k, static_cast<int>(n));
  KMeansOptions ko{.k = k, .restarts = options.restarts, .max_iterations = 100, .seed = options.seed};
  ASSIGN_OR_RETURN(auto km, KMeans(pts, kPersonaDims, ko));
  model.k = k;
  model.silhouette = Silhouette(pts, kPersonaDims, km.labels, k, options.silhouette_sample, options.seed);

  // Natural-unit and feature-unit means per cluster.
  std::vector<Persona> clusters(k);
  for (size_t i = 0; i < n; ++i) {
    Persona& p = clusters[km.labels[i]];
    const auto& in = inputs[i];
    ++p.size;
    p.centroid.recency_days += in.recency_days;
    p.centroid.purchases += in.purchases;
    p.centroid.average_order += in.average_order;
    p.centroid.tenure_days += in.tenure_days;
    for (size_t g = 0; g < kChannelGroups.size(); ++g) p.centroid.channel_share[g] += in.channel_share[g];
    auto f = PersonaFeatures(in);
    for (size_t j = 0; j < kPersonaDims; ++j) p.features[j] += f[j];
  }
  std::vector<std::array<double, kPersonaDims>> zs(k);
  for (int c = 0; c < k; ++c) {
    Persona& p = clusters[c];
    const double s = p.size > 0 ? static_cast<double>(p.size) : 1.0;
    p.centroid.recency_days /= s;
    p.centroid.purchases /= s;
    p.centroid.average_order /= s;
    p.centroid.tenure_days /= s;
    for (auto& v : p.centroid.channel_share) v /= s;
    for (auto& v : p.features) v /= s;
    p.z = p.features;
    Standardize(p.z, scale);
    zs[c] = p.z;
    p.share = static_cast<double>(p.size) / static_cast<double>(n);
  }

  // Ids: carried over from the previous fit where matched, otherwise fresh (biggest first).
  std::vector<int> ids = MatchPrevious(zs, previous, scale);
  int next_id = 1;
  for (const auto& p : previous) next_id = std::max(next_id, p.id + 1);
  std::vector<int> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return clusters[a].size > clusters[b].size; });
  for (int c : order)
    if (ids[c] == 0) ids[c] = next_id++;
  for (int c = 0; c < k; ++c) {
    clusters[c].id = ids[c];
    Describe(&clusters[c], static_cast<int64_t>(n));
  }
  // Distinct names: a suffix on repeats, in id order.
  std::vector<int> by_id(k);
  std::iota(by_id.begin(), by_id.end(), 0);
  std::sort(by_id.begin(), by_id.end(), [&](int a, int b) { return clusters[a].id < clusters[b].id; });
  std::map<std::string, int> seen;
  for (int c : by_id) {
    int count = ++seen[clusters[c].name];
    if (count > 1) clusters[c].name += fmt::format(" ({})", count);
  }
  std::vector<int> position(k);
  for (int i = 0; i < k; ++i) position[by_id[i]] = i;
  model.assignment.resize(n);
  for (size_t i = 0; i < n; ++i) model.assignment[i] = position[km.labels[i]];
  for (int c : by_id) model.personas.push_back(std::move(clusters[c]));
  return model;
}

}  // namespace cairn::value
