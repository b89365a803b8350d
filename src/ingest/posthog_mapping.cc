// PostHog `/batch/` requests: PostHog items mapped onto Segment-shaped messages (parser.h).

#include <fmt/format.h>

#include "base/json_string.h"
#include "ingest/parser_internal.h"

namespace cairn::ingest {
namespace {

// Keys of the mapped payload that Cairn derives; an item key spelled the same is renamed.
bool IsDerivedKey(std::string_view key) {
  return key == "type" || key == "userId" || key == "anonymousId" || key == "previousId" || key == "groupId" ||
         key == "traits" || key == "traitsSetOnce" || key == "name" || key == "messageId";
}

bool HasKey(const std::vector<FieldSpan>& fields, std::string_view key) {
  for (const FieldSpan& f : fields) {
    if (f.key == key) return true;
  }
  return false;
}

void AppendField(std::string_view key, std::string_view value_json, bool* first, std::string* out) {
  if (!*first) out->push_back(',');
  *first = false;
  out->push_back('"');
  out->append(key);
  out->append("\":");
  out->append(value_json);
}

}  // namespace

bool Parser::Impl::ParsePostHogItem(od::object obj, size_t index, ParsedRequest* req) {
  Message m;
  reject_.clear();
  merged_bytes_ = 0;
  std::string& item = scratch_;  // the item's own fields, minified, without the braces
  item.clear();

  std::string event, type_name, distinct_id;
  bool has_event = false, has_type = false;
  std::optional<int64_t> timestamp;
  PropsScan props;
  // properties keys PostHog gives meaning to.
  std::string anon_id, alias, group_type, group_key, current_url, pathname;
  bool has_group_type = false, has_current_url = false;
  TraitsScan set_scan, set_once_scan, group_set_scan;
  size_t set_b = 0, set_e = 0, once_b = 0, once_e = 0, group_b = 0, group_e = 0;
  set_fields_.clear();
  set_once_fields_.clear();
  group_set_fields_.clear();

  auto props_hook = [&](std::string_view key, od::value& v, std::string& o, int depth) -> int {
    bool ok;
    if (key.empty() || (key[0] != '$' && key != "alias")) return PropsHook(key, v, o, "properties", &props);
    if (key == "$set") {
      ok = CopyTraits(v, o, depth, "properties.$set", &set_scan, &set_fields_, &set_b, &set_e);
    } else if (key == "$set_once") {
      ok = CopyTraits(v, o, depth, "properties.$set_once", &set_once_scan, &set_once_fields_, &once_b, &once_e);
    } else if (key == "$group_set") {
      ok = CopyTraits(v, o, depth, "properties.$group_set", &group_set_scan, &group_set_fields_, &group_b, &group_e);
    } else if (key == "$anon_distinct_id") {
      ok = ReadId(v, o, "properties.$anon_distinct_id", &anon_id);
    } else if (key == "alias") {
      ok = ReadId(v, o, "properties.alias", &alias);
    } else if (key == "$group_type") {
      ok = ReadString(v, o, "properties.$group_type", &group_type, &has_group_type);
    } else if (key == "$group_key") {
      ok = ReadId(v, o, "properties.$group_key", &group_key);
    } else if (key == "$current_url") {
      ok = ReadString(v, o, "properties.$current_url", &current_url, &has_current_url);
    } else if (key == "$pathname") {
      ok = ReadString(v, o, "properties.$pathname", &pathname, nullptr);
    } else {
      return 0;
    }
    return ok ? 1 : -1;
  };

  bool first = true;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return Fail(e);
    std::string_view key;
    if (!ReadKey(field, &key)) return false;
    od::value v = field.value();
    if (key == "api_key") {  // a credential, never stored
      discard_.clear();
      if (!CopyValue(v, discard_, 1)) return AddPath(key);
      continue;
    }
    if (!first) item.push_back(',');
    first = false;
    item.append(IsDerivedKey(key) ? "\"$posthog_" : "\"");
    item.append(key);
    item.append("\":");
    bool ok;
    if (key == "event") {
      ok = ReadString(v, item, "event", &event, &has_event);
    } else if (key == "type") {
      ok = ReadString(v, item, "type", &type_name, &has_type);
    } else if (key == "distinct_id") {
      ok = ReadId(v, item, "distinct_id", &distinct_id);
    } else if (key == "uuid") {
      ok = ReadId(v, item, "uuid", &m.message_id);
    } else if (key == "timestamp") {
      ok = ReadTime(v, item, "timestamp", &timestamp);
    } else if (key == "$set") {  // older posthog-js: $set / $set_once beside properties
      ok = CopyTraits(v, item, 1, "$set", &set_scan, &set_fields_, &set_b, &set_e);
    } else if (key == "$set_once") {
      ok = CopyTraits(v, item, 1, "$set_once", &set_once_scan, &set_once_fields_, &once_b, &once_e);
    } else if (key == "properties") {
      od::json_type type;
      if (auto e = v.type().get(type)) return Fail(e) || AddPath(key);
      if (type == od::json_type::object) {
        od::object props_obj;
        if (auto e = v.get_object().get(props_obj)) return Fail(e) || AddPath(key);
        ok = CopyObject(props_obj, item, 2, props_hook);
      } else {
        if (type != od::json_type::null) RejectField("properties", fmt::format("must be an object, got {}", TypeName(type)));
        ok = CopyValue(v, item, 1);
      }
    } else {
      ok = CopyValue(v, item, 1);
    }
    if (!ok) return AddPath(key);
  }
  const size_t message_bytes = item.size() + 2;

