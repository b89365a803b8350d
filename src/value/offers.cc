#include "value/offers.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <unordered_set>

#include <fmt/format.h>

namespace cairn::value {
namespace {

// Dotted numeric version → components; nullopt when not of that shape.
std::optional<std::vector<int64_t>> ParseVersion(std::string_view v) {
  if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  std::vector<int64_t> parts;
  while (true) {
    const size_t dot = v.find('.');
    std::string_view part = v.substr(0, dot);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (ec != std::errc() || p != part.data() + part.size() || part.empty()) return std::nullopt;
    parts.push_back(n);
    if (dot == std::string_view::npos) break;
    v.remove_prefix(dot + 1);
  }
  while (parts.size() > 1 && parts.back() == 0) parts.pop_back();  // 2.0 == 2
  return parts;
}

}  // namespace

Status ValidateOfferOptions(const OfferOptions& o) {
  if (o.min_common_buyers < 1) return InvalidArgument("offers.min_common_buyers must be ≥ 1");
  if (o.neighbours < 1) return InvalidArgument("offers.neighbours must be ≥ 1");
  if (o.max_basket < 2) return InvalidArgument("offers.max_basket must be ≥ 2");
  if (!(o.default_margin > 0)) return InvalidArgument("offers.default_margin must be > 0");
  for (const auto& [item, m] : o.margins)
    if (!(m > 0)) return InvalidArgument("offers.margins[" + item + "] must be > 0");
  return Status::Ok();
}

Result<OfferModel> OfferModel::Build(std::span<const ItemPurchase> purchases, const OfferOptions& options,
                                     const std::unordered_map<std::string, std::string>* names) {
  RETURN_IF_ERROR(ValidateOfferOptions(options));
  OfferModel m;
  m.options_ = options;
  // Intern customers and items; per customer the latest day per item.
  std::unordered_map<uint64_t, uint32_t> cust_ids;
  std::vector<std::unordered_map<uint32_t, int64_t>> baskets;
  for (const auto& p : purchases) {
    auto [it, fresh] = m.ids_.try_emplace(p.item, static_cast<uint32_t>(m.item_names_.size()));
    if (fresh) m.item_names_.push_back(p.item);
    auto [ct, cfresh] = cust_ids.try_emplace(p.customer, static_cast<uint32_t>(baskets.size()));
    if (cfresh) baskets.emplace_back();
    auto [bt, bfresh] = baskets[ct->second].try_emplace(it->second, p.day);
    if (!bfresh) bt->second = std::max(bt->second, p.day);
  }
  const size_t n_items = m.item_names_.size();
  m.customers_ = static_cast<int64_t>(baskets.size());
  m.display_.resize(n_items);
  if (names)
    for (size_t i = 0; i < n_items; ++i)
      if (auto it = names->find(m.item_names_[i]); it != names->end()) m.display_[i] = it->second;

  // Baskets as sorted id lists (the most recent max_basket items of a big one); buyers per item
  // counts every basket in full.
  m.buyers_.assign(n_items, 0);
  std::vector<std::vector<uint32_t>> lists(baskets.size());
  std::vector<std::vector<uint32_t>> by_item(n_items);  // inverted index over the capped baskets
  for (size_t c = 0; c < baskets.size(); ++c) {
    std::vector<std::pair<int64_t, uint32_t>> v;
    v.reserve(baskets[c].size());
    for (auto [item, day] : baskets[c]) {
      v.emplace_back(day, item);
      ++m.buyers_[item];
    }
    if (v.size() > options.max_basket) {
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(options.max_basket), v.end(),
                       [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
      v.resize(options.max_basket);
    }
    auto& list = lists[c];
    for (auto& [day, item] : v) list.push_back(item);
    std::sort(list.begin(), list.end());
    for (uint32_t item : list) by_item[item].push_back(static_cast<uint32_t>(c));
  }

  // Rules X→Y: for each X, count its buyers' other items in a dense scratch row (cache-friendly,
  // no pair hash map), keep the strongest `neighbours` by lift above the support floor.
  const double n = static_cast<double>(m.customers_);
  m.rules_by_item_.resize(n_items);
  std::vector<uint32_t> co(n_items, 0);
  std::vector<uint32_t> touched;
  for (uint32_t x = 0; x < n_items; ++x) {
    touched.clear();
    for (uint32_t c : by_item[x])
      for (uint32_t y : lists[c]) {
        if (y == x) continue;
        if (co[y]++ == 0) touched.push_back(y);
      }
    auto& rules = m.rules_by_item_[x];
    for (uint32_t y : touched) {
      if (co[y] >= options.min_common_buyers) {
        const double conf = co[y] / static_cast<double>(m.buyers_[x]);
        const double lift = conf / (static_cast<double>(m.buyers_[y]) / n);
        rules.push_back({y, static_cast<float>(conf), static_cast<float>(lift)});
      }
      co[y] = 0;
    }
    auto stronger = [](const Rule& a, const Rule& b) { return a.lift != b.lift ? a.lift > b.lift : a.to < b.to; };
    if (rules.size() > options.neighbours) {
      std::nth_element(rules.begin(), rules.begin() + static_cast<std::ptrdiff_t>(options.neighbours), rules.end(), stronger);
      rules.resize(options.neighbours);
    }
    std::sort(rules.begin(), rules.end(), stronger);
    rules.shrink_to_fit();
    m.rules_ += static_cast<int64_t>(rules.size());
  }
  m.by_popularity_.resize(n_items);
  std::iota(m.by_popularity_.begin(), m.by_popularity_.end(), 0);
  std::stable_sort(m.by_popularity_.begin(), m.by_popularity_.end(),
                   [&](uint32_t a, uint32_t b) { return m.buyers_[a] > m.buyers_[b]; });
  return m;
}

double OfferModel::Margin(uint32_t item) const {
  auto it = options_.margins.find(item_names_[item]);
  return it != options_.margins.end() ? it->second : options_.default_margin;
}

std::string OfferModel::Display(uint32_t item) const {
  return display_[item].empty() ? item_names_[item] : display_[item];
}

std::vector<Offer> OfferModel::Recommend(std::span<const std::string> owned, size_t k) const {
  std::vector<Offer> out;
  if (k == 0) return out;
  std::unordered_set<std::string> owned_set(owned.begin(), owned.end());
  // 1. Configured complements: every unowned member of a set the customer has a member of.
  for (const auto& set : options_.complements) {
    const std::string* have = nullptr;
    for (const auto& item : set)
      if (owned_set.count(item)) {
        have = &item;
        break;
      }
    if (!have) continue;
    for (const auto& item : set) {
      if (owned_set.count(item) || std::any_of(out.begin(), out.end(), [&](const Offer& o) { return o.item == item; }))
        continue;
      Offer o;
      o.kind = "complement";
      o.item = item;
      auto id = ids_.find(item);
      o.score = id != ids_.end() ? Margin(id->second) : options_.default_margin;
      o.because = *have;
      auto hid = ids_.find(*have);
      o.reason = fmt::format("bought {}; {} complements it", hid != ids_.end() ? Display(hid->second) : *have,
                             id != ids_.end() ? Display(id->second) : item);
      out.push_back(std::move(o));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Offer& a, const Offer& b) { return a.score > b.score; });
  if (out.size() >= k) {
    out.resize(k);
    return out;
  }

  // 2. Co-purchase rules from every owned item.
  struct Cand {
    double score = 0;
    const Rule* best = nullptr;  // the rule with the highest lift: the reason
    uint32_t from = 0;
  };
  std::unordered_map<uint32_t, Cand> cands;
  std::unordered_set<uint32_t> owned_ids;
  for (const auto& item : owned)
    if (auto it = ids_.find(item); it != ids_.end()) owned_ids.insert(it->second);
  for (uint32_t x : owned_ids)
    for (const Rule& r : rules_by_item_[x]) {
      if (owned_ids.count(r.to)) continue;
      Cand& c = cands[r.to];
      if (options_.scoring == OfferScoring::kLiftTimesMargin) c.score = std::max(c.score, static_cast<double>(r.lift));
      else c.score += r.confidence;
      if (!c.best || r.lift > c.best->lift || (r.lift == c.best->lift && x < c.from)) {
        c.best = &r;
        c.from = x;
      }
    }
  std::vector<std::pair<double, uint32_t>> ranked;
  ranked.reserve(cands.size());
  for (auto& [y, c] : cands) ranked.emplace_back(c.score * Margin(y), y);
  const size_t want = std::min(ranked.size(), k - out.size() + 8);  // + slack for complements already listed
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(want), ranked.end(),
                    [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  for (size_t i = 0; i < want && out.size() < k; ++i) {
    const uint32_t y = ranked[i].second;
    if (std::any_of(out.begin(), out.end(), [&](const Offer& o) { return o.item == item_names_[y]; })) continue;
    const Cand& c = cands[y];
    Offer o;
    o.kind = "co_purchase";
    o.item = item_names_[y];
    o.score = ranked[i].first;
    o.confidence = c.best->confidence;
    o.lift = c.best->lift;
    o.because = item_names_[c.from];
    o.reason = fmt::format("bought {}; {:.0f}% of buyers of {} bought {} ({:.1f}× the usual rate)", Display(c.from),
                           100 * o.confidence, Display(c.from), Display(y), o.lift);
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::string> OfferModel::Popular(std::span<const std::string> owned, size_t k) const {
  std::unordered_set<std::string_view> owned_set(owned.begin(), owned.end());
  std::vector<std::string> out;
  for (uint32_t id : by_popularity_) {
    if (out.size() >= k) break;
    if (!owned_set.count(item_names_[id])) out.push_back(item_names_[id]);
  }
  return out;
}

std::optional<Offer> FeatureUpdateOffer(std::string_view current, std::string_view latest) {
  auto cur = ParseVersion(current), lat = ParseVersion(latest);
  if (!cur || !lat || !std::lexicographical_compare(cur->begin(), cur->end(), lat->begin(), lat->end()))
    return std::nullopt;
  Offer o;
  o.kind = "feature_update";
  o.item = std::string(latest);
  o.score = 1;
  o.reason = fmt::format("uses version {}; version {} is available", current, latest);
  return o;
}

}  // namespace cairn::value
