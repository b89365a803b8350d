#include "rescue/touch_recorder.h"

#include <fmt/format.h>

#include <chrono>
#include <future>
#include <memory>

#include "base/backoff.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "rescue/journey_bridge.h"
#include "rescue/segment_text.h"

namespace cairn::rescue {

namespace {

// Throttling (back-pressure, a WAL behind, a batch that could not be made durable) is "not now".
bool Retryable(Code code) { return code == Code::kUnavailable || code == Code::kResourceExhausted; }

}  // namespace

IngestTouchRecorder::IngestTouchRecorder(ingest::Ingestor* ingestor, TouchRetryOptions options)
    : ingestor_(ingestor), options_(options), rng_(std::random_device{}()) {
  auto* m = options_.metrics ? options_.metrics : metrics::Registry::Default();
  retried_ = m->GetCounter("cairn_actions_touches_retried_total",
                           "Action Sent touches sent again after the store refused them (throttled).");
  const std::string lost_help = "Action Sent touches that never reached the customer's timeline.";
  lost_full_ = m->GetCounter("cairn_actions_touches_lost_total", lost_help, "reason=\"queue_full\"");
  lost_rejected_ = m->GetCounter("cairn_actions_touches_lost_total", lost_help, "reason=\"rejected\"");
  lost_shutdown_ = m->GetCounter("cairn_actions_touches_lost_total", lost_help, "reason=\"shutdown\"");
  waiting_ = m->GetGauge("cairn_actions_touches_waiting", "Action Sent touches waiting for a retry.");
  thread_ = std::thread([this] {
    NameThisThread("rescue-touches");
    RetryLoop();
  });
}

IngestTouchRecorder::~IngestTouchRecorder() { Close(); }

Result<std::string> IngestTouchRecorder::TouchMessage(const actions::ActionRecord& a, int64_t at_ms) {
  const auto& key = a.request.customer_key;
  std::string id_field;
  std::string_view value;
  if (key.starts_with("userId:")) {
    id_field = "userId";
    value = std::string_view(key).substr(7);
  } else if (key.starts_with("anonymousId:")) {
    id_field = "anonymousId";
    value = std::string_view(key).substr(12);
  } else {
    return InvalidArgument(fmt::format("customer_key: need userId:… or anonymousId:…, got '{}'", key));
  }
  return fmt::format(
      R"({{"type":"track","event":{},"{}":{},"messageId":"cairn-action-{}","timestamp":{},)"
      R"("properties":{{"action":{},"actionId":{},"channel":{},"purpose":{},"direction":"outbound","source":{}}},)"
      R"("context":{{"channel":{}}}}})",
      Quoted(kTouchEvent), id_field, Quoted(value), a.id, Quoted(IsoMillis(at_ms)), Quoted(a.request.name), a.id,
      Quoted(a.request.channel), Quoted(a.request.purpose), Quoted(a.request.source_ref), Quoted(a.request.channel));
}

Status IngestTouchRecorder::RecordTouch(const actions::ActionRecord& action, int64_t at_ms) {
  ASSIGN_OR_RETURN(std::string body, TouchMessage(action, at_ms));
  Touch t{action.id, std::move(body), at_ms};
  {
    std::lock_guard lock(mu_);
    // Touches are waiting: the store is throttled; join them rather than ask out of turn.
    if (!queue_.empty() || stop_) {
      EnqueueLocked(std::move(t));
      return Status::Ok();
    }
    ++in_flight_;
  }
  Send(std::move(t));
  return Status::Ok();
}

namespace {

ingest::IngestRequest MakeRequest(const std::string& body, int64_t at_ms) {
  ingest::IngestRequest req;
  req.dialect = ingest::Dialect::kSegmentSingle;
  req.single_type = store::MessageType::kTrack;
  req.body = body;
  req.received_at_ms = at_ms;
  req.trusted_source = kActionsSource;
  return req;
}

}  // namespace

void IngestTouchRecorder::Send(Touch t) {
  auto shared = std::make_shared<Touch>(std::move(t));
  // `done` may run on the store's commit thread, or before Ingest returns. Close() waits for
  // every first attempt's answer, so `this` outlives it.
  ingestor_->Ingest(MakeRequest(shared->body, shared->at_ms), [this, shared](Result<ingest::IngestOutcome> outcome) {
    const Answer a = Classify(outcome, shared->action_id);
    std::lock_guard lock(mu_);
    if (a == Answer::kRefused) {
      failures_ = std::max(failures_, 1);  // it was just refused: wait before asking again
      EnqueueLocked(std::move(*shared));
    }
    --in_flight_;
    if (queue_.empty() && in_flight_ == 0) idle_.notify_all();
  });
}

IngestTouchRecorder::Answer IngestTouchRecorder::SendAndWait(const Touch& t) {
  // The promise is shared with the callback, which may outlive this wait (answer timeout).
  auto answer = std::make_shared<std::promise<Result<ingest::IngestOutcome>>>();
  auto future = answer->get_future();
  ingestor_->Ingest(MakeRequest(t.body, t.at_ms),
                    [answer](Result<ingest::IngestOutcome> outcome) { answer->set_value(std::move(outcome)); });
  if (future.wait_for(std::chrono::milliseconds(options_.answer_timeout_ms)) != std::future_status::ready) {
    return Answer::kRefused;  // sent again later; a duplicate if it did land
  }
  return Classify(future.get(), t.action_id);
}

IngestTouchRecorder::Answer IngestTouchRecorder::Classify(const Result<ingest::IngestOutcome>& outcome, int64_t id) {
  if (!outcome.ok()) {
    if (Retryable(outcome.status().code())) return Answer::kRefused;
    LOG_EVERY_N_SEC(kWarn, 10, "actions: touch of action {} not recorded: {}", id, outcome.status().ToString());
    lost_rejected_->Inc();
    return Answer::kFinal;
  }
  if (!outcome->rejected.empty()) {
    LOG_EVERY_N_SEC(kWarn, 10, "actions: touch of action {} rejected: {}", id, outcome->rejected[0].error);
    lost_rejected_->Inc();
    return Answer::kFinal;
  }
  return Answer::kLanded;
}

void IngestTouchRecorder::EnqueueLocked(Touch t) {
  if (stop_) {
    lost_shutdown_->Inc();
    LOG_EVERY_N_SEC(kWarn, 10, "actions: touch of action {} lost: the recorder is closed", t.action_id);
    return;
  }
  if (queue_.size() + (retrying_ ? 1 : 0) >= options_.max_queued) {
    lost_full_->Inc();
    LOG_EVERY_N_SEC(kWarn, 10, "actions: touch of action {} dropped: {} touches already wait for the throttled store",
                    t.action_id, queue_.size());
    return;
  }
  queue_.push_back(std::move(t));
  waiting_->Set(static_cast<double>(queue_.size()));
  wake_.notify_all();
}

void IngestTouchRecorder::RetryLoop() {
  const RetryPolicy policy{0, std::max<int64_t>(1, options_.initial_backoff_ms), 2,
                                    std::max(options_.initial_backoff_ms, options_.max_backoff_ms)};
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    if (failures_ > 0) {
      const auto delay = std::chrono::milliseconds(BackoffDelay(policy, failures_, rng_));
      if (wake_.wait_for(lock, delay, [&] { return stop_; })) return;
      if (queue_.empty()) continue;
    }
    Touch t = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    retrying_ = true;
    lock.unlock();
    const Answer a = SendAndWait(t);
    lock.lock();
    --in_flight_;
    retrying_ = false;
    retried_->Inc();
    if (a == Answer::kRefused) {
      ++failures_;
      if (stop_) {
        lost_shutdown_->Inc();
      } else {
        queue_.push_front(std::move(t));  // first in line again: order is kept
      }
    } else {
      failures_ = 0;
    }
    waiting_->Set(static_cast<double>(queue_.size()));
    if (queue_.empty() && in_flight_ == 0) idle_.notify_all();
  }
}

bool IngestTouchRecorder::Flush(int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return queue_.empty() && in_flight_ == 0; });
}

size_t IngestTouchRecorder::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size() + (retrying_ ? 1 : 0);
}

void IngestTouchRecorder::Close() {
  {
    std::lock_guard lock(mu_);
    if (closing_) return;
    closing_ = true;
  }
  (void)Flush(options_.close_drain_ms);
  size_t lost = 0;
  {
    std::unique_lock lock(mu_);
    stop_ = true;
    lost = queue_.size();
    queue_.clear();
    waiting_->Set(0);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (lost > 0) {
    lost_shutdown_->Inc(lost);
    LOG_WARN("actions: {} Action Sent touches were still refused by the store at shutdown and are lost", lost);
  }
  // First attempts still waiting for their answer call back into this object: wait for them.
  std::unique_lock lock(mu_);
  if (!idle_.wait_for(lock, std::chrono::milliseconds(options_.answer_timeout_ms), [&] { return in_flight_ == 0; })) {
    LOG_ERROR("actions: {} touch answers still pending at shutdown", in_flight_);
  }
}

}  // namespace cairn::rescue
