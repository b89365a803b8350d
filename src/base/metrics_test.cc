#include "base/metrics.h"

#include <gtest/gtest.h>

namespace cairn::metrics {
namespace {

TEST(MetricsTest, RendersPrometheusText) {
  Registry r;
  r.GetCounter("cairn_ingest_rejected_total", "Rejected messages", "reason=\"bad_json\"")->Inc(3);
  r.GetCounter("cairn_ingest_rejected_total", "Rejected messages", "reason=\"too_big\"")->Inc();
  auto* h = r.GetHistogram("cairn_wal_sync_seconds", "WAL sync latency", {0.001, 0.01});
  h->Observe(0.0005);
  h->Observe(0.005);
  h->Observe(1);
  r.AddCallbackGauge("cairn_store_bytes", "Store size", [] { return 42.0; });
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE cairn_ingest_rejected_total counter"), std::string::npos);
  EXPECT_NE(text.find("cairn_ingest_rejected_total{reason=\"bad_json\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_wal_sync_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_wal_sync_seconds_bucket{le=\"0.01\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_wal_sync_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_wal_sync_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_store_bytes 42\n"), std::string::npos);
}

TEST(MetricsTest, SameNameReturnsSameObject) {
  Registry r;
  EXPECT_EQ(r.GetCounter("a", "h"), r.GetCounter("a", "h"));
  EXPECT_NE(r.GetCounter("a", "h", "x=\"1\""), r.GetCounter("a", "h"));
}

TEST(MetricsTest, QuantileInterpolates) {
  Histogram h({1, 2, 4});
  for (int i = 0; i < 100; ++i) h.Observe(1.5);
  EXPECT_GT(h.Quantile(0.5), 1.0);
  EXPECT_LE(h.Quantile(0.5), 2.0);
}

}  // namespace
}  // namespace cairn::metrics
