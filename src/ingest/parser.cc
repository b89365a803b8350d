#include "ingest/parser.h"

#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "ingest/json_text.h"
#include "ingest/parser_internal.h"
#include "ingest/timestamp.h"

namespace cairn::ingest {
namespace {

// A thread's parser keeps buffers sized for the largest body it has seen; past this size they
// are released after the request so one huge import does not pin memory on every thread.
constexpr size_t kRetainBufferBytes = 4 << 20;

// Content of a validated string token (without the quotes).
std::string_view StringContent(std::string_view token) { return token.substr(1, token.size() - 2); }

void AssignUnescaped(std::string_view content, std::string* dst) {
  dst->clear();
  if (content.find('\\') == std::string_view::npos) {
    dst->assign(content);
  } else {
    json_text::UnescapeString(content, dst);
  }
}

std::string Iso(int64_t ms) {
  char buf[32];
  return std::string(FormatIso8601Ms(ms, buf));
}

}  // namespace

// A revenue figure: a JSON number token, or a string holding one (surrounding spaces allowed).
bool ParseAmount(std::string_view text, double* out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// ------------------------------------------------------------------------------------------------
// Errors

bool Parser::Impl::Fail(simdjson::error_code e) {
  const char* at = nullptr;
  if (auto loc = active_doc_->current_location(); !loc.error()) at = loc.value_unsafe();
  std::string what;
  if (e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT && (at == nullptr || at == buf_begin_)) {
    // On-Demand checks at the start that the root's last structural character closes it.
    return FailAt(at, "the top-level object is not closed or is followed by more content");
  }
  switch (e) {
    case simdjson::TAPE_ERROR: what = "unexpected character (missing or extra comma, colon, bracket or quote?)"; break;
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: what = "unterminated array or object"; break;
    case simdjson::INCORRECT_TYPE: what = "unexpected value type"; break;
    default: what = simdjson::error_message(e);
  }
  return FailAt(at, std::move(what));
}

bool Parser::Impl::FailAt(const char* at, std::string what) {
  syntax_.what = std::move(what);
  syntax_.at = at;
  return false;
}

bool Parser::Impl::AddPath(std::string_view key) {
  syntax_.path_reversed.push_back(fmt::format(".{}", Excerpt(key)));
  return false;
}

bool Parser::Impl::AddIndex(size_t index) {
  syntax_.path_reversed.push_back(fmt::format("[{}]", index));
  return false;
}

Status Parser::Impl::SyntaxStatus() {
  std::string path;
  for (auto it = syntax_.path_reversed.rbegin(); it != syntax_.path_reversed.rend(); ++it) path += *it;
  if (!path.empty() && path[0] == '.') path.erase(0, 1);
  std::string where;
  if (syntax_.at != nullptr && syntax_.at >= buf_begin_ && syntax_.at <= buf_end_) {
    where = fmt::format(" at byte {}", syntax_.at - buf_begin_);
  }
  if (!path.empty()) where += fmt::format(" ({})", path);
  return InvalidArgument(fmt::format("malformed JSON{}: {}", where, syntax_.what));
}

void Parser::Impl::RejectField(std::string_view field, std::string_view reason) {
  if (!reject_.empty()) return;
  reject_ = fmt::format("{}: {}", FieldPath(field), reason);
}

void Parser::Impl::RejectMessage(std::string_view reason) {
  if (!reject_.empty()) return;
  reject_ = prefix_.empty() ? std::string(reason) : fmt::format("{}: {}", prefix_, reason);
}

void Parser::Impl::SetBatchPrefix(size_t index) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, index);
  prefix_.assign("batch[");
  prefix_.append(digits, end);
  prefix_.push_back(']');
}

std::string_view Parser::Impl::JoinPath(std::string* buf, std::string_view a, std::string_view b) {
  buf->assign(a);
  buf->push_back('.');
  buf->append(b);
  return *buf;
}

std::string Parser::Impl::FieldPath(std::string_view field) const {
  return prefix_.empty() ? std::string(field) : fmt::format("{}.{}", prefix_, field);
}

// ------------------------------------------------------------------------------------------------
// Generic copying

