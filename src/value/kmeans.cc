#include "value/kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace cairn::value {
namespace {

// A double in [0, 1) from the top 53 bits of one draw (platform-independent, unlike
// std::uniform_real_distribution).
double Unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double Dist2(const double* a, const double* b, size_t dims) {
  double s = 0;
  for (size_t j = 0; j < dims; ++j) {
    const double d = a[j] - b[j];
    s += d * d;
  }
  return s;
}

// k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre uniformly, each next one with
// probability proportional to the squared distance to the nearest centre chosen so far.
std::vector<double> SeedPlusPlus(std::span<const double> pts, size_t n, size_t dims, int k, std::mt19937_64& rng) {
  std::vector<double> centres;
  centres.reserve(static_cast<size_t>(k) * dims);
  size_t first = std::min(n - 1, static_cast<size_t>(Unit(rng) * static_cast<double>(n)));
  centres.insert(centres.end(), pts.begin() + first * dims, pts.begin() + (first + 1) * dims);
  std::vector<double> d2(n);
  for (size_t i = 0; i < n; ++i) d2[i] = Dist2(&pts[i * dims], &centres[0], dims);
  for (int c = 1; c < k; ++c) {
    const double total = std::accumulate(d2.begin(), d2.end(), 0.0);
    size_t pick = 0;
    if (total <= 0) {
      // Every point coincides with a centre: any point will do (duplicates in the data).
      pick = std::min(n - 1, static_cast<size_t>(Unit(rng) * static_cast<double>(n)));
    } else {
      double target = Unit(rng) * total, acc = 0;
      pick = n - 1;
      for (size_t i = 0; i < n; ++i) {
        acc += d2[i];
        if (acc > target) {
          pick = i;
          break;
        }
      }
    }
    const size_t base = centres.size();
    centres.insert(centres.end(), pts.begin() + pick * dims, pts.begin() + (pick + 1) * dims);
    for (size_t i = 0; i < n; ++i) d2[i] = std::min(d2[i], Dist2(&pts[i * dims], &centres[base], dims));
  }
  return centres;
}

KMeansResult Lloyd(std::span<const double> pts, size_t n, size_t dims, int k, std::vector<double> centres,
                   int max_iterations) {
  KMeansResult r;
  r.k = k;
  r.dims = dims;
  r.labels.assign(n, -1);
  std::vector<double> sums(static_cast<size_t>(k) * dims);
  std::vector<int64_t> counts(k);
  for (int it = 0; it < max_iterations; ++it) {
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      int best = 0;
      double best_d = std::numeric_limits<double>::infinity();
      for (int c = 0; c < k; ++c) {
        const double d = Dist2(&pts[i * dims], &centres[static_cast<size_t>(c) * dims], dims);
        if (d < best_d) {  // ties go to the lower index: deterministic
          best_d = d;
          best = c;
        }
      }
      if (r.labels[i] != best) {
        r.labels[i] = best;
        changed = true;
      }
    }
    r.iterations = it + 1;
    if (!changed) {
      r.converged = true;
      break;
    }
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (size_t i = 0; i < n; ++i) {
      const size_t c = static_cast<size_t>(r.labels[i]);
      ++counts[c];
      for (size_t j = 0; j < dims; ++j) sums[c * dims + j] += pts[i * dims + j];
    }
    for (int c = 0; c < k; ++c) {
      if (counts[c] == 0) {
        // An emptied cluster takes the point farthest from its centre, so k clusters survive.
        size_t far = 0;
        double far_d = -1;
        for (size_t i = 0; i < n; ++i) {
          const double d = Dist2(&pts[i * dims], &centres[static_cast<size_t>(r.labels[i]) * dims], dims);
          if (d > far_d) {
            far_d = d;
            far = i;
          }
        }
        std::copy(pts.begin() + far * dims, pts.begin() + (far + 1) * dims, centres.begin() + c * dims);
        continue;
      }
      for (size_t j = 0; j < dims; ++j) centres[c * dims + j] = sums[c * dims + j] / static_cast<double>(counts[c]);
    }
  }
  r.centroids = std::move(centres);
  r.sizes.assign(k, 0);
  r.inertia = 0;
  for (size_t i = 0; i < n; ++i) {
    ++r.sizes[r.labels[i]];
    r.inertia += Dist2(&pts[i * dims], &r.centroids[static_cast<size_t>(r.labels[i]) * dims], dims);
  }
  return r;
}

}  // namespace

