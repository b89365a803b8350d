#pragma once
// WhoPage / WhoList: one page of a "who" list — the customers behind a number of an answer (a
// paths node or link, a stickiness bar, a lifecycle cell; the funnel keeps its own FunnelWho with
// the same paging). Customers are canonical ids in ascending order; a page holds the first
// `limit` ids greater than `after`, and `next` is the cursor of the following page (the last id
// of this one) when there are more, else empty. Paging a fixed snapshot therefore lists every
// customer exactly once, whatever the page size.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace cairn::analytics {

struct WhoPage {
  size_t limit = 100;  // 1..10000
  uint64_t after = 0;  // cursor: canonical customer ids > after (0 = from the start)
};

struct WhoList {
  std::vector<uint64_t> customers;  // canonical ids, ascending, at most the page's limit
  std::optional<uint64_t> next;     // cursor for the next page; empty on the last page
};

}  // namespace cairn::analytics
