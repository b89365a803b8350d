# The web dashboard in headless Chromium (playwright-core from web/node_modules) against the real
# `cairn demo` (label e2e): login, live overview, goal edit → ETA, funnel builder vs the API,
# customer timeline, rescue queue. Screenshots go to build/<dir>/e2e-artifacts/dashboard/.
# Skipped (exit 77) without web/node_modules or when the binary was built without the web UI.
# By hand: node tests/e2e/browser/dashboard.test.js build/dev/src/app/cairn
find_program(CAIRN_E2E_NODE node)
if(NOT CAIRN_E2E_NODE)
  set(CAIRN_E2E_NODE node)  # not installed: the test fails saying so (scripts/setup installs it)
endif()
add_test(NAME e2e.dashboard_browser
  COMMAND ${CAIRN_E2E_NODE} ${CMAKE_CURRENT_LIST_DIR}/dashboard.test.js $<TARGET_FILE:cairn>
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(e2e.dashboard_browser PROPERTIES
  LABELS e2e
  TIMEOUT 300
  SKIP_RETURN_CODE 77
  ENVIRONMENT "CAIRN_E2E_ARTIFACTS=${CMAKE_BINARY_DIR}/e2e-artifacts/dashboard")
