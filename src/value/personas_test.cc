// k-means, silhouette and personas on data with known clusters: the clusters are recovered, k is
// chosen right, results repeat from the seed, ids survive a refit, names follow the centroids.

#include "value/personas.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "value/kmeans.h"

namespace cairn::value {
namespace {

// `per` points around each of `centres` (2-D), sd 0.3; returns points and true labels.
std::pair<std::vector<double>, std::vector<int>> Blobs(const std::vector<std::pair<double, double>>& centres, int per,
                                                       uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.3);
  std::vector<double> pts;
  std::vector<int> truth;
  for (int i = 0; i < per; ++i)
    for (size_t c = 0; c < centres.size(); ++c) {
      pts.push_back(centres[c].first + noise(rng));
      pts.push_back(centres[c].second + noise(rng));
      truth.push_back(static_cast<int>(c));
    }
  return {pts, truth};
}

// Every true cluster maps to exactly one found label and vice versa.
bool SamePartition(const std::vector<int>& a, const std::vector<int>& b) {
  std::map<int, int> ab, ba;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ab.count(a[i]) && ab[a[i]] != b[i]) return false;
    if (ba.count(b[i]) && ba[b[i]] != a[i]) return false;
    ab[a[i]] = b[i];
    ba[b[i]] = a[i];
  }
  return true;
}

TEST(KMeansTest, RecoversSeparatedBlobsAndRepeatsFromTheSeed) {
  auto [pts, truth] = Blobs({{0, 0}, {5, 0}, {0, 5}}, 100, 7);
  auto km = KMeans(pts, 2, {.k = 3, .restarts = 4, .seed = 11});
  ASSERT_TRUE(km.ok()) << km.status().ToString();
  EXPECT_TRUE(km->converged);
  EXPECT_TRUE(SamePartition(km->labels, truth));
  for (auto s : km->sizes) EXPECT_EQ(s, 100);
  auto again = KMeans(pts, 2, {.k = 3, .restarts = 4, .seed = 11});
  EXPECT_EQ(again->labels, km->labels);
  EXPECT_EQ(again->centroids, km->centroids);
  // The silhouette peaks at the true k.
  double best = -1;
  int best_k = 0;
  for (int k = 2; k <= 6; ++k) {
    auto r = KMeans(pts, 2, {.k = k, .seed = 1});
    const double s = Silhouette(pts, 2, r->labels, k);
    if (s > best) best = s, best_k = k;
  }
  EXPECT_EQ(best_k, 3);
  EXPECT_GT(best, 0.8);
}

TEST(KMeansTest, RejectsBadArguments) {
  std::vector<double> pts = {0, 0, 1, 1};
  EXPECT_FALSE(KMeans(pts, 0, {.k = 1}).ok());
  EXPECT_FALSE(KMeans(pts, 3, {.k = 1}).ok());
  EXPECT_FALSE(KMeans(pts, 2, {.k = 3}).ok());
  pts[1] = std::nan("");
  EXPECT_FALSE(KMeans(pts, 2, {.k = 1}).ok());
  // Duplicate points: k clusters still non-empty.
  std::vector<double> dup(20, 1.0);
  auto r = KMeans(dup, 2, {.k = 2});
  ASSERT_TRUE(r.ok());
}

TEST(KMeansTest, SilhouetteSampleIsDeterministicAndClose) {
  auto [pts, truth] = Blobs({{0, 0}, {4, 0}}, 700, 3);
  const double exact = Silhouette(pts, 2, truth, 2, 10'000);
  const double sampled = Silhouette(pts, 2, truth, 2, 500, 9);
  EXPECT_EQ(sampled, Silhouette(pts, 2, truth, 2, 500, 9));
  EXPECT_NEAR(sampled, exact, 0.03);
}

// Three behaviours: frequent high spenders on mobile, one-time low spenders on the web who
// lapsed, regular mid spenders in store.
std::vector<PersonaInput> Customers(uint64_t seed, std::vector<int>* truth) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::vector<PersonaInput> out;
  for (int i = 0; i < 600; ++i) {
    PersonaInput p;
    const int kind = i % 3;
    if (kind == 0) {
      p.purchases = std::max(1.0, 20 + 3 * z(rng));
      p.average_order = 150 * std::exp(0.1 * z(rng));
      p.recency_days = std::max(0.0, 5 + 2 * z(rng));
      p.tenure_days = 300 + 20 * z(rng);
      p.channel_share = {0.1, 0.85, 0.05, 0, 0};
    } else if (kind == 1) {
      p.purchases = 1;
      p.average_order = 12 * std::exp(0.1 * z(rng));
      p.recency_days = 250 + 20 * z(rng);
      p.tenure_days = p.recency_days;
      p.channel_share = {0.9, 0, 0.1, 0, 0};
    } else {
      p.purchases = std::max(1.0, 5 + z(rng));
      p.average_order = 50 * std::exp(0.1 * z(rng));
      p.recency_days = std::max(0.0, 40 + 10 * z(rng));
      p.tenure_days = 250 + 20 * z(rng);
      p.channel_share = {0.2, 0, 0.1, 0.7, 0};
    }
    out.push_back(p);
    if (truth) truth->push_back(kind);
  }
  return out;
}

