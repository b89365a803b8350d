// gen_events: a deterministic generator of Segment-shaped JSON Lines for the benchmarks.
//
//   gen_events --events N [--customers C] [--seed S] [--start YYYY-MM-DD] [--days D] --out FILE
//              [--csv FILE] [--lean] [--whole-seconds]
//
// --csv FILE also writes the same events, in the same order, as the flat CSV the peer databases
// load (bench/analytics, tests/queries/peer): `user_id,ts_ms,event,channel,revenue`, no header.
// user_id is the customer's userId (u%08d) on every row, including the anonymous-phase rows sent
// with only an anonymousId: Cairn merges those into the same customer at identify, so both sides
// see the same per-customer event sequence. event = the track event name, the page name for pages,
// "$identify" for identify (the name Cairn's analytics index gives it); channel = properties.channel,
// `""` (a quoted empty string, not NULL, for PostgreSQL's COPY) for identify; revenue =
// properties.revenue or 0. --lean drops the padding ("note") and the context object so lines are ~250 bytes instead of
// ~500 (for the 100M-event benchmark); without it the JSON output is unchanged. --whole-seconds
// writes every timestamp truncated to the second (".000Z"): ClickHouse 18.16's windowFunnel only
// takes whole seconds, so peer comparisons use it to make the two sides' inputs identical (a
// customer's events stay >= 1 s apart, hence strictly ordered, after truncation).
//
// One message per line, ordered by timestamp over the whole file (ties: by customer), as a
// collector would see them arrive. The same arguments give byte-identical output.
//
// The shape (what the store and the ingest path are measured on):
//   - customers with ~20-50 events each (uniform 0.6x..1.4x of events/customers; the totals are
//     adjusted so the file holds exactly N lines). Default customers = N / 35;
//   - each customer starts anonymous (anonymousId only: page views, product views), identifies
//     (identify with userId + anonymousId + traits), then sends tracks with both ids;
//   - ~30% page, ~5% identify, the rest track over 12 event names with a realistic skew;
//   - properties.channel (web, mobile, email, social, sms, store, chat), properties.revenue on
//     "Order Completed" and "Subscription Renewed";
//   - properties (traits for identify) of 100-300 bytes, drawn from small vocabularies so they
//     compress like real data, not like noise; a small context (library, locale);
//   - a unique UUID-shaped messageId per line; ISO-8601 timestamps with milliseconds; a customer's
//     events are >= 1 s apart (sessions of a few events seconds to minutes apart, sessions hours
//     to days apart).
//
// Memory is O(customers); the text is built with hand-written appenders (no printf in the loop):
// 10M lines (~4.5 GB) take ~10-20 s, mostly write bandwidth.

#include "event_gen.h"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using namespace cairn::bench;

bool ParseU64(const char* s, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-') return false;
  *out = v;
  return true;
}

bool ParseDate(const char* s, int64_t* ms) {
  int y, m, d;
  if (std::sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  // days_from_civil (Howard Hinnant).
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  *ms = (static_cast<int64_t>(era) * 146097 + doe - 719468) * kDay;
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: gen_events --events N [--customers C] [--seed S] [--start YYYY-MM-DD] [--days D] --out FILE|-\n"
               "                  [--csv FILE] [--lean] [--whole-seconds]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  uint64_t days = 90;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--lean" || a == "--whole-seconds") {
      (a == "--lean" ? o.lean : o.whole_seconds) = true;
      continue;
    }
    if (i + 1 >= argc) return Usage();
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--events") ok = ParseU64(v, &o.events) && o.events > 0;
    else if (a == "--customers") ok = ParseU64(v, &o.customers);
    else if (a == "--seed") ok = ParseU64(v, &o.seed);
    else if (a == "--days") ok = ParseU64(v, &days) && days > 0 && days < 100000;
    else if (a == "--start") ok = ParseDate(v, &o.start_ms);
    else if (a == "--out") o.out = v;
    else if (a == "--csv") o.csv = v;
    else return Usage();
    if (!ok) {
      std::fprintf(stderr, "gen_events: bad value for %s: '%s'\n", argv[i - 1], v);
      return 2;
    }
  }
  o.days = static_cast<int64_t>(days);
  if (o.out.empty()) return Usage();
  std::FILE* f = o.out == "-" ? stdout : std::fopen(o.out.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "gen_events: cannot open %s: %s\n", o.out.c_str(), std::strerror(errno));
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::FILE* csv = nullptr;
  if (!o.csv.empty() && !(csv = std::fopen(o.csv.c_str(), "wb"))) {
    std::fprintf(stderr, "gen_events: cannot open %s: %s\n", o.csv.c_str(), std::strerror(errno));
    return 1;
  }
  Generator g(o);
  bool ok = g.Run(f, csv);
  if (csv) ok = std::fclose(csv) == 0 && ok;
  if (f != stdout) ok = std::fclose(f) == 0 && ok;
  else ok = std::fflush(f) == 0 && ok;
  if (!ok) {
    std::fprintf(stderr, "gen_events: writing %s failed\n", o.out.c_str());
    return 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "gen_events: %llu events, %zu customers, seed %llu, %.1f s\n",
               static_cast<unsigned long long>(o.events), g.customers(), static_cast<unsigned long long>(o.seed),
               secs);
  return 0;
}