  // Type: from the event name, else from a `type` field (older clients).
  if (has_event) {
    if (event == "$identify") {
      m.type = store::MessageType::kIdentify;
    } else if (event == "$create_alias") {
      m.type = store::MessageType::kAlias;
    } else if (event == "$groupidentify") {
      m.type = store::MessageType::kGroup;
    } else if (event == "$pageview") {
      m.type = store::MessageType::kPage;
    } else {
      m.type = store::MessageType::kTrack;
      if (event.empty()) RejectField("event", "track needs a non-empty event name");
      m.event = event;
    }
  } else if (has_type) {
    for (char& c : type_name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (type_name == "capture" || type_name == "track") {
      RejectMessage("missing event");
    } else if (!store::ParseMessageType(type_name, &m.type)) {
      RejectField("type", fmt::format("unknown type \"{}\"", type_name.substr(0, 64)));
    }
  } else {
    RejectMessage("missing event");
  }

  // Identity.
  if (distinct_id.empty()) RejectMessage("missing distinct_id");
  m.user_id = std::move(distinct_id);
  std::string traits, traits_once;
  switch (m.type) {
    case store::MessageType::kIdentify: {
      // PostHog sends a visitor's events before $identify with the anonymous id as distinct_id,
      // which Cairn stores as a userId. $identify must therefore merge that customer explicitly:
      // previous_id makes the identity layer treat it like an alias (see IdentityResolver).
      m.previous_id = anon_id;
      m.anonymous_id = std::move(anon_id);
      // $set → traits (last write wins); $set_once → traitsSetOnce, which sets a trait only while
      // the customer has no value for it (the profile store applies that rule). $set wins over
      // $set_once for a key both carry.
      bool tf = true;
      traits.push_back('{');
      for (const FieldSpan& f : set_fields_) {
        AppendField(f.key, std::string_view(item).substr(f.begin, f.end - f.begin), &tf, &traits);
      }
      traits.push_back('}');
      if (tf) traits.clear();
      bool of = true;
      traits_once.push_back('{');
      for (const FieldSpan& f : set_once_fields_) {
        if (!HasKey(set_fields_, f.key)) {
          AppendField(f.key, std::string_view(item).substr(f.begin, f.end - f.begin), &of, &traits_once);
        }
      }
      traits_once.push_back('}');
      if (of) traits_once.clear();
      m.email = set_scan.has_email ? set_scan.email : set_once_scan.email;
      m.phone = set_scan.has_phone ? set_scan.phone : set_once_scan.phone;
      break;
    }
    case store::MessageType::kAlias:
      m.previous_id = std::move(alias);
      if (m.previous_id.empty()) RejectField("properties.alias", "alias needs properties.alias (the previous id)");
      break;
    case store::MessageType::kGroup: {
      m.group_id = std::move(group_key);
      if (m.group_id.empty()) RejectField("properties.$group_key", "group needs $group_key");
      bool tf = true;
      traits.push_back('{');
      if (has_group_type) {
        std::string quoted;
        AppendJsonString(&quoted, group_type);
        AppendField("$group_type", quoted, &tf, &traits);
      }
      for (const FieldSpan& f : group_set_fields_) {
        if (f.key == "$group_type") continue;
        AppendField(f.key, std::string_view(item).substr(f.begin, f.end - f.begin), &tf, &traits);
      }
      traits.push_back('}');
      if (tf && group_e == group_b) traits.clear();
      break;
    }
    case store::MessageType::kPage:
    case store::MessageType::kScreen:
      m.event = has_current_url ? std::move(current_url) : std::move(pathname);
      break;
    case store::MessageType::kTrack:
      break;
  }
  m.traits_json = traits;

  ApplyTimes(&m, timestamp, "timestamp", env_sent_at_);
  if (props.has_channel) {
    m.channel = std::move(props.channel);
  } else if (m.type == store::MessageType::kPage) {
    m.channel = "web";
  } else if (m.type == store::MessageType::kScreen) {
    m.channel = "mobile";
  }
  m.revenue = props.revenue;

  // Payload: the derived Segment fields, then the item as sent.
  std::string& out = payload_;
  out.clear();
  out.push_back('{');
  bool of = true;
  std::string quoted;
  auto quoted_field = [&](std::string_view key, std::string_view value) {
    quoted.clear();
    AppendJsonString(&quoted, value);
    AppendField(key, quoted, &of, &out);
  };
  quoted_field("type", store::MessageTypeName(m.type));
  if (!m.user_id.empty()) quoted_field("userId", m.user_id);
  if (!m.anonymous_id.empty()) quoted_field("anonymousId", m.anonymous_id);
  if (!m.previous_id.empty()) quoted_field("previousId", m.previous_id);
  if (!m.group_id.empty()) quoted_field("groupId", m.group_id);
  if (!traits.empty()) AppendField("traits", traits, &of, &out);
  if (!traits_once.empty()) AppendField("traitsSetOnce", traits_once, &of, &out);
  if (m.type == store::MessageType::kPage && !m.event.empty()) quoted_field("name", m.event);
  if (!m.message_id.empty()) quoted_field("messageId", m.message_id);
  if (!item.empty()) {
    out.push_back(',');
    out.append(item);
  }
  out.push_back('}');
  m.payload = out;
  Emit(std::move(m), index, message_bytes, req);
  return true;
}

Result<ParsedRequest> Parser::Impl::ParsePostHogBatch() {
  ParsedRequest req;
  env_sent_at_.reset();
  prefix_.clear();
  reject_.clear();
  bool has_batch = false;
  Status s = ForEachTopLevelField([&](std::string_view key, od::value v) -> Status {
    bool ok = true;
    discard_.clear();
    if (key == "batch") {
      Status counted = ReadBatchField(v, &req, &has_batch, &ok);
      if (!counted.ok()) return counted;
    } else if (key == "api_key") {
      ok = ReadString(v, discard_, "api_key", &req.write_key, nullptr);
    } else if (key == "sent_at") {
      ok = ReadTime(v, discard_, "sent_at", &env_sent_at_);
    } else {
      ok = CopyValue(v, discard_, 1);
    }
    if (!ok) {
      AddPath(key);
      return SyntaxStatus();
    }
    if (!reject_.empty()) return InvalidArgument(reject_);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!has_batch) return InvalidArgument("missing batch (expected {\"api_key\": ..., \"batch\": [...]})");

  doc_.rewind();
  bool seen_batch = false;
  s = ForEachTopLevelField([&](std::string_view key, od::value v) -> Status {
    if (key != "batch" || seen_batch) return Status::Ok();
    seen_batch = true;
    return ForEachBatchItem(v, &req, [&](size_t index, od::object obj) { return ParsePostHogItem(obj, index, &req); });
  });
  if (!s.ok()) return s;
  return req;
}

}  // namespace cairn::ingest
