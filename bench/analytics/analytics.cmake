# bench/analytics: the gen_events data written straight into store segments (run.sh --direct: the
# 100M-event store without hours of `cairn import`). Included from bench/CMakeLists.txt.
cairn_bench(gen_store
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/gen_store.cc
  DEPS cairn_store)
# The run.sh queries in-process over a store on disk (no HTTP, no hub): the --direct Cairn side.
cairn_bench(analytics_store_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_bench.cc
  DEPS cairn_analytics cairn_store)
