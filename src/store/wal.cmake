# Write-ahead log (docs/format/wal.md): framing, reading, group commit, recovery.
cairn_library(cairn_store_wal
  SOURCES wal_writer.cc wal_reader.cc wal_committer.cc wal_recovery.cc
  DEPS cairn_store_record cairn_io)

cairn_test(wal_test
  SOURCES wal_test.cc wal_committer_test.cc
  DEPS cairn_store_wal)
