# Dispatcher against a real HTTP(S) receiver (tests/actions/webhook_receiver.h).
cairn_test(actions_dispatcher_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/dispatcher_test.cc
  DEPS cairn_actions Boost::headers OpenSSL::SSL OpenSSL::Crypto)

# Rescue queue + actions against the real binary (label integration).
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)
cairn_blackbox_test(rescue_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/rescue_blackbox_test.cc
  DEPS cairn_actions)