bool Parser::Impl::ReadKey(od::field& field, std::string_view* key) {
  const char* start = field.key().raw();
  bool has_escape;
  const char* end = json_text::FindStringEnd(start, buf_end_, &has_escape);
  if (end == nullptr) return FailAt(start, "unterminated string");
  std::string_view k(start, static_cast<size_t>(end - start));
  if (has_escape && !json_text::HasValidEscapes(k)) return FailAt(start, "invalid escape in an object key");
  *key = k;
  return true;
}

bool Parser::Impl::CopyScalar(od::value& v, od::json_type type, std::string& out) {
  std::string_view token = json_text::TrimRight(v.raw_json_token());
  bool valid = false;
  switch (type) {
    case od::json_type::string:
      valid = token.size() >= 2 && token.back() == '"' && json_text::HasValidEscapes(StringContent(token));
      break;
    case od::json_type::number: valid = json_text::IsValidNumber(token); break;
    case od::json_type::boolean: valid = token == "true" || token == "false"; break;
    case od::json_type::null: valid = token == "null"; break;
    default: break;
  }
  if (!valid) {
    return FailAt(token.data(), fmt::format("invalid {} \"{}\"", TypeName(type), Excerpt(token)));
  }
  out.append(token);
  return true;
}

bool Parser::Impl::CopyValue(od::value v, std::string& out, int depth) {
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e);
  if (type == od::json_type::object || type == od::json_type::array) {
    if (depth >= kMaxDepth) {
      return FailAt(v.raw_json_token().data(), fmt::format("nested deeper than {} levels", kMaxDepth));
    }
  }
  if (type == od::json_type::object) {
    od::object obj;
    if (auto e = v.get_object().get(obj)) return Fail(e);
    return CopyPlainObject(obj, out, depth + 1, nullptr);
  }
  if (type == od::json_type::array) {
    od::array arr;
    if (auto e = v.get_array().get(arr)) return Fail(e);
    out.push_back('[');
    size_t i = 0;
    for (auto element : arr) {
      od::value ev;
      if (auto e = std::move(element).get(ev)) return Fail(e) || AddIndex(i);
      if (i != 0) out.push_back(',');
      if (!CopyValue(ev, out, depth + 1)) return AddIndex(i);
      ++i;
    }
    out.push_back(']');
    return true;
  }
  return CopyScalar(v, type, out);
}


bool Parser::Impl::CopyPlainObject(od::object obj, std::string& out, int depth, std::vector<FieldSpan>* fields) {
  return CopyObject(obj, out, depth, [](std::string_view, od::value&, std::string&, int) { return 0; }, fields);
}

// ------------------------------------------------------------------------------------------------
// Typed fields

bool Parser::Impl::ReadString(od::value v, std::string& out, std::string_view field, std::string* dst, bool* present) {
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e);
  if (type == od::json_type::string) {
    size_t begin = out.size();
    if (!CopyScalar(v, type, out)) return false;
    AssignUnescaped(StringContent(std::string_view(out).substr(begin)), dst);
    if (present != nullptr) *present = true;
    return true;
  }
  if (type != od::json_type::null) RejectField(field, fmt::format("must be a string, got {}", TypeName(type)));
  return CopyValue(v, out, 1);
}

bool Parser::Impl::ReadId(od::value v, std::string& out, std::string_view field, std::string* dst) {
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e);
  if (type == od::json_type::string) return ReadString(v, out, field, dst, nullptr);
  if (type == od::json_type::number) {
    size_t begin = out.size();
    if (!CopyScalar(v, type, out)) return false;
    dst->assign(out, begin, std::string::npos);
    return true;
  }
  if (type != od::json_type::null) {
    RejectField(field, fmt::format("must be a string or number, got {}", TypeName(type)));
  }
  return CopyValue(v, out, 1);
}

