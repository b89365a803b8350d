#include "store/compaction_policy.h"

namespace cairn::store {

size_t PickCompactionStart(const std::vector<uint64_t>& rows, size_t max_segments) {
  const size_t n = rows.size();
  if (n <= max_segments || n < 2) return n;
  size_t best = n;
  // Compare cost(i) = total(i) / (n - 1 - i) without division: a/b < c/d ⇔ a·d < c·b (all > 0).
  unsigned __int128 best_total = 0, best_removed = 1;
  unsigned __int128 total = rows[n - 1];
  for (size_t i = n - 1; i-- > 0;) {
    total += rows[i];
    const unsigned __int128 removed = n - 1 - i;
    // Suffixes grow as i falls, so keeping `best` on a tie keeps the one with fewer rows.
    if (best == n || total * best_removed < best_total * removed) {
      best = i;
      best_total = total;
      best_removed = removed;
    }
  }
  return best;
}

}  // namespace cairn::store
