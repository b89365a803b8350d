// gen_store: the events of `gen_events` written straight into a Cairn store's segment files, for
// benchmarks whose data would take hours to import (bench/analytics/run.sh --direct: 100M events).
//
//   gen_store --events N [--customers C] [--seed S] [--whole-seconds] [--segments K] --data DIR
//
// The rows are those of `gen_events --lean` with the same --events/--customers/--seed/
// --whole-seconds (bench/event_gen.h: one generator, so the CSV the peers load and this store hold
// the same events). What `cairn import` would give them after identity merges:
//   - customer = the userId's number (u00000042 -> 42) on every row, the anonymous-phase rows too
//     (import merges those into the identified customer; here they are born there);
//   - type page / identify / track; event = the page name for pages, "" for identify, the event
//     name for tracks; channel = properties.channel ("" for identify); revenue = properties.revenue;
//     timestamp = received_at = the event time; seq = 0, 1, ... in (customer, time) order.
//   - Not written: message_id and payload (empty), so property filters match nothing on such a
//     store; journey state, profiles and identities (the data dir holds the store alone).
//
// Layout: DIR/store/seg/<n>.seg, K segments (default 8) of about N/K rows split at customer
// boundaries (ascending, non-overlapping customer ranges, as compaction leaves them), then
// DIR/store/MANIFEST (docs/format/manifest.md; flushed_seq = N). The MANIFEST is written last: an
// interrupted run leaves segment files without a MANIFEST, which Store::Open reports as
// corruption, never a silently short store. Refuses a DIR that already has a store.
// Prints one figure per line (`name value unit`).

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "../event_gen.h"
#include "base/cpu_time.h"
#include "io/env.h"
#include "store/manifest.h"
#include "store/segment_builder.h"

namespace {

using namespace cairn;

int Usage() {
  std::fprintf(stderr,
               "usage: gen_store --events N [--customers C] [--seed S] [--whole-seconds] [--segments K] --data DIR\n");
  return 2;
}

bool ParseCount(const char* s, uint64_t* out) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0' || s[0] == '-') return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options o;
  o.lean = true;
  uint64_t segments = 8;
  std::string data;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--whole-seconds") {
      o.whole_seconds = true;
      continue;
    }
    if (i + 1 >= argc) return Usage();
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--events") ok = ParseCount(v, &o.events) && o.events > 0;
    else if (a == "--customers") ok = ParseCount(v, &o.customers);
    else if (a == "--seed") ok = ParseCount(v, &o.seed);
    else if (a == "--segments") ok = ParseCount(v, &segments) && segments > 0 && segments < 10000;
    else if (a == "--data") data = v;
    else return Usage();
    if (!ok) {
      std::fprintf(stderr, "gen_store: bad value for %s: '%s'\n", a.c_str(), v);
      return 2;
    }
  }
  if (data.empty()) return Usage();

  io::Env* env = io::Env::Posix();
  const std::string dir = io::JoinPath(data, "store");
  const std::string seg_dir = io::JoinPath(dir, "seg");
  if (env->FileExists(io::JoinPath(dir, "MANIFEST")) || env->FileExists(seg_dir)) {
    std::fprintf(stderr, "gen_store: %s already holds a store; remove it first\n", dir.c_str());
    return 1;
  }
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "gen_store: %s\n", s.ToString().c_str());
    return 1;
  };
  for (const std::string& d : {data, dir, seg_dir})
    if (Status s = env->CreateDirIfMissing(d); !s.ok()) return fail(s);

  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = ProcessCpuSeconds();
  const uint64_t per_segment = (o.events + segments - 1) / segments;
  store::Manifest manifest;
  std::unique_ptr<store::SegmentBuilder> builder;
  store::SegmentMeta meta;
  uint64_t seq = 0, bytes = 0, last_customer = 0;
  Status status;
  auto finish = [&]() -> Status {
    if (!builder) return Status::Ok();
    RETURN_IF_ERROR(builder->Finish());
    meta.rows = builder->rows();
    meta.max_seq = seq - 1;
    bytes += builder->file_size();
    manifest.segments.push_back(meta);
    builder.reset();
    return Status::Ok();
  };
  store::Interaction row;
  bench::Generator gen(o);
  const uint64_t n = gen.RunByCustomer([&](uint64_t customer, const bench::Generator::Emitted& e) {
    if (!status.ok()) return;
    // A new segment only where a customer starts, so segments hold disjoint customer ranges.
    if (!builder || (customer != last_customer && builder->rows() >= per_segment)) {
      if (status = finish(); !status.ok()) return;
      meta = store::SegmentMeta{};
      meta.file_number = manifest.next_file++;
      meta.min_seq = seq;
      auto b = store::SegmentBuilder::Create(env, io::JoinPath(seg_dir, store::SegmentFileName(meta.file_number)));
      if (!b.ok()) {
        status = b.status();
        return;
      }
      builder = std::move(*b);
    }
    last_customer = customer;
    row.customer = customer;
    row.timestamp_ms = row.received_at_ms = e.ts_ms;
    row.seq = seq++;
    row.type = e.ev == bench::kPage ? store::MessageType::kPage
               : e.ev == bench::kIdentify ? store::MessageType::kIdentify
                                          : store::MessageType::kTrack;
    row.event = e.name;
    row.channel = e.channel;
    row.revenue = static_cast<double>(e.revenue_cents) / 100.0;
    status = builder->Add(row);
  });
  if (status.ok()) status = finish();
  manifest.flushed_seq = seq;
  if (status.ok()) status = manifest.Save(env, io::JoinPath(dir, "MANIFEST"));
  if (!status.ok()) return fail(status);
  if (n != o.events) {
    std::fprintf(stderr, "gen_store: generated %llu events, asked for %llu\n", static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(o.events));
    return 1;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("gen_store_events %llu events\ngen_store_customers %zu customers\ngen_store_segments %zu files\n"
              "gen_store_bytes %llu bytes\ngen_store_wall_s %.1f s\ngen_store_cpu_s %.1f s\n",
              static_cast<unsigned long long>(n), gen.customers(), manifest.segments.size(),
              static_cast<unsigned long long>(bytes), wall, ProcessCpuSeconds() - cpu0);
  return 0;
}
