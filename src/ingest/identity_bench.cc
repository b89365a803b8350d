// Micro benchmark of identity resolution as the request path does it: the identity fields of a
// gen_events-shaped stream (customers who start anonymous with a UUID anonymousId, identify with
// userId + anonymousId + email, then send tracks with both ids), customers interleaved at random,
// resolved in batches of 1,000 messages the way IngestPipeline::Commit does (one
// IdentityResolver::Batch per batch). Figures are per CPU-second of this thread
// (CLOCK_THREAD_CPUTIME_ID), so other load on the machine skews them less.
//
//   identity_bench [customers, default 100000] [events per customer, default 35] [passes, default 3]
//
// Prints, one per line: `resolve_fill_messages_per_cpu_s` (the first pass: every customer is new,
// links and merges happen), `resolve_steady_messages_per_cpu_s` (later passes over the same
// messages: every key known, the fast path; the median pass), the same with one Resolve call
// (one lock) per message (`..._unbatched_...`), and `find_many_ids_per_cpu_s` (FindMany of a
// 1,000-id block in random order, as the journey's commit listener asks).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/cpu_time.h"
#include "ingest/identity_resolver.h"

namespace {

using cairn::ingest::IdentityInput;
using cairn::ingest::IdentityResolver;
using cairn::store::CustomerId;
using cairn::store::IdentityOp;
using cairn::store::MessageType;

struct Customer {
  std::string user, anon, email;
};

// One pass over `msgs` in batches of 1,000: under one IdentityResolver::Batch each, or (batched
// false) one Resolve call, and so one lock, per message. Returns messages per CPU-second.
double ResolvePass(IdentityResolver& r, const std::vector<IdentityInput>& msgs, bool batched) {
  std::vector<IdentityOp> ops;
  uint64_t sink = 0;
  const double t0 = cairn::ThreadCpuSeconds();
  for (size_t b = 0; b < msgs.size(); b += 1000) {
    ops.clear();
    const size_t end = std::min(msgs.size(), b + 1000);
    if (batched) {
      IdentityResolver::Batch batch(&r);
      for (size_t i = b; i < end; ++i) {
        auto c = batch.Resolve(msgs[i], &ops);
        sink += c.ok() ? *c : 0;
      }
    } else {
      for (size_t i = b; i < end; ++i) {
        auto c = r.Resolve(msgs[i], &ops);
        sink += c.ok() ? *c : 0;
      }
    }
  }
  const double t = cairn::ThreadCpuSeconds() - t0;
  if (sink == 0) std::fprintf(stderr, "no customer resolved\n");
  return static_cast<double>(msgs.size()) / t;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const size_t customers = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const size_t per_customer = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 35;
  const int passes = argc > 3 ? std::atoi(argv[3]) : 3;

  std::mt19937_64 rng(1);
  std::vector<Customer> people(customers);
  for (size_t c = 0; c < customers; ++c) {
    const uint64_t a = rng(), b = rng();
    people[c].user = fmt::format("u{:08}", c);
    people[c].anon = fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                                 b >> 48, b & 0xffffffffffffULL);
    people[c].email = people[c].user + "@example.com";
  }
  // Each customer's events in order; customers interleaved at random (a time-ordered stream).
  std::vector<uint32_t> order;
  order.reserve(customers * per_customer);
  for (size_t c = 0; c < customers; ++c)
    for (size_t k = 0; k < per_customer; ++k) order.push_back(static_cast<uint32_t>(c));
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<uint32_t> seen(customers, 0);
  const size_t identify_at = per_customer / 5;
  std::vector<IdentityInput> msgs;
  msgs.reserve(order.size());
  for (uint32_t c : order) {
    const Customer& p = people[c];
    const uint32_t k = seen[c]++;
    if (k < identify_at) {
      msgs.push_back({MessageType::kPage, "", p.anon, "", "", ""});
    } else if (k == identify_at) {
      msgs.push_back({MessageType::kIdentify, p.user, p.anon, "", p.email, ""});
    } else {
      msgs.push_back({MessageType::kTrack, p.user, p.anon, "", "", ""});
    }
  }

  cairn::metrics::Registry registry;
  IdentityResolver resolver(cairn::ingest::DefaultIdentityOptions(), &registry);
  const double fill = ResolvePass(resolver, msgs, /*batched=*/true);
  std::vector<double> steady, unbatched;
  for (int p = 0; p < passes; ++p) {
    steady.push_back(ResolvePass(resolver, msgs, /*batched=*/true));
    unbatched.push_back(ResolvePass(resolver, msgs, /*batched=*/false));
  }

  std::vector<CustomerId> ids(1000), roots(1000);
  const CustomerId max_id = resolver.next_customer_id() - 1;
  size_t found = 0, asked = 0;
  const double t0 = cairn::ThreadCpuSeconds();
  while (cairn::ThreadCpuSeconds() - t0 < 1.0) {
    for (auto& id : ids) id = 1 + rng() % max_id;
    resolver.FindMany(ids, roots.data());
    for (CustomerId r : roots) found += r != 0;
    asked += ids.size();
  }
  const double t = cairn::ThreadCpuSeconds() - t0;
  if (found == 0) std::fprintf(stderr, "no id found\n");

  std::printf("resolve_customers %zu customers\n", resolver.customer_count());
  std::printf("resolve_messages %zu messages\n", msgs.size());
  std::printf("resolve_fill_messages_per_cpu_s %.0f messages/cpu-s\n", fill);
  std::printf("resolve_steady_messages_per_cpu_s %.0f messages/cpu-s\n", Median(steady));
  std::printf("resolve_steady_unbatched_messages_per_cpu_s %.0f messages/cpu-s\n", Median(unbatched));
  std::printf("find_many_ids_per_cpu_s %.0f ids/cpu-s\n", static_cast<double>(asked) / t);
  return 0;
}
