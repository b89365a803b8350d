# Dispatcher against a real HTTP(S) receiver (tests/actions/webhook_receiver.h).
cairn_test(actions_dispatcher_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/dispatcher_test.cc
  DEPS cairn_actions Boost::headers OpenSSL::SSL OpenSSL::Crypto)

# Rescue queue + actions against the real binary (label integration).
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)
cairn_test(rescue_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/rescue_blackbox_test.cc
  DEPS cairn_testutil_proc cairn_actions Boost::json
  LABELS integration
  TIMEOUT 300)
target_include_directories(rescue_blackbox_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(rescue_blackbox_test PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
add_dependencies(rescue_blackbox_test cairn)
