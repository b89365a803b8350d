# Immutable columnar segments (docs/format/segment.md). Included from src/store/CMakeLists.txt.
cairn_library(cairn_store_segment
  SOURCES
    column_bitpack.cc
    column_encoding.cc
    column_bytes.cc
    segment_format.cc
    segment_builder.cc
    segment_reader.cc
    segment_iterator.cc
  DEPS cairn_store_record cairn_io PkgConfig::ZSTD PkgConfig::LZ4 PkgConfig::XXHASH Boost::headers)
# The scan's decode kernels: -O3 lets GCC vectorise the range checks, fills and prefix loops that
# -O2's "very cheap" vectoriser skips (measured by segment_bench). Optimised builds only.
set_source_files_properties(column_bitpack.cc column_encoding.cc
  PROPERTIES COMPILE_OPTIONS "$<$<CONFIG:Release,RelWithDebInfo>:-O3>;${CAIRN_SIMD_FLAGS}")

cairn_test(segment_test
  SOURCES
    column_bitpack_test.cc
    column_encoding_test.cc
    segment_test.cc
    segment_corruption_test.cc
  DEPS cairn_store_segment)

if(CAIRN_BENCH)
  cairn_bench(segment_bench SOURCES segment_bench.cc DEPS cairn_store_segment)
endif()
