# The store façade: memtable, manifest, flush, compaction, snapshots over WAL + segments.
cairn_library(cairn_store
  SOURCES compaction_policy.cc customer_visit.cc memtable.cc manifest.cc store.cc
  DEPS cairn_store_wal cairn_store_segment fmt::fmt)
cairn_test(store_test SOURCES store_test.cc compaction_policy_test.cc customer_visit_test.cc memtable_test.cc DEPS cairn_store)
cairn_test(store_erasure_test SOURCES erasure_test.cc DEPS cairn_store)
if(CAIRN_BENCH)
  cairn_bench(compaction_bench SOURCES compaction_bench.cc DEPS cairn_store)
  cairn_bench(flush_bench SOURCES flush_bench.cc DEPS cairn_store)
endif()
