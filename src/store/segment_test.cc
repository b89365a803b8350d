#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <map>
#include <set>
#include <atomic>
#include <thread>

#include "base/coding.h"
#include "base/crc32c.h"
#include "io/mem_env.h"
#include "store/segment_builder.h"
#include "store/segment_iterator.h"
#include "store/segment_reader.h"
#include "store/segment_test_util.h"

namespace cairn::store {
namespace {

using segment::Bit;
using segment::Column;
using testing::BuildSegment;
using testing::RandomRows;
using testing::RandomRowsOptions;

std::unique_ptr<SegmentReader> OpenOrDie(io::Env* env, const std::string& path) {
  auto r = SegmentReader::Open(env, path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::vector<Interaction> ReadAll(const SegmentReader& r) {
  std::vector<Interaction> rows;
  auto it = r.NewIterator();
  for (; it->Valid(); it->Next()) rows.push_back(it->row());
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  return rows;
}

// Rows of `rows` for one customer.
std::vector<Interaction> Of(const std::vector<Interaction>& rows, CustomerId c) {
  std::vector<Interaction> out;
  for (const auto& r : rows) if (r.customer == c) out.push_back(r);
  return out;
}

// Every customer of `rows`, read alone from `r`, returns exactly its rows.
void ExpectEveryCustomerReadsItsRows(const SegmentReader& r, const std::vector<Interaction>& rows) {
  std::set<CustomerId> customers;
  for (const auto& x : rows) customers.insert(x.customer);
  for (CustomerId c : customers) {
    std::vector<Interaction> got;
    ASSERT_TRUE(r.ReadCustomer(c, &got).ok());
    ASSERT_EQ(got, Of(rows, c)) << "customer " << c;
  }
}

class SegmentRoundTripTest : public ::testing::TestWithParam<int> {};

TEST_P(SegmentRoundTripTest, RandomRows) {
  const int seed = GetParam();
  io::MemEnv env;
  RandomRowsOptions o;
  o.customers = 1 + seed * 7 % 120;
  o.max_rows_per_customer = 1 + seed * 13 % 90;
  o.extremes = seed % 3 == 0;
  o.imported = seed % 4 < 2;
  const auto rows = RandomRows(seed, o);
  SegmentBuilderOptions bo;
  bo.block_rows = seed % 2 ? 64 : 1 + seed % 500;  // small blocks: customers span blocks
  bo.bytes.frame_bytes = seed % 4 == 0 ? 1 : 2048;
  ASSERT_TRUE(BuildSegment(&env, "/s", rows, bo).ok());
  auto r = OpenOrDie(&env, "/s");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->stats().rows, rows.size());
  EXPECT_EQ(r->stats().blocks, (rows.size() + bo.block_rows - 1) / bo.block_rows);
  ASSERT_TRUE(r->Verify().ok()) << r->Verify().ToString();
  const auto back = ReadAll(*r);
  ASSERT_EQ(back.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(back[i], rows[i]) << "row " << i;
    ASSERT_EQ(std::signbit(back[i].revenue), std::signbit(rows[i].revenue)) << "row " << i;
  }
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& x : rows) lo = std::min(lo, x.timestamp_ms), hi = std::max(hi, x.timestamp_ms);
  EXPECT_EQ(r->stats().min_timestamp_ms, lo);
  EXPECT_EQ(r->stats().max_timestamp_ms, hi);
  ExpectEveryCustomerReadsItsRows(*r, rows);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SegmentRoundTripTest, ::testing::Range(1, 31));

TEST(SegmentTest, EmptySegment) {
  io::MemEnv env;
  ASSERT_TRUE(BuildSegment(&env, "/s", {}).ok());
  auto r = OpenOrDie(&env, "/s");
  EXPECT_EQ(r->stats().rows, 0u);
  EXPECT_EQ(r->block_count(), 0u);
  EXPECT_TRUE(r->Verify().ok());
  EXPECT_TRUE(ReadAll(*r).empty());
  std::vector<Interaction> got;
  EXPECT_TRUE(r->ReadCustomer(1, &got).ok());
  EXPECT_TRUE(got.empty());
  int calls = 0;
  EXPECT_TRUE(r->Scan({}, [&](const FixedColumns&) { ++calls; return Status::Ok(); }).ok());
  EXPECT_EQ(calls, 0);
}

TEST(SegmentTest, OneRow) {
  io::MemEnv env;
  Interaction row;
  row.customer = 42;
  row.timestamp_ms = -5;
  row.received_at_ms = 7;
  row.seq = 9;
  row.type = MessageType::kIdentify;
  row.source = 3;
  row.event = "";
  row.channel = "sms";
  row.message_id = "abc";
  row.revenue = 12.5;
  row.payload = R"({"type":"identify"})";
  ASSERT_TRUE(BuildSegment(&env, "/s", {row}).ok());
  auto r = OpenOrDie(&env, "/s");
  EXPECT_EQ(ReadAll(*r), std::vector<Interaction>{row});
  EXPECT_TRUE(r->Verify().ok());
}

TEST(SegmentTest, CustomerSpanningSeveralBlocks) {
  io::MemEnv env;
  std::vector<Interaction> rows;
  for (int c : {3, 5, 8}) {
    const int n = c == 5 ? 1000 : 3;  // customer 5 spans ~16 blocks of 64 rows
    for (int i = 0; i < n; ++i) {
      Interaction x;
      x.customer = c;
      x.timestamp_ms = 1000 + i * 60000;
      x.seq = i;
      x.event = i % 2 ? "A" : "B";
      x.payload = "{\"i\":" + std::to_string(i) + "}";
      rows.push_back(x);
    }
  }
  SegmentBuilderOptions bo;
  bo.block_rows = 64;
  ASSERT_TRUE(BuildSegment(&env, "/s", rows, bo).ok());
  auto r = OpenOrDie(&env, "/s");
  EXPECT_GT(r->block_count(), 15u);
  for (CustomerId c : {3, 5, 8}) {
    std::vector<Interaction> got;
    ASSERT_TRUE(r->ReadCustomer(c, &got).ok());
    EXPECT_EQ(got, Of(rows, c)) << c;
  }
  std::vector<Interaction> got;
  const CustomerId several[] = {3, 5, 8};
  ASSERT_TRUE(r->ReadCustomers(several, &got).ok());
  EXPECT_EQ(got, rows);
  // SkipCustomer drops exactly customer 5's rows, across block boundaries.
  std::vector<Interaction> kept;
  auto it = r->NewIterator();
  while (it->Valid()) {
    if (it->customer() == 5) {
      it->SkipCustomer();
      continue;
    }
    kept.push_back(it->row());
    it->Next();
  }
  ASSERT_TRUE(it->status().ok());
  std::vector<Interaction> want = Of(rows, 3);
  for (const auto& x : Of(rows, 8)) want.push_back(x);
  EXPECT_EQ(kept, want);
}

TEST(SegmentTest, LookupsOfAbsentCustomers) {
  io::MemEnv env;
  RandomRowsOptions o;
  o.customers = 300;
  const auto rows = RandomRows(11, o);
  SegmentBuilderOptions bo;
  bo.block_rows = 100;
  ASSERT_TRUE(BuildSegment(&env, "/s", rows, bo).ok());
  auto r = OpenOrDie(&env, "/s");
  std::set<CustomerId> present;
  for (const auto& x : rows) present.insert(x.customer);
  std::vector<CustomerId> probes = {1, *present.begin() - 1, *present.rbegin() + 1, ~CustomerId{0}};
  for (CustomerId c : present) {
    if (!present.count(c + 1)) probes.push_back(c + 1);  // between customers
  }
  for (CustomerId c : probes) {
    if (present.count(c)) continue;
    std::vector<Interaction> got;
    ASSERT_TRUE(r->ReadCustomer(c, &got).ok());
    EXPECT_TRUE(got.empty()) << c;
  }
  // A sorted mix of present and absent customers returns exactly the present ones' rows.
  std::set<CustomerId> mix(probes.begin(), probes.end());
  size_t k = 0;
  for (CustomerId c : present) if (k++ % 3 == 0) mix.insert(c);
  std::vector<CustomerId> sorted(mix.begin(), mix.end());
  std::vector<Interaction> got, want;
  ASSERT_TRUE(r->ReadCustomers(sorted, &got).ok());
  for (const auto& x : rows) if (mix.count(x.customer)) want.push_back(x);
  EXPECT_EQ(got, want);
  std::vector<CustomerId> unsorted = {5, 4};
  EXPECT_TRUE(r->ReadCustomers(unsorted, &got).Is(Code::kInvalidArgument));
  // Only the requested columns are filled.
  got.clear();
  ASSERT_TRUE(r->ReadCustomer(rows[0].customer, &got, Bit(Column::kTimestamp)).ok());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].timestamp_ms, rows[0].timestamp_ms);
  EXPECT_TRUE(got[0].payload.empty());
  EXPECT_TRUE(got[0].event.empty());
}

