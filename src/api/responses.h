#pragma once
// Building the answers every handler shares: JSON bodies for success and errors, and the
// Status → HTTP answer (via status_to_http, the one mapping).
//
// Error body: {"success":false,"error":"<client-safe message>"}.

#include <string>
#include <string_view>

#include "api/http_types.h"
#include "api/status_to_http.h"
#include "base/status.h"

namespace cairn::api {

ApiResponse JsonResponse(unsigned status, std::string body);
ApiResponse JsonError(unsigned status, std::string_view message);
// Maps `status` (non-OK) with StatusToHttp and adds Retry-After when it says so.
ApiResponse ErrorFromStatus(const Status& status, const StatusMapOptions& options = {}, std::string_view what = "");
// 503 for a route whose core service this server runs without:
// {"success":false,"error":"<module> is not available on this server"}.
ApiResponse ServiceUnavailable(std::string_view module);
ApiResponse TextResponse(unsigned status, std::string body, std::string content_type = "text/plain; charset=utf-8");

}  // namespace cairn::api