bool Parser::Impl::ReadTime(od::value v, std::string& out, std::string_view field, std::optional<int64_t>* dst) {
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e);
  size_t begin = out.size();
  if (type == od::json_type::string) {
    if (!CopyScalar(v, type, out)) return false;
    std::string_view content = StringContent(std::string_view(out).substr(begin));
    std::string unescaped;
    if (content.find('\\') != std::string_view::npos) {
      json_text::UnescapeString(content, &unescaped);
      content = unescaped;
    }
    int64_t ms;
    if (ParseIso8601Ms(content, &ms)) {
      *dst = ms;
    } else {
      RejectField(field, fmt::format("not an ISO-8601 time: \"{}\"", Excerpt(content)));
    }
    return true;
  }
  if (type == od::json_type::number) {
    if (!CopyScalar(v, type, out)) return false;
    std::string_view token = std::string_view(out).substr(begin);
    double value = 0;
    if (ParseAmount(token, &value) && value >= static_cast<double>(kMinTimeMs) &&
        value <= static_cast<double>(kMaxTimeMs)) {
      *dst = static_cast<int64_t>(std::floor(value));
    } else {
      RejectField(field, fmt::format("epoch milliseconds {} out of range (years 0000..9999)", Excerpt(token)));
    }
    return true;
  }
  if (type != od::json_type::null) {
    RejectField(field, fmt::format("must be an ISO-8601 string or epoch milliseconds, got {}", TypeName(type)));
  }
  return CopyValue(v, out, 1);
}

bool Parser::Impl::CopyObjectField(od::value v, std::string& out, int depth, std::string_view field,
                                   std::vector<FieldSpan>* fields, const CopiedObject* merge, bool* is_object) {
  *is_object = false;
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e);
  if (type != od::json_type::object) {
    if (type != od::json_type::null) RejectField(field, fmt::format("must be an object, got {}", TypeName(type)));
    return CopyValue(v, out, depth);
  }
  od::object obj;
  if (auto e = v.get_object().get(obj)) return Fail(e);
  *is_object = true;
  if (merge == nullptr || merge->fields.empty()) return CopyPlainObject(obj, out, depth + 1, fields);
  return CopyObject(obj, out, depth + 1, [](std::string_view, od::value&, std::string&, int) { return 0; }, fields,
                    merge);
}

int Parser::Impl::PropsHook(std::string_view key, od::value& v, std::string& out, std::string_view field,
                            PropsScan* scan) {
  if (key == "channel") {
    return ReadString(v, out, JoinPath(&channel_path_, field, "channel"), &scan->channel, &scan->has_channel) ? 1 : -1;
  }
  int rank = key == "revenue" ? 3 : key == "total" ? 2 : key == "value" ? 1 : 0;
  if (rank == 0) return 0;
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e) ? 1 : -1;
  if (type != od::json_type::number && type != od::json_type::string) return 0;
  size_t begin = out.size();
  if (!CopyScalar(v, type, out)) return -1;
  std::string_view token = std::string_view(out).substr(begin);
  if (type == od::json_type::string) token = StringContent(token);
  double amount;
  if (rank > scan->revenue_rank && ParseAmount(token, &amount)) {
    scan->revenue = amount;
    scan->revenue_rank = rank;
  }
  return 1;
}

bool Parser::Impl::CopyProperties(od::value v, std::string& out, int depth, std::string_view field, PropsScan* scan) {
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e);
  if (type != od::json_type::object) {
    if (type != od::json_type::null) RejectField(field, fmt::format("must be an object, got {}", TypeName(type)));
    return CopyValue(v, out, depth);
  }
  od::object obj;
  if (auto e = v.get_object().get(obj)) return Fail(e);
  return CopyObject(obj, out, depth + 1, [&](std::string_view key, od::value& fv, std::string& o, int) {
    return PropsHook(key, fv, o, field, scan);
  });
}

bool Parser::Impl::CopyTraits(od::value v, std::string& out, int depth, std::string_view field, TraitsScan* scan,
                              std::vector<FieldSpan>* fields, size_t* begin, size_t* end) {
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e);
  if (type != od::json_type::object) {
    if (type != od::json_type::null) RejectField(field, fmt::format("must be an object, got {}", TypeName(type)));
    return CopyValue(v, out, depth);
  }
  od::object obj;
  if (auto e = v.get_object().get(obj)) return Fail(e);
  *begin = out.size();
  bool ok = CopyObject(
      obj, out, depth + 1,
      [&](std::string_view key, od::value& fv, std::string& o, int) {
        // email / phone feed identity only when they are strings (or numbers, for phones); a
        // trait of another type is kept in the payload and not used.
        std::string* dst = key == "email" ? &scan->email : key == "phone" ? &scan->phone : nullptr;
        if (dst == nullptr) return 0;
        od::json_type t;
        if (auto e = fv.type().get(t)) return Fail(e) ? 1 : -1;
        if (t != od::json_type::string && !(t == od::json_type::number && dst == &scan->phone)) return 0;
        if (!ReadId(fv, o, "", dst)) return -1;
        (dst == &scan->email ? scan->has_email : scan->has_phone) = !dst->empty();
        return 1;
      },
      fields);
  *end = out.size();
  return ok;
}

