# Crash tests against the real binary (label recovery): kill -9 at random moments under load,
# restart, check every acknowledged message is there exactly once, `cairn verify` the data dir.
# CAIRN_CRASH_ITERATIONS=N for a longer run (default 100: the CI run, `make test`);
# cairn_crash_test_1000 (label slow) is the by-hand run of 1,000 kills.
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)

cairn_blackbox_test(cairn_crash_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/crash_test.cc
  LABELS recovery
  TIMEOUT 1800)
add_test(NAME cairn_crash_test_1000 COMMAND cairn_crash_test)
set_tests_properties(cairn_crash_test_1000 PROPERTIES LABELS "recovery;slow" TIMEOUT 14400
                     ENVIRONMENT "CAIRN_CRASH_ITERATIONS=1000")

# The erasure proof (docs/erasure.md): a marker string leaves every byte of the data directory
# (zstd frames included) after DELETE /v1/customers/{id} and `cairn compact`; suppression; an
# acknowledged erasure completes after kill -9; `cairn erase` offline.
cairn_blackbox_test(cairn_erasure_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/erasure_test.cc
  DEPS PkgConfig::ZSTD SQLite::SQLite3 cairn_store_segment
  LABELS recovery
  TIMEOUT 600)
target_compile_definitions(cairn_erasure_test PRIVATE
                           CAIRN_ENTITY_TESTDATA="${CMAKE_SOURCE_DIR}/src/entity/testdata")

# The store under the fault-injecting Env: fail the nth write/fsync/rename, then drop everything
# unsynced (torn tail), reopen, check every acknowledged row (fast: in-memory files).
cairn_test(store_fault_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_fault_test.cc
  DEPS cairn_store cairn_io
  LABELS recovery)

# Disk full on a small tmpfs the test mounts (root only; skipped otherwise), the real binary:
# 503 while full, accepting again once space returns, nothing acknowledged lost.
cairn_blackbox_test(cairn_disk_full_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/disk_full_test.cc
  LABELS recovery
  TIMEOUT 600)

# `cairn backup` of a running server under live ingest → verify, serve the copy, every earlier
# acknowledgement present (docs/reliability.md, "Backup").
cairn_blackbox_test(cairn_backup_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/backup_test.cc
  LABELS recovery
  TIMEOUT 600)
