#pragma once
// RevenueSum: an order-independent sum of revenue values (docs/dashboard.md "Daily totals").
//
// The overview's revenue per day is computed two ways — by a scan of the store (rows in segment
// order) and by the incremental daily totals (rows in commit order, minus what an erasure takes
// away) — and both must give the same number to the last bit. A double sum depends on the order
// of its terms, so neither path adds doubles: each value is rounded once to a multiple of 2^-32
// (finer than a millionth of a cent) and added exactly as a 128-bit integer; the total is rounded
// to a double once, when read. Values beyond ±2^62 are clamped there and NaN counts as 0 (ingest
// never stores either; the clamp keeps 2^37 rows of the largest value inside 127 bits).

#include <algorithm>
#include <cmath>

namespace cairn::dashboard {

class RevenueSum {
 public:
  __extension__ typedef __int128 Int128;  // GCC/Clang; __extension__: no -Wpedantic warning

  // The exact fixed-point value `x` contributes.
  static Int128 Fixed(double x) {
    if (std::isnan(x)) return 0;
    x = std::clamp(x, -kMax, kMax);
    return static_cast<Int128>(std::nearbyint(x * kScale));
  }
  void Add(double x) { v_ += Fixed(x); }
  RevenueSum& operator+=(const RevenueSum& o) {
    v_ += o.v_;
    return *this;
  }
  RevenueSum& operator-=(const RevenueSum& o) {  // exact: undoes a += of the same sum
    v_ -= o.v_;
    return *this;
  }
  bool operator==(const RevenueSum&) const = default;
  double value() const { return static_cast<double>(v_) / kScale; }

 private:
  static constexpr double kScale = 4294967296.0;         // 2^32
  static constexpr double kMax = 4611686018427387904.0;  // 2^62
  Int128 v_ = 0;
};

}  // namespace cairn::dashboard
