# Abusive and slow clients against the real binary (label integration): slowloris, 10k idle
# connections, oversized headers, max_connections, a 100k-request burst (docs/reliability.md).
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)

cairn_test(cairn_abuse_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/abuse_test.cc
  DEPS cairn_testutil_proc Boost::json
  LABELS integration
  TIMEOUT 600)
target_include_directories(cairn_abuse_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(cairn_abuse_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
add_dependencies(cairn_abuse_test cairn)
