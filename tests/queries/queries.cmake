# Golden files of query semantics (events in, spec, expected rows out): see golden_test.cc.
cairn_test(queries_golden_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/golden_test.cc
  DEPS cairn_analytics cairn_ingest cairn_api fmt::fmt
  LABELS queries)
target_compile_definitions(queries_golden_test PRIVATE CAIRN_QUERIES_DIR="${CMAKE_CURRENT_LIST_DIR}")