TEST(SegmentTest, BlockSkippingMatchesFilteredFullScan) {
  io::MemEnv env;
  RandomRowsOptions o;
  o.customers = 400;
  auto rows = RandomRows(5, o);
  // Cluster one rare event in a few customers so that event skipping has something to skip.
  for (size_t i = 0; i < rows.size(); ++i) rows[i].event = (rows[i].customer % 50 == 0) ? "Deal Won" : "Page Viewed";
  SegmentBuilderOptions bo;
  bo.block_rows = 50;
  ASSERT_TRUE(BuildSegment(&env, "/s", rows, bo).ok());
  auto r = OpenOrDie(&env, "/s");
  const int64_t t0 = r->stats().min_timestamp_ms, t1 = r->stats().max_timestamp_ms;
  struct Case {
    int64_t lo, hi;
    std::optional<std::vector<std::string>> events;
  };
  const std::vector<Case> cases = {
      {INT64_MIN, INT64_MAX, std::nullopt},
      {t0 + (t1 - t0) / 3, t0 + (t1 - t0) / 2, std::nullopt},
      {INT64_MIN, INT64_MAX, std::vector<std::string>{"Deal Won"}},
      {INT64_MIN, INT64_MAX, std::vector<std::string>{"Deal Won", "Nope"}},
      {INT64_MIN, INT64_MAX, std::vector<std::string>{}},
      {t0, t0 + (t1 - t0) / 4, std::vector<std::string>{"Deal Won"}},
      {t1 + 1, INT64_MAX, std::nullopt},
  };
  for (const auto& k : cases) {
    auto matches = [&](int64_t ts, const std::string& ev) {
      if (ts < k.lo || ts > k.hi) return false;
      return !k.events || std::find(k.events->begin(), k.events->end(), ev) != k.events->end();
    };
    std::vector<std::pair<int64_t, uint64_t>> want, got;
    for (const auto& x : rows) if (matches(x.timestamp_ms, x.event)) want.emplace_back(x.timestamp_ms, x.seq);
    ScanOptions so;
    so.min_timestamp_ms = k.lo;
    so.max_timestamp_ms = k.hi;
    so.events = k.events;
    size_t visited = 0;
    ASSERT_TRUE(r->Scan(so, [&](const FixedColumns& cols) {
                   ++visited;
                   for (size_t i = 0; i < cols.rows; ++i) {
                     if (matches(cols.timestamp_ms[i], r->events()[cols.event[i]])) {
                       got.emplace_back(cols.timestamp_ms[i], cols.seq[i]);
                     }
                   }
                   return Status::Ok();
                 }).ok());
    EXPECT_EQ(got, want);
    if (k.events && k.events->size() == 1 && k.lo == INT64_MIN) {
      EXPECT_LT(visited, r->block_count() / 2) << "rare-event scan should skip most blocks";
    }
    if (k.events && k.events->empty()) {
      EXPECT_EQ(visited, 0u);
    }
    if (k.lo > t1) {
      EXPECT_EQ(visited, 0u);
    }
  }
}

