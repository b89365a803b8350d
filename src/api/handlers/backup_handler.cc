#include "api/handlers/backup_handler.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/dto/json_writer.h"
#include "api/responses.h"

namespace cairn::api {
namespace {

// The name from an optional body {"name": string}; "" when absent.
Result<std::string> ParseName(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::string();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return InvalidArgument("body: expected a JSON object like {\"name\": \"nightly-1\"}");
  std::string name;
  for (const auto& [key, value] : v.as_object()) {
    if (key != "name") return InvalidArgument(fmt::format("{}: unknown field (only \"name\" is accepted)", std::string_view(key)));
    if (!value.is_string()) return InvalidArgument("name: expected a string");
    name = std::string(value.as_string());
  }
  return name;
}

std::string OutcomeJson(const BackupOutcome& o) {
  JsonWriter w;
  w.BeginObject()
      .Key("name").String(o.name)
      .Key("path").String(o.path)
      .Key("files").UInt(o.files)
      .Key("bytes").UInt(o.bytes)
      .Key("sqliteDbs").UInt(o.sqlite_dbs)
      .Key("segments").UInt(o.segments)
      .Key("walFiles").UInt(o.wal_files)
      .Key("elapsedMs").Double(o.elapsed_ms)
      .EndObject();
  return w.Take();
}

}  // namespace

void BackupHandler::Create(const ApiRequest& request, Responder respond) {
  if (!services_->backup) {
    return respond(JsonError(503, "backups over the API need a backup directory: set backup_dir in cairn.yaml"));
  }
  auto name = ParseName(request.body);
  if (!name.ok()) return respond(ErrorFromStatus(name.status()));
  Status started = services_->backup(*name, [respond](Result<BackupOutcome> outcome) {
    if (!outcome.ok()) return respond(ErrorFromStatus(outcome.status(), {}, "POST /v1/admin/backup"));
    respond(JsonResponse(201, OutcomeJson(*outcome)));
  });
  if (!started.ok()) respond(ErrorFromStatus(started, {}, "POST /v1/admin/backup"));
}

}  // namespace cairn::api
