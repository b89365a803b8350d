# wal_dump FILE_OR_DIR: prints every WAL record and how each file ends (docs/format/wal.md).
add_executable(wal_dump wal_dump.cc)
target_link_libraries(wal_dump PRIVATE cairn_store_wal cairn_store_record cairn_warnings)
