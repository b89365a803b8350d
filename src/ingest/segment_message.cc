// Segment requests (/v1/batch, /v1/b, /v1/<type>, /v1/<t>): envelope handling and the per-message
// walk that builds a Message and its payload.

#include <tuple>

#include <fmt/format.h>

#include "ingest/json_text.h"
#include "ingest/parser_internal.h"

namespace cairn::ingest {

// ------------------------------------------------------------------------------------------------
// Segment messages

bool Parser::Impl::ParseSegmentMessage(od::object obj, size_t index, bool single, store::MessageType single_type,
                                       ParsedRequest* req) {
  SegmentFields f;
  reject_.clear();
  merged_bytes_ = 0;
  payload_.clear();
  payload_.push_back('{');
  if (!WalkSegmentMessage(obj, &f)) return false;
  FinishSegmentMessage(f, payload_, index, single, single_type, req);
  return true;
}

bool Parser::Impl::WalkSegmentMessage(od::object obj, SegmentFields* f) {
  Message& m = f->m;
  std::string& out = payload_;
  auto& [type_name, write_key, name, has_type, has_write_key, has_event, has_context, has_integrations, has_traits,
         timestamp, original_timestamp, sent_at, props, ctx, traits, traits_begin, traits_end, first, unused_m] = *f;
  (void)unused_m;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return Fail(e);
    std::string_view key;
    if (!ReadKey(field, &key)) return false;
    od::value v = field.value();
    if (key == "writeKey") {  // a credential: authenticates the request, never stored
      discard_.clear();
      if (!ReadString(v, discard_, "writeKey", &write_key, &has_write_key)) return AddPath(key);
      continue;
    }
    if (!first) out.push_back(',');
    first = false;
    AppendKey(key, out);
    bool ok = true;
    switch (key.size()) {  // dispatch on length first: most keys are rejected by one compare
      case 4:
        if (key == "type") {
          ok = ReadString(v, out, "type", &type_name, &has_type);
        } else if (key == "name") {
          ok = ReadString(v, out, "name", &name, nullptr);
        } else {
          ok = CopyValue(v, out, 1);
        }
        break;
      case 5:
        ok = key == "event" ? ReadString(v, out, "event", &m.event, &has_event) : CopyValue(v, out, 1);
        break;
      case 6:
        if (key == "userId") {
          ok = ReadId(v, out, "userId", &m.user_id);
        } else if (key == "sentAt") {
          ok = ReadTime(v, out, "sentAt", &sent_at);
        } else if (key == "traits") {
          has_traits = true;
          ok = CopyTraits(v, out, 1, "traits", &traits, nullptr, &traits_begin, &traits_end);
        } else {
          ok = CopyValue(v, out, 1);
        }
        break;
      case 7:
        if (key == "groupId") {
          ok = ReadId(v, out, "groupId", &m.group_id);
        } else if (key == "context") {
          has_context = true;
          ok = CopyContext(v, out, 1, "context", &ctx, &context_fields_, &env_context_);
        } else {
          ok = CopyValue(v, out, 1);
        }
        break;
      case 9:
        if (key == "messageId") {
          ok = ReadId(v, out, "messageId", &m.message_id);
        } else if (key == "timestamp") {
          ok = ReadTime(v, out, "timestamp", &timestamp);
        } else {
          ok = CopyValue(v, out, 1);
        }
        break;
      case 10:
        if (key == "previousId") {
          ok = ReadId(v, out, "previousId", &m.previous_id);
        } else if (key == "properties") {
          ok = CopyProperties(v, out, 1, "properties", &props);
        } else {
          ok = CopyValue(v, out, 1);
        }
        break;
      case 11:
        ok = key == "anonymousId" ? ReadId(v, out, "anonymousId", &m.anonymous_id) : CopyValue(v, out, 1);
        break;
      case 12:
        if (key == "integrations") {
          has_integrations = true;
          bool is_object;
          ok = CopyObjectField(v, out, 1, "integrations", &integrations_fields_, &env_integrations_, &is_object);
        } else {
          ok = CopyValue(v, out, 1);
        }
        break;
      case 17:
        ok = key == "originalTimestamp" ? ReadTime(v, out, "originalTimestamp", &original_timestamp)
                                        : CopyValue(v, out, 1);
        break;
      default:
        ok = CopyValue(v, out, 1);
    }
    if (!ok) return AddPath(key);
  }
  return true;
}

