# Golden files of query semantics (events in, spec, expected rows out): see golden_test.cc.
cairn_test(queries_golden_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/golden_test.cc
  DEPS cairn_analytics cairn_ingest cairn_api fmt::fmt
  LABELS queries)
target_compile_definitions(queries_golden_test PRIVATE CAIRN_QUERIES_DIR="${CMAKE_CURRENT_LIST_DIR}")

# Black-box tests against the real binary (label integration; tests/testutil/testutil.cmake).
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)
# POST /v1/query/*: shapes, 400 naming the field, warnings, auth, fresh interactions.
cairn_blackbox_test(query_blackbox_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/query_api_test.cc)
# Cancel on client disconnect and the time limit, over real HTTP (a slowed-down query; ~10 s).
cairn_blackbox_test(query_limits_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/query_limits_test.cc)
# cairn query <verb> on a small imported data dir: tables, --json, who lists, exit 2 (~60 s).
cairn_blackbox_test(query_cli_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/query_cli_test.cc)

include(${CMAKE_CURRENT_LIST_DIR}/cases/cases.cmake)  # cases/SLA/NPS goldens (cases_golden_test.cc)
