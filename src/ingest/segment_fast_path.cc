// The fast path for Segment messages (parser_internal.h): what real clients send — minified JSON,
// no escapes, fields of the expected types — read from a simdjson DOM with the payload copied
// once as the message's own text, instead of walking and copying every token.
//
// Why it is exact: a message qualifies only when its text is valid JSON (the DOM parse checks the
// whole grammar, UTF-8 and numbers), has no backslash (so every string and key the DOM hands back
// is byte-for-byte its text, and keys match as written) and no whitespace outside strings (so the
// text is already what the general walk's token-by-token copy would produce). Every field is then
// read here with the general walk's rules, in the same order, and whatever those rules would
// reject, or would need the token text for (ids and times sent as numbers, traits objects whose
// span becomes traits_json, envelope objects merged into the message's own), sends the message
// back to the general walk. The checks and derivations after the walk are shared
// (FinishSegmentMessage).

#include <algorithm>
#include <cstring>
#include <iterator>

#include "ingest/json_text.h"
#include "ingest/parser_internal.h"
#include "ingest/timestamp.h"

namespace cairn::ingest {
namespace {

namespace dom = simdjson::dom;

// Messages larger than this take the general walk: the size limit's rejection is its business,
// and the DOM parser's buffers stay small.
constexpr size_t kFastMaxBytes = 64 * 1024;

// ReadString's rules: a string is taken, null leaves the destination alone, anything else would
// be rejected (false: take the general walk).
bool FastString(dom::element v, std::string* dst, bool* present) {
  switch (v.type()) {
    case dom::element_type::STRING: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      dst->assign(s);
      if (present != nullptr) *present = true;
      return true;
    }
    case dom::element_type::NULL_VALUE: return true;
    default: return false;
  }
}

// ReadTime's rules for a string or null; numbers (whose text the DOM does not keep) and anything
// that does not parse go to the general walk.
bool FastTime(dom::element v, std::optional<int64_t>* dst) {
  switch (v.type()) {
    case dom::element_type::STRING: {
      std::string_view s;
      int64_t ms;
      if (v.get_string().get(s) || !ParseIso8601Ms(s, &ms)) return false;
      *dst = ms;
      return true;
    }
    case dom::element_type::NULL_VALUE: return true;
    default: return false;
  }
}

// PropsHook's revenue/total/value rule. from_chars on the token text and simdjson's number
// parsing both round correctly, so they agree on every double and integer — except "-0", which
// the DOM may report as integer 0: integer zeros go to the general walk.
bool FastAmount(dom::element v, int rank, PropsScan* scan) {
  double amount = 0;
  switch (v.type()) {
    case dom::element_type::STRING: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      if (rank > scan->revenue_rank && ParseAmount(s, &amount)) {
        scan->revenue = amount;
        scan->revenue_rank = rank;
      }
      return true;
    }
    case dom::element_type::INT64:
    case dom::element_type::UINT64: {
      if (v.get_double().get(amount) || amount == 0) return false;
      break;
    }
    case dom::element_type::DOUBLE:
      if (v.get_double().get(amount)) return false;
      break;
    default: return true;  // other types are kept in the payload and not read
  }
  if (rank > scan->revenue_rank) {
    scan->revenue = amount;
    scan->revenue_rank = rank;
  }
  return true;
}

bool FastProperties(dom::element v, PropsScan* scan) {
  if (v.type() == dom::element_type::NULL_VALUE) return true;
  dom::object obj;
  if (v.get_object().get(obj)) return false;
  for (dom::key_value_pair kv : obj) {
    const std::string_view key = kv.key;
    if (key == "channel") {
      if (!FastString(kv.value, &scan->channel, &scan->has_channel)) return false;
      continue;
    }
    const int rank = key == "revenue" ? 3 : key == "total" ? 2 : key == "value" ? 1 : 0;
    if (rank != 0 && !FastAmount(kv.value, rank, scan)) return false;
  }
  return true;
}

}  // namespace

