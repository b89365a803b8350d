#pragma once
// event_gen.h: the deterministic event generator behind bench/gen_events (Segment JSON Lines and the
// peers' flat CSV, in global time order) and bench/analytics/gen_store (the same events written
// straight into store segments, customer by customer). One definition of the data, so a store
// made either way and the CSV the peers load hold the same rows for the same arguments.
//
// Every customer draws from its own random stream (Customer::rng, seeded from the seed and its
// index), so a customer's events do not depend on how customers are interleaved: Run (time order,
// for text) and RunByCustomer (customer order, for segments) produce the same events per customer.
// Only the messageId, drawn from the global line number, differs between the two orders.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/civil_time.h"

namespace cairn::bench {

// ---- randomness: splitmix64, one independent stream per customer ------------------------------

inline uint64_t Mix64(uint64_t z) {  // the splitmix64 finaliser: a bijection on 64-bit values
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct Rng {
  uint64_t s;
  uint64_t Next() { return Mix64(s += 0x9e3779b97f4a7c15ull); }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Exp(double mean) { return -mean * std::log(1.0 - Unit()); }
  double Normal() {  // Box-Muller, one value
    double u1 = Unit(), u2 = Unit();
    return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
  }
};

// ---- text appenders ----------------------------------------------------------------------------

// Text is appended to a buffer and written to `f` in 8 MiB chunks; with `f` null it is built (the
// random draws of an event do not depend on it, but building keeps one code path) and dropped.
class Out {
 public:
  explicit Out(std::FILE* f) : f_(f) { buf_.reserve(f ? kFlushAt + 65536 : 65536); }
  void Add(std::string_view s) { buf_.append(s.data(), s.size()); }
  void Add(char c) { buf_.push_back(c); }
  void U64(uint64_t v, int min_digits = 1) {
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 || n < min_digits);
    while (n > 0) buf_.push_back(tmp[--n]);
  }
  void Hex(uint64_t v, int digits) {
    static const char kHex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; --i) buf_.push_back(kHex[(v >> (4 * i)) & 15]);
  }
  void Money(uint64_t cents) {
    U64(cents / 100);
    Add('.');
    U64(cents % 100, 2);
  }
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, proleptic Gregorian).
  void Iso(int64_t ms) { AppendIsoMillis(&buf_, ms); }
  // 8-4-4-4-12 hex from 128 bits (version nibble 4 in `hi`; `lo` printed whole, so distinct
  // `lo` values give distinct strings).
  void Uuid(uint64_t hi, uint64_t lo) {
    hi = (hi & ~0xf000ull) | 0x4000ull;
    Hex(hi >> 32, 8);
    Add('-');
    Hex(hi >> 16, 4);
    Add('-');
    Hex(hi, 4);
    Add('-');
    Hex(lo >> 48, 4);
    Add('-');
    Hex(lo, 12);
  }
  size_t size() const { return buf_.size(); }
  std::string Substr(size_t from) const { return buf_.substr(from); }
  void MaybeFlush() {
    if (buf_.size() >= kFlushAt) Flush();
  }
  bool Flush() {
    if (f_ != nullptr && !buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) return false;
    buf_.clear();
    return true;
  }

 private:
  static constexpr size_t kFlushAt = 8u << 20;
  std::FILE* f_;
  std::string buf_;
};

// ---- the vocabulary ----------------------------------------------------------------------------

enum Ev : uint8_t {
  kPage,
  kIdentify,
  kSignedUp,
  kProductViewed,
  kProductSearched,
  kAddedToCart,
  kCheckoutStarted,
  kOrderCompleted,
  kEmailOpened,
  kEmailClicked,
  kFeatureUsed,
  kTicketOpened,
  kTicketClosed,
  kSubscriptionRenewed,
  kNumEv,
};
const char* const kEventName[kNumEv] = {
    "", "", "Signed Up", "Product Viewed", "Product Searched", "Added To Cart", "Checkout Started",
    "Order Completed", "Email Opened", "Email Clicked", "Feature Used", "Support Ticket Opened",
    "Support Ticket Closed", "Subscription Renewed"};
// Weights of an identified customer's next event (Signed Up is emitted once, right after identify).
const uint16_t kWeight[kNumEv] = {250, 25, 0, 180, 70, 90, 50, 45, 80, 50, 80, 20, 15, 20};

