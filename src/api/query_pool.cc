#include "api/query_pool.h"

#include <algorithm>
#include <utility>

#include "base/thread_name.h"

namespace cairn::api {

QueryPool::QueryPool(QueryPoolOptions options) : queue_limit_(options.queue) {
  const unsigned n = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads_.reserve(n);
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] {
      NameThisThread("query");
      Work();
    });
}

QueryPool::~QueryPool() { Stop(); }

bool QueryPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard l(mu_);
    if (stopping_ || tasks_.size() >= queue_limit_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void QueryPool::Stop() {
  {
    std::lock_guard l(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

size_t QueryPool::queued() const {
  std::lock_guard l(mu_);
  return tasks_.size();
}

size_t QueryPool::running() const {
  std::lock_guard l(mu_);
  return running_;
}

void QueryPool::Work() {
  std::unique_lock l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stopping_ || !tasks_.empty(); });
    // Queued tasks still run after Stop(): each owes its client an answer (the server's drain
    // waits for in-flight requests).
    if (tasks_.empty()) return;
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++running_;
    l.unlock();
    task();
    task = nullptr;  // destroy what it captured outside the lock
    l.lock();
    --running_;
  }
}

}  // namespace cairn::api
