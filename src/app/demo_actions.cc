#include "app/demo_actions.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <sodium.h>
#include <chrono>
#include <thread>

#include "actions/webhook.h"
#include "base/logging.h"

namespace cairn::app {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct DemoActionReceiver::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  unsigned short port = 0;
  std::atomic<bool> stop{false};
  std::thread thread;
};

DemoActionReceiver::DemoActionReceiver(std::string secret, OnAction on_action)
    : secret_(std::move(secret)), on_action_(std::move(on_action)), impl_(std::make_unique<Impl>()) {}

Result<std::unique_ptr<DemoActionReceiver>> DemoActionReceiver::Start(std::string secret, OnAction on_action) {
  if (secret.empty()) {
    if (sodium_init() < 0) return Internal("demo action receiver: libsodium failed to initialise");
    unsigned char raw[24];
    randombytes_buf(raw, sizeof raw);
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : raw) {
      secret += kHex[c >> 4];
      secret += kHex[c & 15];
    }
  }
  std::unique_ptr<DemoActionReceiver> r(new DemoActionReceiver(std::move(secret), std::move(on_action)));
  boost::system::error_code ec;
  const tcp::endpoint at{asio::ip::make_address("127.0.0.1"), 0};
  r->impl_->acceptor.open(at.protocol(), ec);
  if (!ec) r->impl_->acceptor.bind(at, ec);
  if (!ec) r->impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return IOError("demo action receiver: 127.0.0.1: " + ec.message());
  r->impl_->port = r->impl_->acceptor.local_endpoint().port();
  r->impl_->thread = std::thread([p = r.get()] { p->Serve(); });
  return r;
}

DemoActionReceiver::~DemoActionReceiver() {
  impl_->stop = true;
  boost::system::error_code ec;
  tcp::socket poke(impl_->ioc);
  poke.connect({asio::ip::make_address("127.0.0.1"), impl_->port}, ec);  // unblocks accept()
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string DemoActionReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + "/demo/actions";
}

void DemoActionReceiver::Serve() {
  while (!impl_->stop) {
    tcp::socket socket(impl_->ioc);
    boost::system::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (impl_->stop) return;
    if (ec) continue;
    boost::beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    boost::beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds(5));  // a stuck client cannot hold the receiver
    http::read(stream, buffer, parser, ec);
    if (ec) continue;
    const auto& req = parser.get();
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    auto [status, body] = req.method() == http::verb::post
                              ? Handle(req["X-Cairn-Signature"], req.body(), now)
                              : std::pair<int, std::string>{405, R"({"error":"POST only"})"};
    http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = std::move(body);
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }
}

std::pair<int, std::string> DemoActionReceiver::Handle(std::string_view signature, std::string_view body,
                                                       int64_t now_unix_s) {
  // Five minutes of tolerance refuses replays without tripping on a retry's own delay.
  if (!actions::VerifySignature(secret_, signature, body, now_unix_s, 300))
    return {401, R"({"error":"X-Cairn-Signature: missing or not valid for this body"})"};
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  const boost::json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
  const boost::json::value* type = o ? o->if_contains("type") : nullptr;
  const boost::json::value* customer = o ? o->if_contains("customer") : nullptr;
  const boost::json::value* key = customer && customer->is_object() ? customer->as_object().if_contains("key") : nullptr;
  if (!type || !type->is_string() || !key || !key->is_string())
    return {400, R"({"error":"body: expected an action {\"type\",\"customer\":{\"key\"},...}"})"};
  std::string_view k = key->as_string();
  if (!k.starts_with("userId:")) return {200, R"({"applied":false,"why":"not a simulated userId"})"};
  sim::Action a;
  a.kind = sim::ActionKindFromName(type->as_string());
  a.user_id = std::string(k.substr(7));
  if (const auto* ch = o->if_contains("channel"); ch && ch->is_string()) a.channel = std::string(ch->as_string());
  ++received_;
  Status s = on_action_(a);
  if (!s.ok()) {
    LOG_DEBUG("demo: action {} for {} not applied: {}", std::string(type->as_string()), a.user_id, s.ToString());
    return {200, R"({"applied":false})"};
  }
  ++applied_;
  return {200, R"({"applied":true})"};
}

}  // namespace cairn::app
