# Customer value: fit BG/NBD + Gamma-Gamma on 1M synthetic customer summaries, score 10M.
cairn_bench(value_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/value_bench.cc
  DEPS cairn_value Threads::Threads)
# Next best offer rules over Online Retail, personas over synthetic customers.
cairn_bench(value_offers_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/offers_bench.cc
  DEPS cairn_value)
# RFM summaries from 100M interactions in real segment files (in-memory Env), scanned over 2 threads.
cairn_bench(value_rfm_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/rfm_bench.cc
  DEPS cairn_value cairn_store_segment cairn_io Threads::Threads)
