cairn_library(cairn_identity SOURCES identity_resolver.cc dedup_table.cc DEPS cairn_store_record PkgConfig::XXHASH Boost::headers)
cairn_test(identity_test SOURCES identity_resolver_test.cc dedup_table_test.cc DEPS cairn_identity)
# The ingest pipeline: the Ingestor implementation over parsing, identity and the store.
cairn_library(cairn_ingest SOURCES pipeline.cc dedup_seed.cc DEPS cairn_ingest_parse cairn_identity cairn_store)
cairn_test(ingest_seed_test SOURCES dedup_seed_test.cc DEPS cairn_ingest)

if(CAIRN_BENCH)
  cairn_bench(identity_bench SOURCES identity_bench.cc DEPS cairn_identity fmt::fmt)
endif()
