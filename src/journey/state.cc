#include "journey/state.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

namespace cairn::journey {

// ---------------------------------------------------------------------------------------------
// PayloadView: one DOM parse of the message, then path lookups. The parser is per thread, so a
// PayloadView must not outlive the next one made on the same thread (Apply makes one at a time).

struct PayloadView::Impl {
  simdjson::dom::element root;
  bool ok = false;
  store::MessageType type;
};

namespace {
thread_local simdjson::dom::parser tl_parser;

bool Lookup(const PayloadView::Impl& impl, const std::string& path, simdjson::dom::element* out) {
  if (!impl.ok) return false;
  // Paths rooted at a top-level object are absolute; bare names are properties (traits for
  // identify/group).
  std::string_view p = path;
  simdjson::dom::element cur = impl.root;
  auto dot = p.find('.');
  std::string_view first = p.substr(0, dot);
  bool absolute = dot != std::string_view::npos &&
                  (first == "properties" || first == "traits" || first == "context" || first == "integrations");
  if (!absolute) {
    const char* base = (impl.type == store::MessageType::kIdentify || impl.type == store::MessageType::kGroup) ? "traits" : "properties";
    if (cur[base].get(cur) != simdjson::SUCCESS) return false;
  }
  while (!p.empty()) {
    dot = p.find('.');
    std::string_view key = p.substr(0, dot);
    simdjson::dom::object obj;
    if (cur.get_object().get(obj) != simdjson::SUCCESS) return false;
    if (obj[key].get(cur) != simdjson::SUCCESS) return false;
    if (dot == std::string_view::npos) break;
    p = p.substr(dot + 1);
  }
  *out = cur;
  return true;
}

bool AsNumber(simdjson::dom::element e, double* v) {
  if (e.is_number()) return e.get_double().get(*v) == simdjson::SUCCESS;
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS && !s.empty()) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  }
  return false;
}

std::string AsText(simdjson::dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  bool b;
  if (e.get_bool().get(b) == simdjson::SUCCESS) return b ? "true" : "false";
  if (e.is_null()) return "null";
  double d;
  if (e.is_number() && e.get_double().get(d) == simdjson::SUCCESS) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
  }
  return simdjson::minify(e);
}
}  // namespace

thread_local PayloadView::Impl tl_view;

PayloadView::PayloadView(const store::Interaction& r) : impl_(&tl_view) {
  impl_->type = r.type;
  impl_->ok = !r.payload.empty() && tl_parser.parse(r.payload).get(impl_->root) == simdjson::SUCCESS;
}

PayloadView::PayloadView(const RowView& r) : impl_(&tl_view) {
  static_assert(simdjson::SIMDJSON_PADDING <= 64, "RowView::payload_padded promises 64 bytes");
  impl_->type = r.type;
  impl_->ok = !r.payload.empty() &&
              tl_parser.parse(r.payload.data(), r.payload.size(), !r.payload_padded).get(impl_->root) == simdjson::SUCCESS;
}

bool PayloadView::Has(const std::string& path) const {
  simdjson::dom::element e;
  return Lookup(*impl_, path, &e) && !e.is_null();
}

