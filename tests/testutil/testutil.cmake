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
