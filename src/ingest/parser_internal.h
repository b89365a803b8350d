#pragma once
// Parser::Impl: the machinery shared by the Segment (parser.cc) and PostHog (posthog_mapping.cc)
// halves of the request parser. Internal to cairn_ingest_parse; include only from those files.
//
// How it parses: simdjson On-Demand over a padded copy of the body. Every value of every message
// is walked exactly once and copied, minified, into the payload buffer while the fields Cairn
// interprets are decoded on the way. Copying keeps tokens byte-for-byte (numbers keep their text,
// strings their escapes), so the payload is lossless; and because On-Demand does not validate
// what it skips, the walk validates each scalar token itself (json_text.h). A walk that meets
// malformed JSON stops and the whole request fails (false + syntax_); a message with a field of
// the wrong type is walked to its end and then rejected alone (reject_).

#include <simdjson.h>

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "ingest/parser.h"

namespace cairn::ingest {

namespace od = simdjson::ondemand;

// A key (raw, as written between its quotes) and its value's byte span [begin, end) in the buffer
// the object was copied into.
struct FieldSpan {
  std::string_view key;
  size_t begin = 0;
  size_t end = 0;
};

// A copied JSON object with its top-level fields, for merging into another object.
struct CopiedObject {
  std::string text;  // minified, "{...}"
  std::vector<FieldSpan> fields;
  void Clear() {
    text.clear();
    fields.clear();
  }
};

struct TraitsScan {
  std::string email, phone;
  bool has_email = false, has_phone = false;
  void Reset() {
    email.clear(), phone.clear();
    has_email = has_phone = false;
  }
};

struct PropsScan {
  std::string channel;
  bool has_channel = false;
  double revenue = 0;
  int revenue_rank = 0;  // 0 none, 1 value, 2 total, 3 revenue: higher wins
  void Reset() {
    channel.clear();
    has_channel = false;
    revenue = 0;
    revenue_rank = 0;
  }
};

struct ContextScan {
  std::string channel;
  bool has_channel = false;
  bool has_traits = false;  // the key is present (whatever its value)
  TraitsScan traits;
  size_t traits_begin = 0, traits_end = 0;  // span of an object-valued traits in the copy
  void Reset() {
    channel.clear();
    has_channel = has_traits = false;
    traits.Reset();
    traits_begin = traits_end = 0;
  }
};

// What the walk over one Segment message found, before the checks and derivations every message
// gets (FinishSegmentMessage). Filled by the general walk (WalkSegmentMessage) or the fast path
// (segment_fast_path.cc). The walk code names the members through a structured binding, so their
// order matters: add new ones before `m`, and to both bindings in segment_message.cc.
struct SegmentFields {
  std::string type_name, write_key, name;
  bool has_type = false, has_write_key = false, has_event = false, has_context = false, has_integrations = false;
  bool has_traits = false;
  std::optional<int64_t> timestamp, original_timestamp, sent_at;
  PropsScan props;
  ContextScan ctx;
  TraitsScan traits;
  size_t traits_begin = 0, traits_end = 0;  // span of an object-valued traits in the payload
  bool first = true;                        // no field written to the payload yet
  Message m;
};

inline std::string_view TypeName(od::json_type t) {
  switch (t) {
    case od::json_type::object: return "object";
    case od::json_type::array: return "array";
    case od::json_type::number: return "number";
    case od::json_type::string: return "string";
    case od::json_type::boolean: return "boolean";
    case od::json_type::null: return "null";
  }
  return "unknown";
}

// At most 64 bytes of `s` (whole UTF-8 characters) for error messages, "..." when cut.
inline std::string Excerpt(std::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return std::string(s);
  size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
  return std::string(s.substr(0, n)) + "...";
}

// A revenue figure: a JSON number token, or a string holding one (surrounding spaces allowed).
bool ParseAmount(std::string_view text, double* out);

// Appends `"key":` (key raw, as written).
inline void AppendKey(std::string_view key, std::string& out) {
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

class Parser::Impl {
 public:
  Result<ParsedRequest> Parse(const ParseOptions& options, Dialect dialect, store::MessageType single_type,
                              std::string_view body, int64_t received_at_ms);

  // ---- JSON walking (parser.cc). Each returns false on malformed JSON (syntax_ set). ----
  static constexpr int kMaxDepth = 128;

  bool Fail(simdjson::error_code e);
  bool FailAt(const char* at, std::string what);
  bool AddPath(std::string_view key);  // on the way out of a failure: prepends ".key"; returns false
  bool AddIndex(size_t index);         // prepends "[index]"; returns false

  bool ReadKey(od::field& field, std::string_view* key);
  bool CopyValue(od::value v, std::string& out, int depth);
  bool CopyScalar(od::value& v, od::json_type type, std::string& out);
  // Copies an object; `hook(key, value, out, depth)` returns 1 if it copied the value itself, 0
  // to have it copied verbatim, -1 on malformed JSON. With `fields`, records every top-level
  // field. With `merge` (needs `fields`), appends merge's fields whose keys were not present.
  template <class Hook>
  bool CopyObject(od::object obj, std::string& out, int depth, Hook&& hook, std::vector<FieldSpan>* fields = nullptr,
                  const CopiedObject* merge = nullptr);
  bool CopyPlainObject(od::object obj, std::string& out, int depth, std::vector<FieldSpan>* fields);

  // Typed reads of message fields: copy the value's text to `out`, decode into the destination.
  // A value of the wrong type is still copied and rejects the message naming `field`.
  bool ReadString(od::value v, std::string& out, std::string_view field, std::string* dst, bool* present);
  bool ReadId(od::value v, std::string& out, std::string_view field, std::string* dst);
  bool ReadTime(od::value v, std::string& out, std::string_view field, std::optional<int64_t>* dst);
  // Object-valued fields: null is copied as is; a non-object rejects the message.
  bool CopyProperties(od::value v, std::string& out, int depth, std::string_view field, PropsScan* scan);
  bool CopyTraits(od::value v, std::string& out, int depth, std::string_view field, TraitsScan* scan,
                  std::vector<FieldSpan>* fields, size_t* begin, size_t* end);
  bool CopyContext(od::value v, std::string& out, int depth, std::string_view field, ContextScan* scan,
                   std::vector<FieldSpan>* fields, const CopiedObject* merge);
  bool CopyObjectField(od::value v, std::string& out, int depth, std::string_view field,
                       std::vector<FieldSpan>* fields, const CopiedObject* merge, bool* is_object);
  // A properties key Cairn reads (channel, revenue, total, value): 1 handled, 0 not one, -1 error.
  int PropsHook(std::string_view key, od::value& v, std::string& out, std::string_view field, PropsScan* scan);

  // ---- per-message rejection ----
  void RejectField(std::string_view field, std::string_view reason);
  void RejectMessage(std::string_view reason);
  std::string FieldPath(std::string_view field) const;
  // prefix_ = "batch[index]", reusing its buffer (fmt::format here was ~3% of a request thread).
  void SetBatchPrefix(size_t index);
  // `a` + "." + `b` in *buf (reused across messages): a nested field's name, needed only if the
  // message is rejected but passed down before anyone knows.
  static std::string_view JoinPath(std::string* buf, std::string_view a, std::string_view b);

  // Applies the clock-skew rule and the time window; false (message rejected) if outside it.
  void ApplyTimes(Message* m, std::optional<int64_t> original, std::string_view original_field,
                  std::optional<int64_t> sent_at);
  // Checks the message size and finishes message_id; pushes `m` or a rejection.
  void Emit(Message&& m, size_t index, size_t message_bytes, ParsedRequest* out);

  // ---- dialects ----
  Result<ParsedRequest> ParseSegmentBatch(store::MessageType single_type);
  // ParseSegmentBatch's pass 1 by the On-Demand walk: the envelope fields, each `batch` counted
  // (CountBatch), req->write_key set; the request's error if the envelope is unusable.
  Status OnDemandEnvelope(ParsedRequest* req);
  Result<ParsedRequest> ParseSegmentSingle(store::MessageType single_type);
  Result<ParsedRequest> ParsePostHogBatch();  // posthog_mapping.cc
  Result<ParsedRequest> ParseJsonLines(std::string_view body);
  void NoEnvelope();  // a request without envelope (single message, JSON Lines): nothing to merge
  // One line of kJsonLines, [begin, end) inside buf_: the message or its rejection goes to `out`;
  // a line that is not a usable JSON object is the returned error (the caller's rejection).
  Status ParseJsonLine(const char* begin, const char* end, size_t index, ParsedRequest* out);
  bool ParseSegmentMessage(od::object obj, size_t index, bool single, store::MessageType single_type,
                           ParsedRequest* out);
  // The general walk of ParseSegmentMessage: copies the message minified into payload_ (without
  // its closing brace) and fills *f. False on malformed JSON.
  bool WalkSegmentMessage(od::object obj, SegmentFields* f);
  // Appends the envelope objects the message lacks and the closing brace to `out` (the payload so
  // far: payload_, or f.m.payload itself), checks and derives the rest, emits the message or its
  // rejection.
  void FinishSegmentMessage(SegmentFields& f, std::string& out, size_t index, bool single,
                            store::MessageType single_type, ParsedRequest* req);

  // ---- fast path (segment_fast_path.cc) ----
  // A message whose text [begin, end) (inside buf_) has no backslash, no whitespace outside
  // strings, is valid JSON (simdjson DOM, depth ≤ kFastMaxDepth) and only ordinary field types:
  // its payload is its own text, so the fields are read from the DOM and the text is copied
  // once. Anything else — escapes, whitespace, malformed JSON, a field that would be rejected,
  // writeKey, traits objects, ids sent as numbers, envelope objects to merge into the message's
  // own — returns false with nothing emitted, and the caller takes the general walk, which
  // gives the same Message for every input the fast path accepts (parser_test checks both on
  // the same inputs; the fuzz target compares them).
  static constexpr size_t kFastMaxDepth = 64;
  bool FastCandidate(const char* begin, const char* end);  // no backslash, minified
  bool FastSegmentMessage(const char* begin, const char* end, simdjson::dom::element root, size_t index,
                          bool single, store::MessageType single_type, ParsedRequest* req);
  bool FastSegmentFields(simdjson::dom::object obj, SegmentFields* f);
  // DOM-parses [begin, end) (inside buf_) into *root; false on any error.
  bool FastParse(const char* begin, const char* end, simdjson::dom::element* root);
  // A message that is a whole document (a JSON Lines line, a single-message body) through the
  // fast path; false if it must take the general walk.
  bool FastSingle(const char* begin, const char* end, size_t index, bool single, store::MessageType single_type,
                  ParsedRequest* req);
  // Pass 2 of a Segment batch body that is wholly valid JSON without backslashes (checked by
  // DOM-parsing the body: then no message can meet malformed JSON): each item goes through the
  // fast path, else through the general walk over its own span (item_json_).
  Status ForEachBatchItemFast(od::value v, simdjson::dom::array items, store::MessageType single_type,
                              ParsedRequest* out);
  // The body's DOM root and its first `batch` array; false if the body is not a fast candidate.
  bool FastBatchItems(simdjson::dom::object* root, simdjson::dom::array* items);
  // Pass 1 of a Segment batch body that FastBatchItems accepted, read from its DOM instead of
  // walking the batch's tokens (twice: counting it, then skipping it): sets the envelope state
  // and reserves the messages exactly as the On-Demand pass 1 would, when every envelope field is
  // one it reads the same way (writeKey and sentAt strings or null, context and integrations
  // null, any other key, batch arrays within max_batch_messages). Anything else returns false,
  // having changed nothing the On-Demand pass 1 does not reset first.
  bool FastEnvelope(simdjson::dom::object root, ParsedRequest* req);
  bool ParsePostHogItem(od::object obj, size_t index, ParsedRequest* out);  // posthog_mapping.cc

  // Iterates the top-level object's fields, calling fn(key, value) (returns false on malformed
  // JSON); then checks nothing follows the object.
  template <class Fn>
  Status ForEachTopLevelField(Fn&& fn);
  // Iterates the array `v` (the top-level `batch`), calling fn(index, object) for objects and
  // rejecting other items.
  template <class Fn>
  Status ForEachBatchItem(od::value v, ParsedRequest* out, Fn&& fn);
  // Pass 1 over `batch`: checks max_batch_messages before any message is parsed and reserves
  // room for the messages (a 1,000-message batch would otherwise move them ~10 times).
  Status CountBatch(od::value v, ParsedRequest* out);
  // The envelope's `batch` field, same in every dialect: InvalidArgument unless it is an array;
  // counts it (CountBatch) and sets *has_batch. Returns false (through *ok) on a parse failure.
  Status ReadBatchField(od::value v, ParsedRequest* out, bool* has_batch, bool* ok);
  Status SyntaxStatus();
  // Copies `body` into buf_ with zeroed padding (simdjson reads past the end).
  void Load(std::string_view body);
  // Starts doc_ over [begin, end) inside buf_ and checks it is an object; errors call it `noun`.
  Status Begin(const char* begin, const char* end, std::string_view noun);
  Status Start(std::string_view body);  // Load + Begin over the whole body

  // ---- state ----
  od::parser json_;
  od::document doc_;
  od::document* active_doc_ = &doc_;  // the document Fail() reports positions of
  // Fast path: the DOM parser, minify scratch, and an On-Demand parser for single batch items.
  simdjson::dom::parser dom_;
  bool dom_allocated_ = false;
  std::unique_ptr<char[]> minify_buf_;
  size_t minify_capacity_ = 0;
  od::parser item_json_;
  od::document item_doc_;
  bool fast_path_ = true;  // Parser::SetFastPathForTesting
  std::unique_ptr<char[]> buf_;  // padded copy of the body
  size_t buf_capacity_ = 0;
  // Capacity for buf_ and the simdjson parsers when they must hold `n` bytes: the next power of
  // two. Request bodies differ in size by a few percent, so allocating exactly `n` reallocated at
  // every new largest body, and each time the new buffers' first touch faulted in fresh pages
  // (zeroing huge pages: ~3% of a server's request threads at steady state).
  static size_t GrownCapacity(size_t n) { return std::bit_ceil(n); }
  size_t growths_ = 0;  // reallocations of buf_, json_ and dom_ (for tests)
  const char* buf_begin_ = nullptr;
  const char* buf_end_ = nullptr;
  std::vector<size_t> line_ends_;  // JSON Lines: offset of each line's end ('\n' or the body's end)

  const ParseOptions* options_ = nullptr;
  int64_t received_at_ms_ = 0;

  struct SyntaxError {
    std::string what;
    const char* at = nullptr;
    std::vector<std::string> path_reversed;
  } syntax_;

  // Current message.
  std::string prefix_;  // "batch[3]", or "" for a single message
  std::string reject_;  // first per-message error, "" if none
  size_t merged_bytes_ = 0;  // bytes of envelope fields merged into the payload
  std::string payload_;      // the message being built
  std::string scratch_;      // PostHog: the item's own fields
  std::string discard_;      // copies of values nobody keeps (validation only)
  std::string channel_path_, traits_path_;  // JoinPath buffers
  std::vector<FieldSpan> context_fields_, integrations_fields_, set_fields_, set_once_fields_, group_set_fields_;

  // Envelope (Segment batch).
  std::optional<int64_t> env_sent_at_;
  std::string env_write_key_;
  CopiedObject env_context_, env_integrations_;
  ContextScan env_context_scan_;
};

// ---- template definitions ----

template <class Hook>
bool Parser::Impl::CopyObject(od::object obj, std::string& out, int depth, Hook&& hook, std::vector<FieldSpan>* fields,
                              const CopiedObject* merge) {
  if (fields != nullptr) fields->clear();
  out.push_back('{');
  bool first = true;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return Fail(e);
    std::string_view key;
    if (!ReadKey(field, &key)) return false;
    if (!first) out.push_back(',');
    first = false;
    AppendKey(key, out);
    size_t begin = out.size();
    int handled = hook(key, field.value(), out, depth);
    if (handled < 0) return AddPath(key);
    if (handled == 0 && !CopyValue(field.value(), out, depth)) return AddPath(key);
    if (fields != nullptr) fields->push_back(FieldSpan{key, begin, out.size()});
  }
  if (merge != nullptr) {
    // One-level merge: fields of `merge` whose key the object does not have.
    size_t own = fields->size();
    for (const FieldSpan& mf : merge->fields) {
      bool present = false;
      for (size_t i = 0; i < own && !present; ++i) present = (*fields)[i].key == mf.key;
      if (present) continue;
      size_t before = out.size();
      if (!first) out.push_back(',');
      first = false;
      AppendKey(mf.key, out);
      out.append(merge->text, mf.begin, mf.end - mf.begin);
      merged_bytes_ += out.size() - before;
    }
  }
  out.push_back('}');
  return true;
}

template <class Fn>
Status Parser::Impl::ForEachTopLevelField(Fn&& fn) {
  od::object root;
  if (auto e = doc_.get_object().get(root)) {
    Fail(e);
    return SyntaxStatus();
  }
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) {
      Fail(e);
      return SyntaxStatus();
    }
    std::string_view key;
    if (!ReadKey(field, &key)) return SyntaxStatus();
    Status s = fn(key, field.value());
    if (!s.ok()) return s;
  }
  // On-Demand stops at the root's closing brace; anything after it is an error.
  if (auto loc = doc_.current_location(); !loc.error()) {
    return InvalidArgument(fmt::format("malformed JSON at byte {}: content after the top-level object",
                                       loc.value_unsafe() - buf_begin_));
  }
  return Status::Ok();
}

