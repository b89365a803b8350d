#pragma once
// WhoCollector: gathers the customers of a "who" list (spec/who.h) from the workers of a
// parallel kernel and cuts one page. Internal to exec/.
//
// Thread-safety: Add(worker, ...) may be called concurrently for different workers (each worker
// owns its vector); Finish() once, after the parallel pass.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "analytics/spec/who.h"

namespace cairn::analytics::internal {

class WhoCollector {
 public:
  WhoCollector(unsigned workers, const WhoPage& page) : page_(page), per_worker_(workers) {}

  // A customer (canonical id) of the list; ids at or below the cursor are dropped here.
  void Add(unsigned worker, uint64_t id) {
    if (id > page_.after) per_worker_[worker].push_back(id);
  }

  // The page: the `limit` smallest ids, ascending, and the cursor when more remain. Ids must be
  // distinct (each kernel adds a customer at most once).
  WhoList Finish() {
    std::vector<uint64_t> all;
    for (auto& v : per_worker_) all.insert(all.end(), v.begin(), v.end());
    WhoList out;
    if (all.size() > page_.limit) {
      std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(page_.limit), all.end());
      all.resize(page_.limit);
      std::sort(all.begin(), all.end());
      out.next = all.back();
    } else {
      std::sort(all.begin(), all.end());
    }
    out.customers = std::move(all);
    return out;
  }

 private:
  WhoPage page_;
  std::vector<std::vector<uint64_t>> per_worker_;
};

}  // namespace cairn::analytics::internal
