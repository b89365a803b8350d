# Macro benchmarks of the spine (ingest over HTTP, import, scans). Each prints one figure per line:
# `name value unit`. bench/run_all.sh builds and runs them; bench/README.md says what each measures.

# Deterministic Segment-shaped JSON Lines (only base/civil_time.h, header-only: it writes text).
cairn_bench(gen_events SOURCES ${CMAKE_CURRENT_LIST_DIR}/gen_events.cc DEPS cairn_base)

# HTTP load generator against a real `cairn serve` (Beast client); also compacts the store it
# filled to report bytes/event at rest.
cairn_bench(ingest_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ingest_bench.cc
  DEPS cairn_store Boost::headers Threads::Threads ZLIB::ZLIB)

# Fixed-column scans and per-customer reads over an imported store.
cairn_bench(scan_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/scan_bench.cc
  DEPS cairn_store Threads::Threads)
