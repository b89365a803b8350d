#pragma once
// WebhookReceiver: a real HTTP server on 127.0.0.1 (port 0) for dispatcher tests, answering each
// request by a script: fail (an HTTP status), time out (hold the answer past the client's
// deadline, having processed the request), or succeed. It records every request and, like a
// well-behaved receiver, processes each Idempotency-Key at most once.
// Plain HTTP by default; constructed with a certificate and key it serves HTTPS (TLS 1.2+), records
// the SNI name each client sent and counts handshakes the client broke off (a refused
// certificate).

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::testutil {

class WebhookReceiver {
 public:
  struct Step {
    int status = 200;        // HTTP status to answer
    int delay_ms = 0;        // hold the answer this long (> client timeout = a timeout)
  };
  struct Seen {
    std::string idempotency_key, signature, attempt, body;
    std::string sni;  // https: the server name the client sent ("" = none)
  };
  struct TlsFiles {
    std::string cert_file, key_file;  // PEM
  };

  explicit WebhookReceiver(std::optional<TlsFiles> tls = std::nullopt)
      : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    if (tls) {
      tls_.emplace(boost::asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(tls->cert_file);
      tls_->use_private_key_file(tls->key_file, boost::asio::ssl::context::pem);
    }
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~WebhookReceiver() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket poke(ioc_);
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);  // unblocks accept()
    thread_.join();
    for (auto& t : handlers_) t.join();
  }

  std::string url(const std::string& host = "127.0.0.1") const {
    return (tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_) + "/hooks/cairn";
  }
  // https: handshakes that failed (the client refused our certificate, or spoke plain HTTP).
  int failed_handshakes() const {
    std::lock_guard lock(mu_);
    return failed_handshakes_;
  }
  // Answers for the next requests, in order; after the script runs out: `fallback`.
  void Script(std::vector<Step> steps, Step fallback = Step{200, 0}) {
    std::lock_guard lock(mu_);
    script_.assign(steps.begin(), steps.end());
    fallback_ = fallback;
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  // How many times each key's side effect ran (a good receiver: once).
  std::map<std::string, int> processed() const {
    std::lock_guard lock(mu_);
    return processed_;
  }

 private:
  void Serve() {
    while (true) {
      boost::asio::ip::tcp::socket socket(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      {
        std::lock_guard lock(mu_);
        if (stop_) return;
      }
      if (ec) continue;
      // Each connection on its own thread, so an answer held back (a timeout) does not delay
      // the client's next attempt.
      handlers_.emplace_back([this, s = std::move(socket)]() mutable { Accept(std::move(s)); });
    }
  }

  void Accept(boost::asio::ip::tcp::socket socket) {
    if (!tls_) return Handle(socket, "");
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket&> stream(socket, *tls_);
    boost::system::error_code ec;
    stream.handshake(boost::asio::ssl::stream_base::server, ec);
    if (ec) {
      std::lock_guard lock(mu_);
      ++failed_handshakes_;
      return;
    }
    const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    Handle(stream, sni ? sni : "");
  }

  template <class Stream>
  void Handle(Stream& socket, std::string sni) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    {
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) return;
      Step step;
      {
        std::lock_guard lock(mu_);
        if (!script_.empty()) {
          step = script_.front();
          script_.pop_front();
        } else {
          step = fallback_;
        }
        std::string key(req["Idempotency-Key"]);
        seen_.push_back({key, std::string(req["X-Cairn-Signature"]), std::string(req["X-Cairn-Attempt"]), req.body(), sni});
        // Processing happens before answering: a timed-out answer still processed the request.
        // A key already processed is recognised and answered without doing it again.
        if (step.status >= 200 && step.status < 300 && !processed_.contains(key)) processed_[key] = 1;
      }
      if (step.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step.delay_ms));
      http::response<http::string_body> res{static_cast<http::status>(step.status), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = "{}";
      res.prepare_payload();
      http::write(socket, res, ec);
      boost::beast::get_lowest_layer(socket).shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
  }

  boost::asio::io_context ioc_;
  std::optional<boost::asio::ssl::context> tls_;  // set: serve https
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::vector<std::thread> handlers_;  // touched by the accept thread only (joined after it)
  mutable std::mutex mu_;
  bool stop_ = false;
  std::deque<Step> script_;
  Step fallback_;
  std::vector<Seen> seen_;
  std::map<std::string, int> processed_;
  int failed_handshakes_ = 0;
};

}  // namespace cairn::testutil
