# Golden files of query semantics (events in, spec, expected rows out): see golden_test.cc.
cairn_test(queries_golden_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/golden_test.cc
  DEPS cairn_analytics cairn_ingest cairn_api fmt::fmt
  LABELS queries)
target_compile_definitions(queries_golden_test PRIVATE CAIRN_QUERIES_DIR="${CMAKE_CURRENT_LIST_DIR}")

# Black-box tests against the real binary (label integration): CAIRN_BINARY is the cairn under test.
function(cairn_query_blackbox_test name source)
  cairn_test(${name}
    SOURCES ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${source}
    DEPS cairn_testutil_proc Boost::json
    LABELS integration
    TIMEOUT 300)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
  add_dependencies(${name} cairn)
endfunction()

# POST /v1/query/*: shapes, 400 naming the field, warnings, auth, fresh interactions.
cairn_query_blackbox_test(query_blackbox_test query_api_test.cc)
# Cancel on client disconnect and the time limit, over real HTTP (a slowed-down query; ~10 s).
cairn_query_blackbox_test(query_limits_test query_limits_test.cc)
# cairn query <verb> on a small imported data dir: tables, --json, who lists, exit 2 (~60 s).
cairn_query_blackbox_test(query_cli_test query_cli_test.cc)

include(${CMAKE_CURRENT_LIST_DIR}/cases/cases.cmake)  # cases/SLA/NPS goldens (cases_golden_test.cc)