bool Parser::Impl::CopyContext(od::value v, std::string& out, int depth, std::string_view field, ContextScan* scan,
                               std::vector<FieldSpan>* fields, const CopiedObject* merge) {
  od::json_type type;
  if (auto e = v.type().get(type)) return Fail(e);
  if (type != od::json_type::object) {
    if (type != od::json_type::null) RejectField(field, fmt::format("must be an object, got {}", TypeName(type)));
    return CopyValue(v, out, depth);
  }
  od::object obj;
  if (auto e = v.get_object().get(obj)) return Fail(e);
  return CopyObject(
      obj, out, depth + 1,
      [&](std::string_view key, od::value& fv, std::string& o, int d) {
        if (key == "channel") {
          return ReadString(fv, o, JoinPath(&channel_path_, field, "channel"), &scan->channel, &scan->has_channel) ? 1
                                                                                                             : -1;
        }
        if (key == "traits") {
          scan->has_traits = true;
          return CopyTraits(fv, o, d, JoinPath(&traits_path_, field, "traits"), &scan->traits, nullptr, &scan->traits_begin,
                            &scan->traits_end)
                     ? 1
                     : -1;
        }
        return 0;
      },
      fields, merge != nullptr && !merge->fields.empty() ? merge : nullptr);
}

// ------------------------------------------------------------------------------------------------
// Message completion

void Parser::Impl::ApplyTimes(Message* m, std::optional<int64_t> original, std::string_view original_field,
                              std::optional<int64_t> sent_at) {
  m->received_at_ms = received_at_ms_;
  m->original_timestamp_ms = original.value_or(0);
  m->sent_at_ms = sent_at.value_or(0);
  if (original && sent_at) {
    m->timestamp_ms = received_at_ms_ - (*sent_at - *original);
  } else if (original) {
    m->timestamp_ms = *original;
  } else {
    m->timestamp_ms = received_at_ms_;
  }
  const ParseOptions& o = *options_;
  if (m->timestamp_ms - received_at_ms_ > o.max_future_ms) {
    RejectField(original_field, fmt::format("{} is more than max_future_ms ({} ms) after receivedAt {}",
                                            Iso(m->timestamp_ms), o.max_future_ms, Iso(received_at_ms_)));
  } else if (!o.historical && received_at_ms_ - m->timestamp_ms > o.max_past_ms) {
    RejectField(original_field, fmt::format("{} is more than max_past_ms ({} ms) before receivedAt {}",
                                            Iso(m->timestamp_ms), o.max_past_ms, Iso(received_at_ms_)));
  }
}

void Parser::Impl::Emit(Message&& m, size_t index, size_t message_bytes, ParsedRequest* out) {
  std::string error;
  if (message_bytes > options_->max_message_bytes) {
    error = fmt::format("{}message is {} bytes, over the {}-byte limit", prefix_.empty() ? "" : prefix_ + ": ",
                        message_bytes, options_->max_message_bytes);
  } else {
    error = std::move(reject_);
  }
  if (!error.empty()) {
    out->rejected.push_back(Rejection{index, std::move(error)});
    return;
  }
  if (m.message_id.empty()) {
    m.message_id = fmt::format("h-{:016x}", XXH64(m.payload.data(), m.payload.size(), 0));
  }
  out->messages.push_back(std::move(m));
}

// ------------------------------------------------------------------------------------------------
// Requests

Status Parser::Impl::ReadBatchField(od::value v, ParsedRequest* out, bool* has_batch, bool* ok) {
  od::json_type type;
  if (auto e = v.type().get(type)) {
    *ok = Fail(e);
    return Status::Ok();
  }
  if (type != od::json_type::array) return InvalidArgument(fmt::format("batch must be an array, got {}", TypeName(type)));
  *has_batch = true;
  return CountBatch(v, out);
}

