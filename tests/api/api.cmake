# Black-box tests of the real `cairn` binary (label integration): they start it as a child
# process on a temporary data dir and talk HTTP to it. The binary under test is passed in as
# CAIRN_BINARY, and building the tests builds it.
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)

cairn_blackbox_test(cairn_blackbox_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/auth_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/bad_input_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/data_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/lifecycle_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/maintenance_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/startup_test.cc
  DEPS ZLIB::ZLIB
  TIMEOUT 900)

# Cases and surveys against the real binary (docs/cases.md).
cairn_blackbox_test(cases_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cases_test.cc
  DEPS OpenSSL::SSL OpenSSL::Crypto)  # the webhook receiver speaks TLS too

# Roles over the whole route table, dashboard sessions, rate limits, audit log (docs/access.md).
cairn_blackbox_test(access_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/roles_test.cc ${CMAKE_CURRENT_LIST_DIR}/session_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/audit_test.cc)
