# The simulated business's generation rate and memory (src/sim), without any ingest.
cairn_bench(sim_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/sim_bench.cc DEPS cairn_sim)
