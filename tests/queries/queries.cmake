# Golden files of query semantics (events in, spec, expected rows out): see golden_test.cc.
cairn_test(queries_golden_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/golden_test.cc
  DEPS cairn_analytics cairn_ingest cairn_api fmt::fmt
  LABELS queries)
target_compile_definitions(queries_golden_test PRIVATE CAIRN_QUERIES_DIR="${CMAKE_CURRENT_LIST_DIR}")

# POST /v1/query/* against the real binary (label integration).
cairn_test(query_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/query_api_test.cc
  DEPS cairn_testutil_proc Boost::json
  LABELS integration
  TIMEOUT 300)
target_include_directories(query_blackbox_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(query_blackbox_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
add_dependencies(query_blackbox_test cairn)

include(${CMAKE_CURRENT_LIST_DIR}/cases/cases.cmake)  # cases/SLA/NPS goldens (cases_golden_test.cc)
