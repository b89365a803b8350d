#include "actions/gates.h"

#include <date/tz.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>

namespace cairn::actions {

namespace {

std::string IsoTime(int64_t ms) {
  return date::format("%FT%TZ", date::floor<std::chrono::seconds>(date::sys_time<std::chrono::milliseconds>(
                                    std::chrono::milliseconds(ms))));
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Reads a grant flag: true/false, or "granted"/"denied" (also "yes"/"no", "opt_in"/"opt_out").
bool ReadFlag(simdjson::dom::element e, bool* out) {
  bool b;
  if (e.get_bool().get(b) == simdjson::SUCCESS) {
    *out = b;
    return true;
  }
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return false;
  if (s == "granted" || s == "yes" || s == "opt_in" || s == "true") *out = true;
  else if (s == "denied" || s == "no" || s == "opt_out" || s == "false" || s == "withdrawn") *out = false;
  else return false;
  return true;
}

}  // namespace

ConsentAnswer RecordedConsent::FromInteractions(const std::vector<store::Interaction>& interactions,
                                                std::string_view purpose, std::string_view channel) {
  simdjson::dom::parser parser;
  ConsentAnswer answer;
  // Interactions are in (timestamp, seq) order, so the last applicable statement wins.
  for (const auto& in : interactions) {
    const bool is_track = in.type == store::MessageType::kTrack && in.event == "Consent Updated";
    const bool is_identify = in.type == store::MessageType::kIdentify;
    if (!is_track && !is_identify) continue;
    if (is_identify && in.payload.find("\"consent\"") == std::string::npos) continue;  // cheap skip
    simdjson::dom::element doc;
    if (parser.parse(in.payload).get(doc) != simdjson::SUCCESS) continue;
    if (is_track) {
      simdjson::dom::element props;
      if (doc["properties"].get(props) != simdjson::SUCCESS) continue;
      std::string_view p, c;
      if (props["purpose"].get_string().get(p) != simdjson::SUCCESS || p != purpose) continue;
      if (props["channel"].get_string().get(c) == simdjson::SUCCESS && !c.empty() && c != channel) continue;
      bool granted;
      simdjson::dom::element flag;
      if ((props["granted"].get(flag) == simdjson::SUCCESS && ReadFlag(flag, &granted)) ||
          (props["status"].get(flag) == simdjson::SUCCESS && ReadFlag(flag, &granted))) {
        answer.verdict = granted ? ConsentVerdict::kGranted : ConsentVerdict::kDenied;
        answer.evidence = fmt::format("Consent Updated at {} ({}{}{}: {})", IsoTime(in.timestamp_ms), purpose,
                                      c.empty() ? "" : ", ", c, granted ? "granted" : "denied");
      }
    } else {
      simdjson::dom::object consent;
      if (doc["traits"]["consent"].get_object().get(consent) != simdjson::SUCCESS) continue;
      const std::string specific = fmt::format("{}.{}", purpose, channel);
      // The channel-specific key is the more precise statement of the same message.
      for (std::string_view key : {std::string_view(purpose), std::string_view(specific)}) {
        simdjson::dom::element flag;
        bool granted;
        if (consent.at_key(key).get(flag) == simdjson::SUCCESS && ReadFlag(flag, &granted)) {
          answer.verdict = granted ? ConsentVerdict::kGranted : ConsentVerdict::kDenied;
          answer.evidence = fmt::format("identify traits.consent.{} at {}: {}", key, IsoTime(in.timestamp_ms),
                                        granted ? "granted" : "denied");
        }
      }
    }
  }
  return answer;
}

Result<ConsentAnswer> RecordedConsent::Check(store::CustomerId customer, std::string_view purpose,
                                             std::string_view channel) {
  ASSIGN_OR_RETURN(auto interactions, read_(customer));
  return FromInteractions(interactions, purpose, channel);
}

std::string ConsentBlockReason(const ConsentPolicy& policy, const ConsentAnswer& answer, std::string_view purpose,
                               std::string_view channel) {
  if (answer.verdict == ConsentVerdict::kDenied) {
    return fmt::format("consent denied for {} on {}: {}", purpose, channel, answer.evidence);
  }
  if (answer.verdict == ConsentVerdict::kUnknown && Contains(policy.require_grant, purpose)) {
    return fmt::format("no recorded consent for {} on {} (this purpose needs a grant)", purpose, channel);
  }
  return {};
}

std::string ChannelBlockReason(const std::vector<ChannelConstraint>& constraints, const ActionRequest& r) {
  if (r.critical.empty()) return {};
  for (const auto& c : constraints) {
    if (c.name != r.critical) continue;
    const ChannelTier* tier = nullptr;
    for (const auto& t : c.tiers) {
      if (r.customer_value >= t.min_value && (tier == nullptr || t.min_value >= tier->min_value)) tier = &t;
    }
    if (tier == nullptr || tier->channels.empty() || Contains(tier->channels, r.channel)) return {};
    return fmt::format("channel {} not allowed for experience-critical '{}' at value tier {} (value {} >= {}); allowed: {}",
                       r.channel, c.name, tier->name, r.customer_value, tier->min_value, fmt::join(tier->channels, ", "));
  }
  return {};
}

Result<int64_t> QuietUntil(const QuietHours& quiet, std::string_view time_zone, int64_t now_ms) {
  if (!quiet.enabled || quiet.start_minute == quiet.end_minute) return int64_t{0};
  using namespace std::chrono;
  std::string name(time_zone.empty() ? std::string_view(quiet.default_time_zone) : time_zone);
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(name);
  } catch (const std::exception&) {
    return InvalidArgument(fmt::format("time_zone: unknown time zone '{}'", name));
  }
  const date::sys_time<milliseconds> now{milliseconds(now_ms)};
  const auto local = zone->to_local(now);
  const auto day = date::floor<date::days>(local);
  const int minute = static_cast<int>(duration_cast<minutes>(local - day).count());
  const int start = quiet.start_minute, end = quiet.end_minute;
  bool in_quiet;
  date::local_days end_day = day;
  if (start < end) {  // e.g. 12:00–14:00 within a day
    in_quiet = minute >= start && minute < end;
  } else {            // spans midnight: 21:00–08:00
    in_quiet = minute >= start || minute < end;
    if (minute >= start) end_day = day + date::days(1);
  }
  if (!in_quiet) return int64_t{0};
  const auto local_end = end_day + minutes(end);
  date::sys_time<milliseconds> until;
  auto info = zone->get_info(date::local_seconds(local_end));
  if (info.result == date::local_info::nonexistent) {
    until = info.first.end;  // the end falls in a DST gap: quiet hours end when the gap does
  } else {
    until = zone->to_sys(date::local_seconds(local_end), date::choose::earliest);
  }
  return static_cast<int64_t>(until.time_since_epoch().count());
}

Arbitration Arbitrate(const FrequencyCap& cap, int used, std::vector<Candidate> candidates) {
  Arbitration out;
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.expected_gain != b.expected_gain) return a.expected_gain > b.expected_gain;
    if (a.created_at_ms != b.created_at_ms) return a.created_at_ms < b.created_at_ms;
    return a.id < b.id;
  });
  const size_t slots = cap.max_actions <= 0 ? candidates.size()
                                            : static_cast<size_t>(std::max(0, cap.max_actions - used));
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (i < slots) {
      out.admitted.push_back(candidates[i].id);
    } else if (slots == 0) {
      out.suppressed.emplace_back(candidates[i].id,
                                  fmt::format("frequency cap reached: {} of {} actions in the window already", used,
                                              cap.max_actions));
    } else {
      const Candidate& last = candidates[slots - 1];
      out.suppressed.emplace_back(
          candidates[i].id,
          fmt::format("lost arbitration under the frequency cap ({} of {} left): expected gain {:.2f} < {:.2f} of action {}",
                      slots, cap.max_actions, candidates[i].expected_gain, last.expected_gain, last.id));
    }
  }
  return out;
}

}  // namespace cairn::actions
