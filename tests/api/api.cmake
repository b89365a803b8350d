# Black-box tests of the real `cairn` binary (label integration): they start it as a child
# process on a temporary data dir and talk HTTP to it. The binary under test is passed in as
# CAIRN_BINARY, and building the tests builds it.
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)

cairn_test(cairn_blackbox_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/auth_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/bad_input_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/data_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/lifecycle_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/maintenance_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/startup_test.cc
  DEPS cairn_testutil_proc Boost::json ZLIB::ZLIB
  LABELS integration
  TIMEOUT 900)
target_include_directories(cairn_blackbox_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(cairn_blackbox_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
add_dependencies(cairn_blackbox_test cairn)

# Cases and surveys against the real binary (docs/cases.md).
cairn_test(cases_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cases_test.cc
  DEPS cairn_testutil_proc Boost::json OpenSSL::SSL OpenSSL::Crypto  # the webhook receiver speaks TLS too
  LABELS integration
  TIMEOUT 300)
target_include_directories(cases_blackbox_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(cases_blackbox_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
add_dependencies(cases_blackbox_test cairn)

# Roles over the whole route table, dashboard sessions, rate limits, audit log (docs/access.md).
cairn_test(access_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/roles_test.cc ${CMAKE_CURRENT_LIST_DIR}/session_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/audit_test.cc
  DEPS cairn_testutil_proc Boost::json
  LABELS integration
  TIMEOUT 300)
target_include_directories(access_blackbox_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(access_blackbox_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
add_dependencies(access_blackbox_test cairn)
