#pragma once
// DemoActionReceiver: the simulated business's end of the closed loop (docs/simulator.md "The
// closed loop"). `cairn demo` points Cairn's action webhook at it (when the config names no
// webhook of its own), so every rescue acted on (from the queue, or at once with
// rescue.auto_act) goes out as a signed webhook POST to this receiver, which verifies the
// signature (actions/webhook.h), maps the
// action to the simulated customer and hands it to DemoBusiness::OnAction: the customer responds
// with the simulator's probabilities, and the rescue visibly changes the outcome.
//
// Payload (docs/actions.md "Delivery"): `type` "rescue.<path>" → sim::ActionKindFromName (other
// types, e.g. post_purchase.*, are kOther: received, no change of course); `customer.key`
// "userId:<id>" → the simulated userId; `channel`. Answers: 200 {"applied":bool} for a verified
// action (also when the customer is no longer simulated: the business got it, nothing to do, so
// Cairn does not retry); 401 for a missing or wrong signature; 400 for a body that is not such
// an action. One connection at a time (the dispatcher delivers sequentially).
//
// Thread-safety: Start/Stop from one thread; `on_action` is called on the receiver's thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "sim/simulator.h"

namespace cairn::app {

class DemoActionReceiver {
 public:
  using OnAction = std::function<Status(const sim::Action&)>;
  // Listens on 127.0.0.1:<any free port>. `secret`: the webhook secret Cairn signs with ("" = a
  // random one, see secret()).
  static Result<std::unique_ptr<DemoActionReceiver>> Start(std::string secret, OnAction on_action);
  ~DemoActionReceiver();  // stops and joins

  // http://127.0.0.1:<port>/demo/actions: the actions.webhook.url to configure.
  std::string url() const;
  // The actions.webhook.secret to configure.
  const std::string& secret() const { return secret_; }
  uint64_t received() const { return received_.load(); }  // verified actions
  uint64_t applied() const { return applied_.load(); }    // of which reached a simulated customer

  // The answer to one request (status, JSON body); public for the unit test.
  std::pair<int, std::string> Handle(std::string_view signature, std::string_view body, int64_t now_unix_s);

 private:
  struct Impl;
  DemoActionReceiver(std::string secret, OnAction on_action);
  void Serve();

  const std::string secret_;
  const OnAction on_action_;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> received_{0}, applied_{0};
};

}  // namespace cairn::app
