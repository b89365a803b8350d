#include "api/status_to_http.h"

#include "base/logging.h"

namespace cairn::api {

HttpError StatusToHttp(const Status& status, const StatusMapOptions& options, std::string_view what) {
  std::string message(status.message());
  switch (status.code()) {
    case Code::kOk:
      return {200, "", 0};
    case Code::kInvalidArgument:
      return {400, std::move(message), 0};
    case Code::kResourceExhausted:
      // A time limit ran out: the gateway-timeout answer (the message names the limit only).
      if (status.message().starts_with(kDeadlinePrefix)) return {504, std::move(message), 0};
      return {options.resource_exhausted_as_413 ? 413u : 400u, std::move(message), 0};
    case Code::kUnauthenticated:
      return {401, std::move(message), 0};
    case Code::kPermissionDenied:
      return {403, std::move(message), 0};
    case Code::kNotFound:
      return {404, std::move(message), 0};
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition:
      return {409, std::move(message), 0};
    case Code::kUnavailable:
      // The detail may name a disk or a file: log it, answer generically.
      if (status.message().starts_with(kBackPressurePrefix)) {
        LOG_EVERY_N_SEC(kWarn, 10, "{}: 429: {}", what, status.ToString());
        return {429, "too many requests: slow down and retry", options.back_pressure_retry_after_s};
      }
      LOG_EVERY_N_SEC(kWarn, 10, "{}: 503: {}", what, status.ToString());
      return {503, "temporarily unavailable: retry later", options.unavailable_retry_after_s};
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kInternal:
      break;
  }
  LOG_EVERY_N_SEC(kError, 10, "{}: 500: {}", what, status.ToString());
  return {500, "internal error", 0};
}

}  // namespace cairn::api
