# Customer value against the real binary (label integration): ingest purchases over HTTP, fit,
# read values back. docs/value.md "API".
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)
cairn_blackbox_test(value_api_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/value_api_test.cc
  TIMEOUT 600)
target_compile_definitions(value_api_test PRIVATE CAIRN_CDNOW_DIR="${PROJECT_SOURCE_DIR}/../shared/data/cdnow")
