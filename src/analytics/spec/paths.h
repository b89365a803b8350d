#pragma once
// Paths: what customers did next after an anchor event (or before it), step by step, as a Sankey
// diagram of nodes (step, event) and links between consecutive steps.
//
// Semantics (exec/paths.cc; golden cases in tests/queries/paths/):
//   Per customer (canonical), rows = their interactions with timestamp in [from_ms, to_ms) (no
//   bounds when from = to = 0), ordered by (timestamp, seq), minus rows whose event is in
//   `exclude`.
//   anchor row = the FIRST row with event = anchor (direction next) or the LAST one (previous).
//   path = the anchor, then the following (next) or preceding (previous) rows, at most `depth`
//   of them, only rows within `window_ms` of the anchor when window_ms > 0; with
//   collapse_repeats a row whose event equals the previous path element's is skipped (so
//   "Page, Page, Page" is one step).
//   step 0 = the anchor (one node), step k = the k-th row after (before) it.
//   Rare-path grouping: at each step k >= 1 only the `max_nodes_per_step` most frequent events
//   (ties: name ascending) keep their own node; the rest become the node "$other" of that step.
//   node count   = customers whose path has that node at that step;
//   node dropoff = customers whose path ends at that node (no step k + 1);
//   link count   = customers going from node (k, a) to node (k + 1, b).
//   Reconciliation: step 0 count = customers with an anchor row in range (= the funnel's step-1
//   count for that event over the same range); for every step k, sum of node counts at k = step-0
//   count - sum of dropoffs at steps < k; every node's count = its dropoff + its outgoing links.
//   who (optional): the customers behind one number of the answer, one page at a time
//   (spec/who.h): a node's count (kNode), its dropoff (kDropped) or a link's count (kLink, from
//   the node (step, event) to the node (step + 1, target)). Nodes are named as in the answer,
//   after rare-path grouping ("$other" is the grouped node). A node or link the answer does not
//   have is an empty list with a warning, not an error.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/spec/segment.h"
#include "analytics/spec/who.h"
#include "base/status.h"

namespace cairn::analytics {

struct PathsWho {
  enum class Kind : uint8_t { kNode, kDropped, kLink } kind = Kind::kNode;
  uint32_t step = 0;   // the node's step (a link's source step): 0..depth (a link: < depth)
  std::string event;   // the node's event
  std::string target;  // kLink: the event of the target node, at step + 1
  WhoPage page;
};

struct PathsSpec {
  enum class Direction : uint8_t { kNext, kPrevious };
  std::string anchor;  // required
  Direction direction = Direction::kNext;
  uint32_t depth = 3;  // 1..5
  int64_t from_ms = 0, to_ms = 0;
  int64_t window_ms = 0;  // 0: no limit
  std::vector<std::string> exclude;
  bool collapse_repeats = false;
  uint32_t max_nodes_per_step = 10;  // 1..50
  Segment segment;                   // the customers queried (spec/segment.h); empty = everyone
  std::optional<PathsWho> who;       // also list the customers of one node or link
};

struct PathsNode {
  std::string id;  // "<step>:<event>", unique
  uint32_t step = 0;
  std::string event;
  uint64_t count = 0;
  uint64_t dropoff = 0;
};

struct PathsLink {
  std::string source, target;  // node ids
  uint64_t count = 0;
};

struct PathsResult {
  uint64_t customers = 0;            // step-0 count
  std::vector<PathsNode> nodes;      // by step, then count descending, then event
  std::vector<PathsLink> links;      // by source step, then count descending, then ids
  std::optional<WhoList> who;        // when the spec has `who`
  std::vector<std::string> warnings;
};

Status ValidatePathsSpec(const PathsSpec& spec);

}  // namespace cairn::analytics
