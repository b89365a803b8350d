#include "journey/segment_index.h"

#include <algorithm>

namespace cairn::journey {
namespace {

// Merged into the base past this share of it: a Members call walks the overlay sorted, so it
// must stay small next to the base; a merge moves the whole base, so not too often.
constexpr size_t kOverlayShare = 16;
constexpr size_t kOverlayMin = 4096;

}  // namespace

void SegmentIndex::Set(store::CustomerId customer, Key k) {
  auto [it, inserted] = overlay_.try_emplace(customer);
  const bool was_live = inserted ? std::binary_search(ids_.begin(), ids_.end(), customer) : it->second.has_value();
  it->second = k;
  size_ += !was_live;
  if (overlay_.size() > std::max(kOverlayMin, ids_.size() / kOverlayShare)) MergeOverlay();
}

void SegmentIndex::Erase(store::CustomerId customer) {
  auto it = overlay_.find(customer);
  if (it != overlay_.end()) {
    if (!it->second) return;
    it->second.reset();
    --size_;
    return;
  }
  if (!std::binary_search(ids_.begin(), ids_.end(), customer)) return;
  overlay_.emplace(customer, std::nullopt);
  --size_;
  if (overlay_.size() > std::max(kOverlayMin, ids_.size() / kOverlayShare)) MergeOverlay();
}

void SegmentIndex::Reset(std::vector<std::pair<store::CustomerId, Key>> all) {
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  overlay_.clear();
  ids_.clear();
  keys_.clear();
  ids_.reserve(all.size());
  keys_.reserve(all.size());
  for (const auto& [id, k] : all) {
    ids_.push_back(id);
    keys_.push_back(k);
  }
  size_ = ids_.size();
}

void SegmentIndex::MergeOverlay() {
  std::vector<std::pair<store::CustomerId, std::optional<Key>>> changes(overlay_.begin(), overlay_.end());
  std::sort(changes.begin(), changes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<store::CustomerId> ids;
  std::vector<Key> keys;
  ids.reserve(size_);
  keys.reserve(size_);
  size_t i = 0;
  for (const auto& [id, k] : changes) {
    for (; i < ids_.size() && ids_[i] < id; ++i) {
      ids.push_back(ids_[i]);
      keys.push_back(keys_[i]);
    }
    if (i < ids_.size() && ids_[i] == id) ++i;  // replaced or erased
    if (k) {
      ids.push_back(id);
      keys.push_back(*k);
    }
  }
  ids.insert(ids.end(), ids_.begin() + static_cast<std::ptrdiff_t>(i), ids_.end());
  keys.insert(keys.end(), keys_.begin() + static_cast<std::ptrdiff_t>(i), keys_.end());
  ids_ = std::move(ids);
  keys_ = std::move(keys);
  overlay_.clear();
}

std::vector<store::CustomerId> SegmentIndex::Members(const Match& m) const {
  auto keeps = [&m](const Key& k) { return m.persona[k.persona] && m.lifecycle[k.lifecycle]; };
  std::vector<std::pair<store::CustomerId, std::optional<Key>>> changes(overlay_.begin(), overlay_.end());
  std::sort(changes.begin(), changes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<store::CustomerId> out;
  size_t i = 0;
  for (const auto& [id, k] : changes) {
    for (; i < ids_.size() && ids_[i] < id; ++i)
      if (keeps(keys_[i])) out.push_back(ids_[i]);
    if (i < ids_.size() && ids_[i] == id) ++i;  // the overlay's entry replaces it
    if (k && keeps(*k)) out.push_back(id);
  }
  for (; i < ids_.size(); ++i)
    if (keeps(keys_[i])) out.push_back(ids_[i]);
  return out;
}

}  // namespace cairn::journey
