#pragma once
// IdentityKey: one identity key ("u:<id>", "a:<id>", "e:<email>", "p:<phone>") as the identity
// resolver's key map stores it: up to kInline bytes inside the object, longer keys on the heap.
//
// Why: the map's entry (key + customer id) is then 64 bytes, one cache line, and a lookup that
// finds its key compares it in that line instead of following std::string's pointer to a heap
// block elsewhere (std::string keeps only 15 bytes inline; an anonymous id "a:" + UUID is 38, an
// email key ~25). Those pointer chases were the resolver's cache misses on the request path.
//
// A value type: copyable and movable; a moved-from key is empty. Not thread-safe (like string).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace cairn::ingest {

class IdentityKey {
 public:
  // Keys of up to kInline bytes are stored inline (a UUID anonymous id, most emails).
  static constexpr size_t kInline = 55;

  IdentityKey() = default;
  explicit IdentityKey(std::string_view s) { Assign(s); }
  IdentityKey(const IdentityKey& o) { Assign(o.view()); }
  IdentityKey(IdentityKey&& o) noexcept { Take(o); }
  IdentityKey& operator=(const IdentityKey& o) {
    if (this != &o) {
      IdentityKey copy(o);
      *this = std::move(copy);
    }
    return *this;
  }
  IdentityKey& operator=(IdentityKey&& o) noexcept {
    if (this != &o) {
      Free();
      Take(o);
    }
    return *this;
  }
  ~IdentityKey() { Free(); }

  std::string_view view() const {
    if (len_ != kHeap) return {buf_, len_};
    Heap h;
    std::memcpy(&h, buf_, sizeof(h));
    return {h.data, h.size};
  }
  bool on_heap() const { return len_ == kHeap; }

  friend bool operator==(const IdentityKey& a, const IdentityKey& b) { return a.view() == b.view(); }

 private:
  static constexpr uint8_t kHeap = 0xFF;  // len_ for a key kept on the heap
  struct Heap {
    char* data;
    size_t size;
  };
  static_assert(sizeof(Heap) <= kInline);

  void Assign(std::string_view s) {
    if (s.size() <= kInline) {
      std::memcpy(buf_, s.data(), s.size());
      len_ = static_cast<uint8_t>(s.size());
      return;
    }
    Heap h{new char[s.size()], s.size()};
    std::memcpy(h.data, s.data(), s.size());
    std::memcpy(buf_, &h, sizeof(h));
    len_ = kHeap;
  }
  // Takes o's bytes (and its heap block, if any), leaving o empty.
  void Take(IdentityKey& o) {
    std::memcpy(buf_, o.buf_, kInline);
    len_ = o.len_;
    o.len_ = 0;
  }
  void Free() {
    if (len_ != kHeap) return;
    Heap h;
    std::memcpy(&h, buf_, sizeof(h));
    delete[] h.data;
    len_ = 0;
  }

  char buf_[kInline] = {};  // the key's bytes (len_ <= kInline), or a Heap (len_ == kHeap)
  uint8_t len_ = 0;
};
static_assert(sizeof(IdentityKey) == 56, "key + 8-byte customer id = one 64-byte cache line");

}  // namespace cairn::ingest