template <class Fn>
Status Parser::Impl::ForEachBatchItem(od::value v, ParsedRequest* out, Fn&& fn) {
  od::array arr;
  if (auto e = v.get_array().get(arr)) {
    Fail(e);
    AddPath("batch");
    return SyntaxStatus();
  }
  size_t index = 0;
  for (auto element : arr) {
    od::value item;
    if (auto e = std::move(element).get(item)) {
      Fail(e);
      AddIndex(index);
      AddPath("batch");
      return SyntaxStatus();
    }
    if (index >= options_->max_batch_messages) {
      return InvalidArgument(fmt::format("batch has more than {} messages (max_batch_messages)",
                                         options_->max_batch_messages));
    }
    SetBatchPrefix(index);
    od::json_type type;
    bool ok = true;
    if (auto e = item.type().get(type)) {
      ok = Fail(e);
    } else if (type != od::json_type::object) {
      discard_.clear();
      ok = CopyValue(item, discard_, 1);
      out->rejected.push_back(Rejection{index, fmt::format("{}: message must be an object, got {}", prefix_, TypeName(type))});
    } else {
      od::object obj;
      if (auto e = item.get_object().get(obj)) {
        ok = Fail(e);
      } else {
        ok = fn(index, obj);
      }
    }
    if (!ok) {
      AddIndex(index);
      AddPath("batch");
      return SyntaxStatus();
    }
    ++index;
  }
  return Status::Ok();
}

}  // namespace cairn::ingest
