#pragma once
// k-means clustering for discovered personas (docs/value.md "Personas"): k-means++ seeding, several
// restarts (the lowest within-cluster sum of squares wins), Lloyd iterations; the silhouette
// coefficient to choose k. Pure functions, no I/O.
//
// Determinism: every random draw comes from std::mt19937_64 (whose sequence the C++ standard fixes)
// turned into doubles by bit arithmetic (not std::uniform_real_distribution, which is
// implementation-defined), so the same seed and data give the same clusters on every platform.

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"

namespace cairn::value {

// Points are row-major: point i is points[i*dims .. i*dims+dims).
struct KMeansOptions {
  int k = 3;                  // clusters; 1 ≤ k ≤ number of points
  int restarts = 8;           // independent k-means++ seedings; the best (lowest inertia) is kept. Default 8.
  int max_iterations = 100;   // Lloyd iterations per restart. Default 100.
  uint64_t seed = 1;          // RNG seed. Default 1.
};

struct KMeansResult {
  int k = 0;
  size_t dims = 0;
  std::vector<double> centroids;  // k × dims, row-major
  std::vector<int> labels;        // per point, in [0, k)
  std::vector<int64_t> sizes;     // points per cluster (every cluster is non-empty)
  double inertia = 0;             // Σ squared distance of each point to its centroid
  int iterations = 0;             // Lloyd iterations of the winning restart
  bool converged = false;         // the winning restart stopped because no label changed
};

// InvalidArgument on dims == 0, points.size() not a multiple of dims, k outside [1, n], or
// non-finite coordinates.
Result<KMeansResult> KMeans(std::span<const double> points, size_t dims, const KMeansOptions& options);

// Mean silhouette coefficient s = (b − a) / max(a, b) of a clustering (in [−1, 1]; higher = better
// separated). Exact over at most `max_points` points: when there are more, it is computed within a
// deterministic sample (from `seed`) of that many. 0 when k < 2.
double Silhouette(std::span<const double> points, size_t dims, std::span<const int> labels, int k,
                  size_t max_points = 2000, uint64_t seed = 1);

// Per-column mean and standard deviation (population); a column with sd < 1e-12 gets sd = 1 and is
// reported in `constant` (it standardises to all zeros).
struct ColumnScale {
  std::vector<double> mean, sd;
  std::vector<bool> constant;
};
ColumnScale ScaleOf(std::span<const double> points, size_t dims);
// (x − mean) / sd, column-wise, in place.
void Standardize(std::span<double> points, const ColumnScale& scale);

}  // namespace cairn::value
