// IngestTouchRecorder against the real ingest path (pipeline + identity + store on disk) whose
// store is throttled: memtable_max_bytes so small that every append after the first is refused
// ("memtable is full", the API's 429) until a flush. Touches refused then are retried with back-off
// and land exactly once each when the store takes appends again; the queue is bounded.

#include "rescue/touch_recorder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "base/clock.h"
#include "ingest/pipeline.h"
#include "rescue/journey_bridge.h"
#include "testutil/temp_dir.h"

namespace cairn::rescue {
namespace {

class ThrottledStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions so;
    so.background_work = false;    // nothing flushes unless the test says so
    so.memtable_max_bytes = 1;     // one batch in the memtable: the store refuses the next
    so.metrics = &registry_;
    auto st = store::Store::Open(io::Env::Posix(), dir_.Sub("store"), so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
    pipeline_ = std::make_unique<ingest::IngestPipeline>(
        ingest::PipelineOptions{}, store_.get(), &identity_, [](std::string_view) { return std::optional<uint32_t>(7); },
        &registry_);
  }
  void TearDown() override {
    recorder_.reset();
    pipeline_.reset();
    if (store_) (void)store_->Close();
  }
  void OpenRecorder(size_t max_queued) {
    TouchRetryOptions o;
    o.max_queued = max_queued;
    o.initial_backoff_ms = 5;
    o.max_backoff_ms = 40;
    o.close_drain_ms = 200;
    o.metrics = &registry_;
    recorder_ = std::make_unique<IngestTouchRecorder>(pipeline_.get(), o);
  }
  // Fills the memtable so that the store refuses appends from now on (until Flush).
  void Throttle() {
    ingest::IngestRequest req;
    req.dialect = ingest::Dialect::kSegmentSingle;
    req.body = R"({"userId":"filler","event":"Page Viewed"})";
    req.received_at_ms = now_;
    req.trusted_source = 7;
    std::promise<Result<ingest::IngestOutcome>> p;
    pipeline_->Ingest(std::move(req), [&p](Result<ingest::IngestOutcome> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  actions::ActionRecord Action(int64_t id) {
    actions::ActionRecord a;
    a.id = id;
    a.request.customer_key = "userId:ann";
    a.request.name = "rescue.going_cold";
    a.request.channel = "email";
    a.request.purpose = "marketing";
    a.request.source_ref = "rescue:" + std::to_string(id);
    return a;
  }
  // messageId → how many `Action Sent` rows carry it.
  std::map<std::string, int> TouchesInStore() {
    std::map<std::string, int> out;
    auto snap = store_->GetSnapshot();
    EXPECT_TRUE(snap->ForEach([&](const store::Interaction& r) {
      if (r.event == kTouchEvent) out[r.message_id]++;
      return true;
    }).ok());
    return out;
  }
  uint64_t Counter(const std::string& name, const std::string& labels = "") {
    return registry_.GetCounter(name, "", labels)->Value();
  }

  testutil::TempDir dir_;
  metrics::Registry registry_;
  ingest::IdentityResolver identity_{ingest::DefaultIdentityOptions()};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ingest::IngestPipeline> pipeline_;
  std::unique_ptr<IngestTouchRecorder> recorder_;
  const int64_t now_ = Clock::Real()->NowMillis();
};

TEST_F(ThrottledStoreTest, RefusedTouchesAreRetriedAndLandOnceEachWhenTheStoreTakesAppendsAgain) {
  OpenRecorder(100);
  Throttle();
  for (int64_t id = 1; id <= 3; ++id) ASSERT_TRUE(recorder_->RecordTouch(Action(id), now_ + id).ok());
  // Refused (the store is throttled) and waiting; retried with back-off while it stays throttled.
  EXPECT_FALSE(recorder_->Flush(300));
  EXPECT_EQ(recorder_->queued(), 3u);
  EXPECT_GE(Counter("cairn_actions_touches_retried_total"), 2u);
  EXPECT_TRUE(TouchesInStore().empty());
  EXPECT_GE(registry_.GetCounter("cairn_store_memtable_full_total", "")->Value(), 3u);

  // The flush catches up: the next retry lands, and the rest follow in order.
  ASSERT_TRUE(store_->Flush().ok());
  // Each landed touch fills the tiny memtable again; keep flushing as a background flush would.
  for (int i = 0; i < 400 && recorder_->queued() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(store_->Flush().ok());
  }
  ASSERT_TRUE(recorder_->Flush(5000));
  EXPECT_EQ(TouchesInStore(), (std::map<std::string, int>{
                                  {"cairn-action-1", 1}, {"cairn-action-2", 1}, {"cairn-action-3", 1}}));
  EXPECT_EQ(Counter("cairn_actions_touches_lost_total", R"(reason="queue_full")"), 0u);
  EXPECT_EQ(registry_.GetGauge("cairn_actions_touches_waiting", "")->Value(), 0);

  // A retried touch that had landed after all is a duplicate, not a second row.
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(recorder_->RecordTouch(Action(2), now_ + 2).ok());
  ASSERT_TRUE(recorder_->Flush(5000));
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(TouchesInStore()["cairn-action-2"], 1);
}

TEST_F(ThrottledStoreTest, TheQueueIsBoundedAndShutdownCountsWhatIsLeft) {
  OpenRecorder(2);
  Throttle();
  for (int64_t id = 1; id <= 5; ++id) ASSERT_TRUE(recorder_->RecordTouch(Action(id), now_ + id).ok());
  // Two wait (one of them maybe in the middle of a retry); the others were dropped and counted.
  EXPECT_FALSE(recorder_->Flush(100));
  EXPECT_EQ(Counter("cairn_actions_touches_lost_total", R"(reason="queue_full")"), 3u);
  // Still throttled at shutdown: after the drain time the two left are counted as lost.
  recorder_->Close();
  EXPECT_EQ(Counter("cairn_actions_touches_lost_total", R"(reason="shutdown")"), 2u);
  EXPECT_EQ(recorder_->queued(), 0u);
  EXPECT_TRUE(TouchesInStore().empty());
}

TEST_F(ThrottledStoreTest, AnUnthrottledStoreTakesTheTouchAtOnceAndBadKeysAreRefused) {
  OpenRecorder(100);
  ASSERT_TRUE(recorder_->RecordTouch(Action(9), now_).ok());
  ASSERT_TRUE(recorder_->Flush(5000));
  EXPECT_EQ(Counter("cairn_actions_touches_retried_total"), 0u);
  EXPECT_EQ(TouchesInStore(), (std::map<std::string, int>{{"cairn-action-9", 1}}));
  auto bad = Action(10);
  bad.request.customer_key = "email:a@x.io";
  EXPECT_EQ(recorder_->RecordTouch(bad, now_).message(), "customer_key: need userId:… or anonymousId:…, got 'email:a@x.io'");
}

}  // namespace
}  // namespace cairn::rescue
