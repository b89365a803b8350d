// Paths kernel. Pass 1 (parallel over customers) extracts each customer's path — at most
// 1 + depth event ids — into a per-worker flat array; the rest (top-N per step, nodes, links,
// drop-offs) is a single-threaded pass over those paths, which are small (≤ 24 bytes each).
// A "who" list also keeps, per path, the customer's position in the index (4 bytes more), and
// picks its customers in that same single-threaded pass, once the grouping into $other is known.
#include "analytics/exec/paths.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "analytics/exec/trends_util.h"
#include "analytics/exec/who_collect.h"

namespace cairn::analytics {

Status ValidatePathsSpec(const PathsSpec& spec) {
  if (spec.anchor.empty()) return InvalidArgument("anchor: required (an event name)");
  if (spec.depth < 1 || spec.depth > 5) return InvalidArgument("depth: must be 1..5");
  if (spec.to_ms < spec.from_ms || (spec.to_ms == spec.from_ms && spec.from_ms != 0))
    return InvalidArgument("to: must be after from");
  if (spec.window_ms < 0) return InvalidArgument("window: must not be negative");
  if (spec.max_nodes_per_step < 1 || spec.max_nodes_per_step > 50)
    return InvalidArgument("max_nodes_per_step: must be 1..50");
  if (spec.who) {
    const PathsWho& who = *spec.who;
    const bool link = who.kind == PathsWho::Kind::kLink;
    if (who.step > spec.depth || (link && who.step >= spec.depth))
      return InvalidArgument(std::string(link ? "who.source" : "who.node") + ": step " + std::to_string(who.step) +
                             (link ? " has no next step (depth " : " is past the depth (") +
                             std::to_string(spec.depth) + ")");
    if (who.event.empty()) return InvalidArgument(link ? "who.source: required" : "who.node: required");
    if (link && who.target.empty()) return InvalidArgument("who.target: required");
    if (who.page.limit < 1 || who.page.limit > 10000) return InvalidArgument("who.limit: must be 1..10000");
  }
  return Status::Ok();
}

namespace {
constexpr uint32_t kEnd = UINT32_MAX;  // no element at this step
constexpr size_t kMaxLen = 6;          // anchor + depth 5
}  // namespace

Result<PathsResult> RunPaths(const EventIndex& index, const PathsSpec& spec, const QueryContext& ctx) {
  RETURN_IF_ERROR(ValidatePathsSpec(spec));
  PathsResult out;
  const internal::EventFilter anchor = internal::ResolveEvent(index, spec.anchor, "anchor", &out.warnings);
  std::vector<bool> excluded(index.event_count(), false);
  for (const std::string& e : spec.exclude) {
    if (auto id = index.FindEvent(e)) excluded[*id] = true;
    if (e == spec.anchor) return InvalidArgument("exclude: must not contain the anchor");
  }
  const bool bounded = spec.from_ms != 0 || spec.to_ms != 0;
  const size_t len = 1 + spec.depth;
  const bool next = spec.direction == PathsSpec::Direction::kNext;

  std::vector<std::vector<uint32_t>> paths(EventIndex::Workers(ctx));  // flat, len per path
  std::vector<std::vector<uint32_t>> owner(spec.who ? paths.size() : 0);  // customer position per path
  const auto& ts = index.timestamps();
  const auto& ev = index.events();
  const auto& off = index.offsets();
  if (!anchor.none) {
    RETURN_IF_ERROR(index.ParallelForCustomers(ctx, [&](size_t begin, size_t end, unsigned w) -> Status {
      std::vector<uint32_t>& p = paths[w];
      for (size_t c = begin; c < end; ++c) {
        RowIndex lo = off[c], hi = off[c + 1];
        if (bounded) {
          lo = static_cast<RowIndex>(std::lower_bound(ts.begin() + lo, ts.begin() + hi, spec.from_ms) - ts.begin());
          hi = static_cast<RowIndex>(std::lower_bound(ts.begin() + lo, ts.begin() + hi, spec.to_ms) - ts.begin());
        }
        // the anchor row: first (next) or last (previous) occurrence in range
        RowIndex a = kNoRow;
        if (next) {
          for (RowIndex r = lo; r < hi; ++r)
            if (anchor.Matches(ev[r])) { a = r; break; }
        } else {
          for (RowIndex r = hi; r > lo; --r)
            if (anchor.Matches(ev[r - 1])) { a = r - 1; break; }
        }
        if (a == kNoRow) continue;
        const size_t at = p.size();
        p.resize(at + len, kEnd);
        if (spec.who) owner[w].push_back(static_cast<uint32_t>(c));
        p[at] = ev[a];
        size_t k = 1;
        uint32_t last = ev[a];
        const int64_t t0 = ts[a];
        if (next) {
          for (RowIndex r = a + 1; r < hi && k < len; ++r) {
            if (spec.window_ms > 0 && ts[r] - t0 > spec.window_ms) break;
            if (excluded[ev[r]] || (spec.collapse_repeats && ev[r] == last)) continue;
            p[at + k++] = last = ev[r];
          }
        } else {
          for (RowIndex r = a; r > lo && k < len; --r) {
            const RowIndex q = r - 1;
            if (spec.window_ms > 0 && t0 - ts[q] > spec.window_ms) break;
            if (excluded[ev[q]] || (spec.collapse_repeats && ev[q] == last)) continue;
            p[at + k++] = last = ev[q];
          }
        }
      }
      return Status::Ok();
    }));
  }

  // Per step: event frequencies, then the top events keep their node.
  const uint32_t kOther = static_cast<uint32_t>(index.event_count());  // label id of "$other"
  auto name = [&](uint32_t e) -> std::string { return e == kOther ? "$other" : index.event_name(e); };
  std::vector<std::unordered_map<uint32_t, uint64_t>> freq(len);
  for (const auto& p : paths)
    for (size_t i = 0; i < p.size(); i += len)
      for (size_t k = 0; k < len && p[i + k] != kEnd; ++k) ++freq[k][p[i + k]];
  std::vector<std::unordered_set<uint32_t>> keep(len);
  for (size_t k = 0; k < len; ++k) {
    std::vector<std::pair<uint32_t, uint64_t>> v(freq[k].begin(), freq[k].end());
    std::sort(v.begin(), v.end(), [&](const auto& x, const auto& y) {
      if (x.second != y.second) return x.second > y.second;
      return index.event_name(x.first) < index.event_name(y.first);
    });
    const size_t limit = k == 0 ? v.size() : std::min<size_t>(v.size(), spec.max_nodes_per_step);
    for (size_t i = 0; i < limit; ++i) keep[k].insert(v[i].first);
  }
  // The who list's node (step, label) and, for a link, the target label; kEnd (matches nothing)
  // for an event that has no node of its own at that step. Checked against the answer below.
  const PathsWho* who = spec.who ? &*spec.who : nullptr;
  uint32_t who_label = kEnd, who_target = kEnd;
  auto label_of = [&](uint32_t step, const std::string& event) -> uint32_t {
    if (event == "$other") return kOther;
    auto e = index.FindEvent(event);
    return e && keep[step].count(*e) ? *e : kEnd;
  };
  if (who) {
    who_label = label_of(who->step, who->event);
    if (who->kind == PathsWho::Kind::kLink) who_target = label_of(who->step + 1, who->target);
  }
  internal::WhoCollector who_list(1, who ? who->page : WhoPage{});
  // Nodes (step, label) and links.
  std::map<std::pair<uint32_t, uint32_t>, std::pair<uint64_t, uint64_t>> nodes;  // -> count, dropoff
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint64_t> links;           // (step, from, to)
  for (size_t w = 0; w < paths.size(); ++w) {
    const auto& p = paths[w];
    for (size_t i = 0; i < p.size(); i += len) {
      ++out.customers;
      uint32_t prev = 0;
      bool listed = false;
      for (size_t k = 0; k < len && p[i + k] != kEnd; ++k) {
        const uint32_t label = keep[k].count(p[i + k]) ? p[i + k] : kOther;
        auto& node = nodes[{static_cast<uint32_t>(k), label}];
        ++node.first;
        const bool ends = k + 1 == len || p[i + k + 1] == kEnd;
        if (ends) ++node.second;
        if (k > 0) ++links[{static_cast<uint32_t>(k - 1), prev, label}];
        if (who && label == who_label && k == who->step) {
          switch (who->kind) {
            case PathsWho::Kind::kNode: listed = true; break;
            case PathsWho::Kind::kDropped: listed = ends; break;
            case PathsWho::Kind::kLink:
              listed = !ends && (keep[k + 1].count(p[i + k + 1]) ? p[i + k + 1] : kOther) == who_target;
              break;
          }
        }
        prev = label;
      }
      if (listed) who_list.Add(0, index.customers()[owner[w][i / len]]);
    }
  }
  if (who) {
    out.who = who_list.Finish();
    // A node or link the answer does not have: an empty list, said so (not an error: names come
    // from an earlier answer, and the data may have moved since).
    const std::string node = std::to_string(who->step) + ":" + who->event;
    if (who->kind == PathsWho::Kind::kLink) {
      if (!links.count({who->step, who_label, who_target}))
        out.warnings.push_back("who: the answer has no link from '" + node + "' to '" + std::to_string(who->step + 1) +
                               ":" + who->target + "'");
    } else if (!nodes.count({who->step, who_label})) {
      out.warnings.push_back("who.node: the answer has no node '" + node + "'");
    }
  }
  auto id = [&](uint32_t step, uint32_t label) { return std::to_string(step) + ":" + name(label); };
  for (const auto& [key, v] : nodes) {
    PathsNode n;
    n.step = key.first;
    n.event = name(key.second);
    n.id = id(key.first, key.second);
    n.count = v.first;
    n.dropoff = v.second;
    out.nodes.push_back(std::move(n));
  }
  std::stable_sort(out.nodes.begin(), out.nodes.end(), [](const PathsNode& a, const PathsNode& b) {
    if (a.step != b.step) return a.step < b.step;
    if (a.count != b.count) return a.count > b.count;
    return a.event < b.event;
  });
  std::vector<std::pair<uint32_t, PathsLink>> ls;
  for (const auto& [key, count] : links)
    ls.push_back({std::get<0>(key), PathsLink{id(std::get<0>(key), std::get<1>(key)),
                                              id(std::get<0>(key) + 1, std::get<2>(key)), count}});
  std::sort(ls.begin(), ls.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    if (a.second.count != b.second.count) return a.second.count > b.second.count;
    if (a.second.source != b.second.source) return a.second.source < b.second.source;
    return a.second.target < b.second.target;
  });
  for (auto& [step, l] : ls) out.links.push_back(std::move(l));
  return out;
}

}  // namespace cairn::analytics