void Parser::Impl::FinishSegmentMessage(SegmentFields& f, std::string& out, size_t index, bool single,
                                        store::MessageType single_type, ParsedRequest* req) {
  Message& m = f.m;
  auto& [type_name, write_key, name, has_type, has_write_key, has_event, has_context, has_integrations, has_traits,
         timestamp, original_timestamp, sent_at, props, ctx, traits, traits_begin, traits_end, first, unused_m] = f;
  (void)unused_m;
  // Envelope objects the message does not have at all.
  for (auto [has, name_text, env] : {std::tuple{has_context, "context", &env_context_},
                                     std::tuple{has_integrations, "integrations", &env_integrations_}}) {
    if (has || env->fields.empty()) continue;
    size_t before = out.size();
    if (!first) out.push_back(',');
    first = false;
    AppendKey(name_text, out);
    out.append(env->text);
    merged_bytes_ += out.size() - before;
  }
  out.push_back('}');
  size_t message_bytes = out.size() - merged_bytes_;

  // Type.
  if (has_type) {
    for (char& c : type_name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (!store::ParseMessageType(type_name, &m.type)) {
      RejectField("type", fmt::format("unknown type \"{}\"", Excerpt(type_name)));
    } else if (single && m.type != single_type) {
      RejectField("type", fmt::format("\"{}\" does not match the endpoint's type \"{}\"", type_name,
                                      store::MessageTypeName(single_type)));
    }
  } else if (single) {
    m.type = single_type;
  } else if (reject_.empty()) {
    RejectMessage("missing type");
  }

  // Identity requirements.
  if (m.type == store::MessageType::kAlias) {
    if (m.user_id.empty() && m.previous_id.empty()) {
      RejectMessage("alias needs userId and previousId");
    } else if (m.user_id.empty()) {
      RejectMessage("alias needs userId");
    } else if (m.previous_id.empty()) {
      RejectMessage("alias needs previousId");
    }
  } else if (m.user_id.empty() && m.anonymous_id.empty()) {
    RejectMessage("missing userId and anonymousId");
  }
  if (m.type == store::MessageType::kGroup && m.group_id.empty()) RejectMessage("group needs groupId");
  if (m.type == store::MessageType::kTrack && m.event.empty()) {
    RejectField("event", has_event ? "track needs a non-empty event name" : "track needs an event name");
  }

  // Write key: one request authenticates as one source.
  if (has_write_key) {
    if (req->write_key.empty()) {
      req->write_key = write_key;
    } else if (write_key != req->write_key) {
      RejectField("writeKey", "differs from the request's write key");
    }
  }

  // Time.
  std::string_view original_field = original_timestamp ? "originalTimestamp" : "timestamp";
  ApplyTimes(&m, original_timestamp ? original_timestamp : timestamp, original_field,
             sent_at ? sent_at : env_sent_at_);

  // Derived columns. Merged context semantics: a context key the message lacks comes from the
  // envelope.
  const ContextScan& ctx_channel = ctx.has_channel ? ctx : env_context_scan_;
  const bool own_ctx_traits = ctx.has_traits;
  const ContextScan& ctx_traits = own_ctx_traits ? ctx : env_context_scan_;
  if (m.type == store::MessageType::kPage || m.type == store::MessageType::kScreen) m.event = std::move(name);
  if (m.type != store::MessageType::kTrack && m.type != store::MessageType::kPage &&
      m.type != store::MessageType::kScreen) {
    m.event.clear();
  }
  if (props.has_channel) {
    m.channel = std::move(props.channel);
  } else if (ctx_channel.has_channel) {
    m.channel = ctx_channel.channel;
  } else if (m.type == store::MessageType::kPage) {
    m.channel = "web";
  } else if (m.type == store::MessageType::kScreen) {
    m.channel = "mobile";
  }
  m.revenue = props.revenue;
  const bool is_identify = m.type == store::MessageType::kIdentify;
  m.email = is_identify && traits.has_email ? traits.email : ctx_traits.traits.email;
  m.phone = is_identify && traits.has_phone ? traits.phone : ctx_traits.traits.phone;
  if (is_identify || m.type == store::MessageType::kGroup) {
    if (traits_end > traits_begin) {
      m.traits_json.assign(out, traits_begin, traits_end - traits_begin);
    } else if (is_identify && !has_traits && ctx_traits.traits_end > ctx_traits.traits_begin) {
      const std::string& src = own_ctx_traits ? out : env_context_.text;
      m.traits_json.assign(src, ctx_traits.traits_begin, ctx_traits.traits_end - ctx_traits.traits_begin);
    }
  }
  if (single && !has_type) {
    std::string type_field = fmt::format("\"type\":\"{}\"{}", store::MessageTypeName(single_type), first ? "" : ",");
    merged_bytes_ += type_field.size();
    out.insert(1, type_field);
  }
  if (&out != &m.payload) m.payload = out;
  Emit(std::move(m), index, message_bytes, req);
}

Result<ParsedRequest> Parser::Impl::ParseSegmentBatch(store::MessageType single_type) {
  ParsedRequest req;
  auto reset_envelope = [&] {
    env_sent_at_.reset();
    env_write_key_.clear();
    env_context_.Clear();
    env_integrations_.Clear();
    env_context_scan_.Reset();
  };
  reset_envelope();
  prefix_.clear();
  reject_.clear();

  // Pass 1: the envelope. Clients put `sentAt` (and sometimes `context`) after `batch`, and every
  // message needs them, so read them first and come back for the batch. A body that qualifies for
  // the fast path is DOM-parsed first: its envelope is then read from the DOM (FastEnvelope),
  // without walking the batch's tokens; when that declines, the On-Demand walk below reads it.
  simdjson::dom::object fast_root;
  simdjson::dom::array fast_items;
  const bool fast = FastBatchItems(&fast_root, &fast_items);
  if (fast && FastEnvelope(fast_root, &req)) {
    req.write_key = env_write_key_;
  } else {
    reset_envelope();
    Status s = OnDemandEnvelope(&req);
    if (!s.ok()) return s;
  }

  // Pass 2: the messages.
  doc_.rewind();
  bool seen_batch = false;
  Status s = ForEachTopLevelField([&](std::string_view key, od::value v) -> Status {
    if (key != "batch" || seen_batch) return Status::Ok();
    seen_batch = true;
    if (fast) return ForEachBatchItemFast(v, fast_items, single_type, &req);
    return ForEachBatchItem(v, &req, [&](size_t index, od::object obj) {
      return ParseSegmentMessage(obj, index, false, single_type, &req);
    });
  });
  if (!s.ok()) return s;
  return req;
}

Status Parser::Impl::OnDemandEnvelope(ParsedRequest* out) {
  ParsedRequest& req = *out;
  bool has_batch = false;
  Status s = ForEachTopLevelField([&](std::string_view key, od::value v) -> Status {
    bool ok = true;
    if (key == "batch") {
      Status counted = ReadBatchField(v, &req, &has_batch, &ok);
      if (!counted.ok()) return counted;
    } else if (key == "writeKey") {
      discard_.clear();
      ok = ReadString(v, discard_, "writeKey", &env_write_key_, nullptr);
    } else if (key == "sentAt") {
      discard_.clear();
      ok = ReadTime(v, discard_, "sentAt", &env_sent_at_);
    } else if (key == "context") {
      env_context_.Clear();
      env_context_scan_.Reset();
      ok = CopyContext(v, env_context_.text, 0, "context", &env_context_scan_, &env_context_.fields, nullptr);
      if (ok && env_context_.text.front() != '{') env_context_.Clear();  // null: nothing to merge
    } else if (key == "integrations") {
      bool is_object;
      env_integrations_.Clear();
      ok = CopyObjectField(v, env_integrations_.text, 0, "integrations", &env_integrations_.fields, nullptr,
                           &is_object);
      if (ok && !is_object) env_integrations_.Clear();
    } else {
      discard_.clear();
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
  if (!has_batch) return InvalidArgument("missing batch (expected {\"batch\": [...]})");
  req.write_key = env_write_key_;
  return Status::Ok();
}

void Parser::Impl::NoEnvelope() {
  env_sent_at_.reset();
  env_context_.Clear();
  env_integrations_.Clear();
  env_context_scan_.Reset();
  prefix_.clear();
}

Result<ParsedRequest> Parser::Impl::ParseSegmentSingle(store::MessageType single_type) {
  ParsedRequest req;
  NoEnvelope();
  const std::string_view text = json_text::TrimRight(std::string_view(buf_begin_, buf_end_ - buf_begin_));
  if (FastSingle(text.data(), text.data() + text.size(), 0, true, single_type, &req)) return req;
  od::object root;
  if (auto e = doc_.get_object().get(root)) {
    Fail(e);
    return SyntaxStatus();
  }
  if (!ParseSegmentMessage(root, 0, true, single_type, &req)) return SyntaxStatus();
  if (auto loc = doc_.current_location(); !loc.error()) {
    return InvalidArgument(fmt::format("malformed JSON at byte {}: content after the top-level object",
                                       loc.value_unsafe() - buf_begin_));
  }
  return req;
}

}  // namespace cairn::ingest