TEST(SegmentTest, ScanDecodesOnlyRequestedColumns) {
  io::MemEnv env;
  const auto rows = RandomRows(8);
  ASSERT_TRUE(BuildSegment(&env, "/s", rows).ok());
  auto r = OpenOrDie(&env, "/s");
  ScanOptions so;
  so.columns = segment::kCoreColumns;
  size_t n = 0;
  ASSERT_TRUE(r->Scan(so, [&](const FixedColumns& c) {
                 EXPECT_EQ(c.customer.size(), c.rows);
                 EXPECT_EQ(c.type.size(), c.rows);
                 EXPECT_TRUE(c.seq.empty());
                 EXPECT_EQ(c.payload.size(), 0u);
                 for (size_t i = 0; i < c.rows; ++i, ++n) {
                   EXPECT_EQ(c.customer[i], rows[n].customer);
                   EXPECT_EQ(c.type[i], static_cast<uint8_t>(rows[n].type));
                 }
                 return Status::Ok();
               }).ok());
  EXPECT_EQ(n, rows.size());
  so.columns = Bit(Column::kPayload) | Bit(Column::kSource);
  n = 0;
  ASSERT_TRUE(r->Scan(so, [&](const FixedColumns& c) {
                 for (size_t i = 0; i < c.rows; ++i, ++n) {
                   EXPECT_EQ(c.payload[i], rows[n].payload);
                   EXPECT_EQ(c.source[i], rows[n].source);
                 }
                 return Status::Ok();
               }).ok());
  EXPECT_EQ(n, rows.size());
  // An error from the callback stops the scan and is returned.
  EXPECT_TRUE(r->Scan(so, [](const FixedColumns&) { return Internal("stop"); }).Is(Code::kInternal));
}

