# Dispatcher against a real HTTP receiver (tests/actions/webhook_receiver.h).
cairn_test(actions_dispatcher_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/dispatcher_test.cc
  DEPS cairn_actions Boost::headers)
