# Peer conformance against ClickHouse (label `clickhouse`, not part of `make test`): see
# conformance.sh. Needs the cairn binary and bench/gen_events (built here too when the bench
# targets are off, as in the dev preset).
if(NOT TARGET gen_events)
  add_executable(peer_gen_events ${PROJECT_SOURCE_DIR}/bench/gen_events.cc)
  target_link_libraries(peer_gen_events PRIVATE cairn_base cairn_warnings)
  set(_peer_gen peer_gen_events)
else()
  set(_peer_gen gen_events)
endif()
add_test(NAME peer_clickhouse_conformance
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/conformance.sh $<TARGET_FILE:cairn> $<TARGET_FILE:${_peer_gen}>)
set_tests_properties(peer_clickhouse_conformance PROPERTIES LABELS clickhouse TIMEOUT 1200 SKIP_RETURN_CODE 77)
