#include "journey/journey_map.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <optional>
#include <cmath>
#include <set>

#include "base/crc32c.h"

namespace cairn::assets {
extern const std::string_view DefaultJourneyMap;
}

namespace cairn::journey {

std::string_view ViewName(View v) {
  switch (v) {
    case View::kPhase: return "phase";
    case View::kLifecycle: return "lifecycle";
    case View::kFunnel: return "funnel";
  }
  return "?";
}

std::string_view EmotionName(Emotion e) {
  static constexpr std::string_view kNames[kEmotionCount] = {"angry",    "disillusioned", "uninterested", "disinterest",
                                                             "interest", "satisfaction",  "delight",      "trust"};
  return kNames[static_cast<int>(e)];
}

Emotion EmotionModel::Label(double score) const {
  for (int i = 0; i < kEmotionCount - 1; ++i)
    if (score < upper_bounds[i]) return static_cast<Emotion>(i);
  return Emotion::kTrust;
}

int ViewDef::Find(std::string_view name) const {
  for (size_t i = 0; i < stages.size(); ++i)
    if (stages[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string MapError::ToString() const {
  if (line == 0) return message;
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message;
}

bool ParseDuration(std::string_view t, int64_t* ms) {
  if (t.empty()) return false;
  size_t i = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  if (i == 0 || i > 12) return false;
  int64_t n = 0;
  std::from_chars(t.data(), t.data() + i, n);
  std::string_view unit = t.substr(i);
  int64_t mult;
  if (unit == "ms") mult = 1;
  else if (unit == "s") mult = 1000;
  else if (unit == "m") mult = 60000;
  else if (unit == "h") mult = 3600000;
  else if (unit == "d") mult = 86400000;
  else if (unit == "w") mult = 7 * 86400000LL;
  else return false;
  *ms = n * mult;
  return true;
}

std::string FormatDuration(int64_t ms) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {
      {7 * 86400000LL, "w"}, {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  if (ms == 0) return "0s";
  for (const auto& [u, name] : kUnits)
    if (ms % u == 0) return std::to_string(ms / u) + name;
  return std::to_string(ms) + "ms";
}

std::string_view JourneyMap::DefaultYaml() { return assets::DefaultJourneyMap; }

// ---------------------------------------------------------------------------------------------
// Parser: walks the YAML tree, collecting every error with the node's position.

class MapParser {
 public:
  explicit MapParser(JourneyMap* m, std::vector<MapError>* errors) : m_(m), errors_(errors) {}

  void Error(const YAML::Node& n, const std::string& where, const std::string& what) {
    MapError e;
    if (n.IsDefined() && n.Mark().line >= 0) {
      e.line = n.Mark().line + 1;
      e.column = n.Mark().column + 1;
    } else {
      e.line = last_mark_.line + 1;
      e.column = last_mark_.column + 1;
    }
    e.message = where + ": " + what;
    errors_->push_back(std::move(e));
  }

  // Checks `n` is a map with only `allowed` keys; unknown keys are errors (typos must not pass).
  bool Keys(const YAML::Node& n, const std::string& where, std::initializer_list<std::string_view> allowed) {
    if (!n.IsMap()) {
      Error(n, where, "expected a mapping");
      return false;
    }
    last_mark_ = n.Mark();
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string k = it->first.Scalar();
      bool ok = false;
      for (auto a : allowed) ok |= (a == k);
      if (!ok) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        Error(it->first, where, "unknown key '" + k + "' (expected one of: " + list + ")");
      }
    }
    return true;
  }

  bool Str(const YAML::Node& n, const std::string& where, std::string* out) {
    if (!n.IsScalar() || n.Scalar().empty()) {
      Error(n, where, "expected a non-empty text");
      return false;
    }
    *out = n.Scalar();
    return true;
  }
  bool Num(const YAML::Node& n, const std::string& where, double* out, double lo = -1e18, double hi = 1e18) {
    double v = 0;
    if (!n.IsScalar() || !ToNumber(n.Scalar(), &v)) {
      Error(n, where, "expected a number, got '" + (n.IsScalar() ? n.Scalar() : std::string("<") + Kind(n) + ">") + "'");
      return false;
    }
    if (v < lo || v > hi) {
      Error(n, where, "must be between " + Fmt(lo) + " and " + Fmt(hi) + ", got " + n.Scalar());
      return false;
    }
    *out = v;
    return true;
  }
  bool Dur(const YAML::Node& n, const std::string& where, int64_t* out) {
    if (!n.IsScalar() || !ParseDuration(n.Scalar(), out)) {
      Error(n, where, "expected a duration like 14d, 12h, 30m, got '" + (n.IsScalar() ? n.Scalar() : Kind(n)) + "'");
      return false;
    }
    return true;
  }
  bool Bool(const YAML::Node& n, const std::string& where, bool* out) {
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
      *out = n.Scalar() == "true";
      return true;
    }
    Error(n, where, "expected true or false");
    return false;
  }
  void StrList(const YAML::Node& n, const std::string& where, std::vector<std::string>* out) {
    if (n.IsScalar()) {
      std::string s;
      if (Str(n, where, &s)) out->push_back(s);
      return;
    }
    if (!n.IsSequence()) return Error(n, where, "expected a list of texts");
    for (size_t i = 0; i < n.size(); ++i) {
      std::string s;
      if (Str(n[i], where + "[" + std::to_string(i) + "]", &s)) out->push_back(s);
    }
  }

  static bool ToNumber(const std::string& s, double* v) {
    if (s.empty()) return false;
    const char* b = s.data();
    if (*b == '+') ++b;
    auto r = std::from_chars(b, s.data() + s.size(), *v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(*v);
  }
  static std::string Fmt(double d) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
  }
  static std::string Kind(const YAML::Node& n) {
    if (n.IsMap()) return "mapping";
    if (n.IsSequence()) return "list";
    if (n.IsNull()) return "empty";
    return "text";
  }

  // where: {prop: value | {eq|ne|gt|gte|lt|lte|in|exists: ...}, ...}
  void Conditions(const YAML::Node& n, const std::string& where, std::vector<Condition>* out) {
    if (!n.IsMap()) return Error(n, where, "expected a mapping of field: condition");
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string path = it->first.Scalar();
      std::string w = where + "." + path;
      YAML::Node v = it->second;
      if (v.IsScalar()) {
        Condition c;
        c.path = path;
        c.op = Condition::Op::kEq;
        c.strings.push_back(v.Scalar());
        ToNumber(v.Scalar(), &c.number);
        out->push_back(std::move(c));
        continue;
      }
      if (!v.IsMap() || v.size() == 0) {
        Error(v, w, "expected a value or a mapping of eq|ne|gt|gte|lt|lte|in|exists");
        continue;
      }
      for (auto jt = v.begin(); jt != v.end(); ++jt) {
        std::string op = jt->first.Scalar();
        Condition c;
        c.path = path;
        std::string ow = w + "." + op;
        YAML::Node a = jt->second;
        if (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
          c.op = op == "gt" ? Condition::Op::kGt : op == "gte" ? Condition::Op::kGe : op == "lt" ? Condition::Op::kLt : Condition::Op::kLe;
          if (!Num(a, ow, &c.number)) continue;
        } else if (op == "eq" || op == "ne") {
          c.op = op == "eq" ? Condition::Op::kEq : Condition::Op::kNe;
          std::string s;
          if (!Str(a, ow, &s)) continue;
          c.strings.push_back(s);
          ToNumber(s, &c.number);
        } else if (op == "in") {
          c.op = Condition::Op::kIn;
          if (!a.IsSequence() || a.size() == 0) {
            Error(a, ow, "expected a non-empty list");
            continue;
          }
          StrList(a, ow, &c.strings);
        } else if (op == "exists") {
          c.op = Condition::Op::kExists;
          if (!Bool(a, ow, &c.exists)) continue;
        } else {
          Error(jt->first, w, "unknown comparison '" + op + "' (expected eq, ne, gt, gte, lt, lte, in, exists)");
          continue;
        }
        out->push_back(std::move(c));
      }
    }
  }

  bool MatchNode(const YAML::Node& n, const std::string& where, Match* m) {
    if (n.IsScalar()) return Str(n, where, &m->event);  // shorthand: just the event name
    if (!Keys(n, where, {"event", "type", "where"})) return false;
    if (n["event"] && n["type"]) {
      Error(n, where, "give either event or type, not both");
      return false;
    }
    if (n["event"]) {
      if (!Str(n["event"], where + ".event", &m->event)) return false;
    } else if (n["type"]) {
      if (!Str(n["type"], where + ".type", &m->type)) return false;
      store::MessageType t;
      if (!store::ParseMessageType(m->type, &t) || t == store::MessageType::kTrack) {
        Error(n["type"], where + ".type", "expected page, screen, identify, group or alias, got '" + m->type + "'");
        return false;
      }
    } else {
      Error(n, where, "missing event (or type)");
      return false;
    }
    if (n["where"]) Conditions(n["where"], where + ".where", &m->where);
    return true;
  }

  void Matches(const YAML::Node& n, const std::string& where, std::vector<Match>* out) {
    if (!n.IsSequence()) {
      Match m;
      if (MatchNode(n, where, &m)) out->push_back(std::move(m));
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      Match m;
      if (MatchNode(n[i], where + "[" + std::to_string(i) + "]", &m)) out->push_back(std::move(m));
    }
  }

  void Views(const YAML::Node& n) {
    if (!n) return Error(root_, "views", "missing (phase, lifecycle and funnel are required)");
    if (!Keys(n, "views", {"phase", "lifecycle", "funnel"})) return;
    for (int v = 0; v < kViewCount; ++v) {
      std::string name(ViewName(static_cast<View>(v)));
      std::string w = "views." + name;
      const YAML::Node vn = n[name];
      if (!vn) {
        Error(n, w, "missing");
        continue;
      }
      if (!Keys(vn, w, {"stages"})) continue;
      const YAML::Node st = vn["stages"];
      if (!st || !st.IsSequence() || st.size() == 0) {
        Error(st ? st : vn, w + ".stages", "expected a non-empty list of stages");
        continue;
      }
      if (st.size() > kMaxStages) {
        Error(st, w + ".stages", "at most " + std::to_string(kMaxStages) + " stages per view, got " + std::to_string(st.size()));
        continue;
      }
      ViewDef& def = m_->views_[v];
      for (size_t i = 0; i < st.size(); ++i) {
        std::string sw = w + ".stages[" + std::to_string(i) + "]";
        const YAML::Node s = st[i];
        if (!Keys(s, sw, {"name", "dwell", "any_time", "enter_on", "description"})) continue;
        Stage stage;
        if (!s["name"]) Error(s, sw, "missing name");
        else Str(s["name"], sw + ".name", &stage.name);
        if (!stage.name.empty() && def.Find(stage.name) >= 0) Error(s["name"], sw + ".name", "duplicate stage '" + stage.name + "'");
        if (s["dwell"]) Dur(s["dwell"], sw + ".dwell", &stage.dwell_ms);
        if (s["any_time"]) Bool(s["any_time"], sw + ".any_time", &stage.any_time);
        if (s["enter_on"]) Matches(s["enter_on"], sw + ".enter_on", &stage.enter_on);
        else if (i > 0) Error(s, sw, "missing enter_on (only the first stage may have no entry rule)");
        def.stages.push_back(std::move(stage));
      }
    }
  }

  void Emotion(const YAML::Node& n) {
    if (!n) return;
    if (!Keys(n, "emotion", {"labels", "engagement", "recency_half_life", "recovery_bonus", "usage_drop_effect", "signals"})) return;
    EmotionModel& e = m_->emotion_;
    if (const YAML::Node l = n["labels"]) {
      if (Keys(l, "emotion.labels", {"angry", "disillusioned", "uninterested", "disinterest", "interest", "satisfaction", "delight"})) {
        for (int i = 0; i < kEmotionCount - 1; ++i) {
          std::string name(EmotionName(static_cast<journey::Emotion>(i)));
          if (l[name]) Num(l[name], "emotion.labels." + name, &e.upper_bounds[i], -100, 100);
        }
        for (int i = 1; i < kEmotionCount - 1; ++i)
          if (e.upper_bounds[i] <= e.upper_bounds[i - 1])
            Error(l, "emotion.labels", "upper bounds must increase from angry to delight (" +
                                           std::string(EmotionName(static_cast<journey::Emotion>(i))) + " is not above " +
                                           std::string(EmotionName(static_cast<journey::Emotion>(i - 1))) + ")");
      }
    }
    if (const YAML::Node g = n["engagement"]) {
      if (Keys(g, "emotion.engagement", {"per_interaction", "cap"})) {
        if (g["per_interaction"]) Num(g["per_interaction"], "emotion.engagement.per_interaction", &e.engagement_per_interaction, 0, 100);
        if (g["cap"]) Num(g["cap"], "emotion.engagement.cap", &e.engagement_cap, -100, 100);
      }
    }
    if (n["recency_half_life"]) Dur(n["recency_half_life"], "emotion.recency_half_life", &e.half_life_ms);
    if (n["recovery_bonus"]) Num(n["recovery_bonus"], "emotion.recovery_bonus", &e.recovery_bonus, 0, 200);
    if (n["usage_drop_effect"]) Num(n["usage_drop_effect"], "emotion.usage_drop_effect", &e.usage_drop_effect, -200, 200);
    if (const YAML::Node s = n["signals"]) {
      if (!s.IsSequence()) return Error(s, "emotion.signals", "expected a list");
      for (size_t i = 0; i < s.size(); ++i) {
        std::string w = "emotion.signals[" + std::to_string(i) + "]";
        const YAML::Node x = s[i];
        if (!Keys(x, w, {"name", "on", "add", "set", "opens_complaint", "resolves_complaint"})) continue;
        EmotionSignal sig;
        if (!x["name"]) Error(x, w, "missing name");
        else Str(x["name"], w + ".name", &sig.name);
        if (!x["on"]) Error(x, w, "missing on");
        else MatchNode(x["on"], w + ".on", &sig.on);
        if (x["add"]) Num(x["add"], w + ".add", &sig.add, -200, 200);
        if (x["set"]) {
          sig.has_set = true;
          Num(x["set"], w + ".set", &sig.set, -100, 100);
        }
        if (x["add"] && x["set"]) Error(x, w, "give either add or set, not both");
        if (x["opens_complaint"]) Bool(x["opens_complaint"], w + ".opens_complaint", &sig.opens_complaint);
        if (x["resolves_complaint"]) Bool(x["resolves_complaint"], w + ".resolves_complaint", &sig.resolves_complaint);
        e.signals.push_back(std::move(sig));
      }
    }
  }

  void Usage(const YAML::Node& n) {
    if (!n) return;
    if (!Keys(n, "usage", {"events", "weeks", "drop", "renewal_events"})) return;
    UsageModel& u = m_->usage_;
    if (n["events"]) StrList(n["events"], "usage.events", &u.events);
    if (n["renewal_events"]) StrList(n["renewal_events"], "usage.renewal_events", &u.renewal_events);
    double w = u.weeks;
    if (n["weeks"] && Num(n["weeks"], "usage.weeks", &w, 1, 4)) {
      if (w != std::floor(w)) Error(n["weeks"], "usage.weeks", "must be a whole number");
      u.weeks = static_cast<int>(w);
    }
    if (n["drop"]) Num(n["drop"], "usage.drop", &u.drop, 0, 1);
  }

  void Timers(const YAML::Node& n) {
    if (!n) return;
    if (!Keys(n, "timers", {"signal_horizon"})) return;
    const YAML::Node h = n["signal_horizon"];
    if (h && h.IsScalar() && h.Scalar() == "0") m_->timers_.signal_horizon_ms = 0;  // no horizon
    else if (h) Dur(h, "timers.signal_horizon", &m_->timers_.signal_horizon_ms);
  }

  void Value(const YAML::Node& n) {
    if (!n) return;
    if (!Keys(n, "value", {"currency", "average_order_value", "order_events", "conversion_priors", "repeat_prior", "min_history"})) return;
    ValueModel& v = m_->value_;
    if (n["currency"]) Str(n["currency"], "value.currency", &v.currency);
    if (n["average_order_value"]) Num(n["average_order_value"], "value.average_order_value", &v.average_order_value, 0);
    if (n["order_events"]) StrList(n["order_events"], "value.order_events", &v.order_events);
    if (n["repeat_prior"]) Num(n["repeat_prior"], "value.repeat_prior", &v.repeat_prior, 0, 1);
    double mh = static_cast<double>(v.min_history);
    if (n["min_history"] && Num(n["min_history"], "value.min_history", &mh, 0, 1e12)) v.min_history = static_cast<int64_t>(mh);
    if (const YAML::Node c = n["conversion_priors"]) {
      if (!c.IsMap()) return Error(c, "value.conversion_priors", "expected a mapping of funnel stage: probability");
      for (auto it = c.begin(); it != c.end(); ++it) {
        std::string st = it->first.Scalar();
        int idx = m_->views_[static_cast<int>(View::kFunnel)].Find(st);
        if (idx < 0) {
          Error(it->first, "value.conversion_priors", "unknown funnel stage '" + st + "'");
          continue;
        }
        Num(it->second, "value.conversion_priors." + st, &v.conversion_prior[idx], 0, 1);
      }
    }
  }

  void Personas(const YAML::Node& n) {
    if (!n) return;
    if (!Keys(n, "personas", {"default", "rules"})) return;
    if (n["default"]) Str(n["default"], "personas.default", &m_->default_persona_);
    if (const YAML::Node r = n["rules"]) {
      if (!r.IsSequence()) return Error(r, "personas.rules", "expected a list");
      for (size_t i = 0; i < r.size(); ++i) {
        std::string w = "personas.rules[" + std::to_string(i) + "]";
        if (!Keys(r[i], w, {"name", "when"})) continue;
        PersonaRule p;
        if (!r[i]["name"]) Error(r[i], w, "missing name");
        else Str(r[i]["name"], w + ".name", &p.name);
        if (!p.name.empty()) w += " (" + p.name + ")";  // errors name the rule
        if (!r[i]["when"]) Error(r[i], w, "missing when");
        else Conditions(r[i]["when"], w + ".when", &p.when);
        for (const Condition& c : p.when) PersonaCondition(r[i]["when"], w + ".when." + c.path, c, &p);
        m_->personas_.push_back(std::move(p));
      }
      size_t traits = 0;
      for (const auto& p : m_->personas_)
        for (const auto& c : p.when) traits += c.path.starts_with("traits.");
      if (traits > 32) Error(r, "personas.rules", "at most 32 trait conditions in all, got " + std::to_string(traits));
    }
  }

  // Classifies one persona condition (PersonaField) and checks it makes sense for its field:
  // stage and emotion conditions compare names (eq, ne, in) that must exist; value and counter
  // fields compare numbers.
  void PersonaCondition(const YAML::Node& at, const std::string& w, const Condition& c, PersonaRule* p) {
    static const std::pair<std::string_view, PersonaField> kFields[] = {
        {"revenue", PersonaField::kRevenue},         {"orders", PersonaField::kOrders},
        {"interactions", PersonaField::kInteractions}, {"phase", PersonaField::kPhase},
        {"lifecycle", PersonaField::kLifecycle},     {"funnel", PersonaField::kFunnel},
        {"emotion", PersonaField::kEmotion},         {"clv", PersonaField::kClv},
        {"prob_alive", PersonaField::kProbAlive},    {"expected_purchases", PersonaField::kExpectedPurchases},
        {"recency_days", PersonaField::kRecencyDays}, {"tenure_days", PersonaField::kTenureDays},
        {"purchase_days", PersonaField::kPurchaseDays}, {"average_spend", PersonaField::kAverageSpend}};
    const YAML::Node node = at[c.path];
    const YAML::Node& where = node.IsDefined() ? node : at;
    uint8_t index = 0;
    std::optional<PersonaField> field;
    if (c.path.starts_with("traits.") && c.path.size() > 7) {
      field = PersonaField::kTrait;
    } else if (c.path.starts_with("channel.")) {
      const std::string_view group = std::string_view(c.path).substr(8);
      for (size_t g = 0; g < std::size(kPersonaChannels); ++g)
        if (kPersonaChannels[g] == group) {
          field = PersonaField::kChannel;
          index = static_cast<uint8_t>(g);
        }
      if (!field) return Error(where, w, "unknown channel group '" + std::string(group) + "' (expected web, mobile, email, store or other)");
    } else {
      for (const auto& [name, f] : kFields)
        if (c.path == name) field = f;
    }
    if (!field)
      return Error(where, w,
                   "unknown persona field (expected traits.<name>, revenue, orders, interactions, phase, lifecycle, "
                   "funnel, emotion, clv, prob_alive, expected_purchases, recency_days, tenure_days, purchase_days, "
                   "average_spend or channel.<web|mobile|email|store|other>)");
    const bool named = *field == PersonaField::kPhase || *field == PersonaField::kLifecycle ||
                       *field == PersonaField::kFunnel || *field == PersonaField::kEmotion;
    const bool names_op = c.op == Condition::Op::kEq || c.op == Condition::Op::kNe || c.op == Condition::Op::kIn;
    if (named) {
      if (!names_op) return Error(where, w, "a stage or emotion is compared by name: use a name, eq, ne or in");
      std::string list;
      for (const std::string& v : c.strings) {
        bool known = false;
        list.clear();
        if (*field == PersonaField::kEmotion) {
          for (int e = 0; e < kEmotionCount; ++e) {
            known |= EmotionName(static_cast<journey::Emotion>(e)) == v;
            list += (e ? ", " : "") + std::string(EmotionName(static_cast<journey::Emotion>(e)));
          }
        } else {
          const View view = *field == PersonaField::kPhase ? View::kPhase : *field == PersonaField::kLifecycle ? View::kLifecycle : View::kFunnel;
          const ViewDef& vd = m_->views_[static_cast<int>(view)];
          known = vd.Find(v) >= 0;
          for (const Stage& st : vd.stages) list += (list.empty() ? "" : ", ") + st.name;
        }
        if (!known) Error(where, w, "unknown " + c.path + (*field == PersonaField::kEmotion ? " label '" : " stage '") + v + "' (expected one of: " + list + ")");
      }
    } else if (*field != PersonaField::kTrait) {
      double number = 0;
      // Counters and value facts are numbers; `in` and non-numeric equality make no sense there.
      if (c.op == Condition::Op::kIn || c.op == Condition::Op::kExists ||
          ((c.op == Condition::Op::kEq || c.op == Condition::Op::kNe) && !c.strings.empty() && !ToNumber(c.strings[0], &number)))
        return Error(where, w, "a number field: use a number, eq, ne, gt, gte, lt or lte with a number");
    }
    p->fields.push_back(*field);
    p->index.push_back(index);
    p->reads_value |= *field >= PersonaField::kClv;
  }

  int StageIndex(const YAML::Node& n, View view, const std::string& w) {
    std::string s;
    if (!Str(n, w, &s)) return -1;
    int idx = m_->views_[static_cast<int>(view)].Find(s);
    if (idx < 0) Error(n, w, "unknown " + std::string(ViewName(view)) + " stage '" + s + "'");
    return idx;
  }

  void Rescue(const YAML::Node& n) {
    if (!n) return;
    if (!n.IsSequence()) return Error(n, "rescue_paths", "expected a list");
    std::set<std::string> names;
    for (size_t i = 0; i < n.size(); ++i) {
      std::string w = "rescue_paths[" + std::to_string(i) + "]";
      const YAML::Node x = n[i];
      if (!Keys(x, w, {"name", "trigger", "action", "owner", "channel", "purpose", "cost", "p_success_with",
                       "p_success_without", "prior_strength", "outcome_window", "outcome_events", "description"}))
        continue;
      RescuePath p;
      if (!x["name"]) Error(x, w, "missing name");
      else if (Str(x["name"], w + ".name", &p.name) && !names.insert(p.name).second)
        Error(x["name"], w + ".name", "duplicate rescue path '" + p.name + "'");
      if (!x["action"]) Error(x, w, "missing action");
      else Str(x["action"], w + ".action", &p.action);
      if (x["owner"]) Str(x["owner"], w + ".owner", &p.owner);
      if (x["channel"]) Str(x["channel"], w + ".channel", &p.channel);
      if (x["purpose"]) Str(x["purpose"], w + ".purpose", &p.purpose);
      if (x["cost"]) Num(x["cost"], w + ".cost", &p.cost, 0);
      if (x["p_success_with"]) Num(x["p_success_with"], w + ".p_success_with", &p.p_with, 0, 1);
      if (x["p_success_without"]) Num(x["p_success_without"], w + ".p_success_without", &p.p_without, 0, 1);
      if (x["prior_strength"]) Num(x["prior_strength"], w + ".prior_strength", &p.prior_strength, 0.001, 1e9);
      if (x["outcome_window"]) Dur(x["outcome_window"], w + ".outcome_window", &p.outcome_window_ms);
      if (x["outcome_events"]) StrList(x["outcome_events"], w + ".outcome_events", &p.outcome_events);
      if (!x["trigger"]) {
        Error(x, w, "missing trigger");
      } else {
        const YAML::Node t = x["trigger"];
        std::string tw = w + ".trigger";
        if (Keys(t, tw, {"on", "stuck_in", "usage_drop_before_renewal", "emotion_below"})) {
          if (t["on"]) Matches(t["on"], tw + ".on", &p.trigger.on);
          if (const YAML::Node s = t["stuck_in"]) {
            if (Keys(s, tw + ".stuck_in", {"phase", "lifecycle", "funnel"})) {
              if (s.size() != 1) Error(s, tw + ".stuck_in", "name exactly one view");
              for (auto it = s.begin(); it != s.end(); ++it) {
                View view = it->first.Scalar() == "phase" ? View::kPhase
                            : it->first.Scalar() == "lifecycle" ? View::kLifecycle : View::kFunnel;
                p.trigger.stuck_view = view;
                std::string sw = tw + ".stuck_in." + it->first.Scalar();
                const YAML::Node list = it->second;
                if (!list.IsSequence()) {
                  Error(list, sw, "expected a list of stages");
                  continue;
                }
                for (size_t j = 0; j < list.size(); ++j) {
                  int idx = StageIndex(list[j], view, sw + "[" + std::to_string(j) + "]");
                  if (idx < 0) continue;
                  if (m_->views_[static_cast<int>(view)].stages[idx].dwell_ms == 0)
                    Error(list[j], sw + "[" + std::to_string(j) + "]", "stage '" + list[j].Scalar() + "' has no dwell, so it can never be overstayed");
                  p.trigger.stuck_in.push_back(idx);
                }
              }
            }
          }
          if (t["usage_drop_before_renewal"]) Bool(t["usage_drop_before_renewal"], tw + ".usage_drop_before_renewal", &p.trigger.usage_drop_before_renewal);
          if (t["emotion_below"]) Num(t["emotion_below"], tw + ".emotion_below", &p.trigger.emotion_below, -100, 100);
          if (p.trigger.on.empty() && p.trigger.stuck_in.empty() && !p.trigger.usage_drop_before_renewal && p.trigger.emotion_below <= -1000)
            Error(t, tw, "fires on nothing (give on, stuck_in, usage_drop_before_renewal or emotion_below)");
        }
      }
      if (p.p_with < p.p_without && x["p_success_with"])
        Error(x["p_success_with"], w + ".p_success_with", "is below p_success_without: the rescue would never be worth it");
      m_->rescue_paths_.push_back(std::move(p));
    }
    if (m_->rescue_paths_.size() > 16) Error(n, "rescue_paths", "at most 16 rescue paths");
  }

  void Critical(const YAML::Node& n) {
    if (!n) return;
    if (!n.IsSequence()) return Error(n, "experience_critical", "expected a list");
    for (size_t i = 0; i < n.size(); ++i) {
      std::string w = "experience_critical[" + std::to_string(i) + "]";
      if (!Keys(n[i], w, {"name", "events", "tiers"})) continue;
      CriticalInteraction c;
      if (!n[i]["name"]) Error(n[i], w, "missing name");
      else Str(n[i]["name"], w + ".name", &c.name);
      if (!n[i]["events"]) Error(n[i], w, "missing events");
      else StrList(n[i]["events"], w + ".events", &c.events);
      const YAML::Node t = n[i]["tiers"];
      if (!t || !t.IsSequence() || t.size() == 0) {
        Error(t ? t : n[i], w + ".tiers", "expected a non-empty list of tiers");
      } else {
        for (size_t j = 0; j < t.size(); ++j) {
          std::string tw = w + ".tiers[" + std::to_string(j) + "]";
          if (!Keys(t[j], tw, {"name", "min_value", "channels"})) continue;
          ValueTier tier;
          if (!t[j]["name"]) Error(t[j], tw, "missing name");
          else Str(t[j]["name"], tw + ".name", &tier.name);
          if (t[j]["min_value"]) Num(t[j]["min_value"], tw + ".min_value", &tier.min_value, 0);
          if (!t[j]["channels"]) Error(t[j], tw, "missing channels");
          else StrList(t[j]["channels"], tw + ".channels", &tier.channels);
          if (!c.tiers.empty() && tier.min_value >= c.tiers.back().min_value)
            Error(t[j]["min_value"] ? t[j]["min_value"] : t[j], tw + ".min_value", "tiers must be listed from the highest min_value down");
          c.tiers.push_back(std::move(tier));
        }
      }
      m_->critical_.push_back(std::move(c));
    }
  }

  void Post(const YAML::Node& n) {
    if (!n) return;
    if (!Keys(n, "post_purchase", {"after", "delay", "channel", "happy", "unhappy"})) return;
    PostPurchase& p = m_->post_purchase_;
    if (n["after"]) StrList(n["after"], "post_purchase.after", &p.after_events);
    if (n["delay"]) Dur(n["delay"], "post_purchase.delay", &p.delay_ms);
    if (n["channel"]) Str(n["channel"], "post_purchase.channel", &p.channel);
    if (const YAML::Node h = n["happy"]; h && Keys(h, "post_purchase.happy", {"min_nps", "action"})) {
      double v = p.happy_min_nps;
      if (h["min_nps"] && Num(h["min_nps"], "post_purchase.happy.min_nps", &v, 0, 10)) p.happy_min_nps = static_cast<int>(v);
      if (h["action"]) Str(h["action"], "post_purchase.happy.action", &p.happy_action);
    }
    if (const YAML::Node u = n["unhappy"]; u && Keys(u, "post_purchase.unhappy", {"max_nps", "action", "path"})) {
      double v = p.unhappy_max_nps;
      if (u["max_nps"] && Num(u["max_nps"], "post_purchase.unhappy.max_nps", &v, 0, 10)) p.unhappy_max_nps = static_cast<int>(v);
      if (u["action"]) Str(u["action"], "post_purchase.unhappy.action", &p.unhappy_action);
      if (u["path"]) Str(u["path"], "post_purchase.unhappy.path", &p.unhappy_path);
    }
    if (p.unhappy_max_nps >= p.happy_min_nps)
      Error(n, "post_purchase", "unhappy.max_nps must be below happy.min_nps");
  }

  void Run(const YAML::Node& root) {
    root_ = root;
    if (!Keys(root, "map", {"version", "views", "emotion", "usage", "value", "timers", "personas", "rescue_paths",
                            "experience_critical", "post_purchase", "outbound_events"}))
      return;
    if (!root["version"]) Error(root, "version", "missing (this Cairn reads version 1)");
    else if (root["version"].Scalar() != "1") Error(root["version"], "version", "unsupported version '" + root["version"].Scalar() + "' (this Cairn reads 1)");
    Views(root["views"]);
    Emotion(root["emotion"]);
    Usage(root["usage"]);
    Value(root["value"]);
    Timers(root["timers"]);
    Personas(root["personas"]);
    Rescue(root["rescue_paths"]);
    Critical(root["experience_critical"]);
    Post(root["post_purchase"]);
    if (root["outbound_events"]) StrList(root["outbound_events"], "outbound_events", &m_->outbound_);
  }

 private:
  JourneyMap* m_;
  std::vector<MapError>* errors_;
  YAML::Node root_;
  YAML::Mark last_mark_;
};

Result<std::shared_ptr<const JourneyMap>> JourneyMap::Parse(std::string_view yaml, std::vector<MapError>* errors_out) {
  auto m = std::make_shared<JourneyMap>();
  std::vector<MapError> errors;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    MapParser parser(m.get(), &errors);
    if (!root.IsMap()) {
      errors.push_back({1, 1, "map: expected a YAML mapping at the top (version, views, ...)"});
    } else {
      parser.Run(root);
    }
  } catch (const YAML::Exception& e) {
    errors.push_back({e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg});
  }
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e.ToString();
    if (errors_out) *errors_out = std::move(errors);
    return InvalidArgument("journey map: " + all);
  }
  m->yaml_ = std::string(yaml);
  m->fingerprint_ = crc32c::Value(m->yaml_.data(), m->yaml_.size());
  m->Compile();
  return std::shared_ptr<const JourneyMap>(std::move(m));
}