const char* const kChannel[] = {"web", "mobile", "email", "social", "sms", "store", "chat"};
const uint16_t kChannelWeight[] = {50, 20, 12, 8, 4, 3, 3};
const char* const kPageName[] = {"Home", "Pricing", "Product", "Category", "Cart", "Blog", "Help", "Account"};
const char* const kPath[] = {"/", "/pricing", "/p/", "/c/", "/cart", "/blog/", "/help/", "/account"};
const char* const kWord[] = {"summer", "sale", "shoes", "running", "jacket", "wool", "organic", "coffee",
                             "gift", "black", "friday", "kids", "outdoor", "premium", "lamp", "desk",
                             "travel", "bag", "green", "classic", "new", "arrivals", "bundle", "pro"};
const char* const kCampaign[] = {"spring_launch", "newsletter_wk12", "retarget_cart", "brand_search",
                                 "winback_q1", "referral", "influencer_a", "black_friday"};
const char* const kCategory[] = {"apparel", "footwear", "home", "kitchen", "outdoor", "electronics", "beauty", "toys"};
const char* const kPlan[] = {"free", "starter", "pro", "enterprise"};
const char* const kLocale[] = {"en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "pt-BR", "ja-JP"};
const char* const kFirst[] = {"Ada", "Ben", "Chloe", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jun"};
const char* const kLast[] = {"Smith", "Garcia", "Muller", "Rossi", "Tanaka", "Silva", "Dubois", "Khan"};

template <size_t N>
const char* Pick(Rng& r, const char* const (&a)[N]) { return a[r.Below(N)]; }

template <size_t N>
size_t PickWeighted(Rng& r, const uint16_t (&w)[N]) {
  uint32_t total = 0;
  for (uint16_t x : w) total += x;
  uint32_t v = r.Below(total);
  for (size_t i = 0; i < N; ++i) {
    if (v < w[i]) return i;
    v -= w[i];
  }
  return N - 1;
}

// ---- customers -----------------------------------------------------------------------------------

constexpr int64_t kSec = 1000, kMin = 60 * kSec, kHour = 60 * kMin, kDay = 24 * kHour;

struct Customer {
  Rng rng;
  int64_t next_ts = 0;
  int64_t mean_session_gap = 0;
  uint64_t session = 0;      // id of the current session (properties.session_id)
  uint32_t budget = 0;       // events left to emit
  uint32_t emitted = 0;
  uint8_t session_left = 0;  // events left in the current session
  uint8_t channel = 0;       // the current session's channel
  uint8_t cart = 0;          // items added since the last order
  bool identified = false;
  bool signed_up = false;
};

struct Options {
  uint64_t events = 1'000'000;
  uint64_t customers = 0;  // 0: events / 35
  uint64_t seed = 1;
  int64_t start_ms = 1767225600000;  // 2026-01-01T00:00:00Z
  int64_t days = 90;
  std::string out;
  std::string csv;    // also write the flat CSV here (see the file comment); empty: no CSV
  bool lean = false;  // no padding, no context
  bool whole_seconds = false;  // timestamps truncated to the second on output
};

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o) {}
  size_t customers() const { return customers_.size(); }

  // The same events, customer by customer (ascending index; customer id = index + 1, the number in
  // its userId "u%08d"), each customer's in time order: row(customer_id, const Emitted&) per event.
  // No text is written. Returns the number of events (== options.events).
  template <typename RowFn>
  uint64_t RunByCustomer(RowFn&& row) {
    Init();
    Out discard(nullptr);
    uint64_t n = 0;
    for (uint32_t i = 0; i < customers_.size(); ++i) {
      Customer& c = customers_[i];
      while (c.budget > 0) {
        Emit(i, c, n++, &discard);
        discard.Flush();
        row(static_cast<uint64_t>(i) + 1, static_cast<const Emitted&>(last_));
        if (--c.budget > 0) Advance(c);
      }
    }
    return n;
  }

  bool Run(std::FILE* f, std::FILE* csv_file) {
    Init();
    Out out(f);
    Out csv(csv_file);
    csv_ = csv_file ? &csv : nullptr;
    // Min-heap of (next timestamp, customer index).
    using Item = std::pair<int64_t, uint32_t>;
    std::vector<Item> heap;
    heap.reserve(customers_.size());
    for (uint32_t i = 0; i < customers_.size(); ++i)
      if (customers_[i].budget > 0) heap.emplace_back(customers_[i].next_ts, i);
    auto later = [](const Item& a, const Item& b) { return a > b; };
    std::make_heap(heap.begin(), heap.end(), later);
    uint64_t n = 0;
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      const uint32_t i = heap.back().second;
      Customer& c = customers_[i];
      Emit(i, c, n++, &out);
      out.MaybeFlush();
      if (csv_) csv.MaybeFlush();
      if (--c.budget == 0) {
        heap.pop_back();
      } else {
        Advance(c);
        heap.back().first = c.next_ts;
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
    const bool csv_ok = !csv_ || csv.Flush();
    csv_ = nullptr;
    return out.Flush() && csv_ok && n == o_.events;
  }

 private:
  void Init() {
    uint64_t nc = o_.customers ? o_.customers : std::max<uint64_t>(1, o_.events / 35);
    nc = std::min<uint64_t>(nc, std::max<uint64_t>(1, o_.events));
    customers_.resize(nc);
    Rng top{Mix64(o_.seed ^ 0x5ca1ab1e)};
    const double mean = static_cast<double>(o_.events) / static_cast<double>(nc);
    const int64_t span = o_.days * kDay;
    uint64_t total = 0;
    for (uint64_t i = 0; i < nc; ++i) {
      Customer& c = customers_[i];
      c.rng.s = Mix64(o_.seed * 0x9e3779b97f4a7c15ull + i + 1);
      c.budget = static_cast<uint32_t>(std::max(1.0, std::round(mean * (0.6 + 0.8 * top.Unit()))));
      total += c.budget;
    }
    // Adjust round-robin so the budgets sum to exactly `events`.
    for (uint64_t i = 0; total != o_.events; i = (i + 1) % nc) {
      if (total < o_.events) {
        ++customers_[i].budget, ++total;
      } else if (customers_[i].budget > 1) {
        --customers_[i].budget, --total;
      } else if (total - o_.events >= nc) {  // only when events < customers (not reachable: nc <= events)
        break;
      }
    }
    for (uint64_t i = 0; i < nc; ++i) {
      Customer& c = customers_[i];
      c.next_ts = o_.start_ms + static_cast<int64_t>(c.rng.Unit() * 0.85 * static_cast<double>(span));
      const double sessions = std::max(1.0, c.budget / 5.0);
      const double life = static_cast<double>(o_.start_ms + span - c.next_ts) * (0.3 + 0.7 * c.rng.Unit());
      c.mean_session_gap = std::max<int64_t>(30 * kMin, static_cast<int64_t>(life / sessions));
      NewSession(c);
    }
  }

  void NewSession(Customer& c) {
    c.session = c.rng.Next();
    c.session_left = static_cast<uint8_t>(2 + c.rng.Below(7));  // 2..8 events
    c.channel = static_cast<uint8_t>(PickWeighted(c.rng, kChannelWeight));
  }

  void Advance(Customer& c) {
    if (--c.session_left == 0) {
      NewSession(c);
      c.next_ts += 10 * kMin + static_cast<int64_t>(c.rng.Exp(static_cast<double>(c.mean_session_gap)));
    } else {
      c.next_ts += kSec + static_cast<int64_t>(c.rng.Exp(40.0 * kSec));
    }
  }

  Ev Choose(Customer& c) {
    if (!c.identified) {
      if (c.emitted >= 2 && c.rng.Unit() < 0.35) return kIdentify;
      return c.rng.Unit() < 0.7 ? kPage : kProductViewed;
    }
    if (!c.signed_up) return kSignedUp;
    for (;;) {
      Ev e = static_cast<Ev>(PickWeighted(c.rng, kWeight));
      if (e == kCheckoutStarted && c.cart == 0) continue;
      if (e == kOrderCompleted && c.cart == 0) continue;
      return e;
    }
  }

 public:
  // Emit's event as a store row would hold it (the same fields the CSV line has).
  struct Emitted {
    Ev ev = kPage;
    const char* name = "";     // track: event name; page: page name; identify: ""
    const char* channel = "";  // properties.channel; "" for identify
    int64_t ts_ms = 0;         // as written (truncated to the second with whole_seconds)
    uint64_t revenue_cents = 0;
  };

 private:
  void Emit(uint32_t idx, Customer& c, uint64_t n, Out* out) {
    Rng& r = c.rng;
    const Ev ev = Choose(c);
    ++c.emitted;
    const char* channel = kChannel[c.channel];
    if (ev == kEmailOpened || ev == kEmailClicked) channel = "email";
    if (ev == kTicketOpened || ev == kTicketClosed) channel = c.channel == 6 ? "chat" : "email";
    const uint64_t id = idx + 1;
    uint64_t revenue_cents = 0;  // properties.revenue, for the CSV

    out->Add(ev == kPage ? R"({"type":"page")" : ev == kIdentify ? R"({"type":"identify")" : R"({"type":"track")");
    const uint32_t page = r.Below(8);  // page events: which page
    if (ev == kPage) {
      out->Add(R"(,"name":")");
      out->Add(kPageName[page]);
      out->Add('"');
    } else if (ev != kIdentify) {
      out->Add(R"(,"event":")");
      out->Add(kEventName[ev]);
      out->Add('"');
    }
    if (c.identified || ev == kIdentify) {
      out->Add(R"(,"userId":"u)");
      out->U64(id, 8);
      out->Add('"');
    }
    out->Add(R"(,"anonymousId":")");
    out->Uuid(Mix64(id ^ (o_.seed << 32) ^ 0xa11ce), Mix64(id * 31 + o_.seed));
    out->Add(R"(","messageId":")");
    const uint64_t lo = Mix64(n ^ Mix64(o_.seed));  // a bijection of n: unique per line
    out->Uuid(Mix64(lo + 0x6a09e667f3bcc909ull), lo);
    const int64_t ts = o_.whole_seconds ? c.next_ts / kSec * kSec : c.next_ts;
    out->Add(R"(","timestamp":")");
    out->Iso(ts);
    out->Add('"');

    const size_t target = 100 + r.Below(201);  // properties / traits object size
    const size_t start = out->size();
    if (ev == kIdentify) {
      out->Add(R"(,"traits":{"email":"u)");
      out->U64(id, 8);
      out->Add(R"(@example.com","name":")");
      out->Add(Pick(r, kFirst));
      out->Add(' ');
      out->Add(Pick(r, kLast));
      out->Add(R"(","plan":")");
      out->Add(Pick(r, kPlan));
      out->Add(R"(","createdAt":")");
      out->Iso(c.next_ts - static_cast<int64_t>(r.Below(3600)) * kSec);
      out->Add('"');
      c.identified = true;
    } else {
      out->Add(R"(,"properties":{"channel":")");
      out->Add(channel);
      out->Add(R"(","session_id":")");
      out->Hex(c.session, 16);
      out->Add('"');
      switch (ev) {
        case kPage: {
          const size_t at = out->size();
          out->Add(R"(,"path":")");
          out->Add(kPath[page]);
          if (page == 2 || page == 3 || page == 5 || page == 6) out->U64(r.Below(5000));
          const std::string path = out->Substr(at + 9);
          out->Add(R"(","url":"https://shop.example.com)");
          out->Add(path);
          out->Add(R"(","title":")");
          out->Add(kPageName[page]);
          out->Add(R"( | Example Shop","referrer":"https://www.google.com/")");
          break;
        }
        case kProductViewed:
        case kAddedToCart:
          out->Add(R"(,"product_id":"P)");
          out->U64(r.Below(20000), 5);
          out->Add(R"(","category":")");
          out->Add(Pick(r, kCategory));
          out->Add(R"(","price":)");
          out->Money(499 + r.Below(30000));
          if (ev == kAddedToCart) {
            out->Add(R"(,"quantity":)");
            out->U64(1 + r.Below(3));
            c.cart = static_cast<uint8_t>(std::min(c.cart + 1, 200));
          }
          break;
        case kProductSearched:
          out->Add(R"(,"query":")");
          out->Add(Pick(r, kWord));
          out->Add(' ');
          out->Add(Pick(r, kWord));
          out->Add('"');
          break;
        case kCheckoutStarted:
        case kOrderCompleted: {
          out->Add(R"(,"order_id":"O)");
          out->Hex(r.Next(), 12);
          out->Add(R"(","items":)");
          out->U64(std::max<uint8_t>(1, c.cart));
          out->Add(R"(,"currency":"USD")");
          if (ev == kOrderCompleted) {
            // Log-normal order value, median ~$40.
            const double v = std::exp(3.7 + 0.6 * r.Normal());
            out->Add(R"(,"revenue":)");
            revenue_cents = static_cast<uint64_t>(std::min(v, 99999.0) * 100);
            out->Money(revenue_cents);
            c.cart = 0;
          }
          break;
        }
        case kSubscriptionRenewed:
          out->Add(R"(,"plan":")");
          out->Add(kPlan[1 + r.Below(3)]);
          out->Add(R"(","revenue":)");
          revenue_cents = r.Below(3) == 0 ? 4900 : 1999;
          out->Money(revenue_cents);
          break;
        case kEmailOpened:
        case kEmailClicked:
          out->Add(R"(,"campaign":")");
          out->Add(Pick(r, kCampaign));
          out->Add(R"(","email_id":"E)");
          out->U64(r.Below(400), 4);
          out->Add('"');
          break;
        case kFeatureUsed:
          out->Add(R"(,"feature":")");
          out->Add(Pick(r, kWord));
          out->Add(R"(_)");
          out->Add(Pick(r, kWord));
          out->Add('"');
          break;
        case kTicketOpened:
        case kTicketClosed:
          out->Add(R"(,"ticket_id":"T)");
          out->U64(id * 7 + r.Below(7), 8);
          out->Add(R"(","priority":")");
          out->Add(r.Below(4) == 0 ? "high" : "normal");
          out->Add('"');
          break;
        case kSignedUp:
          out->Add(R"(,"method":")");
          out->Add(r.Below(3) == 0 ? "google" : "email");
          out->Add('"');
          c.signed_up = true;
          break;
        default:
          break;
      }
      out->Add(R"(,"utm_campaign":")");
      out->Add(Pick(r, kCampaign));
      out->Add('"');
    }
    // Pad the object to ~target bytes with vocabulary words (compressible like real text).
    const size_t prefix = ev == kIdentify ? std::strlen(R"(,"traits":)") : std::strlen(R"(,"properties":)");
    if (!o_.lean && out->size() - start - prefix + 12 < target) {
      out->Add(R"(,"note":")");
      bool first = true;
      while (out->size() - start - prefix + 2 < target) {
        if (!first) out->Add(' ');
        out->Add(Pick(r, kWord));
        first = false;
      }
      out->Add('"');
    }
    out->Add('}');
    if (o_.lean) {
      out->Add("}\n");
    } else {
      out->Add(R"(,"context":{"library":{"name":")");
      out->Add(c.channel == 1 ? R"(analytics-ios","version":"4.1.6"})" : R"(analytics.js","version":"5.2.1"})");
      out->Add(R"(,"locale":")");
      out->Add(kLocale[id % 7]);
      out->Add("\"}}\n");
    }
    last_.ev = ev;
    last_.name = ev == kPage ? kPageName[page] : ev == kIdentify ? "" : kEventName[ev];
    last_.channel = ev == kIdentify ? "" : channel;
    last_.ts_ms = ts;
    last_.revenue_cents = revenue_cents;
    if (csv_) {
      csv_->Add('u');
      csv_->U64(id, 8);
      csv_->Add(',');
      csv_->U64(static_cast<uint64_t>(ts));
      csv_->Add(',');
      if (ev == kPage) csv_->Add(kPageName[page]);
      else if (ev == kIdentify) csv_->Add("$identify");
      else csv_->Add(kEventName[ev]);
      csv_->Add(',');
      if (ev != kIdentify) csv_->Add(channel);
      else csv_->Add("\"\"");
      csv_->Add(',');
      if (revenue_cents) csv_->Money(revenue_cents);
      else csv_->Add('0');
      csv_->Add('\n');
    }
  }

  const Options o_;
  std::vector<Customer> customers_;
  Emitted last_;  // the event Emit made last
  Out* csv_ = nullptr;  // during Run, when --csv is given
};

}  // namespace cairn::bench
