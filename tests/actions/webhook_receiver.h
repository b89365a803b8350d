#pragma once
// WebhookReceiver: a real HTTP server on 127.0.0.1 (port 0) for dispatcher tests, answering each
// request by a script: fail (an HTTP status), time out (hold the answer past the client's
// deadline, having processed the request), or succeed. It records every request and, like a
// well-behaved receiver, processes each Idempotency-Key at most once.
// One connection at a time (the dispatcher sends sequentially).

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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
  };

  WebhookReceiver() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
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

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/cairn"; }
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
      handlers_.emplace_back([this, s = std::move(socket)]() mutable { Handle(std::move(s)); });
    }
  }

  void Handle(boost::asio::ip::tcp::socket socket) {
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
        seen_.push_back({key, std::string(req["X-Cairn-Signature"]), std::string(req["X-Cairn-Attempt"]), req.body()});
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
      socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
  }

  boost::asio::io_context ioc_;
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
};

}  // namespace cairn::testutil
