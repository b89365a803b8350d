# Crash tests against the real binary (label recovery): kill -9 at random moments under load,
# restart, check every acknowledged message is there exactly once, `cairn verify` the data dir.
# CAIRN_CRASH_ITERATIONS=N for a longer run (default 20).
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)

cairn_test(cairn_crash_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/crash_test.cc
  DEPS cairn_testutil_proc Boost::json
  LABELS recovery
  TIMEOUT 1800)
target_include_directories(cairn_crash_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(cairn_crash_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
add_dependencies(cairn_crash_test cairn)
