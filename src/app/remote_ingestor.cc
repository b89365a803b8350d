#include "app/remote_ingestor.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <thread>

namespace cairn::app {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct RemoteIngestor::Conn {
  boost::asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
};

Result<std::unique_ptr<RemoteIngestor>> RemoteIngestor::Create(const std::string& url, std::string write_key) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos) return InvalidArgument("--url: only http:// is supported: " + url);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  if (rest.empty() || rest.find('/') != std::string::npos) return InvalidArgument("--url: expected http://HOST:PORT, got " + url);
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (write_key.empty()) return InvalidArgument("import --url needs --write-key");
  return std::unique_ptr<RemoteIngestor>(new RemoteIngestor(host, port, std::move(write_key)));
}

RemoteIngestor::RemoteIngestor(std::string host, std::string port, std::string write_key)
    : host_(std::move(host)), port_(std::move(port)), conn_(std::make_unique<Conn>()) {
  std::string plain = write_key + ":";
  std::string enc(beast::detail::base64::encoded_size(plain.size()), '\0');
  enc.resize(beast::detail::base64::encode(enc.data(), plain.data(), plain.size()));
  auth_ = "Basic " + enc;
}

RemoteIngestor::~RemoteIngestor() {
  beast::error_code ec;
  if (conn_->connected) conn_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

void RemoteIngestor::Ingest(ingest::IngestRequest request, Done done) { done(Send(request.body)); }

Result<ingest::IngestOutcome> RemoteIngestor::Send(const std::string& body) {
  for (int attempt = 0;; ++attempt) {
    http::response<http::string_body> res;
    try {
      if (!conn_->connected) {
        tcp::resolver resolver(conn_->ioc);
        conn_->stream.connect(resolver.resolve(host_, port_));
        conn_->connected = true;
      }
      http::request<http::string_body> req{http::verb::post, "/v1/batch", 11};
      req.set(http::field::host, host_);
      req.set(http::field::authorization, auth_);
      req.set(http::field::content_type, "application/json");
      req.keep_alive(true);
      req.body() = body;
      req.prepare_payload();
      conn_->stream.expires_after(std::chrono::seconds(60));
      http::write(conn_->stream, req);
      http::response_parser<http::string_body> parser;
      parser.body_limit(16u << 20);
      http::read(conn_->stream, conn_->buffer, parser);
      res = parser.release();
      if (!res.keep_alive()) {
        beast::error_code ec;
        conn_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        conn_->stream.close();
        conn_->connected = false;
      }
    } catch (const std::exception& e) {
      conn_->stream.close();
      conn_->connected = false;
      if (attempt < 5) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
        continue;
      }
      return Unavailable(std::string("http://") + host_ + ":" + port_ + ": " + e.what());
    }
    unsigned code = res.result_int();
    if ((code == 429 || code >= 500) && attempt < 20) {
      int wait_s = 1;
      if (auto it = res.find(http::field::retry_after); it != res.end()) wait_s = std::max(1, std::atoi(std::string(it->value()).c_str()));
      std::this_thread::sleep_for(std::chrono::seconds(wait_s));
      continue;
    }
    boost::system::error_code jec;
    boost::json::value v = boost::json::parse(res.body(), jec);
    std::string error = "HTTP " + std::to_string(code);
    if (!jec && v.is_object()) {
      if (auto* e = v.as_object().if_contains("error"); e && e->is_string()) error = std::string(e->as_string());
    }
    if (code == 400) return InvalidArgument(error);
    if (code == 413) return ResourceExhausted(error);
    if (code == 401) return Unauthenticated(error);
    if (code == 403) return PermissionDenied(error);
    if (code != 200 || jec || !v.is_object()) return Unavailable("server answered " + error);
    ingest::IngestOutcome out;
    const auto& o = v.as_object();
    if (auto* a = o.if_contains("accepted"); a && a->is_int64()) out.accepted = static_cast<size_t>(a->as_int64());
    if (auto* d = o.if_contains("duplicates"); d && d->is_int64()) out.duplicates = static_cast<size_t>(d->as_int64());
    if (auto* r = o.if_contains("rejected"); r && r->is_array()) {
      for (const auto& item : r->as_array()) {
        if (!item.is_object()) continue;
        ingest::Rejection rej;
        if (auto* i = item.as_object().if_contains("index"); i && i->is_int64()) rej.index = static_cast<size_t>(i->as_int64());
        if (auto* e = item.as_object().if_contains("error"); e && e->is_string()) rej.error = std::string(e->as_string());
        out.rejected.push_back(std::move(rej));
      }
    }
    return out;
  }
}

}  // namespace cairn::app
