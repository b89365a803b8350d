# The web dashboard (web/: TypeScript + Vite + ECharts) compiled into the binary.
#
# cairn_web_assets(TARGET PLACEHOLDER): adds to TARGET a generated web_assets.cc holding
# `cairn::api::kStaticAssets` (src/api/static_assets.h), made by the host tool cairn_asset_gen
# (src/api/assets/asset_table_gen.cc) from
#   - web/'s production build (`npm run build`, output in ${CMAKE_BINARY_DIR}/web-dist), re-run
#     whenever a file under web/src or web/public, web/index.html or the npm/Vite/TS config changes;
#   - or, without Node.js/npm or web/node_modules (scripts/setup installs both), PLACEHOLDER alone
#     as index.html: the C++ build never needs Node, it then serves the placeholder page.
# CAIRN_WEB_UI: AUTO (default) picks as above and says which; ON makes a missing npm or
# web/node_modules a configure error; OFF always embeds the placeholder.
set(CAIRN_WEB_UI "AUTO" CACHE STRING "Embed the web dashboard: AUTO (when npm and web/node_modules exist), ON, OFF")
set_property(CACHE CAIRN_WEB_UI PROPERTY STRINGS AUTO ON OFF)

function(cairn_web_assets target placeholder)
  set(web_dir ${PROJECT_SOURCE_DIR}/web)
  find_program(CAIRN_NPM_EXECUTABLE npm)
  set(use_web OFF)
  if(NOT CAIRN_WEB_UI STREQUAL "OFF")
    if(CAIRN_NPM_EXECUTABLE AND EXISTS ${web_dir}/node_modules/.package-lock.json)
      set(use_web ON)
    elseif(CAIRN_WEB_UI STREQUAL "ON")
      message(FATAL_ERROR "CAIRN_WEB_UI=ON needs npm and web/node_modules: run scripts/setup")
    endif()
  endif()

  add_executable(cairn_asset_gen ${PROJECT_SOURCE_DIR}/src/api/assets/asset_table_gen.cc)
  target_link_libraries(cairn_asset_gen PRIVATE ZLIB::ZLIB cairn_warnings)

  if(use_web)
    message(STATUS "Web dashboard: built from web/ with ${CAIRN_NPM_EXECUTABLE}")
    set(dist ${CMAKE_BINARY_DIR}/web-dist)
    file(GLOB_RECURSE web_sources CONFIGURE_DEPENDS ${web_dir}/src/* ${web_dir}/public/*)
    add_custom_command(OUTPUT ${dist}/index.html
      COMMAND ${CAIRN_NPM_EXECUTABLE} run --silent build -- --outDir ${dist} --emptyOutDir --logLevel warn
      WORKING_DIRECTORY ${web_dir}
      DEPENDS ${web_sources} ${web_dir}/index.html ${web_dir}/package.json ${web_dir}/package-lock.json
              ${web_dir}/vite.config.ts ${web_dir}/tsconfig.json
      COMMENT "Building the web dashboard (npm run build in web/)"
      VERBATIM)
  else()
    message(STATUS "Web dashboard: not built (no npm or web/node_modules): / serves the placeholder page")
    set(dist ${CMAKE_BINARY_DIR}/web-placeholder)
    configure_file(${placeholder} ${dist}/index.html COPYONLY)
  endif()

  set(out ${CMAKE_CURRENT_BINARY_DIR}/web_assets.cc)
  add_custom_command(OUTPUT ${out}
    COMMAND cairn_asset_gen ${dist} ${out}
    DEPENDS cairn_asset_gen ${dist}/index.html
    COMMENT "Embedding the web dashboard's files"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
