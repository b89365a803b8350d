# Golden + randomized tests of trends / lifecycle / stickiness / paths (label queries).
cairn_test(insights_golden_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/insights_golden_test.cc
  DEPS cairn_analytics cairn_api cairn_io Boost::json
  LABELS queries)
target_compile_definitions(insights_golden_test PRIVATE CAIRN_QUERIES_DIR="${CMAKE_CURRENT_LIST_DIR}/..")

# The four routes against the real binary (label integration).
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)
cairn_blackbox_test(insights_api_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/../paths/insights_api_test.cc)
