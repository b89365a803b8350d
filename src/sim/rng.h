#pragma once
// Rng: splitmix64, a tiny deterministic generator. The simulator gives every customer its own
// stream (seeded from the run seed and the customer's index), so a customer's history does not
// depend on how other customers' events interleave, and a change to one customer (a closed-loop
// action) leaves every other customer's bytes unchanged.

#include <cmath>
#include <cstdint>

namespace cairn::sim {

// The splitmix64 finaliser: a bijection on 64-bit values, used to derive seeds and ids.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct Rng {
  uint64_t s = 0;
  uint64_t Next() { return Mix64(s += 0x9e3779b97f4a7c15ull); }
  // Uniform in [0, n); n > 0.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Unit(); }
  // Exponential with the given mean.
  double Exp(double mean) { return -mean * std::log(1.0 - Unit()); }
  // Standard normal (Box-Muller, one value per call).
  double Normal() {
    double u1 = Unit(), u2 = Unit();
    return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
  }
  // Log-normal with the given median and shape sigma.
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
};

}  // namespace cairn::sim
