#include "api/responses.h"

#include "api/dto/json_writer.h"

namespace cairn::api {

ApiResponse JsonResponse(unsigned status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse JsonError(unsigned status, std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("success").Bool(false).Key("error").String(message).EndObject();
  return JsonResponse(status, w.Take());
}

ApiResponse ErrorFromStatus(const Status& status, const StatusMapOptions& options, std::string_view what) {
  HttpError e = StatusToHttp(status, options, what);
  ApiResponse r = JsonError(e.status, e.message);
  if (e.retry_after_seconds > 0) r.SetHeader("Retry-After", std::to_string(e.retry_after_seconds));
  return r;
}

ApiResponse ServiceUnavailable(std::string_view module) {
  return JsonError(503, std::string(module) + " is not available on this server");
}

ApiResponse TextResponse(unsigned status, std::string body, std::string content_type) {
  ApiResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

}  // namespace cairn::api
