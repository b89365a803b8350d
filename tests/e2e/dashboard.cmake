# The dashboard API against the real binary (docs/dashboard.md): goals/budgets/activities CRUD
# over HTTP, interactions in through /v1/batch, GET /v1/dashboard, a goal edit moving the ETA,
# and a restart keeping the goals.
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)
cairn_blackbox_test(dashboard_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/dashboard_api_test.cc)
