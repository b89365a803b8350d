// Snapshot::VisitCustomers: the same timeline as ReadCustomers, with memory bounded by blocks.
#include <gtest/gtest.h>

#include <future>

#include "io/mem_env.h"
#include "store/segment_format.h"
#include "store/segment_reader.h"
#include "store/store.h"

namespace cairn::store {
namespace {

Status AppendSync(Store* s, Batch b) {
  std::promise<Status> p;
  Status st = s->Append(std::move(b), [&](Status r) { p.set_value(r); });
  if (!st.ok()) return st;
  return p.get_future().get();
}

// `n` rows of `customer` with scrambled, often equal timestamps (ties are broken by seq).
Batch Rows(CustomerId customer, int n, int salt) {
  Batch b;
  for (int i = 0; i < n; ++i) {
    Interaction r;
    r.customer = customer;
    r.timestamp_ms = 1'700'000'000'000 + int64_t{(i * 7919 + salt * 104729) % 5000} * 1000;
    r.received_at_ms = r.timestamp_ms;
    r.event = i % 3 ? "Page Viewed" : "Order Completed";
    r.revenue = i % 3 ? 0 : i;
    r.message_id = "m-" + std::to_string(customer) + "-" + std::to_string(salt) + "-" + std::to_string(i);
    r.payload = R"({"type":"track","i":)" + std::to_string(i) + "}";
    b.interactions.push_back(std::move(r));
  }
  return b;
}

class VisitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.background_work = false;
    auto s = Store::Open(&env_, "/db", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    // Three segments in which customer 1 spans several 4096-row blocks and customer 3 (merged
    // into 1, say) sits inside one, then more than a memtable page of both still in memory.
    for (int round = 0; round < 3; ++round) {
      ASSERT_TRUE(AppendSync(store_.get(), Rows(1, 10000, round)).ok());
      ASSERT_TRUE(AppendSync(store_.get(), Rows(2, 300, round)).ok());
      ASSERT_TRUE(AppendSync(store_.get(), Rows(3, 200, round)).ok());
      ASSERT_TRUE(store_->Flush().ok());
    }
    ASSERT_TRUE(AppendSync(store_.get(), Rows(1, 6000, 7)).ok());
    ASSERT_TRUE(AppendSync(store_.get(), Rows(3, 50, 7)).ok());
    ASSERT_TRUE(AppendSync(store_.get(), Rows(2, 10, 7)).ok());
  }

  io::MemEnv env_;
  std::unique_ptr<Store> store_;
};

TEST_F(VisitTest, SameTimelineAsReadCustomersWithFarFewerRowsHeld) {
  auto snap = store_->GetSnapshot();
  ASSERT_EQ(snap->segments().size(), 3u);
  auto want = snap->ReadCustomers({3, 1});
  ASSERT_TRUE(want.ok());
  ASSERT_EQ(want->size(), 3u * 10200 + 6050);
  std::vector<Interaction> got;
  Snapshot::VisitStats st;
  ASSERT_TRUE(snap->VisitCustomers({3, 1, 3}, [&](const Interaction& r) { got.push_back(r); return true; }, ~0u, &st).ok());
  ASSERT_EQ(got.size(), want->size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], (*want)[i]) << "row " << i;
  EXPECT_EQ(st.rows, got.size());
  EXPECT_EQ(st.sources, 3u * 2 + 1) << "customers 1 and 3 in each segment, and the memtable";
  // The bound: a page per source — not the 36k rows.
  EXPECT_LE(st.max_buffered_rows, st.sources * Snapshot::kVisitPageRows);
  EXPECT_LT(st.max_buffered_rows, want->size() / 8);
}

TEST_F(VisitTest, ColumnsStopAndHiddenCustomers) {
  auto snap = store_->GetSnapshot();
  // Segment rows decode only the columns asked for (memtable rows come whole).
  size_t n = 0, with_payload = 0;
  ASSERT_TRUE(snap->VisitCustomers({1}, [&](const Interaction& r) {
                    ++n;
                    with_payload += !r.payload.empty();
                    return true;
                  }, segment::kFixedColumns).ok());
  EXPECT_EQ(n, 36000u);
  EXPECT_EQ(with_payload, 6000u);
  // fn returning false stops the visit.
  n = 0;
  ASSERT_TRUE(snap->VisitCustomers({1}, [&](const Interaction&) { return ++n < 5000; }).ok());
  EXPECT_EQ(n, 5000u);
  // Hidden (erased) customers are not visited, as with ReadCustomers.
  store_->HideCustomers({1});
  n = 0;
  ASSERT_TRUE(store_->GetSnapshot()->VisitCustomers({1, 3}, [&](const Interaction& r) {
                    EXPECT_EQ(r.customer, 3u);
                    ++n;
                    return true;
                  }).ok());
  EXPECT_EQ(n, 650u);
  // A page outside its block is refused, naming the rows.
  FixedColumns cols;
  EXPECT_EQ(snap->segments()[0]->ReadBlockRows(0, 10, 5, segment::kFixedColumns, &cols).code(), Code::kInvalidArgument);
  EXPECT_EQ(snap->segments()[0]->ReadBlockRows(0, 0, 4097, segment::kFixedColumns, &cols).code(), Code::kInvalidArgument);
  n = 0;
  ASSERT_TRUE(snap->VisitCustomers({99}, [&](const Interaction&) { return ++n, true; }).ok());
  EXPECT_EQ(n, 0u);
}

}  // namespace
}  // namespace cairn::store
