# GET /v1/dashboard's computation over a real store of 100M interactions / 1M customers (in-memory Env).
cairn_bench(dashboard_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/dashboard_bench.cc
  DEPS cairn_dashboard cairn_store cairn_io)