Result<KMeansResult> KMeans(std::span<const double> points, size_t dims, const KMeansOptions& options) {
  if (dims == 0) return InvalidArgument("kmeans: dims must be > 0");
  if (points.size() % dims != 0) return InvalidArgument("kmeans: points.size() is not a multiple of dims");
  const size_t n = points.size() / dims;
  if (options.k < 1 || static_cast<size_t>(options.k) > n)
    return InvalidArgument("kmeans: k must be in [1, number of points]");
  if (options.restarts < 1 || options.max_iterations < 1)
    return InvalidArgument("kmeans: restarts and max_iterations must be ≥ 1");
  for (double v : points)
    if (!std::isfinite(v)) return InvalidArgument("kmeans: non-finite coordinate");
  std::mt19937_64 rng(options.seed);
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int r = 0; r < options.restarts; ++r) {
    auto seeds = SeedPlusPlus(points, n, dims, options.k, rng);
    KMeansResult res = Lloyd(points, n, dims, options.k, std::move(seeds), options.max_iterations);
    // Strictly better only: the earliest restart wins ties, keeping the result deterministic.
    if (res.inertia < best.inertia * (1 - 1e-12)) best = std::move(res);
  }
  // Any empty cluster left after the last iteration's relabel would break the contract; the
  // reseeding above prevents it except with fewer distinct points than k.
  return best;
}

double Silhouette(std::span<const double> points, size_t dims, std::span<const int> labels, int k, size_t max_points,
                  uint64_t seed) {
  const size_t n = labels.size();
  if (k < 2 || n < 2 || dims == 0) return 0;
  std::vector<size_t> sample(n);
  std::iota(sample.begin(), sample.end(), 0);
  if (n > max_points) {
    // Partial Fisher-Yates with the deterministic generator.
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < max_points; ++i) {
      const size_t j = i + std::min(n - i - 1, static_cast<size_t>(Unit(rng) * static_cast<double>(n - i)));
      std::swap(sample[i], sample[j]);
    }
    sample.resize(max_points);
  }
  // Scored within the sample (like scikit-learn's silhouette_score(sample_size=…)): O(m²).
  std::vector<int64_t> sizes(k, 0);
  for (size_t j : sample) ++sizes[labels[j]];
  std::vector<double> sum_d(k);
  double total = 0;
  for (size_t i : sample) {
    std::fill(sum_d.begin(), sum_d.end(), 0.0);
    for (size_t j : sample)
      if (j != i) sum_d[labels[j]] += std::sqrt(Dist2(&points[i * dims], &points[j * dims], dims));
    const int own = labels[i];
    if (sizes[own] <= 1) continue;  // s = 0 for a singleton (Rousseeuw 1987)
    const double a = sum_d[own] / static_cast<double>(sizes[own] - 1);
    double b = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c)
      if (c != own && sizes[c] > 0) b = std::min(b, sum_d[c] / static_cast<double>(sizes[c]));
    const double m = std::max(a, b);
    if (m > 0 && std::isfinite(b)) total += (b - a) / m;
  }
  return total / static_cast<double>(sample.size());
}

ColumnScale ScaleOf(std::span<const double> points, size_t dims) {
  ColumnScale s;
  s.mean.assign(dims, 0);
  s.sd.assign(dims, 0);
  s.constant.assign(dims, false);
  const size_t n = dims ? points.size() / dims : 0;
  if (n == 0) {
    s.sd.assign(dims, 1);
    s.constant.assign(dims, true);
    return s;
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < dims; ++j) s.mean[j] += points[i * dims + j];
  for (size_t j = 0; j < dims; ++j) s.mean[j] /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < dims; ++j) {
      const double d = points[i * dims + j] - s.mean[j];
      s.sd[j] += d * d;
    }
  for (size_t j = 0; j < dims; ++j) {
    s.sd[j] = std::sqrt(s.sd[j] / static_cast<double>(n));
    if (s.sd[j] < 1e-12) {
      s.sd[j] = 1;
      s.constant[j] = true;
    }
  }
  return s;
}

void Standardize(std::span<double> points, const ColumnScale& scale) {
  const size_t dims = scale.mean.size();
  if (dims == 0) return;
  for (size_t i = 0; i + dims <= points.size(); i += dims)
    for (size_t j = 0; j < dims; ++j) points[i + j] = (points[i + j] - scale.mean[j]) / scale.sd[j];
}

}  // namespace cairn::value
