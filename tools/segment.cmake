# segment_dump FILE [--rows]: prints a segment's footer, dictionaries, block index and column sizes
# (and optionally every row), then verifies every chunk (docs/format/segment.md).
add_executable(segment_dump segment_dump.cc)
target_link_libraries(segment_dump PRIVATE cairn_store_segment cairn_warnings)
