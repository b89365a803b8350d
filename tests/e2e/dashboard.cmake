# The dashboard API against the real binary (docs/dashboard.md): goals/budgets/activities CRUD
# over HTTP, interactions in through /v1/batch, GET /v1/dashboard, a goal edit moving the ETA,
# and a restart keeping the goals.
cairn_test(dashboard_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/dashboard_api_test.cc
  DEPS cairn_testutil_proc Boost::json
  LABELS integration
  TIMEOUT 300)
target_include_directories(dashboard_blackbox_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(dashboard_blackbox_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
add_dependencies(dashboard_blackbox_test cairn)
