# paths / trends / lifecycle / stickiness: kernels over the scan layer (exec/event_index.h),
# semantics in spec/{paths,trends,lifecycle,stickiness}.h. Included by CMakeLists.txt.
cairn_library(cairn_analytics_insights
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/exec/trends.cc
    ${CMAKE_CURRENT_LIST_DIR}/exec/lifecycle.cc
    ${CMAKE_CURRENT_LIST_DIR}/exec/stickiness.cc
    ${CMAKE_CURRENT_LIST_DIR}/exec/paths.cc
  DEPS cairn_analytics)