Status Parser::Impl::CountBatch(od::value v, ParsedRequest* out) {
  od::array arr;
  size_t count = 0;
  simdjson::error_code e = v.get_array().get(arr);
  if (e == simdjson::SUCCESS) e = arr.count_elements().get(count);
  if (e != simdjson::SUCCESS) {
    Fail(e);
    AddPath("batch");
    return SyntaxStatus();
  }
  if (count > options_->max_batch_messages) {
    return InvalidArgument(fmt::format("batch has {} messages, over the limit of {} (max_batch_messages)", count,
                                       options_->max_batch_messages));
  }
  out->messages.reserve(count);
  return Status::Ok();
}

void Parser::Impl::Load(std::string_view body) {
  const size_t need = body.size() + simdjson::SIMDJSON_PADDING;
  if (buf_capacity_ < need) {
    buf_capacity_ = GrownCapacity(need);
    buf_.reset(new char[buf_capacity_]);
    ++growths_;
  }
  if (!body.empty()) std::memcpy(buf_.get(), body.data(), body.size());
  std::memset(buf_.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
  buf_begin_ = buf_.get();
  buf_end_ = buf_begin_ + body.size();
}

Status Parser::Impl::Begin(const char* begin, const char* end, std::string_view noun) {
  buf_begin_ = begin;
  buf_end_ = end;
  syntax_ = SyntaxError{};
  const size_t size = static_cast<size_t>(end - begin);
  // Whatever follows `end` inside buf_ (the next lines, then the zeroed padding) is readable.
  const size_t capacity = static_cast<size_t>(buf_.get() + buf_capacity_ - begin);
  simdjson::error_code e = simdjson::SUCCESS;
  if (json_.capacity() < size) {  // iterate() would allocate exactly `size`
    e = json_.allocate(GrownCapacity(size), json_.max_depth());
    ++growths_;
  }
  if (e == simdjson::SUCCESS) e = json_.iterate(begin, size, capacity).get(doc_);
  if (e == simdjson::SUCCESS) {
    od::json_type type;
    e = doc_.type().get(type);
    if (e == simdjson::SUCCESS && type != od::json_type::object) {
      return InvalidArgument(fmt::format("{} must be a JSON object, got {}", noun, TypeName(type)));
    }
  }
  switch (e) {
    case simdjson::SUCCESS: return Status::Ok();
    case simdjson::EMPTY: return InvalidArgument(fmt::format("{} is empty (expected a JSON object)", noun));
    case simdjson::UTF8_ERROR:
      return InvalidArgument(fmt::format("{} is not valid UTF-8 at byte {}", noun,
                                         json_text::FirstInvalidUtf8(std::string_view(begin, size))));
    case simdjson::UNCLOSED_STRING: return InvalidArgument("malformed JSON: a string is not closed");
    case simdjson::UNESCAPED_CHARS: return InvalidArgument("malformed JSON: a string contains an unescaped control character");
    case simdjson::CAPACITY: return ResourceExhausted(fmt::format("{} too large for the JSON parser", noun));
    // Out of memory is transient (503, clients retry); a 4xx would make them drop the batch.
    case simdjson::MEMALLOC: return Unavailable("out of memory parsing the request body");
    default:
      Fail(e);
      return SyntaxStatus();
  }
}

Status Parser::Impl::Start(std::string_view body) {
  Load(body);
  return Begin(buf_begin_, buf_end_, "request body");
}

Result<ParsedRequest> Parser::Impl::ParseJsonLines(std::string_view body) {
  ParsedRequest req;
  NoEnvelope();
  // One memchr pass finds every line (a byte-wise count was 14% of the parse): the limit is
  // checked before any line is parsed, and the loop below reuses the ends.
  line_ends_.clear();
  for (size_t p = 0; p < body.size();) {
    const void* nl = std::memchr(body.data() + p, '\n', body.size() - p);
    const size_t end = nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - body.data()) : body.size();
    line_ends_.push_back(end);
    p = end + 1;
  }
  const size_t lines = line_ends_.size();
  if (lines > options_->max_batch_messages) {
    return InvalidArgument(fmt::format("{} lines, over the limit of {} (max_batch_messages)", lines,
                                       options_->max_batch_messages));
  }
  req.messages.reserve(lines);
  Load(body);
  const char* const base = buf_begin_;  // Begin() moves buf_begin_ to each line
  size_t begin = 0;
  for (size_t index = 0; index < lines; ++index) {
    const size_t end = line_ends_[index];
    Status s = ParseJsonLine(base + begin, base + end, index, &req);
    if (!s.ok()) {
      if (s.code() == Code::kUnavailable) return s;  // out of memory: the whole body is retried
      req.rejected.push_back(Rejection{index, std::string(s.message())});
    }
    begin = end + 1;
  }
  return req;
}

