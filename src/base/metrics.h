#pragma once
// Metrics registry: counters, gauges and histograms that modules register once and update on hot
// paths with relaxed atomics (no locks, no allocation). RenderPrometheus() writes the text
// exposition format served by /metrics.
//
// Thread-safety: registration takes a mutex and returns a pointer that stays valid for the
// registry's lifetime; updates through that pointer are lock-free and safe from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cairn::metrics {

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double d) {
    double cur = v_.load(std::memory_order_relaxed);
    while (!v_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {}
  }
  double Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Cumulative histogram over fixed upper bounds (Prometheus `le` buckets).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  uint64_t BucketCount(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }  // non-cumulative; i == bounds().size() is +Inf
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  // Approximate quantile (0..1) by linear interpolation inside the bucket.
  double Quantile(double q) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Exponential bucket bounds: start, start*factor, ... (n bounds).
std::vector<double> ExponentialBounds(double start, double factor, int n);

class Registry {
 public:
  // Labels are given pre-rendered, e.g. `reason="bad_json"`; the same name with different labels
  // is one metric family. Calling again with the same name+labels returns the same object.
  Counter* GetCounter(const std::string& name, const std::string& help, const std::string& labels = "");
  Gauge* GetGauge(const std::string& name, const std::string& help, const std::string& labels = "");
  Histogram* GetHistogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                          const std::string& labels = "");
  // A gauge whose value is computed at render time (e.g. store size). `fn` must be thread-safe
  // and must outlive the registry or be removed with RemoveCallbacks(owner).
  void AddCallbackGauge(const std::string& name, const std::string& help, std::function<double()> fn,
                        const void* owner = nullptr);
  void RemoveCallbacks(const void* owner);

  std::string RenderPrometheus() const;

  // The process-wide registry (modules may also be handed their own, e.g. in tests).
  static Registry* Default();

 private:
  struct Family {
    std::string help;
    std::string type;  // counter | gauge | histogram
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
    std::vector<std::pair<const void*, std::function<double()>>> callbacks;
  };
  Family& FamilyLocked(const std::string& name, const std::string& help, const char* type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;  // guarded by mu_
};

}  // namespace cairn::metrics