bool Parser::Impl::FastSegmentFields(dom::object obj, SegmentFields* f) {
  Message& m = f->m;
  for (dom::key_value_pair kv : obj) {
    const std::string_view key = kv.key;
    const dom::element v = kv.value;
    const dom::element_type type = v.type();
    bool ok = true;
    switch (key.size()) {  // the general walk's dispatch, field for field
      case 4:
        if (key == "type") ok = FastString(v, &f->type_name, &f->has_type);
        else if (key == "name") ok = FastString(v, &f->name, nullptr);
        break;
      case 5:
        if (key == "event") ok = FastString(v, &m.event, &f->has_event);
        break;
      case 6:
        if (key == "userId") {
          ok = FastString(v, &m.user_id, nullptr);
        } else if (key == "sentAt") {
          ok = FastTime(v, &f->sent_at);
        } else if (key == "traits") {
          f->has_traits = true;
          ok = type == dom::element_type::NULL_VALUE;  // an object's span becomes traits_json
        }
        break;
      case 7:
        if (key == "groupId") {
          ok = FastString(v, &m.group_id, nullptr);
        } else if (key == "context") {
          f->has_context = true;
          if (type == dom::element_type::OBJECT) {
            if (!env_context_.fields.empty()) return false;  // merged key by key
            dom::object ctx;
            if (v.get_object().get(ctx)) return false;
            for (dom::key_value_pair c : ctx) {
              if (c.key == "channel") {
                ok = ok && FastString(c.value, &f->ctx.channel, &f->ctx.has_channel);
              } else if (c.key == "traits") {
                f->ctx.has_traits = true;
                ok = ok && c.value.type() == dom::element_type::NULL_VALUE;
              }
            }
          } else {
            ok = type == dom::element_type::NULL_VALUE;
          }
        }
        break;
      case 8:
        if (key == "writeKey") return false;  // removed from the payload
        break;
      case 9:
        if (key == "messageId") ok = FastString(v, &m.message_id, nullptr);
        else if (key == "timestamp") ok = FastTime(v, &f->timestamp);
        break;
      case 10:
        if (key == "previousId") ok = FastString(v, &m.previous_id, nullptr);
        else if (key == "properties") ok = FastProperties(v, &f->props);
        break;
      case 11:
        if (key == "anonymousId") ok = FastString(v, &m.anonymous_id, nullptr);
        break;
      case 12:
        if (key == "integrations") {
          f->has_integrations = true;
          ok = type == dom::element_type::NULL_VALUE ||
               (type == dom::element_type::OBJECT && env_integrations_.fields.empty());
        }
        break;
      case 17:
        if (key == "originalTimestamp") ok = FastTime(v, &f->original_timestamp);
        break;
      default: break;
    }
    if (!ok) return false;
  }
  return true;
}

bool Parser::Impl::FastCandidate(const char* begin, const char* end) {
  const size_t n = static_cast<size_t>(end - begin);
  if (!fast_path_ || n < 2 || n > kFastMaxBytes || *begin != '{' || end[-1] != '}') return false;
  if (std::memchr(begin, '\\', n) != nullptr) return false;
  if (minify_capacity_ < n + simdjson::SIMDJSON_PADDING) {
    minify_capacity_ = kFastMaxBytes + simdjson::SIMDJSON_PADDING;
    minify_buf_.reset(new char[minify_capacity_]);
  }
  size_t minified = 0;
  return simdjson::minify(begin, n, minify_buf_.get(), minified) == simdjson::SUCCESS && minified == n;
}

bool Parser::Impl::FastSegmentMessage(const char* begin, const char* end, dom::element root, size_t index,
                                      bool single, store::MessageType single_type, ParsedRequest* req) {
  dom::object obj;
  if (root.get_object().get(obj)) return false;
  SegmentFields f;
  if (!FastSegmentFields(obj, &f)) return false;
  reject_.clear();
  merged_bytes_ = 0;
  // The payload is the text without its closing brace; Finish appends what the envelope adds.
  // Reserved at its final size: Finish adds the envelope objects the message lacks, then "}",
  // and for a single message without "type" that field. A payload lives until its memtable is
  // flushed, so slack here is memory held per interaction (a flat +40 put a third of gen_events
  // payloads in the allocator's 640-byte class instead of the 512-byte one).
  const size_t n = static_cast<size_t>(end - begin);
  size_t extra = 0;
  if (!f.has_context && !env_context_.fields.empty()) extra += std::size(",\"context\":") - 1 + env_context_.text.size();
  if (!f.has_integrations && !env_integrations_.fields.empty())
    extra += std::size(",\"integrations\":") - 1 + env_integrations_.text.size();
  if (single && !f.has_type) extra += std::size("\"type\":\"identify\",") - 1;  // the longest type name
  std::string& payload = f.m.payload;
  payload.reserve(n + extra);
  payload.assign(begin, n - 1);
  f.first = n == 2;
  FinishSegmentMessage(f, payload, index, single, single_type, req);
  return true;
}

bool Parser::Impl::FastParse(const char* begin, const char* end, dom::element* root) {
  const size_t n = static_cast<size_t>(end - begin);
  if (!dom_allocated_ || dom_.capacity() < n) {
    if (dom_.allocate(std::max(GrownCapacity(n), kFastMaxBytes), kFastMaxDepth) != simdjson::SUCCESS) return false;
    dom_allocated_ = true;
    ++growths_;
  }
  // buf_ holds what follows `end` and then zeroed padding: readable past `end` as the DOM needs.
  return dom_.parse(reinterpret_cast<const uint8_t*>(begin), n, false).get(*root) == simdjson::SUCCESS;
}

