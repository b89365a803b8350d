#pragma once
// Behaviour: what one simulated customer does when they wake up (a visit, a delivery, a renewal,
// an email landing...). Internal to the simulator; docs/simulator.md describes the model.

#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>

#include "sim/json_line.h"
#include "sim/simulator.h"

namespace cairn::sim {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// One customer's state. ~200 bytes; only customers who can still act are kept.
struct Simulator::Customer {
  uint64_t index = 0;
  Rng rng;
  uint8_t persona = 0;
  int8_t campaign = -1;       // -1: organic
  // Identity: device 0 is the web browser, device 1 the app. identified = has signed up (the
  // userId is known on the web device); app_identified = logged in on the app too.
  bool identified = false, has_app = false, app_identified = false;
  bool consent_email = false, consent_sms = false, consent_phone = false;
  bool subscribed = false, ever_subscribed = false, renewal_notice_sent = false;
  bool tempted = false;       // considering a competitor's offer
  bool lost = false;          // left for good (unless won back)
  bool cart_open = false, cart_boost = false;
  bool ticket_open = false, ticket_forced_good = false;
  uint8_t ticket_category = 0, ticket_severity = 0;
  uint8_t order_step = 0;     // 0 none, 1 placed (ship next), 2 shipped (deliver next)
  uint8_t order_product = 0, cart_product = 0;
  uint8_t b2b_stage = 0;      // see behaviour.cc
  uint8_t survey_kind = 0;
  float mood = 0;             // −1 (angry) .. 0 (not aware of us) .. +1 (trust)
  float interest = 0;         // drive to come back, 0..1
  float usage = 0;            // members: how much they use the app features, 0..1
  int64_t mood_at = 0;        // when mood last relaxed toward its baseline
  int64_t arrived = 0;
  int64_t tempted_until = 0;
  uint32_t sessions = 0, orders = 0, msg = 0, tickets = 0, sub_months = 0, order_no = 0;
  int64_t order_cents = 0, cart_cents = 0, deal_cents = 0;
  int64_t t_session = kNever, t_order = kNever, t_survey = kNever, t_ticket = kNever, t_renewal = kNever,
          t_newsletter = kNever, t_sms = kNever, t_competitor = kNever, t_sales = kNever, t_cart = kNever;
};

class Behaviour {
 public:
  Behaviour(Simulator& sim, Simulator::Customer& c, int64_t now) : sim_(sim), c_(c), now_(now) {}

  static std::unique_ptr<Simulator::Customer> NewCustomer(Simulator& sim, uint64_t index, int8_t campaign, int64_t t);
  // The earliest timer; kNever when the customer can no longer act (and is dropped).
  static int64_t NextWake(const Simulator::Customer& c);

  // Runs every timer due at now_.
  void Run();
  // Closed loop: true if the action changed the customer's course.
  bool Respond(const Action& action);

 private:
  using Props = void (*)(JsonLine&, const Behaviour&);
  const Persona& P() const { return sim_.options_.personas[c_.persona]; }
  SimStats& S() { return sim_.stats_; }
  bool InHistory(int64_t t) const { return t < sim_.end_ms_; }

  // Time relaxes mood toward the customer's baseline (half-life 45 days).
  void Relax();
  void Mood(double delta);

  // Emission. Each starts a message at time t and returns the writer positioned inside
  // "properties" (track) so the caller adds fields, then calls End().
  JsonLine Begin(int64_t t, std::string_view type, int device, bool with_user);
  JsonLine Track(int64_t t, std::string_view event, std::string_view channel, bool outbound, int device = 0);
  void End(JsonLine& j, int64_t t, bool outbound);
  void Page(int64_t t, int device, std::string_view name, std::string_view path);
  // `signup`: the sign-up form's identify, which may carry a phone number and the answer to
  // "may we call you?" as traits (docs/simulator.md "Consent").
  void Identify(int64_t t, int device, bool signup = false);

  // Handlers, one per timer.
  void Session();
  void B2bStep();
  void OrderStep();
  void TicketStep();
  void SurveyStep();
  void RenewalStep();
  void Newsletter();
  void Sms();
  void CompetitorOffer();
  void CartReminder();

  // Pieces of a visit.
  int64_t Browse(int64_t t, int device, int pages);
  int64_t SignUp(int64_t t, int device);
  int64_t Purchase(int64_t t, int device);
  void PlaceOrder(int64_t t, int device, std::string_view channel);
  void FileComplaint(int64_t t, uint8_t category, uint8_t severity, bool with_order);
  void Survey(int64_t t, uint8_t kind);
  void Cancel(int64_t t, std::string_view reason);
  void Leave();
  void ScheduleNextSession(int64_t t);
  int64_t Gap(double mean_s) { return 1000 + static_cast<int64_t>(c_.rng.Exp(mean_s) * 1000); }

  Simulator& sim_;
  Simulator::Customer& c_;
  int64_t now_;
  std::string line_;
  std::string_view context_channel_;  // set for the next End() only
};

}  // namespace cairn::sim
