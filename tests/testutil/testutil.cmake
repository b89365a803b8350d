# Test helpers for suites that drive the real binary: child processes and an HTTP client.
# Included from tests/api/api.cmake (and tests/recovery/recovery.cmake); defined once.
if(NOT TARGET cairn_testutil_proc)
  cairn_library(cairn_testutil_proc
    SOURCES
      ${CMAKE_CURRENT_LIST_DIR}/process.cc
      ${CMAKE_CURRENT_LIST_DIR}/http_client.cc
    DEPS cairn_base Boost::headers Threads::Threads)
  # Headers are included as "testutil/process.h", like testutil/temp_dir.h.
  target_include_directories(cairn_testutil_proc PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
endif()

# cairn_blackbox_test(NAME SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT s]): a test of the real
# `cairn` binary (api/cairn_server.h): linked with the process/HTTP helpers and Boost.JSON,
# includes rooted at tests/, CAIRN_BINARY = the binary under test, and building the test builds
# the binary. LABELS default to integration, TIMEOUT to 300 s; DEPS are added to those.
function(cairn_blackbox_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  set(labels integration)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  cairn_test(${name}
    SOURCES ${ARG_SOURCES}
    DEPS cairn_testutil_proc Boost::json ${ARG_DEPS}
    LABELS ${labels}
    TIMEOUT ${ARG_TIMEOUT})  # empty: cairn_test's default
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE CAIRN_BINARY="$<TARGET_FILE:cairn>")
  add_dependencies(${name} cairn)
endfunction()
