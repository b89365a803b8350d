# Customer value against the real binary (label integration): ingest purchases over HTTP, fit,
# read values back. docs/value.md "API".
cairn_test(value_api_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/value_api_test.cc
  DEPS cairn_testutil_proc Boost::json
  LABELS integration
  TIMEOUT 600)
target_include_directories(value_api_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(value_api_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>"
                                                CAIRN_CDNOW_DIR="${PROJECT_SOURCE_DIR}/../shared/data/cdnow")
add_dependencies(value_api_test cairn)
