# Golden files of cases, SLAs and surveys (events and requests in, expected cases/NPS/SLA rows
# out): see cases_golden_test.cc and README.md here.
cairn_test(cases_golden_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cases_golden_test.cc
  DEPS cairn_cases cairn_api fmt::fmt
  LABELS queries)
target_compile_definitions(cases_golden_test PRIVATE CAIRN_CASES_GOLDEN_DIR="${CMAKE_CURRENT_LIST_DIR}")
