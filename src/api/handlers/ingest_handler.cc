#include "api/handlers/ingest_handler.h"

#include <charconv>
#include <string>

#include "api/auth.h"
#include "api/dto/json_writer.h"
#include "api/responses.h"
#include "api/url.h"

namespace cairn::api {
namespace {

std::string OutcomeToJson(const ingest::IngestOutcome& outcome) {
  JsonWriter w;
  w.BeginObject();
  w.Key("success").Bool(true);
  w.Key("accepted").UInt(outcome.accepted);
  w.Key("duplicates").UInt(outcome.duplicates);
  w.Key("rejected").BeginArray();
  for (const auto& r : outcome.rejected) {
    w.BeginObject().Key("index").UInt(r.index).Key("error").String(r.error).EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

}  // namespace

IngestHandler::IngestHandler(const Services* services, Clock* clock)
    : services_(services),
      clock_(clock),
      batch_messages_(services->metrics->GetHistogram("cairn_ingest_batch_messages",
                                                      "Messages per ingest request (accepted + rejected).",
                                                      metrics::ExponentialBounds(1, 2, 13))) {}

bool IngestHandler::TakeInjectedFailure() {
  uint64_t n = fail_next_.load(std::memory_order_relaxed);
  while (n > 0) {
    if (fail_next_.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void IngestHandler::Handle(const IngestRoute& route, ApiRequest request, Responder respond) {
  if (TakeInjectedFailure()) {
    ApiResponse r = JsonError(503, "test: injected failure (fail-next)");
    r.SetHeader("Retry-After", "1");
    respond(std::move(r));
    return;
  }
  auto key = BasicWriteKey(request.Header("authorization"));
  if (!key.ok()) {
    respond(ErrorFromStatus(key.status()));
    return;
  }
  ingest::IngestRequest in;
  in.dialect = route.dialect;
  in.single_type = route.single_type;
  in.content_encoding = std::string(request.Header("content-encoding"));
  in.header_write_key = std::move(key).value();
  in.received_at_ms = clock_->NowMillis();
  in.body = std::move(request.body);

  StatusMapOptions map_options;
  map_options.resource_exhausted_as_413 = route.posthog;
  std::string what = request.method + " " + request.path;
  services_->ingestor->Ingest(
      std::move(in), [respond = std::move(respond), map_options, what = std::move(what),
                      hist = batch_messages_](Result<ingest::IngestOutcome> result) {
        if (!result.ok()) {
          respond(ErrorFromStatus(result.status(), map_options, what));
          return;
        }
        hist->Observe(static_cast<double>(result->accepted + result->rejected.size()));
        respond(JsonResponse(200, OutcomeToJson(*result)));
      });
}

void IngestHandler::HandleFailNext(const ApiRequest& request, Responder respond) {
  auto count_param = QueryParam(request.query, "count");
  if (!count_param.ok()) {
    respond(ErrorFromStatus(count_param.status()));
    return;
  }
  uint64_t count = 1;
  if (count_param->has_value()) {
    const std::string& s = **count_param;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), count);
    if (ec != std::errc() || end != s.data() + s.size() || count > 1000000) {
      respond(JsonError(400, "count must be an integer in [0, 1000000]"));
      return;
    }
  }
  FailNext(count);
  JsonWriter w;
  w.BeginObject().Key("success").Bool(true).Key("failNext").UInt(count).EndObject();
  respond(JsonResponse(200, w.Take()));
}

}  // namespace cairn::api