bool Parser::Impl::FastSingle(const char* begin, const char* end, size_t index, bool single,
                              store::MessageType single_type, ParsedRequest* req) {
  dom::element root;
  return FastCandidate(begin, end) && FastParse(begin, end, &root) &&
         FastSegmentMessage(begin, end, root, index, single, single_type, req);
}

bool Parser::Impl::FastBatchItems(dom::object* root, dom::array* items) {
  const size_t n = static_cast<size_t>(buf_end_ - buf_begin_);
  dom::element doc;
  if (!fast_path_ || std::memchr(buf_begin_, '\\', n) != nullptr || !FastParse(buf_begin_, buf_end_, &doc) ||
      doc.get_object().get(*root)) {
    return false;
  }
  for (dom::key_value_pair kv : *root) {  // the first `batch`, as pass 2 takes it
    if (kv.key == "batch") return kv.value.get_array().get(*items) == simdjson::SUCCESS;
  }
  return false;
}

bool Parser::Impl::FastEnvelope(dom::object root, ParsedRequest* req) {
  // Every field in order, as ParseSegmentBatch's pass 1 takes them (a repeated key is read again).
  // The body is valid JSON without backslashes and nested at most kFastMaxDepth < kMaxDepth deep,
  // so keys match as written and the fields not read here are ones pass 1 copies away without
  // error. What pass 1 would reject, or copy as text (envelope objects to merge), goes to it.
  for (dom::key_value_pair kv : root) {
    const std::string_view key = kv.key;
    const dom::element v = kv.value;
    if (key == "batch") {
      dom::array items;
      if (v.get_array().get(items)) return false;  // pass 1 names the type in its error
      const size_t count = items.size();            // saturates at 0xFFFFFF, far over the limit
      if (count > options_->max_batch_messages) return false;
      req->messages.reserve(count);
    } else if (key == "writeKey") {
      if (!FastString(v, &env_write_key_, nullptr)) return false;
    } else if (key == "sentAt") {
      if (!FastTime(v, &env_sent_at_)) return false;
    } else if (key == "context") {
      if (v.type() != dom::element_type::NULL_VALUE) return false;
      env_context_.Clear();  // null: nothing to merge
      env_context_scan_.Reset();
    } else if (key == "integrations") {
      if (v.type() != dom::element_type::NULL_VALUE) return false;
      env_integrations_.Clear();
    }
  }
  return true;
}

Status Parser::Impl::ForEachBatchItemFast(od::value v, dom::array items, store::MessageType single_type,
                                          ParsedRequest* out) {
  // The body is valid JSON (FastBatchItems), so the On-Demand walk below meets no syntax error
  // and its items are the DOM's, in order. Errors are still handled as ForEachBatchItem does.
  od::array arr;
  if (auto e = v.get_array().get(arr)) {
    Fail(e);
    AddPath("batch");
    return SyntaxStatus();
  }
  dom::array::iterator dom_item = items.begin();
  size_t index = 0;
  for (auto element : arr) {
    od::value item;
    bool ok = true;
    if (auto e = std::move(element).get(item)) ok = Fail(e);
    if (ok && index >= options_->max_batch_messages) {
      return InvalidArgument(fmt::format("batch has more than {} messages (max_batch_messages)",
                                         options_->max_batch_messages));
    }
    if (ok) SetBatchPrefix(index);
    od::json_type type;
    od::object obj;
    std::string_view text;
    if (!ok) {
    } else if (auto e = item.type().get(type)) {
      ok = Fail(e);
    } else if (type != od::json_type::object) {
      discard_.clear();
      ok = CopyValue(item, discard_, 1);
      out->rejected.push_back(Rejection{index, fmt::format("{}: message must be an object, got {}", prefix_, TypeName(type))});
    } else if (auto e = item.get_object().get(obj); e || (e = obj.raw_json().get(text))) {
      ok = Fail(e);
    } else {
      text = json_text::TrimRight(text);
      const char* begin = text.data();
      const char* end = begin + text.size();
      if (!FastCandidate(begin, end) || !FastSegmentMessage(begin, end, *dom_item, index, false, single_type, out)) {
        // The general walk over the item alone; positions stay offsets into buf_.
        const size_t capacity = static_cast<size_t>(buf_.get() + buf_capacity_ - begin);
        od::object item_obj;
        auto e = item_json_.iterate(begin, text.size(), capacity).get(item_doc_);
        if (e == simdjson::SUCCESS) e = item_doc_.get_object().get(item_obj);
        active_doc_ = &item_doc_;
        ok = e == simdjson::SUCCESS ? ParseSegmentMessage(item_obj, index, false, single_type, out) : Fail(e);
        active_doc_ = &doc_;
      }
    }
    if (!ok) {
      AddIndex(index);
      AddPath("batch");
      return SyntaxStatus();
    }
    ++dom_item;
    ++index;
  }
  return Status::Ok();
}

}  // namespace cairn::ingest
