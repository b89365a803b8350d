# The simulated business's generation rate and memory (src/sim), without any ingest.
cairn_bench(sim_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/sim_bench.cc DEPS cairn_sim)

# `cairn demo`'s history load through the import path into a fresh data dir (wall, CPU, load average).
cairn_bench(demo_load_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/demo_load_bench.cc DEPS cairn_app)
