# Helper functions so that every module, test and benchmark is declared the same way.

# Warnings for Cairn's own code only (third-party headers are included as SYSTEM).
add_library(cairn_warnings INTERFACE)
target_compile_options(cairn_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wno-unused-parameter -Wnon-virtual-dtor -Wimplicit-fallthrough)

# cairn_library(NAME SOURCES ... DEPS ...): a static library for one module (src/<module>).
function(cairn_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE cairn_warnings)
endfunction()

# cairn_test(NAME SOURCES ... DEPS ... LABELS ...): one GoogleTest binary registered with ctest.
# Default label: unit.
function(cairn_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} cairn_testutil GTest::gtest GTest::gmock
                        GTest::gtest_main cairn_warnings)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# cairn_bench(NAME SOURCES ... DEPS ...): a benchmark program (not a test).
function(cairn_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} cairn_warnings)
endfunction()