TEST(PersonasTest, FindsKnownSegmentsNamesThemAndKeepsIdsAcrossRefits) {
  std::vector<int> truth;
  auto inputs = Customers(5, &truth);
  auto m = DiscoverPersonas(inputs, {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->k_from_silhouette);
  EXPECT_EQ(m->k, 3);
  ASSERT_EQ(m->personas.size(), 3u);
  EXPECT_TRUE(SamePartition(m->assignment, truth));
  EXPECT_EQ(m->silhouette_by_k.size(), 5u);
  std::set<std::string> names;
  for (const auto& p : m->personas) {
    names.insert(p.name);
    EXPECT_EQ(p.size, 200);
    EXPECT_NEAR(p.share, 1.0 / 3, 1e-12);
    EXPECT_FALSE(p.description.empty());
  }
  EXPECT_TRUE(names.count("Frequent high spenders on mobile")) << *names.begin();
  EXPECT_TRUE(names.count("One-time low spenders on web, lapsed"));
  EXPECT_TRUE(names.count("Regular mid spenders in store")) << *names.rbegin();
  const Persona& mobile = m->personas[m->assignment[0]];
  EXPECT_NEAR(mobile.centroid.purchases, 20, 1);
  EXPECT_NEAR(mobile.centroid.channel_share[1], 0.85, 1e-9);
  EXPECT_NE(mobile.description.find("mobile 85%"), std::string::npos) << mobile.description;

  // Same data, same seed: identical. Fresh data from the same behaviours, different seed, previous
  // personas given: each behaviour keeps its id.
  auto again = DiscoverPersonas(inputs, {});
  EXPECT_EQ(again->assignment, m->assignment);
  std::vector<int> truth2;
  auto inputs2 = Customers(99, &truth2);
  PersonaOptions o;
  o.seed = 12345;
  auto refit = DiscoverPersonas(inputs2, o, m->personas);
  ASSERT_TRUE(refit.ok());
  for (int kind = 0; kind < 3; ++kind)
    EXPECT_EQ(refit->personas[refit->assignment[kind]].id, m->personas[m->assignment[kind]].id) << kind;
  EXPECT_EQ(refit->personas[refit->assignment[0]].name, "Frequent high spenders on mobile");
}

TEST(PersonasTest, ConfiguredKAndTooFewCustomers) {
  auto inputs = Customers(5, nullptr);
  PersonaOptions o;
  o.k = 2;
  auto m = DiscoverPersonas(inputs, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->k, 2);
  EXPECT_FALSE(m->k_from_silhouette);
  EXPECT_EQ(m->personas[0].id, 1);  // fresh ids: the biggest first
  EXPECT_GE(m->personas[0].size, m->personas[1].size);
  auto few = DiscoverPersonas(std::span(inputs).first(5), {});
  EXPECT_TRUE(few.status().Is(Code::kFailedPrecondition));
  o.k = -1;
  EXPECT_TRUE(DiscoverPersonas(inputs, o).status().Is(Code::kInvalidArgument));
  EXPECT_EQ(ChannelGroupOf("mobile"), 1);
  EXPECT_EQ(ChannelGroupOf("sms"), 4);
  EXPECT_EQ(ChannelGroupOf(""), -1);
}

}  // namespace
}  // namespace cairn::value
