# Consent ledger, export and retention (docs/consent.md, docs/export.md).
# The action gates over the real ledger (consents.db) and a real webhook receiver.
cairn_test(consent_gate_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/consent_gate_test.cc
  DEPS cairn_app cairn_actions Boost::headers)
target_include_directories(consent_gate_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)

# Consent API and export against the real binary (label integration).
include(${CMAKE_SOURCE_DIR}/tests/testutil/testutil.cmake)
cairn_blackbox_test(consent_blackbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/consent_blackbox_test.cc)

# Retention policy through store compaction (in-memory Env).
cairn_test(retention_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/retention_test.cc
  DEPS cairn_app cairn_store)
