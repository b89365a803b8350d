# ingest parsing: body decoding (gzip, caps) and request parsing into normalised Messages.
cairn_library(cairn_ingest_parse
  SOURCES body_decoder.cc json_text.cc timestamp.cc parser.cc segment_message.cc segment_fast_path.cc posthog_mapping.cc
  DEPS cairn_store_record simdjson::simdjson PkgConfig::ISAL PkgConfig::XXHASH fmt::fmt)

cairn_test(ingest_parse_test
  SOURCES parser_test.cc parser_fast_path_test.cc posthog_test.cc body_decoder_test.cc timestamp_test.cc json_text_test.cc
  DEPS cairn_ingest_parse ZLIB::ZLIB)
# Sample bodies under testdata/ are read by path.
target_compile_definitions(ingest_parse_test PRIVATE CAIRN_INGEST_TESTDATA="${CMAKE_CURRENT_SOURCE_DIR}/testdata")

if(CAIRN_BENCH)
  cairn_bench(parser_bench SOURCES parser_bench.cc DEPS cairn_ingest_parse ZLIB::ZLIB)
endif()

if(CAIRN_FUZZ)
  # libFuzzer target; the fuzz preset compiles everything with -fsanitize=fuzzer-no-link.
  add_executable(parser_fuzz parser_fuzz.cc)
  target_link_libraries(parser_fuzz PRIVATE cairn_ingest_parse cairn_warnings)
  target_link_options(parser_fuzz PRIVATE -fsanitize=fuzzer)
endif()
cairn_simd(cairn_ingest_parse)