namespace {
std::string KeyFor(const Match& m) { return m.type.empty() ? m.event : "$" + m.type; }
}  // namespace

void JourneyMap::Compile() {
  auto add = [&](const Match& m, Ref ref) {
    EventInfo& info = by_event_[KeyFor(m)];
    info.refs.push_back(ref);
    if (!m.where.empty()) info.needs_payload = true;
  };
  for (int v = 0; v < kViewCount; ++v)
    for (size_t s = 0; s < views_[v].stages.size(); ++s)
      for (size_t k = 0; k < views_[v].stages[s].enter_on.size(); ++k)
        add(views_[v].stages[s].enter_on[k], {Ref::Kind::kStage, static_cast<uint8_t>(v), static_cast<uint16_t>(s), static_cast<uint16_t>(k)});
  for (size_t i = 0; i < emotion_.signals.size(); ++i)
    add(emotion_.signals[i].on, {Ref::Kind::kEmotion, 0, static_cast<uint16_t>(i), 0});
  for (size_t i = 0; i < rescue_paths_.size(); ++i)
    for (size_t k = 0; k < rescue_paths_[i].trigger.on.size(); ++k)
      add(rescue_paths_[i].trigger.on[k], {Ref::Kind::kRescue, 0, static_cast<uint16_t>(i), static_cast<uint16_t>(k)});
  for (const auto& e : outbound_) by_event_[e].outbound = true;
  for (const auto& e : value_.order_events) by_event_[e].order = true;
  for (const auto& e : usage_.events) by_event_[e].usage = true;
  for (const auto& e : usage_.renewal_events) by_event_[e].renewal = true;
  for (size_t p = 0; p < rescue_paths_.size(); ++p)
    for (const auto& e : rescue_paths_[p].outcome_events) {
      if (e == "*") any_inbound_outcomes_ |= static_cast<uint16_t>(1u << p);
      else by_event_[e].outcome_mask |= static_cast<uint16_t>(1u << p);
    }
  for (size_t p = 0; p < personas_.size(); ++p)
    for (const Condition& c : personas_[p].when)
      if (c.path.starts_with("traits.")) trait_conds_.push_back({static_cast<int>(p), &c});
      else if (c.path == "interactions") personas_read_interactions_ = true;
  for (const PersonaRule& p : personas_) {
    personas_read_value_ |= p.reads_value;
    for (PersonaField f : p.fields)
      personas_read_state_ |= f == PersonaField::kPhase || f == PersonaField::kLifecycle || f == PersonaField::kFunnel ||
                              f == PersonaField::kEmotion;
  }
  if (!trait_conds_.empty()) by_event_["$identify"].needs_payload = true;
}

const JourneyMap::EventInfo* JourneyMap::Lookup(store::MessageType type, const std::string& event) const {
  if (type == store::MessageType::kTrack) {
    auto it = by_event_.find(event);
    return it == by_event_.end() ? nullptr : &it->second;
  }
  static const std::string kKeys[] = {"", "$identify", "", "$page", "$screen", "$group", "$alias"};
  size_t t = static_cast<size_t>(type);
  if (t >= std::size(kKeys) || kKeys[t].empty()) return nullptr;
  auto it = by_event_.find(kKeys[t]);
  return it == by_event_.end() ? nullptr : &it->second;
}

}  // namespace cairn::journey