TEST(SegmentTest, IteratorSeek) {
  io::MemEnv env;
  const auto rows = RandomRows(9);
  SegmentBuilderOptions bo;
  bo.block_rows = 37;
  ASSERT_TRUE(BuildSegment(&env, "/s", rows, bo).ok());
  auto r = OpenOrDie(&env, "/s");
  auto it = r->NewIterator();
  for (size_t k : {rows.size() / 2, size_t{0}, rows.size() - 1}) {
    it->Seek(rows[k].customer);
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->row(), Of(rows, rows[k].customer).front());
  }
  it->Seek(rows.back().customer + 1);
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

// The message_id column has its own zstd level (SegmentBuilderOptions::message_id_zstd_level):
// it, not the payload's level, decides how the ids are compressed, and it leaves the payloads alone.
TEST(SegmentTest, MessageIdsAreCompressedAtTheirOwnLevel) {
  RandomRowsOptions o;
  o.customers = 40;
  o.max_rows_per_customer = 60;
  auto rows = RandomRows(5, o);
  std::mt19937_64 rng(5);
  for (auto& r : rows) {  // 32 random hex digits, like a UUID's
    r.message_id.clear();
    for (int i = 0; i < 32; ++i) r.message_id.push_back("0123456789abcdef"[rng() % 16]);
  }
  auto build = [&](const std::string& path, int payload_level, int id_level) {
    io::MemEnv env;
    SegmentBuilderOptions bo;
    bo.block_rows = 500;
    bo.bytes.zstd_level = payload_level;
    bo.message_id_zstd_level = id_level;
    EXPECT_TRUE(BuildSegment(&env, path, rows, bo).ok());
    auto r = OpenOrDie(&env, path);
    EXPECT_TRUE(r != nullptr && r->Verify().ok());
    EXPECT_TRUE(r != nullptr && ReadAll(*r) == rows);
    return r ? r->stats().column_bytes : decltype(r->stats().column_bytes){};
  };
  constexpr auto kIds = static_cast<size_t>(Column::kMessageId), kPayload = static_cast<size_t>(Column::kPayload);
  const auto by_default = build("/a", 3, SegmentBuilderOptions{}.message_id_zstd_level);
  const auto ids_at_3 = build("/b", 3, 3);
  const auto payload_at_1 = build("/c", 1, SegmentBuilderOptions{}.message_id_zstd_level);
  EXPECT_EQ(SegmentBuilderOptions{}.message_id_zstd_level, 1);
  EXPECT_NE(by_default[kIds], ids_at_3[kIds]);          // the id level is used for ids...
  EXPECT_EQ(by_default[kPayload], ids_at_3[kPayload]);  // ...and only for them
  EXPECT_EQ(by_default[kIds], payload_at_1[kIds]);      // the payload level is not used for ids
  EXPECT_NE(by_default[kPayload], payload_at_1[kPayload]);
}

// A paged iterator (compaction's: SegmentReader::kIteratorPageRows) yields the rows a
// whole-block one does, whatever the page size: pages shorter than, equal to and longer than
// blocks; customers whose rows span pages and whole blocks; SkipCustomer and Seek across them.
// Rows of 30 customers, many filling several 37-row blocks on their own, with empty and 60 KiB
// payloads (frames of very different sizes), built into /s of 37-row blocks and 512-byte frames.
std::vector<Interaction> SmallBlocksSegment(io::Env* env, uint64_t seed) {
  RandomRowsOptions o;
  o.customers = 30;
  o.max_rows_per_customer = 150;
  o.extremes = true;
  auto rows = RandomRows(seed, o);
  SegmentBuilderOptions bo;
  bo.block_rows = 37;
  bo.bytes.frame_bytes = 512;
  EXPECT_TRUE(BuildSegment(env, "/s", rows, bo).ok());
  return rows;
}

