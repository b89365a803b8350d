# paths / trends / lifecycle / stickiness: kernels over the scan layer (exec/event_index.h),
# semantics in spec/{paths,trends,lifecycle,stickiness}.h, served by Engine (trends_engine.cc).
# Part of cairn_analytics itself: Engine's vtable needs them. Included by CMakeLists.txt.
target_sources(cairn_analytics PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/exec/trends.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec/lifecycle.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec/stickiness.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec/paths.cc
  ${CMAKE_CURRENT_LIST_DIR}/trends_engine.cc)
