# api: the HTTP edge (Boost.Beast). It includes only the interface headers of ingest/ and entity/
# (ingestor.h, customer_directory.h: declarations), never their implementation libraries; app/
# links the implementations and hands them in through Services.
cairn_library(cairn_api
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/auth.cc
    ${CMAKE_CURRENT_LIST_DIR}/cors.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/action_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/case_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/consent_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/customer_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/feedback_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/insights_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/json_writer.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/page_filter.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/query_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/segment_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/who_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/rescue_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/journey_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/value_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/dashboard_dto.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/action_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/audit_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/backup_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/admin_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/case_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/consent_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/export_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/customer_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/feedback_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/ingest_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/insights_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/query_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/rescue_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/journey_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/key_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/value_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/dashboard_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/handlers/erase_handler.cc
    ${CMAKE_CURRENT_LIST_DIR}/http_server.cc
    ${CMAKE_CURRENT_LIST_DIR}/query_pool.cc
    ${CMAKE_CURRENT_LIST_DIR}/rate_limit.cc
    ${CMAKE_CURRENT_LIST_DIR}/responses.cc
    ${CMAKE_CURRENT_LIST_DIR}/router.cc
    ${CMAKE_CURRENT_LIST_DIR}/session.cc
    ${CMAKE_CURRENT_LIST_DIR}/session_routes.cc
    ${CMAKE_CURRENT_LIST_DIR}/static_assets.cc
    ${CMAKE_CURRENT_LIST_DIR}/status_to_http.cc
    ${CMAKE_CURRENT_LIST_DIR}/url.cc
  DEPS cairn_base cairn_store_record Boost::headers Boost::json fmt::fmt Threads::Threads)
# The web dashboard (web/) built and embedded, or the placeholder page without Node: static_assets.h.
include(CairnWebAssets)
cairn_web_assets(cairn_api ${CMAKE_CURRENT_LIST_DIR}/assets/placeholder.html)
cairn_test(static_assets_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/static_assets_test.cc DEPS cairn_api)

cairn_test(api_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/auth_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/dto/customer_dto_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/http_server_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/rate_limit_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/session_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/status_to_http_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/url_test.cc
  DEPS cairn_api Boost::json)