TEST(SegmentTest, PagedIteratorYieldsTheRowsOfEveryPageSize) {
  io::MemEnv env;
  const auto rows = SmallBlocksSegment(&env, 17);
  auto r = OpenOrDie(&env, "/s");
  ASSERT_NE(r, nullptr);
  std::vector<CustomerId> customers;
  for (const auto& x : rows) if (customers.empty() || customers.back() != x.customer) customers.push_back(x.customer);
  bool spans_whole_block = false;
  for (size_t b = 1; b + 1 < r->block_count(); ++b)
    spans_whole_block |= r->block(b).first_customer == r->block(b).last_customer &&
                         r->block(b - 1).last_customer == r->block(b).first_customer;
  ASSERT_TRUE(spans_whole_block) << "the data must have a customer filling whole blocks";
  for (uint32_t page : {1u, 2u, 7u, 36u, 37u, 38u, 512u}) {
    SCOPED_TRACE("page_rows " + std::to_string(page));
    std::vector<Interaction> all;
    auto it = r->NewIterator(segment::kAllColumns, page);
    for (; it->Valid(); it->Next()) all.push_back(it->row());
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    ASSERT_EQ(all.size(), rows.size());
    EXPECT_TRUE(all == rows);
    // Skip every second customer (from its first row, or from a later one), keep the others.
    std::vector<Interaction> kept, want;
    for (const auto& x : rows) {
      const size_t k = static_cast<size_t>(std::lower_bound(customers.begin(), customers.end(), x.customer) - customers.begin());
      if (k % 2 == 1) want.push_back(x);
    }
    it = r->NewIterator(segment::kAllColumns, page);
    size_t k = 0;
    while (it->Valid()) {
      if (k % 2 == 0) {
        if (k % 4 == 0) it->Next();  // skipping from the customer's second row skips the rest too
        if (it->Valid() && it->customer() == customers[k]) it->SkipCustomer();
        ++k;
        continue;
      }
      EXPECT_EQ(it->customer(), customers[k]);
      kept.push_back(it->row());
      it->Next();
      if (it->Valid() && it->customer() != customers[k]) ++k;
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    EXPECT_EQ(kept.size(), want.size());
    EXPECT_TRUE(kept == want);
    // Seek forwards and backwards lands on each customer's first row.
    for (size_t j : {customers.size() / 2, size_t{0}, customers.size() - 1, size_t{1}, customers.size() / 3}) {
      it->Seek(customers[j]);
      ASSERT_TRUE(it->Valid());
      EXPECT_EQ(it->row(), Of(rows, customers[j]).front());
      it->Seek(customers[j] + 1);  // between customers (ids are sparse): the next one's first row
      if (j + 1 < customers.size()) {
        ASSERT_TRUE(it->Valid());
        EXPECT_EQ(it->row(), Of(rows, customers[j + 1]).front());
      }
    }
    ASSERT_EQ(customers.back(), UINT64_MAX);  // (extremes) nothing to seek past: check the end with Next
    it->Seek(customers.back());
    while (it->Valid()) it->Next();
    EXPECT_TRUE(it->status().ok());
  }
}

// ReadByteColumnRegion + ReadFrame (the journey rebuild's payload path): every frame decoded in
// place yields exactly the block's values, each followed by kFramePadding readable bytes; a
// damaged frame is Corruption naming block and column, and the frames around it still decode.
TEST(SegmentTest, FramesDecodedInPlaceYieldTheBlocksValues) {
  io::MemEnv env;
  SmallBlocksSegment(&env, 23);
  auto r = OpenOrDie(&env, "/s");
  ASSERT_NE(r, nullptr);
  ByteColumnRegion region;
  column::DecodedFrame frame;
  FixedColumns whole;
  size_t frames = 0;
  for (size_t b = 0; b < r->block_count(); ++b) {
    ASSERT_TRUE(r->ReadBlock(b, segment::kAllColumns, &whole).ok());
    for (segment::Column c : {segment::Column::kPayload, segment::Column::kMessageId}) {
      const column::ByteColumn& want = c == segment::Column::kPayload ? whole.payload : whole.message_id;
      ASSERT_TRUE(r->ReadByteColumnRegion(b, c, &region).ok());
      uint32_t row = 0;
      for (size_t f = 0; f < region.frames.size(); ++f, ++frames) {
        ASSERT_TRUE(r->ReadFrame(region, f, &frame).ok());
        ASSERT_EQ(region.frames[f].first_row, row);
        ASSERT_EQ(frame.rows(), region.frames[f].rows);
        for (size_t i = 0; i < frame.rows(); ++i, ++row) {
          ASSERT_EQ(frame[i], want[row]) << "block " << b << " row " << row;
          EXPECT_GE(frame.raw.size() - (frame[i].data() - frame.raw.data()) - frame[i].size(), column::kFramePadding);
        }
      }
      EXPECT_EQ(row, whole.rows);
    }
  }
  EXPECT_GT(frames, 2 * r->block_count()) << "blocks of several frames";
  EXPECT_EQ(r->ReadByteColumnRegion(0, segment::Column::kSeq, &region).code(), Code::kInvalidArgument);

  // Damage one stored byte of the second frame of block 1's payloads.
  ASSERT_TRUE(r->ReadByteColumnRegion(1, segment::Column::kPayload, &region).ok());
  ASSERT_GE(region.frames.size(), 3u);
  std::string copy(region.region);
  copy[region.frames[1].offset] ^= 0x20;
  region.region = copy;
  Status bad = r->ReadFrame(region, 1, &frame);
  EXPECT_EQ(bad.code(), Code::kCorruption);
  EXPECT_NE(bad.message().find("block 1 column payload"), std::string::npos) << bad.ToString();
  EXPECT_TRUE(r->ReadFrame(region, 0, &frame).ok());
  EXPECT_TRUE(r->ReadFrame(region, 2, &frame).ok());
}

TEST(SegmentBuilderTest, RejectsUnorderedAndInvalidRows) {
  io::MemEnv env;
  auto b = SegmentBuilder::Create(&env, "/s");
  ASSERT_TRUE(b.ok());
  Interaction x;
  x.customer = 5;
  x.timestamp_ms = 100;
  x.seq = 10;
  ASSERT_TRUE((*b)->Add(x).ok());
  Interaction y = x;
  EXPECT_TRUE((*b)->Add(y).Is(Code::kInvalidArgument)) << "duplicate key";
  y.seq = 9;
  EXPECT_TRUE((*b)->Add(y).Is(Code::kInvalidArgument)) << "seq back";
  y = x;
  y.timestamp_ms = 99;
  y.seq = 100;
  EXPECT_TRUE((*b)->Add(y).Is(Code::kInvalidArgument)) << "time back within a customer";
  y = x;
  y.customer = 4;
  y.timestamp_ms = 1000;
  EXPECT_TRUE((*b)->Add(y).Is(Code::kInvalidArgument)) << "customer back";
  y.customer = 0;
  EXPECT_TRUE((*b)->Add(y).Is(Code::kInvalidArgument)) << "customer 0";
  y = x;
  y.seq = 11;
  y.type = static_cast<MessageType>(9);
  EXPECT_TRUE((*b)->Add(y).Is(Code::kInvalidArgument)) << "bad type";
  // Rejected rows leave the builder usable and unchanged.
  y.type = MessageType::kPage;
  ASSERT_TRUE((*b)->Add(y).ok());
  y.customer = 6;
  y.timestamp_ms = -1;  // new customer: time may go back
  ASSERT_TRUE((*b)->Add(y).ok());
  ASSERT_TRUE((*b)->Finish().ok());
  EXPECT_TRUE((*b)->Finish().Is(Code::kFailedPrecondition));
  auto r = OpenOrDie(&env, "/s");
  EXPECT_EQ(r->stats().rows, 3u);
  SegmentBuilderOptions zero_rows;
  zero_rows.block_rows = 0;
  EXPECT_TRUE(SegmentBuilder::Create(&env, "/t", zero_rows).status().Is(Code::kInvalidArgument));
}

TEST(SegmentBuilderTest, AddCopiesTheRowAndAddStableKeepsItInPlace) {
  // Add() is given one buffer overwritten row after row (as a merge's iterator does): the
  // segment must hold every row, not the buffer's last contents, across several blocks whose
  // copy slots are reused. AddStable() reads the caller's rows where they are: same bytes.
  io::MemEnv env;
  RandomRowsOptions o;
  o.customers = 40;
  o.max_rows_per_customer = 30;
  const auto rows = RandomRows(7, o);
  ASSERT_GT(rows.size(), 3u * 64);
  SegmentBuilderOptions bo;
  bo.block_rows = 64;
  {
    auto b = SegmentBuilder::Create(&env, "/copied", bo);
    ASSERT_TRUE(b.ok());
    Interaction buffer;
    for (const auto& r : rows) {
      buffer = r;
      ASSERT_TRUE((*b)->Add(buffer).ok());
      buffer.payload.assign(300, 'x');  // the caller reuses its row at once
      buffer.message_id = "overwritten";
    }
    ASSERT_TRUE((*b)->Finish().ok());
  }
  {
    auto b = SegmentBuilder::Create(&env, "/stable", bo);
    ASSERT_TRUE(b.ok());
    for (const auto& r : rows) ASSERT_TRUE((*b)->AddStable(r).ok());
    ASSERT_TRUE((*b)->Finish().ok());
  }
  for (const char* path : {"/copied", "/stable"}) {
    auto r = OpenOrDie(&env, path);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(ReadAll(*r), rows) << path;
  }
}

// An import's received_at is stored raw (far fewer bytes than each event's age), live traffic's as
// a difference; a segment holding both kinds of block reads back exactly, whole and per customer.
TEST(SegmentTest, ReceivedAtOfAnImportIsStoredRawAndReadBack) {
  io::MemEnv env;
  RandomRowsOptions o;
  o.customers = 40;
  o.imported = true;
  const auto mixed = RandomRows(5, o);
  SegmentBuilderOptions bo;
  bo.block_rows = 16;
  ASSERT_TRUE(BuildSegment(&env, "/mixed", mixed, bo).ok());
  auto r = OpenOrDie(&env, "/mixed");
  ASSERT_TRUE(r->Verify().ok());
  EXPECT_EQ(ReadAll(*r), mixed);
  for (const auto& x : mixed) {
    std::vector<Interaction> got;
    ASSERT_TRUE(r->ReadCustomer(x.customer, &got).ok());
    ASSERT_EQ(got, Of(mixed, x.customer));
  }
  // Only the imported customers' rows: 10 s of receipt times pack in 14 bits a row; their
  // differences from timestamps that spread over a century here would take ~42.
  std::vector<Interaction> imported;
  for (const auto& x : mixed) {
    if (x.received_at_ms >= 1'800'000'000'000 && x.received_at_ms < 1'800'000'010'000) imported.push_back(x);
  }
  ASSERT_GT(imported.size(), 100u);
  ASSERT_TRUE(BuildSegment(&env, "/imported", imported).ok());
  auto ri = OpenOrDie(&env, "/imported");
  EXPECT_EQ(ReadAll(*ri), imported);
  const double bytes_per_row =
      static_cast<double>(ri->stats().column_bytes[static_cast<size_t>(Column::kReceivedAt)]) / imported.size();
  EXPECT_LT(bytes_per_row, 2.5) << "received_at stored raw";
}

// Version-1 and version-2 files are read by this build; a future version is not. The file is
// built as both wrote theirs: zstd frames (no LZ4: version 3), live traffic (every block stores
// received_at as differences, as version 1 did).
TEST(SegmentTest, ReadsVersionOneAndTwoFilesAndRefusesNewerOnes) {
  io::MemEnv env;
  const auto rows = RandomRows(7);
  SegmentBuilderOptions zstd;
  zstd.bytes.codec = column::FrameCodec::kZstd;
  ASSERT_TRUE(BuildSegment(&env, "/s", rows, zstd).ok());
  const std::string file = *env.Contents("/s");
  const size_t version_at = file.size() - segment::kTrailerSize + 20;
  ASSERT_EQ(DecodeFixed32(file.data() + version_at), segment::kVersion);
  // The file a version-v writer makes of these rows: version field and footer crc (which covers the
  // version from version 3 on) as it wrote them.
  segment::Trailer t;
  ASSERT_TRUE(segment::DecodeTrailer(std::string_view(file).substr(file.size() - segment::kTrailerSize), file.size(), &t).ok());
  const std::string_view footer = std::string_view(file).substr(t.footer_offset, t.footer_size);
  auto with_version = [&](uint32_t v) {
    std::string f = file;
    std::string enc;
    PutFixed32(&enc, v);
    f.replace(version_at, 4, enc);
    enc.clear();
    PutFixed32(&enc, crc32c::Mask(segment::FooterCrc(footer, v)));
    f.replace(version_at - 4, 4, enc);
    EXPECT_TRUE(env.SetContents("/s", f).ok());
    return SegmentReader::Open(&env, "/s");
  };
  for (uint32_t v : {1, 2}) {
    auto old = with_version(v);
    ASSERT_TRUE(old.ok()) << "version " << v << ": " << old.status().ToString();
    EXPECT_TRUE((*old)->Verify().ok());
    EXPECT_EQ(ReadAll(**old), rows);
  }
  // A version-3 file whose version field alone reads 1 or 2 (a flipped bit) fails its footer crc.
  for (uint32_t v : {1, 2}) {
    std::string f = file;
    std::string enc;
    PutFixed32(&enc, v);
    f.replace(version_at, 4, enc);
    ASSERT_TRUE(env.SetContents("/s", f).ok());
    auto flipped = SegmentReader::Open(&env, "/s");
    ASSERT_FALSE(flipped.ok()) << "version " << v;
    EXPECT_NE(flipped.status().ToString().find("footer checksum mismatch"), std::string::npos) << flipped.status().ToString();
  }
  auto next = with_version(segment::kVersion + 1);
  ASSERT_FALSE(next.ok());
  EXPECT_TRUE(next.status().Is(Code::kCorruption));
  EXPECT_NE(next.status().ToString().find("unsupported segment format version " + std::to_string(segment::kVersion + 1)),
            std::string::npos)
      << next.status().ToString();
  EXPECT_FALSE(with_version(0).ok());
}

// A flush's segment (payload frames LZ4; message ids raw, as a flush writes them, or zstd, as a
// builder does by default) is a version-3 file that reads back row for row, whole and per customer.
TEST(SegmentTest, Lz4PayloadFramesReadBackFromAVersionThreeFile) {
  RandomRowsOptions o;
  o.customers = 60;
  o.max_rows_per_customer = 40;
  o.extremes = true;  // empty and 60 KiB payloads: frames LZ4 leaves raw, frames of one huge value
  const auto rows = RandomRows(11, o);
  for (const auto ids : {column::FrameCodec::kZstd, column::FrameCodec::kRaw}) {
    const bool raw_ids = ids == column::FrameCodec::kRaw;
    SCOPED_TRACE(raw_ids ? "message ids raw" : "message ids zstd");
    io::MemEnv env;
    SegmentBuilderOptions bo;
    bo.block_rows = 300;
    bo.bytes.frame_bytes = 1024;
    bo.bytes.codec = column::FrameCodec::kLz4;
    bo.message_id_codec = ids;
    ASSERT_TRUE(BuildSegment(&env, "/s", rows, bo).ok());
    const std::string file = *env.Contents("/s");
    EXPECT_EQ(DecodeFixed32(file.data() + file.size() - segment::kTrailerSize + 20), 3u);
    auto r = OpenOrDie(&env, "/s");
    ASSERT_NE(r, nullptr);
    ASSERT_TRUE(r->Verify().ok()) << r->Verify().ToString();
    std::map<std::pair<Column, uint8_t>, size_t> methods;  // frames by column and method
    ByteColumnRegion region;
    for (size_t b = 0; b < r->block_count(); ++b) {
      for (Column c : {Column::kPayload, Column::kMessageId}) {
        ASSERT_TRUE(r->ReadByteColumnRegion(b, c, &region).ok());
        for (const auto& f : region.frames) ++methods[{c, f.method}];
      }
    }
    EXPECT_GT((methods[{Column::kPayload, column::kFrameLz4}]), 5u);
    EXPECT_EQ((methods[{Column::kPayload, column::kFrameZstd}]), 0u);
    EXPECT_EQ((methods[{Column::kMessageId, column::kFrameLz4}]), 0u) << "LZ4 is never used for message ids";
    if (raw_ids) {
      EXPECT_GT((methods[{Column::kMessageId, column::kFrameRaw}]), 5u);
      EXPECT_EQ((methods[{Column::kMessageId, column::kFrameZstd}]), 0u);
    } else {
      EXPECT_GT((methods[{Column::kMessageId, column::kFrameZstd}]), 0u);
    }
    EXPECT_EQ(ReadAll(*r), rows);
    ExpectEveryCustomerReadsItsRows(*r, rows);
  }
}

TEST(SegmentTest, StatsAccountForEveryByte) {
  io::MemEnv env;
  const auto rows = RandomRows(12);
  ASSERT_TRUE(BuildSegment(&env, "/s", rows).ok());
  auto r = OpenOrDie(&env, "/s");
  uint64_t total = r->stats().footer_bytes;
  for (uint64_t b : r->stats().column_bytes) total += b;
  EXPECT_EQ(total, r->stats().file_bytes);
  EXPECT_EQ(*env.GetFileSize("/s"), r->stats().file_bytes);
}

TEST(SegmentTest, ConcurrentReaders) {
  io::MemEnv env;
  RandomRowsOptions o;
  o.customers = 200;
  const auto rows = RandomRows(13, o);
  SegmentBuilderOptions bo;
  bo.block_rows = 128;
  ASSERT_TRUE(BuildSegment(&env, "/s", rows, bo).ok());
  auto r = OpenOrDie(&env, "/s");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t k = t; k < rows.size(); k += 97) {
        std::vector<Interaction> got;
        if (!r->ReadCustomer(rows[k].customer, &got).ok() || got != Of(rows, rows[k].customer)) ++failures;
      }
      if (!r->Verify().ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace cairn::store
