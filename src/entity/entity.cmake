# entity: the relational side (SQLite) — profiles.db (derived from the WAL) and keys.db.
# Formats: docs/format/profiles.md.
cairn_library(cairn_entity
  SOURCES sqlite_db.cc profile_update.cc profile_store.cc key_store.cc audit_log.cc
  DEPS cairn_store_record SQLite::SQLite3 simdjson::simdjson PkgConfig::SODIUM fmt::fmt)
cairn_test(entity_test
  SOURCES sqlite_db_test.cc profile_store_test.cc key_store_test.cc audit_log_test.cc
  DEPS cairn_entity)
# testdata/audit_schema1.sql: an audit.db written by schema 1 (also used by tests/recovery/erasure_test.cc).
target_compile_definitions(entity_test PRIVATE CAIRN_ENTITY_TESTDATA="${CMAKE_CURRENT_SOURCE_DIR}/testdata")
cairn_simd(cairn_entity)
# Consent ledger (DIR/consents.db, primary data): docs/format/consents.md, docs/consent.md.
# Links ingest's timestamp parser for expires_at (a leaf library: store records, simdjson).
cairn_library(cairn_consent SOURCES consent_store.cc DEPS cairn_entity cairn_ingest_parse simdjson::simdjson fmt::fmt)
cairn_test(consent_store_test SOURCES consent_store_test.cc DEPS cairn_consent)
