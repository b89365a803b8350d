#pragma once
// RemoteIngestor: an Ingestor that sends each request to a running Cairn over HTTP
// (POST {url}/v1/batch, Basic auth with the write key, one keep-alive connection), so
// `cairn import --url` shares everything else with an import into a stopped data dir.
// Back-pressure answers (429/503) are retried after Retry-After; the outcome is mapped back from
// the JSON answer. Not thread-safe: one request at a time (Ingest calls done before returning).

#include <memory>
#include <string>

#include "ingest/ingestor.h"

namespace cairn::app {

class RemoteIngestor final : public ingest::Ingestor {
 public:
  // url: "http://HOST:PORT" (no path). InvalidArgument if it cannot be parsed.
  static Result<std::unique_ptr<RemoteIngestor>> Create(const std::string& url, std::string write_key);
  ~RemoteIngestor() override;
  void Ingest(ingest::IngestRequest request, Done done) override;

 private:
  struct Conn;
  RemoteIngestor(std::string host, std::string port, std::string write_key);
  Result<ingest::IngestOutcome> Send(const std::string& body);

  std::string host_, port_, auth_;
  std::unique_ptr<Conn> conn_;
};

}  // namespace cairn::app
