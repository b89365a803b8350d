# Case engine at scale (issue 5): SLA timers over 1M cases, filtered case lists, NPS over 10M answers.
cairn_bench(cases_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cases_bench.cc
  DEPS cairn_cases cairn_testutil)
target_include_directories(cases_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
