#pragma once
// IngestTouchRecorder: records delivered actions as `Action Sent` track interactions through the
// ingest path, as the trusted internal source kActionsSource (messageId "cairn-action-<id>", so a
// repeat is a duplicate). The customer is named by the action's customer_key (userId or
// anonymousId).
//
// A sent action must land on the customer's timeline — the frequency cap, the emotion curve and
// outcome learning read it there — but the store refuses appends while it is throttled
// (back-pressure: memtable full, WAL behind; ingest answers Unavailable, the API's 429). Such a
// refused touch is queued and retried in order, after a back-off that doubles per refusal (equal
// jitter) up to max_backoff and resets on success. Retrying is safe: the messageId makes a touch
// that did land a duplicate.
//
//   bounded:   at most max_queued touches wait (the one being retried included); one beyond is dropped (logged, counted in
//              cairn_actions_touches_lost_total{reason="queue_full"}).
//   order:     while touches wait, new ones join the queue behind them (the store is throttled:
//              no point in asking it again out of turn).
//   final:     an answer other than Unavailable / ResourceExhausted (a rejected message) is not
//              retried (logged, counted as lost with reason "rejected").
//   shutdown:  Close() keeps retrying for up to close_drain_ms, then counts what is left as lost
//              (reason "shutdown"): the queue is in memory, a crash loses it.
//
// Thread-safety: all methods are thread-safe; retries run on one thread of the recorder's own.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "actions/dispatcher.h"
#include "base/metrics.h"
#include "ingest/ingestor.h"

namespace cairn::rescue {

struct TouchRetryOptions {
  size_t max_queued = 10000;          // touches waiting for a retry (a few hundred bytes each); default 10,000
  int64_t initial_backoff_ms = 250;   // wait after the first refusal; default 250 ms
  int64_t max_backoff_ms = 30000;     // cap on the doubling wait; default 30 s
  int64_t close_drain_ms = 2000;      // Close(): how long waiting touches may still be retried; default 2 s
  int64_t answer_timeout_ms = 30000;  // an ingest answer not back by then counts as a refusal; default 30 s
  metrics::Registry* metrics = nullptr;  // default: the process registry
};

class IngestTouchRecorder final : public actions::TouchRecorder {
 public:
  explicit IngestTouchRecorder(ingest::Ingestor* ingestor, TouchRetryOptions options = {});
  ~IngestTouchRecorder() override;  // Close()

  // Sends the touch (or queues it behind waiting ones). InvalidArgument when the action cannot be
  // made into a message (customer_key); a refusal by the store is not an error here: it is retried.
  Status RecordTouch(const actions::ActionRecord& action, int64_t at_ms) override;

  // Waits until no touch is waiting or in flight, up to `timeout_ms`; false on timeout.
  bool Flush(int64_t timeout_ms);
  // Touches waiting for a retry now (the one being retried included).
  size_t queued() const;
  // Stops the retry thread after the close drain (see above). Idempotent.
  void Close();

  // The Segment message recorded for `action` (exposed for tests).
  static Result<std::string> TouchMessage(const actions::ActionRecord& action, int64_t at_ms);

 private:
  struct Touch {
    int64_t action_id = 0;
    std::string body;
    int64_t at_ms = 0;
  };
  enum class Answer { kLanded, kRefused, kFinal };

  void Send(Touch t);                  // first attempt, asynchronous
  Answer SendAndWait(const Touch& t);  // a retry, on the retry thread
  Answer Classify(const Result<ingest::IngestOutcome>& outcome, int64_t action_id);
  void Enqueue(Touch t);               // mu_ not held
  void EnqueueLocked(Touch t);
  void RetryLoop();

  ingest::Ingestor* ingestor_;
  TouchRetryOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;   // the retry thread: work or stop
  std::condition_variable idle_;   // Flush: nothing waiting or in flight
  std::deque<Touch> queue_;        // guarded by mu_
  size_t in_flight_ = 0;           // guarded by mu_: first attempts and the retry being sent
  bool retrying_ = false;          // guarded by mu_: the retry thread is sending the queue's head
  int failures_ = 0;               // guarded by mu_: consecutive refusals (the back-off)
  bool closing_ = false;           // guarded by mu_: Close() began (drain)
  bool stop_ = false;              // guarded by mu_
  std::mt19937_64 rng_;            // the retry thread only
  std::thread thread_;
  metrics::Counter* retried_ = nullptr;
  metrics::Counter* lost_full_ = nullptr;
  metrics::Counter* lost_rejected_ = nullptr;
  metrics::Counter* lost_shutdown_ = nullptr;
  metrics::Gauge* waiting_ = nullptr;
};

}  // namespace cairn::rescue
