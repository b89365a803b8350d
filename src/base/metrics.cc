#include "base/metrics.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/check.h"

namespace cairn::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double cur = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {}
}

double Histogram::Quantile(double q) const {
  uint64_t total = Count();
  if (total == 0) return 0;
  double rank = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    uint64_t c = BucketCount(i);
    if (c > 0 && static_cast<double>(seen + c) >= rank) {
      double lo = i == 0 ? 0 : bounds_[i - 1];
      double hi = i < bounds_.size() ? bounds_[i] : lo;  // +Inf bucket: report its lower edge
      return lo + (hi - lo) * ((rank - static_cast<double>(seen)) / static_cast<double>(c));
    }
    seen += c;
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

std::vector<double> ExponentialBounds(double start, double factor, int n) {
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < n; ++i, v *= factor) b.push_back(v);
  return b;
}

Registry::Family& Registry::FamilyLocked(const std::string& name, const std::string& help, const char* type) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  }
  CHECK(f.type == type) << "metric " << name << " registered as " << f.type << " and " << type;
  return f;
}

Counter* Registry::GetCounter(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& slot = FamilyLocked(name, help, "counter").counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* Registry::GetGauge(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& slot = FamilyLocked(name, help, "gauge").gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

Histogram* Registry::GetHistogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                  const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& slot = FamilyLocked(name, help, "histogram").histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return slot.get();
}

void Registry::AddCallbackGauge(const std::string& name, const std::string& help, std::function<double()> fn,
                                const void* owner) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, help, "gauge").callbacks.emplace_back(owner, std::move(fn));
}

void Registry::RemoveCallbacks(const void* owner) {
  std::lock_guard lock(mu_);
  for (auto& [name, f] : families_)
    std::erase_if(f.callbacks, [owner](const auto& cb) { return cb.first == owner; });
}

namespace {
std::string Braced(const std::string& labels) { return labels.empty() ? "" : "{" + labels + "}"; }
std::string WithLe(const std::string& labels, const std::string& le) {
  return "{" + (labels.empty() ? "" : labels + ",") + "le=\"" + le + "\"}";
}
}  // namespace

std::string Registry::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
    for (const auto& [labels, c] : f.counters) out += fmt::format("{}{} {}\n", name, Braced(labels), c->Value());
    for (const auto& [labels, g] : f.gauges) out += fmt::format("{}{} {}\n", name, Braced(labels), g->Value());
    for (const auto& [owner, fn] : f.callbacks) out += fmt::format("{} {}\n", name, fn());
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cum = 0;
      for (size_t i = 0; i < h->bounds().size(); ++i) {
        cum += h->BucketCount(i);
        out += fmt::format("{}_bucket{} {}\n", name, WithLe(labels, fmt::format("{}", h->bounds()[i])), cum);
      }
      cum += h->BucketCount(h->bounds().size());
      out += fmt::format("{}_bucket{} {}\n", name, WithLe(labels, "+Inf"), cum);
      out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, Braced(labels), h->Sum(), name, Braced(labels), h->Count());
    }
  }
  return out;
}

Registry* Registry::Default() {
  static Registry* r = new Registry();  // leaked: metrics may be touched during teardown
  return r;
}

}  // namespace cairn::metrics