bool PayloadView::Matches(const Condition& c) const {
  simdjson::dom::element e;
  bool found = Lookup(*impl_, c.path, &e) && !e.is_null();
  using Op = Condition::Op;
  if (c.op == Op::kExists) return found == c.exists;
  if (!found) return c.op == Op::kNe;
  double v;
  switch (c.op) {
    case Op::kGt: return AsNumber(e, &v) && v > c.number;
    case Op::kGe: return AsNumber(e, &v) && v >= c.number;
    case Op::kLt: return AsNumber(e, &v) && v < c.number;
    case Op::kLe: return AsNumber(e, &v) && v <= c.number;
    case Op::kEq:
    case Op::kNe: {
      bool eq = AsText(e) == c.strings[0];
      if (!eq && e.is_number() && AsNumber(e, &v)) {
        double want;
        auto r = std::from_chars(c.strings[0].data(), c.strings[0].data() + c.strings[0].size(), want);
        eq = r.ec == std::errc() && v == want;
      }
      return c.op == Op::kEq ? eq : !eq;
    }
    case Op::kIn: {
      std::string t = AsText(e);
      return std::find(c.strings.begin(), c.strings.end(), t) != c.strings.end();
    }
    case Op::kExists: break;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

namespace {
uint32_t Seconds(int64_t ms) {
  int64_t s = ms / 1000;
  if (s < 1) return 1;  // 0 means "never entered"
  if (s > UINT32_MAX) return UINT32_MAX;
  return static_cast<uint32_t>(s);
}
int32_t Week(int64_t ms) { return static_cast<int32_t>((ms >= 0 ? ms : ms - 604800000 + 1) / 604800000); }
float Clamp(double v) { return static_cast<float>(std::clamp(v, -100.0, 100.0)); }

std::string MatchText(const Match& m) { return m.type.empty() ? "'" + m.event + "'" : m.type; }
}  // namespace

CustomerState Deriver::Initial(store::CustomerId id, int64_t at_ms) const {
  CustomerState s;
  s.customer = id;
  for (int v = 0; v < kViewCount; ++v) s.entered[v][0] = Seconds(at_ms);
  UpdatePersona(&s);
  return s;
}

void Deriver::Derive(store::CustomerId id, const std::vector<store::Interaction>& rows, CustomerState* s, History* h) const {
  *s = Initial(id, rows.empty() ? 0 : rows.front().timestamp_ms);
  if (h) *h = History{};
  for (const auto& r : rows) Apply(s, h, r, nullptr);
}

const std::string& Deriver::PersonaName(const CustomerState& s, const ValueFacts* value) const {
  // Without value rules the stored evaluation is current (it is redone whenever its inputs move).
  const int p = map_->personas_read_value() ? MatchPersona(s, value) : s.persona;
  if (p == 0 || p > static_cast<int>(map_->personas().size())) return map_->default_persona();
  return map_->personas()[p - 1].name;
}

void Deriver::Enter(CustomerState* s, History* h, int view, int stage, const RowView& r) const {
  int from = s->stage[view];
  if (from == stage) return;
  s->stage[view] = static_cast<uint8_t>(stage);
  s->entered[view][stage] = Seconds(r.timestamp_ms);
  // A new stage starts a new episode for the rescue paths whose overstay is judged in this view.
  const auto& paths = map_->rescue_paths();
  for (size_t p = 0; p < paths.size(); ++p)
    if (!paths[p].trigger.stuck_in.empty() && static_cast<int>(paths[p].trigger.stuck_view) == view)
      s->episode_fired &= static_cast<uint16_t>(~(1u << p));
  if (h) {
    // A first transition is never the last (a customer moves in three views): room for a few at
    // once instead of growing 1, 2, 4 (three allocations and copies on the hot path).
    if (h->transitions.capacity() == 0) h->transitions.reserve(History::kFirstTransitions);
    h->transitions.push_back({r.timestamp_ms, r.seq, static_cast<uint8_t>(view), static_cast<uint8_t>(from), static_cast<uint8_t>(stage)});
  }
}

void Deriver::SetEmotion(CustomerState* s, History* h, double score, int16_t cause, int64_t at_ms) const {
  float v = Clamp(score);
  if (v == s->emotion) return;
  float old = s->emotion;
  s->emotion = v;
  if (!h) return;
  // The curve records every signal, and engagement only where it changes the label: a point per
  // click would drown the curve (and cost memory) without telling anything new.
  const EmotionModel& em = map_->emotion();
  if (cause == EmotionPoint::kCauseEngagement && em.Label(old) == em.Label(v)) return;
  // Trim in halves (amortised O(1)); the same interactions always leave the same points.
  if (h->emotion.size() >= 2 * History::kMaxEmotionPoints)
    h->emotion.erase(h->emotion.begin(), h->emotion.begin() + History::kMaxEmotionPoints);
  if (h->emotion.capacity() == 0) h->emotion.reserve(History::kFirstEmotionPoints);
  h->emotion.push_back({at_ms, v, cause});
}

void Deriver::UpdatePersona(CustomerState* s) const { s->persona = static_cast<uint8_t>(MatchPersona(*s, nullptr)); }

int Deriver::MatchPersona(const CustomerState& s, const ValueFacts* value) const {
  const auto& rules = map_->personas();
  const auto& traits = map_->trait_conditions();
  for (size_t p = 0; p < rules.size(); ++p) {
    const PersonaRule& rule = rules[p];
    if (rule.reads_value && !value) continue;
    bool all = true;
    for (size_t k = 0; k < rule.when.size() && all; ++k) {
      const Condition& c = rule.when[k];
      const PersonaField f = rule.fields[k];
      if (f == PersonaField::kTrait) {
        bool ok = false;
        for (size_t i = 0; i < traits.size() && i < 32; ++i)
          if (traits[i].cond == &c) ok = (s.trait_bits >> i) & 1;
        all = ok;
        continue;
      }
      if (f >= PersonaField::kPhase && f <= PersonaField::kEmotion) {
        std::string_view name;
        if (f == PersonaField::kEmotion) {
          name = EmotionName(map_->emotion().Label(s.emotion));
        } else {
          const int v = f == PersonaField::kPhase ? 0 : f == PersonaField::kLifecycle ? 1 : 2;
          name = map_->view(static_cast<View>(v)).stages[s.stage[v]].name;
        }
        bool in = false;
        for (const std::string& x : c.strings) in |= x == name;
        all = c.op == Condition::Op::kNe ? !in : in;  // eq and in: one of the names; ne: none
        continue;
      }
      double v = 0;
      switch (f) {
        case PersonaField::kRevenue: v = s.revenue; break;
        case PersonaField::kOrders: v = s.orders; break;
        case PersonaField::kInteractions: v = s.interactions; break;
        case PersonaField::kClv: v = value->clv; break;
        case PersonaField::kProbAlive: v = value->prob_alive; break;
        case PersonaField::kExpectedPurchases: v = value->expected_purchases; break;
        case PersonaField::kRecencyDays: v = value->recency_days; break;
        case PersonaField::kTenureDays: v = value->tenure_days; break;
        case PersonaField::kPurchaseDays: v = value->purchase_days; break;
        case PersonaField::kAverageSpend: v = value->average_spend; break;
        case PersonaField::kChannel: v = value->channel[rule.index[k]]; break;
        default: break;
      }
      switch (c.op) {
        case Condition::Op::kGt: all = v > c.number; break;
        case Condition::Op::kGe: all = v >= c.number; break;
        case Condition::Op::kLt: all = v < c.number; break;
        case Condition::Op::kLe: all = v <= c.number; break;
        case Condition::Op::kEq: all = v == c.number; break;
        case Condition::Op::kNe: all = v != c.number; break;
        default: all = false;
      }
    }
    if (all) return static_cast<int>(p + 1);
  }
  return 0;
}

const JourneyMap::EventInfo* Deriver::Apply(CustomerState* s, History* h, const store::Interaction& r,
                                            std::vector<Detection>* out) const {
  RowView row;
  row.timestamp_ms = r.timestamp_ms;
  row.seq = r.seq;
  row.revenue = r.revenue;
  row.type = r.type;
  row.payload = r.payload;
  row.payload_padded = r.payload.capacity() - r.payload.size() >= simdjson::SIMDJSON_PADDING;
  const JourneyMap::EventInfo* info = map_->Lookup(r);
  Apply(s, h, row, info, out);
  return info;
}

void Deriver::Apply(CustomerState* s, History* h, const RowView& r, const JourneyMap::EventInfo* info,
                    std::vector<Detection>* out) const {
  const JourneyMap& m = *map_;
  const EmotionModel& em = m.emotion();
  if (s->interactions == 0) {
    // The first interaction starts every view's clock.
    for (int v = 0; v < kViewCount; ++v) s->entered[v][s->stage[v]] = Seconds(r.timestamp_ms);
    s->first_ms = r.timestamp_ms;
  } else if (r.timestamp_ms > s->last_ms && em.half_life_ms > 0 && s->emotion != 0) {
    // Recency: feelings fade toward neutral while nothing happens.
    double f = std::exp2(-static_cast<double>(r.timestamp_ms - s->last_ms) / static_cast<double>(em.half_life_ms));
    s->emotion = static_cast<float>(s->emotion * f);
    s->engagement = static_cast<float>(s->engagement * f);
    if (std::fabs(s->emotion) < 0.01f) s->emotion = 0;
  }
  const float before = s->emotion;
  s->interactions++;
  s->last_ms = r.timestamp_ms;
  s->last_seq = r.seq;
  s->revenue += r.revenue;

  bool inbound = !(info && info->outbound);
  // An outcome of a rescue path ends that path's derailment (evaluated before this interaction's
  // own detections, so a trigger that is also an outcome stays active).
  if (info) s->active_paths &= static_cast<uint16_t>(~info->outcome_mask);
  if (inbound) s->active_paths &= static_cast<uint16_t>(~m.any_inbound_outcomes());
  if (inbound) {
    s->last_inbound_ms = r.timestamp_ms;
    // Engagement lifts the score, but only up to the cap: delight and trust are earned by signals.
    if (s->emotion < em.engagement_cap && em.engagement_per_interaction > 0) {
      double add = std::min<double>(em.engagement_per_interaction, em.engagement_cap - s->emotion);
      s->engagement += static_cast<float>(add);
      SetEmotion(s, h, s->emotion + add, EmotionPoint::kCauseEngagement, r.timestamp_ms);
    }
  }
  bool persona_dirty = !m.personas().empty() && (r.revenue != 0 || (info && info->order));
  if (info) {
    if (info->order) {
      s->orders++;
      if (s->renewal_due_ms) s->flags |= CustomerState::kFlagRenewed;
    }
    std::optional<PayloadView> payload;
    if (info->needs_payload) payload.emplace(r);
    auto matches = [&](const Match& mt) {
      for (const Condition& c : mt.where)
        if (!payload || !payload->Matches(c)) return false;
      return true;
    };
    for (const JourneyMap::Ref& ref : info->refs) {
      switch (ref.kind) {
        case JourneyMap::Ref::Kind::kStage: {
          const ViewDef& vd = m.view(static_cast<View>(ref.view));
          const Stage& target = vd.stages[ref.index];
          if (!matches(target.enter_on[ref.match])) break;
          int cur = s->stage[ref.view];
          // Forward only, except into or out of an any_time stage (e.g. lost, and won back).
          if (ref.index > cur || target.any_time || vd.stages[cur].any_time) Enter(s, h, ref.view, ref.index, r);
          break;
        }
        case JourneyMap::Ref::Kind::kEmotion: {
          const EmotionSignal& sig = em.signals[ref.index];
          if (!matches(sig.on)) break;
          double score = sig.has_set ? sig.set : s->emotion + sig.add;
          int16_t cause = static_cast<int16_t>(ref.index);
          if (sig.opens_complaint) {
            if (s->open_complaints == 0) s->pre_complaint = s->emotion;
            if (s->open_complaints < 255) s->open_complaints++;
          }
          if (sig.resolves_complaint && s->open_complaints > 0) {
            if (--s->open_complaints == 0) {
              // Recovery paradox: a complaint resolved well leaves the customer above where they
              // were before the problem.
              double recovered = s->pre_complaint + em.recovery_bonus;
              if (recovered > score) {
                score = recovered;
                cause = EmotionPoint::kCauseRecovery;
              }
            }
          }
          SetEmotion(s, h, score, cause, r.timestamp_ms);
          break;
        }
        case JourneyMap::Ref::Kind::kRescue: {
          const RescuePath& p = m.rescue_paths()[ref.index];
          const Match& mt = p.trigger.on[ref.match];
          if (!matches(mt)) break;
          if (p.name == "competitor") s->flags |= CustomerState::kFlagCompetitor;
          s->active_paths |= static_cast<uint16_t>(1u << ref.index);
          if (out) {
            std::string reason = "interaction " + MatchText(mt);
            for (const Condition& c : mt.where) reason += " with " + c.path;
            out->push_back({ref.index, {std::move(reason)}, r.timestamp_ms});
          }
          break;
        }
      }
    }
    if (info->usage) {
      int32_t w = Week(r.timestamp_ms);
      if (w > s->usage_week) {
        for (int32_t k = s->usage_week + 1; k <= w && k <= s->usage_week + 8; ++k) s->usage[((k % 8) + 8) % 8] = 0;
        s->usage_week = w;
      }
      if (w > s->usage_week - 8) {
        uint16_t& u = s->usage[((w % 8) + 8) % 8];
        if (u < UINT16_MAX) ++u;
      }
    }
    if (info->renewal) {
      s->renewal_due_ms = r.timestamp_ms;
      s->flags &= static_cast<uint8_t>(~(CustomerState::kFlagUsageDrop | CustomerState::kFlagRenewed));
      // Usage in the `weeks` weeks before the renewal versus the `weeks` before those.
      const UsageModel& um = m.usage();
      int32_t w = Week(r.timestamp_ms);
      auto at = [&](int32_t k) -> int {
        if (k > s->usage_week || k <= s->usage_week - 8) return 0;
        return s->usage[((k % 8) + 8) % 8];
      };
      int recent = 0, earlier = 0;
      for (int k = 0; k < um.weeks; ++k) {
        recent += at(w - k);
        earlier += at(w - um.weeks - k);
      }
      if (earlier > 0 && recent < (1.0 - um.drop) * earlier) {
        s->flags |= CustomerState::kFlagUsageDrop;
        SetEmotion(s, h, s->emotion + em.usage_drop_effect, EmotionPoint::kCauseUsageDrop, r.timestamp_ms);
        const auto& paths = m.rescue_paths();
        for (size_t p = 0; p < paths.size(); ++p) {
          if (!paths[p].trigger.usage_drop_before_renewal) continue;
          s->active_paths |= static_cast<uint16_t>(1u << p);
          if (out)
              out->push_back({static_cast<int>(p),
                              {"renewal due with usage down from " + std::to_string(earlier) + " to " + std::to_string(recent) +
                               " uses over " + std::to_string(um.weeks) + " weeks"},
                              r.timestamp_ms});
        }
      }
    }
  }
  if (r.type == store::MessageType::kIdentify && !m.trait_conditions().empty()) {
    PayloadView pv(r);
    const auto& tc = m.trait_conditions();
    for (size_t i = 0; i < tc.size() && i < 32; ++i) {
      if (!pv.Has(tc[i].cond->path)) continue;  // a trait absent from this identify keeps its last value
      s->trait_seen |= 1u << i;
      if (pv.Matches(*tc[i].cond)) s->trait_bits |= 1u << i;
      else s->trait_bits &= ~(1u << i);
    }
    persona_dirty = true;
  }
  if (persona_dirty || (!m.personas().empty() && s->interactions == 1)) UpdatePersona(s);
  else if (m.personas_read_interactions() || m.personas_read_state()) UpdatePersona(s);  // inputs move on every interaction
  {
    const auto& paths = m.rescue_paths();
    for (size_t p = 0; p < paths.size(); ++p) {
      double t = paths[p].trigger.emotion_below;
      if (t <= -1000 || !(before >= t && s->emotion < t)) continue;
      s->active_paths |= static_cast<uint16_t>(1u << p);
      if (out)
        out->push_back({static_cast<int>(p),
                        {"emotion fell to " + std::string(EmotionName(em.Label(s->emotion))) + " (" +
                         std::to_string(static_cast<int>(std::lround(s->emotion))) + ")"},
                        r.timestamp_ms});
    }
  }
}

}  // namespace cairn::journey
