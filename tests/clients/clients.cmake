# The real collection SDKs from npm against the real `cairn` binary: analytics-node, rudder-sdk-node
# and posthog-node (label `clients`), analytics-next in headless Chromium (label `e2e`). Each
# suite is a node:test script taking the binary's path; it starts its own cairn per test.
#
# The npm packages come from tests/clients/package-lock.json (scripts/setup runs `npm ci`). Without
# tests/clients/node_modules a suite exits 77 and ctest reports it skipped; nothing else skips.
# Run one by hand: node tests/clients/analytics_node.test.js build/dev/src/app/cairn

find_program(CAIRN_NODE_EXECUTABLE node)
if(NOT CAIRN_NODE_EXECUTABLE)
  set(CAIRN_NODE_EXECUTABLE node)  # not installed: the tests fail saying so (scripts/setup installs it)
endif()

function(cairn_client_test name script label timeout)
  add_test(NAME ${name}
    COMMAND ${CAIRN_NODE_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${script} $<TARGET_FILE:cairn>
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(${name} PROPERTIES
    LABELS ${label}
    TIMEOUT ${timeout}
    SKIP_RETURN_CODE 77)
endfunction()

cairn_client_test(clients.analytics_node analytics_node.test.js clients 120)
cairn_client_test(clients.rudder_node rudder_node.test.js clients 120)
cairn_client_test(clients.posthog_node posthog_node.test.js clients 120)
cairn_client_test(e2e.browser_analytics_next browser.test.js e2e 180)