Status Parser::Impl::ParseJsonLine(const char* begin, const char* end, size_t index, ParsedRequest* out) {
  while (begin < end && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) --end;
  if (FastSingle(begin, end, index, false, store::MessageType::kTrack, out)) return Status::Ok();
  RETURN_IF_ERROR(Begin(begin, end, "a line"));
  od::object root;
  if (auto e = doc_.get_object().get(root)) {
    Fail(e);
    return SyntaxStatus();
  }
  const size_t messages = out->messages.size(), rejected = out->rejected.size();
  if (!ParseSegmentMessage(root, index, false, store::MessageType::kTrack, out)) return SyntaxStatus();
  if (auto loc = doc_.current_location(); !loc.error()) {
    out->messages.resize(messages);  // what the message gave is void: the line is malformed
    out->rejected.resize(rejected);
    return InvalidArgument(fmt::format("malformed JSON at byte {}: content after the object", loc.value_unsafe() - begin));
  }
  return Status::Ok();
}

Result<ParsedRequest> Parser::Impl::Parse(const ParseOptions& options, Dialect dialect, store::MessageType single_type,
                                          std::string_view body, int64_t received_at_ms) {
  RETURN_IF_ERROR(ValidateParseOptions(options));
  options_ = &options;
  received_at_ms_ = received_at_ms;
  Result<ParsedRequest> result = Status(Code::kInternal, "unreachable");
  Status started = dialect == Dialect::kJsonLines ? Status::Ok() : Start(body);
  if (!started.ok()) {
    result = started;
  } else {
    switch (dialect) {
      case Dialect::kSegmentBatch: result = ParseSegmentBatch(single_type); break;
      case Dialect::kSegmentSingle: result = ParseSegmentSingle(single_type); break;
      case Dialect::kPostHogBatch: result = ParsePostHogBatch(); break;
      case Dialect::kJsonLines: result = ParseJsonLines(body); break;
    }
  }
  doc_ = od::document();
  item_doc_ = od::document();
  active_doc_ = &doc_;
  if (buf_capacity_ > kRetainBufferBytes) {
    buf_.reset();
    buf_capacity_ = 0;
    json_ = od::parser();
    item_json_ = od::parser();
    dom_ = simdjson::dom::parser();
    dom_allocated_ = false;
  }
  return result;
}

// ------------------------------------------------------------------------------------------------

Status ValidateParseOptions(const ParseOptions& o) {
  if (o.max_batch_messages < 1 || o.max_batch_messages > ParseOptions::kMaxBatchMessages) {
    return InvalidArgument(fmt::format("ParseOptions.max_batch_messages must be in 1..{}, got {}",
                                       ParseOptions::kMaxBatchMessages, o.max_batch_messages));
  }
  if (o.max_message_bytes < 1) return InvalidArgument("ParseOptions.max_message_bytes must be positive");
  if (o.max_future_ms < 0) return InvalidArgument("ParseOptions.max_future_ms must not be negative");
  if (o.max_past_ms < 0) return InvalidArgument("ParseOptions.max_past_ms must not be negative");
  return Status::Ok();
}

Parser::Parser() : impl_(std::make_unique<Impl>()) {}
Parser::~Parser() = default;

void Parser::SetFastPathForTesting(bool enabled) { impl_->fast_path_ = enabled; }

Result<ParsedRequest> Parser::Parse(const ParseOptions& options, Dialect dialect, store::MessageType single_type,
                                    std::string_view decoded_body, int64_t received_at_ms) {
  return impl_->Parse(options, dialect, single_type, decoded_body, received_at_ms);
}

Result<ParsedRequest> ParseRequest(const ParseOptions& options, Dialect dialect, store::MessageType single_type,
                                   std::string_view decoded_body, int64_t received_at_ms) {
  thread_local Parser parser;
  return parser.Parse(options, dialect, single_type, decoded_body, received_at_ms);
}

}  // namespace cairn::ingest
