// Customer behaviour: the model behind every simulated interaction (docs/simulator.md).
//
// Each customer is a small state machine woken by timers: the next visit, the next step of an
// order in flight, a support ticket's resolution, a survey, a membership renewal, marketing
// emails and SMS, a competitor's offer, the next step of a B2B deal. A wake at time t emits
// interactions at t or later (a visit lasts minutes) and sets the timers again.
//
// Two hidden variables drive everything: `mood` (−1 angry .. 0 unaware .. +1 trust; drifts back
// toward a baseline, jumps on faults, complaints, resolutions, competitor offers) and `interest`
// (the drive to come back; decays when a visit leads nowhere). Personas set the rates.

#include "sim/behaviour.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace cairn::sim {
namespace {

constexpr int64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;

constexpr std::string_view kFirstNames[] = {"anna", "ben", "carla", "david", "emma", "felix", "greta", "hugo",
                                            "ines", "jonas", "kira", "lars", "mia", "noah", "olga", "paul",
                                            "rosa", "sven", "tara", "uwe", "vera", "wim", "yara", "zoe"};
constexpr std::string_view kLastNames[] = {"meyer", "schmidt", "novak", "rossi", "dubois", "jansen", "silva",
                                           "berg", "kowalski", "fischer", "moreau", "costa", "olsen", "weber",
                                           "horvat", "nieminen", "murphy", "keller", "lindqvist", "garcia"};
constexpr std::string_view kCountries[][2] = {{"DE", "Berlin"}, {"DE", "Munich"}, {"AT", "Vienna"}, {"NL", "Utrecht"},
                                              {"FR", "Lyon"},   {"IT", "Milan"},  {"ES", "Madrid"}, {"DK", "Aarhus"},
                                              {"SE", "Malmo"},  {"PL", "Krakow"}, {"CH", "Zurich"}, {"BE", "Ghent"}};
constexpr std::string_view kAgeBands[] = {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"};
constexpr std::string_view kCompanies[] = {"Alpine Schools Trust", "Harbour Rowing Club", "Nordic Rangers GmbH",
                                           "Peak Scouts Association", "Riverbend Outdoor Centre", "Summit Guides Ltd"};
constexpr std::string_view kCompetitors[] = {"TrailMart", "PeakDirect", "OutdoorHub"};
constexpr std::string_view kOffers[] = {"20% off first order", "free shipping for a year", "price match plus 10%",
                                        "membership half price"};
constexpr std::string_view kFeatures[] = {"trail_planner", "gear_checklist", "offline_maps", "member_deals"};
constexpr std::string_view kBlog[] = {"10 hut-to-hut routes", "Layering for autumn", "Choosing a tent",
                                      "Wild camping etiquette", "Boots: break them in right"};
constexpr std::string_view kCategories[] = {"delivery", "product_quality", "billing", "service", "website"};
constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};
constexpr std::string_view kSurveys[] = {"post_purchase", "relationship", "support"};
constexpr std::string_view kPromoterComments[] = {"Fast delivery and great quality", "Love the Trail Club deals",
                                                  "Helpful staff, will recommend", "Tent survived a storm, superb",
                                                  "The app's trail planner is brilliant"};
constexpr std::string_view kPassiveComments[] = {"Good but a bit pricey", "Delivery could be quicker",
                                                 "Fine, nothing special", "Website is a little slow"};
constexpr std::string_view kDetractorComments[] = {"Order arrived late and nobody told me", "Item was damaged",
                                                   "Support took ages to answer", "Charged twice for one order",
                                                   "Cheaper elsewhere", "Rude answer on the phone"};
constexpr std::string_view kComplaintText[][2] = {
    {"delivery", "Parcel is a week late, tracking not updated"},
    {"product_quality", "Item arrived damaged / not as described"},
    {"billing", "I was charged twice"},
    {"service", "Waited days for an answer and got none"},
    {"website", "Checkout failed three times"}};

template <size_t N>
std::string_view Pick(Rng& rng, const std::string_view (&list)[N]) {
  return list[rng.Below(N)];
}

double Clamp(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

void AppendPadded(std::string* out, uint64_t v, int digits) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 || n < digits);
  while (n > 0) out->push_back(tmp[--n]);
}

void AppendHex(std::string* out, uint64_t v, int digits) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 15]);
}

std::string UserId(const SimOptions& o, uint64_t index) {
  std::string s = o.id_prefix;
  AppendPadded(&s, index, 7);
  return s;
}

std::string AnonId(const SimOptions& o, uint64_t index, int device) {
  std::string s = "anon-";
  AppendHex(&s, Mix64(o.seed * 0x9e3779b97f4a7c15ull ^ (index << 2 | static_cast<uint64_t>(device)) ^ 0x5a17), 16);
  return s;
}

int64_t Cents(double eur) { return static_cast<int64_t>(std::llround(eur * 100)); }

}  // namespace

// ---- creation and scheduling --------------------------------------------------------------------

std::unique_ptr<Simulator::Customer> Behaviour::NewCustomer(Simulator& sim, uint64_t index, int8_t campaign, int64_t t) {
  auto c = std::make_unique<Simulator::Customer>();
  const SimOptions& o = sim.options_;
  c->index = index;
  c->rng.s = Mix64(o.seed * 0x2545f4914f6cdd1dull + index * 0x9e3779b97f4a7c15ull + 1);
  c->campaign = campaign;
  const auto& cdf = campaign >= 0 ? sim.campaign_persona_cdf_[campaign] : sim.persona_cdf_;
  double u = c->rng.Unit();
  while (c->persona + 1u < cdf.size() && u >= cdf[c->persona]) ++c->persona;
  c->arrived = t;
  c->mood_at = t;
  c->interest = static_cast<float>(c->rng.Uniform(0.2, 0.95));
  c->t_session = t;
  ++sim.stats_.arrivals;
  if (campaign >= 0) {
    ++sim.stats_.paid_arrivals;
    sim.stats_.ad_spend_cents += static_cast<int64_t>(std::llround(sim.cpc_cents_[campaign]));
  }
  if (sim.options_.personas[c->persona].business) ++sim.stats_.business_arrivals;
  return c;
}

int64_t Behaviour::NextWake(const Simulator::Customer& c) {
  return std::min({c.t_session, c.t_order, c.t_survey, c.t_ticket, c.t_renewal, c.t_newsletter, c.t_sms,
                   c.t_competitor, c.t_sales, c.t_cart});
}

void Behaviour::Run() {
  Relax();
  // Fixed order, so that timers due at the same instant always run the same way.
  if (c_.t_order == now_) OrderStep();
  if (c_.t_ticket == now_) TicketStep();
  if (c_.t_survey == now_) SurveyStep();
  if (c_.t_renewal == now_) RenewalStep();
  if (c_.t_cart == now_) CartReminder();
  if (c_.t_newsletter == now_) Newsletter();
  if (c_.t_sms == now_) Sms();
  if (c_.t_competitor == now_) CompetitorOffer();
  if (c_.t_sales == now_) B2bStep();
  if (c_.t_session == now_) Session();
  if (c_.tempted && now_ > c_.tempted_until) c_.tempted = false;
}

void Behaviour::Relax() {
  // Customers who bought and were treated well settle a little above neutral; prospects at zero.
  double baseline = c_.orders > 0 ? 0.15 : 0.0;
  double days = static_cast<double>(now_ - c_.mood_at) / kDay;
  if (days > 0) {
    c_.mood = static_cast<float>(baseline + (c_.mood - baseline) * std::exp2(-days / 45.0));
    c_.mood_at = now_;
  }
}

void Behaviour::Mood(double delta) { c_.mood = static_cast<float>(Clamp(c_.mood + delta, -1, 1)); }

// ---- emission -----------------------------------------------------------------------------------

JsonLine Behaviour::Begin(int64_t t, std::string_view type, int device, bool with_user) {
  const SimOptions& o = sim_.options_;
  line_.clear();
  JsonLine j(&line_);
  j.Open().Str("type", type);
  std::string id;
  if (with_user) j.Str("userId", UserId(o, c_.index));
  if (device >= 0) j.Str("anonymousId", AnonId(o, c_.index, device));
  // messageId: unique per (seed, customer, message number), so a re-run de-duplicates.
  std::string mid = "sim-";
  AppendHex(&mid, o.seed & 0xffffffff, 8);
  mid.push_back('-');
  AppendPadded(&mid, c_.index, 1);
  mid.push_back('-');
  AppendPadded(&mid, c_.msg++, 1);
  j.Str("messageId", mid);
  j.Time("timestamp", sim_.Stamp(t));
  return j;
}

JsonLine Behaviour::Track(int64_t t, std::string_view event, std::string_view channel, bool outbound, int device) {
  // Outbound touches come from our systems: they name the customer by userId only.
  bool user = outbound ? true : (c_.identified && (device == 0 || c_.app_identified));
  JsonLine j = Begin(t, "track", outbound ? -1 : device, user);
  j.Str("event", event);
  j.Object("properties").Str("channel", channel).Str("direction", outbound ? "outbound" : "inbound");
  return j;
}

void Behaviour::End(JsonLine& j, int64_t t, bool outbound) {
  j.Close();  // properties / traits
  j.Object("context").Object("library").Str("name", "cairn-sim").Str("version", "1").Close();
  if (!context_channel_.empty()) j.Str("channel", context_channel_);
  context_channel_ = {};
  if (c_.campaign >= 0 && c_.sessions <= 1 && !outbound) {
    const Campaign& k = sim_.options_.campaigns[c_.campaign];
    j.Object("campaign").Str("name", k.name).Str("source", k.source).Str("medium", k.medium).Close();
  }
  j.Close();
  j.Close();
  if (outbound) ++sim_.stats_.outbound;
  sim_.pending_.push({t, sim_.pending_seq_++, std::move(line_)});
  line_ = std::string();
}

void Behaviour::Page(int64_t t, int device, std::string_view name, std::string_view path) {
  bool user = c_.identified && (device == 0 || c_.app_identified);
  JsonLine j = Begin(t, device == 0 ? "page" : "screen", device, user);
  j.Str("name", name);
  j.Object("properties").Str("channel", device == 0 ? "web" : "mobile");
  if (device == 0) {
    std::string url = "https://northwind.example";
    url += path;
    j.Str("path", path).Str("url", url);
  }
  End(j, t, false);
}

void Behaviour::Identify(int64_t t, int device, bool signup) {
  const SimOptions& o = sim_.options_;
  uint64_t h = Mix64(c_.index ^ o.seed);
  std::string_view first = kFirstNames[h % std::size(kFirstNames)];
  std::string_view last = kLastNames[(h >> 8) % std::size(kLastNames)];
  const auto& place = kCountries[(h >> 16) % std::size(kCountries)];
  JsonLine j = Begin(t, "identify", device, true);
  context_channel_ = device == 0 ? "web" : "mobile";  // identify has no properties: channel in context
  std::string email;
  email.append(first).push_back('.');
  email.append(last).push_back('.');
  AppendPadded(&email, c_.index, 1);
  email.push_back('@');
  email += o.email_domain;
  j.Object("traits").Str("email", email).Str("first_name", first).Str("last_name", last);
  j.Str("country", place[0]).Str("city", place[1]).Str("age_band", kAgeBands[(h >> 24) % std::size(kAgeBands)]);
  j.Str("signup_source", c_.campaign >= 0 ? std::string_view(o.campaigns[c_.campaign].source) : "organic");
  if (P().business) j.Str("company", kCompanies[(h >> 32) % std::size(kCompanies)]);
  j.Str("plan", c_.subscribed ? "trail_club" : "none");
  j.Str("sim_persona", P().name);
  if (signup) {
    // The sign-up form's optional phone field and its "may we call you about offers?" box, sent
    // as identify traits (docs/consent.md "identify traits"). Team buyers leave a number for the
    // enquiry almost always and mostly agree to a call; consumers rarely leave one, and of those
    // who do, some say no — a denial recorded as such.
    // Drawn from the customer's own hash, not the customer's random stream: the rest of the
    // business (and every figure measured on it) stays as it was before phones were asked.
    const uint64_t ph = Mix64(c_.index ^ o.seed ^ 0x70686f6e65ULL);
    const bool asked = static_cast<double>(ph % 1000) < (P().business ? 900 : 300);
    if (asked) {
      c_.consent_phone = static_cast<double>((ph >> 20) % 1000) < (P().business ? 750 : 400);
      std::string phone = "+4420";
      AppendPadded(&phone, c_.index, 7);
      j.Str("phone", phone);
      j.Object("consent").Bool("marketing.phone", c_.consent_phone).Close();
    }
  }
  End(j, t, false);
}

// ---- visits ---------------------------------------------------------------------------------------

void Behaviour::Session() {
  ++c_.sessions;
  const Persona& p = P();
  int64_t t = now_;
  // The first visit comes from the ad or a search, on the web; later ones by habit.
  int device = (c_.sessions > 1 && c_.rng.Chance(p.mobile_share)) ? 1 : 0;
  if (c_.sessions == 1 && c_.campaign >= 0) {
    const Campaign& k = sim_.options_.campaigns[c_.campaign];
    JsonLine j = Track(t, "Ad Clicked", k.channel, false, 0);
    j.Str("campaign", k.name).Str("source", k.source).Str("medium", k.medium);
    j.Cents("cost", static_cast<int64_t>(std::llround(sim_.cpc_cents_[c_.campaign])));
    End(j, t, false);
    t += Gap(2);
  }
  if (device == 1 && !c_.has_app) c_.has_app = true;
  if (p.business && c_.b2b_stage == 0) {
    // A team buyer researches the Teams offer and gets in touch.
    t = Browse(t, 0, 2);
    Page(t, 0, "Teams", "/teams");
    t += Gap(40);
    Page(t, 0, "Pricing", "/teams/pricing");
    t += Gap(60);
    if (c_.rng.Chance(0.7)) {
      if (!c_.identified) t = SignUp(t, 0);
      JsonLine j = Track(t, "Contact Made", c_.rng.Chance(0.7) ? "web" : "phone", false);
      j.Str("form", "teams_enquiry");
      End(j, t, false);
      c_.b2b_stage = 1;
      c_.t_sales = t + Gap(1.5 * 86400);
    }
    ScheduleNextSession(t);
    return;
  }
  if (device == 1 && c_.identified && !c_.app_identified) {
    // A new device: anonymous screens until the customer logs in, which merges the two.
    Page(t, 1, "Home", "");
    t += Gap(20);
    Identify(t, 1);
    c_.app_identified = true;
    ++S().device_merges;
    t += Gap(5);
  }
  int pages = 1 + static_cast<int>(c_.rng.Below(3));
  t = Browse(t, device, pages);
  // Signing up: a newsletter form, an account for the wishlist, or at checkout (Purchase).
  if (!c_.identified && c_.rng.Chance(p.signup_propensity * 0.3 * (0.5 + c_.interest))) t = SignUp(t, device);
  // Members use the app's features; how much is `usage`.
  if (c_.subscribed && device == 1) {
    int uses = static_cast<int>(c_.rng.Below(1 + static_cast<uint32_t>(c_.usage * 5)));
    for (int i = 0; i < uses; ++i) {
      JsonLine j = Track(t, "Feature Used", "mobile", false, 1);
      j.Str("feature", Pick(c_.rng, kFeatures));
      End(j, t, false);
      t += Gap(90);
    }
  }
  // Buying: more likely with interest, a good mood, a reminder clicked; less when tempted away.
  double buy = 0.55 * p.buy_propensity * (0.4 + c_.interest) * (1 + 0.8 * c_.mood);
  if (c_.orders > 0) buy *= 0.6 + p.repeat_propensity;
  if (c_.cart_boost) buy *= 2.5;
  if (c_.tempted) buy *= 0.4;
  if (p.business) buy = c_.b2b_stage == 7 ? 0.15 : 0;  // won accounts re-order now and then
  c_.cart_boost = false;
  bool bought = false;
  if (c_.rng.Chance(Clamp(buy, 0, 0.9))) {
    uint32_t before = c_.orders;
    t = Purchase(t, device);
    bought = c_.orders > before;
  }
  // A visit that leads nowhere cools the interest; buying rekindles it.
  if (bought) {
    c_.interest = static_cast<float>(std::max<double>(c_.interest, 0.55));
  } else {
    c_.interest = static_cast<float>(c_.interest * (c_.orders > 0 ? 0.9 : 0.72 + 0.1 * p.patience));
  }
  ScheduleNextSession(t);
}

int64_t Behaviour::Browse(int64_t t, int device, int pages) {
  static constexpr std::string_view kPages[][2] = {{"Home", "/"}, {"Category", "/c/tents"}, {"Category", "/c/clothing"},
                                                   {"Blog", "/blog"}, {"Help", "/help"}};
  for (int i = 0; i < pages; ++i) {
    const auto& pg = kPages[c_.rng.Below(i == 0 ? 2 : 5)];
    Page(t, device, pg[0], pg[1]);
    t += Gap(35);
    if (pg[0] == "Blog" && c_.rng.Chance(0.6)) {
      JsonLine j = Track(t, "Content Viewed", device == 0 ? "web" : "mobile", false, device);
      j.Str("content_type", "guide").Str("title", Pick(c_.rng, kBlog));
      End(j, t, false);
      t += Gap(120);
    }
  }
  if (c_.rng.Chance(0.04)) {
    JsonLine j = Track(t, "Social Engaged", "social", false, device);
    j.Str("network", c_.rng.Chance(0.5) ? "instagram" : "facebook").Str("action", c_.rng.Chance(0.7) ? "like" : "share");
    End(j, t, false);
    t += Gap(20);
  }
  // Product pages: the consideration phase.
  int views = static_cast<int>(c_.rng.Below(3 + (c_.interest > 0.5 ? 2 : 0)));
  const auto& products = sim_.options_.products;
  for (int i = 0; i < views; ++i) {
    uint32_t k = c_.rng.Below(static_cast<uint32_t>(products.size()));
    const Product& pr = products[k];
    c_.cart_product = static_cast<uint8_t>(k);
    JsonLine j = Track(t, "Product Viewed", device == 0 ? "web" : "mobile", false, device);
    j.Str("product_id", pr.id).Str("sku", pr.id).Str("name", pr.name).Str("category", pr.category);
    j.Cents("price", Cents(pr.price)).Str("currency", "EUR");
    End(j, t, false);
    t += Gap(50);
  }
  return t;
}

int64_t Behaviour::SignUp(int64_t t, int device) {
  c_.identified = true;
  if (device == 1) c_.app_identified = true;
  ++S().signed_up;
  Identify(t, device, true);
  t += Gap(1);
  {
    JsonLine j = Track(t, "Signed Up", device == 0 ? "web" : "mobile", false, device);
    j.Str("method", c_.rng.Chance(0.7) ? "email" : (c_.rng.Chance(0.5) ? "google" : "apple"));
    End(j, t, false);
  }
  // Consent as asked on the sign-up form: marketing by email and SMS, separately.
  auto consent = [&](std::string_view channel, bool granted) {
    t += Gap(2);
    JsonLine j = Track(t, "Consent Updated", device == 0 ? "web" : "mobile", false, device);
    j.Str("purpose", "marketing").Str("consent_channel", channel).Bool("granted", granted);
    j.Str("lawful_basis", "consent").Str("source", "signup_form");
    End(j, t, false);
  };
  c_.consent_email = c_.rng.Chance(0.55 + 0.3 * P().email_affinity);
  consent("email", c_.consent_email);
  c_.consent_sms = c_.rng.Chance(0.15 + P().sms_affinity);
  consent("sms", c_.consent_sms);
  if (c_.consent_email) c_.t_newsletter = t + Gap(sim_.options_.newsletter_every_days * 86400 * c_.rng.Unit());
  if (c_.consent_sms) c_.t_sms = t + Gap(30 * 86400 * c_.rng.Unit());
  if (c_.t_competitor == kNever)
    c_.t_competitor = t + Gap(365.0 * 86400 / sim_.options_.competitor_offers_per_year);
  return t + Gap(3);
}

int64_t Behaviour::Purchase(int64_t t, int device) {
  const Persona& p = P();
  const Product& pr = sim_.options_.products[c_.cart_product];
  std::string_view channel = device == 0 ? "web" : "mobile";
  int64_t qty = p.business ? 8 + c_.rng.Below(30) : 1 + (c_.rng.Chance(0.2 * p.value_multiplier) ? 1 : 0);
  c_.cart_cents = Cents(pr.price) * qty;
  c_.cart_open = true;
  {
    JsonLine j = Track(t, "Added To Cart", channel, false, device);
    j.Str("product_id", pr.id).Str("sku", pr.id).Str("name", pr.name).Str("category", pr.category);
    j.Cents("price", Cents(pr.price)).Int("quantity", qty).Str("currency", "EUR");
    std::string cart = "cart-";
    AppendPadded(&cart, c_.index, 1);
    j.Str("cart_id", cart);
    End(j, t, false);
  }
  t += Gap(60);
  // An extra item now and then (value-minded buyers less often).
  if (c_.rng.Chance(0.35 * p.value_multiplier)) {
    uint32_t k = c_.rng.Below(static_cast<uint32_t>(sim_.options_.products.size()));
    const Product& extra = sim_.options_.products[k];
    if (extra.price < 150) {
      c_.cart_cents += Cents(extra.price);
      JsonLine j = Track(t, "Added To Cart", channel, false, device);
      j.Str("product_id", extra.id).Str("sku", extra.id).Str("name", extra.name).Str("category", extra.category);
      j.Cents("price", Cents(extra.price)).Int("quantity", 1).Str("currency", "EUR");
      End(j, t, false);
      t += Gap(40);
    }
  }
  if (!c_.rng.Chance(0.72)) {
    // Abandoned cart: a reminder goes out tomorrow if they let us email them.
    if (c_.identified && c_.consent_email) c_.t_cart = t + 20 * kHour + Gap(4 * 3600);
    return t;
  }
  if (!c_.identified) t = SignUp(t, device);  // an account at checkout
  {
    JsonLine j = Track(t, "Checkout Started", channel, false, device);
    std::string order = "ord-";
    AppendPadded(&order, c_.index, 1);
    order.push_back('-');
    AppendPadded(&order, c_.order_no + 1, 1);
    j.Str("order_id", order).Cents("cart_value", c_.cart_cents).Str("currency", "EUR");
    End(j, t, false);
  }
  t += Gap(90);
  if (!c_.rng.Chance(0.82)) {
    if (c_.consent_email) c_.t_cart = t + 20 * kHour + Gap(4 * 3600);
    return t;
  }
  PlaceOrder(t, device, channel);
  return t + Gap(30);
}

void Behaviour::PlaceOrder(int64_t t, int device, std::string_view channel) {
  const Persona& p = P();
  const Product& pr = sim_.options_.products[c_.cart_product];
  c_.cart_open = false;
  ++c_.order_no;
  ++c_.orders;
  if (c_.orders == 1) ++S().converted;
  ++S().orders;
  int64_t discount = c_.rng.Chance(p.value_multiplier < 0.8 ? 0.5 : 0.15) ? c_.cart_cents / 10 : 0;
  int64_t shipping = c_.cart_cents >= 5000 ? 0 : 495;
  int64_t revenue = c_.cart_cents - discount + shipping;
  c_.order_cents = revenue;
  c_.order_product = c_.cart_product;
  S().revenue_cents += revenue;
  JsonLine j = Track(t, "Order Completed", channel, false, device);
  std::string order = "ord-";
  AppendPadded(&order, c_.index, 1);
  order.push_back('-');
  AppendPadded(&order, c_.order_no, 1);
  j.Str("order_id", order).Cents("revenue", revenue).Cents("shipping", shipping).Cents("discount", discount);
  j.Str("currency", "EUR");
  if (discount > 0) j.Str("coupon", "SAVE10");
  j.Str("payment_method", c_.rng.Chance(0.6) ? "card" : (c_.rng.Chance(0.5) ? "paypal" : "invoice"));
  j.Array("products").Element().Str("product_id", pr.id).Str("name", pr.name).Str("category", pr.category);
  j.Cents("price", Cents(pr.price)).Close().EndArray();
  End(j, t, false);
  c_.order_step = 1;
  c_.t_order = t + 18 * kHour + Gap(12 * 3600);
  // A payment taken twice: a fault the customer notices on the statement.
  if (c_.rng.Chance(sim_.options_.billing_error_rate)) {
    Mood(-0.3 - 0.3 * (1 - p.patience));
    FileComplaint(t + 2 * kDay + Gap(86400), 2, 2, true);
  }
}

// ---- after the sale -------------------------------------------------------------------------------

void Behaviour::OrderStep() {
  const Persona& p = P();
  int64_t t = now_;
  std::string order = "ord-";
  AppendPadded(&order, c_.index, 1);
  order.push_back('-');
  AppendPadded(&order, c_.order_no, 1);
  if (c_.order_step == 1) {
    JsonLine j = Track(t, "Order Shipped", "email", true);
    j.Str("order_id", order).Str("carrier", c_.rng.Chance(0.5) ? "DHL" : "DPD");
    End(j, t, true);
    c_.order_step = 2;
    c_.t_order = t + kDay + Gap(2.2 * 86400);
    return;
  }
  c_.order_step = 0;
  c_.t_order = kNever;
  bool late = c_.rng.Chance(sim_.options_.late_delivery_rate);
  bool damaged = c_.rng.Chance(sim_.options_.damaged_rate);
  int64_t days_late = late ? 2 + c_.rng.Below(7) : 0;
  t += days_late * kDay;
  {
    JsonLine j = Track(t, "Order Delivered", "other", false);
    j.Str("order_id", order).Bool("on_time", !late).Int("days_late", days_late).Bool("damaged", damaged);
    End(j, t, false);
  }
  if (!late && !damaged) {
    Mood(0.3 + 0.1 * p.patience);
    if (c_.orders == 1 || c_.rng.Chance(0.3)) c_.t_survey = t + 2 * kDay + Gap(86400), c_.survey_kind = 0;
    // A first good order makes members: Trail Club, onboarding in the app.
    if (!c_.ever_subscribed && !p.business && c_.rng.Chance(p.subscribe_propensity * (1 + c_.mood))) {
      int64_t s = t + 3 * kDay + Gap(5 * 86400);
      c_.subscribed = c_.ever_subscribed = true;
      c_.usage = static_cast<float>(c_.rng.Uniform(0.45, 1.0));
      ++S().subscriptions_started;
      S().revenue_cents += Cents(sim_.options_.membership_price);
      JsonLine j = Track(s, "Subscription Started", "web", false);
      std::string sub = "sub-";
      AppendPadded(&sub, c_.index, 1);
      j.Str("subscription_id", sub).Str("plan", "trail_club_monthly");
      j.Cents("revenue", Cents(sim_.options_.membership_price)).Str("currency", "EUR");
      End(j, s, false);
      if (c_.rng.Chance(0.8)) {
        int64_t o = s + kHour + Gap(2 * 86400);
        JsonLine k = Track(o, "Onboarding Completed", "mobile", false, 1);
        k.Str("plan", "trail_club_monthly").Int("steps", 4);
        End(k, o, false);
        c_.has_app = true;
      }
      c_.t_renewal = s + 27 * kDay;
      c_.renewal_notice_sent = false;
    }
    return;
  }
  // A fault: late or damaged. Impatient customers get angry fast, and many complain.
  double hit = (damaged ? 0.45 : 0.25) + 0.45 * (1 - p.patience);
  Mood(-hit);
  c_.interest = static_cast<float>(c_.interest * 0.8);
  double complain = damaged ? 0.8 : 0.2 + 0.6 * (1 - p.patience);
  if (c_.rng.Chance(complain)) {
    uint8_t severity = damaged ? (c_.order_cents > 30000 ? 2 : 1) : (days_late > 5 ? 1 : 0);
    if (c_.mood < -0.6) ++severity;
    FileComplaint(t + kHour + Gap(10 * 3600), damaged ? 1 : 0, std::min<uint8_t>(severity, 3), true);
  } else {
    c_.t_survey = t + 2 * kDay + Gap(86400), c_.survey_kind = 0;
  }
}

void Behaviour::FileComplaint(int64_t t, uint8_t category, uint8_t severity, bool with_order) {
  const Persona& p = P();
  ++S().complaints;
  ++c_.tickets;
  std::string_view channel = c_.rng.Chance(p.phone_affinity) ? "phone" : (c_.rng.Chance(0.5) ? "chat" : "email");
  std::string ticket = "tkt-";
  AppendPadded(&ticket, c_.index, 1);
  ticket.push_back('-');
  AppendPadded(&ticket, c_.tickets, 1);
  {
    JsonLine j = Track(t, "Complaint Filed", channel, false);
    j.Str("category", kCategories[category]).Str("severity", kSeverities[severity]);
    j.Str("description", kComplaintText[category][1]);
    if (with_order && c_.order_no > 0) {
      std::string order = "ord-";
      AppendPadded(&order, c_.index, 1);
      order.push_back('-');
      AppendPadded(&order, c_.order_no, 1);
      j.Str("order_id", order);
    }
    End(j, t, false);
  }
  t += Gap(60);
  {
    JsonLine j = Track(t, "Support Ticket Opened", channel, false);
    j.Str("ticket_id", ticket).Str("topic", kCategories[category]).Str("priority", kSeverities[severity]);
    End(j, t, false);
  }
  c_.ticket_open = true;
  c_.ticket_category = category;
  c_.ticket_severity = severity;
  // Resolution takes hours to days; severe cases take longer.
  c_.t_ticket = std::min(c_.t_ticket, t + Gap(3600 * (8 + 20.0 * severity)));
  Mood(-0.1);
}

void Behaviour::TicketStep() {
  const Persona& p = P();
  int64_t t = now_;
  c_.t_ticket = kNever;
  if (!c_.ticket_open) return;
  c_.ticket_open = false;
  bool good = c_.ticket_forced_good || c_.rng.Chance(sim_.options_.good_resolution_rate);
  c_.ticket_forced_good = false;
  std::string ticket = "tkt-";
  AppendPadded(&ticket, c_.index, 1);
  ticket.push_back('-');
  AppendPadded(&ticket, c_.tickets, 1);
  std::string_view resolution = c_.ticket_category == 1 ? (c_.rng.Chance(0.5) ? "replacement" : "refund")
                                : c_.ticket_category == 2 ? "refund"
                                                          : "explanation";
  if (!good) resolution = "none";
  {
    JsonLine j = Track(t, "Support Ticket Resolved", "support", true);
    j.Str("ticket_id", ticket).Str("resolution", resolution).Bool("satisfied", good);
    j.Int("hours_to_resolve", (t - c_.arrived) > 0 ? 8 + 20 * c_.ticket_severity : 0);
    End(j, t, true);
  }
  if (resolution == "refund") {
    int64_t r = t + Gap(3600);
    JsonLine j = Track(r, "Order Refunded", "payment", true);
    std::string order = "ord-";
    AppendPadded(&order, c_.index, 1);
    order.push_back('-');
    AppendPadded(&order, c_.order_no, 1);
    j.Str("order_id", order).Cents("refund_amount", c_.ticket_category == 2 ? c_.order_cents : c_.order_cents / 2);
    End(j, r, true);
  }
  if (good) {
    // The recovery paradox: a problem solved well leaves the customer happier than before it.
    ++S().resolved_well;
    c_.mood = static_cast<float>(Clamp(std::max<double>(c_.mood, 0.0) + 0.45, -1, 1));
    c_.interest = static_cast<float>(std::max<double>(c_.interest, 0.5));
  } else {
    Mood(-0.35);
    // A second problem on top of the first (a secondary error) or leaving.
    if (c_.rng.Chance(0.25)) FileComplaint(t + kDay + Gap(2 * 86400), 3, std::min<uint8_t>(c_.ticket_severity + 1, 3), false);
    else if (c_.rng.Chance(0.6 * (1 - p.patience))) {
      if (c_.subscribed) Cancel(t + kHour + Gap(86400), "bad_experience");
      Leave();
    }
  }
  if (!c_.ticket_open && c_.rng.Chance(0.6)) c_.t_survey = std::min(c_.t_survey, t + kDay + Gap(3600)), c_.survey_kind = 2;
}

void Behaviour::SurveyStep() {
  int64_t t = now_;
  c_.t_survey = kNever;
  Survey(t, c_.survey_kind);
}

void Behaviour::Survey(int64_t t, uint8_t kind) {
  const Persona& p = P();
  {
    JsonLine j = Track(t, "Survey Sent", "email", true);
    j.Str("survey", kSurveys[kind]);
    End(j, t, true);
  }
  // Strong feelings answer more often.
  if (!c_.rng.Chance(Clamp(p.survey_propensity * (1 + 1.2 * std::fabs(c_.mood)), 0, 0.95))) return;
  int64_t r = t + Gap(5 * 3600);
  int nps = static_cast<int>(std::lround(Clamp(7.0 + 3.0 * c_.mood + 1.3 * c_.rng.Normal(), 0, 10)));
  int csat = static_cast<int>(std::lround(Clamp(3.7 + 1.6 * c_.mood + 0.6 * c_.rng.Normal(), 1, 5)));
  ++S().nps_responses;
  if (nps >= 9) ++S().promoters;
  if (nps <= 6) ++S().detractors;
  JsonLine j = Track(r, "Survey Responded", "email", false);
  j.Str("survey", kSurveys[kind]).Int("nps", nps).Int("csat", csat);
  if (kind == 2) j.Int("ces", static_cast<int>(std::lround(Clamp(4.5 + 2 * c_.mood + c_.rng.Normal(), 1, 7))));
  if (c_.rng.Chance(0.6))
    j.Str("comment", nps >= 9 ? Pick(c_.rng, kPromoterComments)
                     : nps >= 7 ? Pick(c_.rng, kPassiveComments)
                                : Pick(c_.rng, kDetractorComments));
  End(j, r, false);
  // Answering moves the customer: promoters review and refer, detractors sometimes complain.
  if (nps >= 9) {
    Mood(0.05);
    if (c_.rng.Chance(0.35)) {
      int64_t v = r + Gap(600);
      JsonLine k = Track(v, "Review Submitted", "web", false);
      k.Int("rating", nps == 10 ? 5 : 4).Str("product_id", sim_.options_.products[c_.order_product].id);
      End(k, v, false);
    }
    if (c_.rng.Chance(0.12)) {
      int64_t v = r + Gap(3600);
      JsonLine k = Track(v, "Referral Made", "email", false);
      k.Str("program", "friend_gets_10");
      End(k, v, false);
    }
  } else if (nps <= 4 && !c_.ticket_open && c_.rng.Chance(0.2)) {
    FileComplaint(r + Gap(3600), 3, 1, false);
  }
}

void Behaviour::RenewalStep() {
  const Persona& p = P();
  int64_t t = now_;
  if (!c_.subscribed) {
    c_.t_renewal = kNever;
    return;
  }
  std::string sub = "sub-";
  AppendPadded(&sub, c_.index, 1);
  if (!c_.renewal_notice_sent) {
    JsonLine j = Track(t, "Renewal Due", "email", true);
    j.Str("subscription_id", sub).Str("plan", "trail_club_monthly");
    j.Time("renews_on", sim_.Stamp(t + 3 * kDay)).Cents("amount", Cents(sim_.options_.membership_price));
    End(j, t, true);
    c_.renewal_notice_sent = true;
    c_.t_renewal = t + 3 * kDay;
    return;
  }
  c_.renewal_notice_sent = false;
  ++S().renewal_decisions;
  // Usage drifts month to month; now and then life changes and the app goes unused.
  double usage = c_.usage + 0.12 * c_.rng.Normal();
  if (c_.rng.Chance(0.06)) usage *= 0.3;
  c_.usage = static_cast<float>(Clamp(usage, 0, 1));
  double cancel = 0.03 + 0.14 * std::max(0.0f, -c_.mood) + 0.2 * std::max(0.0, 0.35 - c_.usage) +
                  (c_.tempted ? 0.1 + 0.2 * p.competitor_susceptibility : 0.0) + (c_.lost ? 0.6 : 0.0);
  if (c_.rng.Chance(Clamp(cancel, 0, 1))) {
    Cancel(t, c_.tempted || c_.lost ? "competitor" : c_.usage < 0.35 ? "not_using" : c_.mood < -0.2 ? "bad_experience" : "price");
    return;
  }
  ++c_.sub_months;
  S().revenue_cents += Cents(sim_.options_.membership_price);
  {
    JsonLine j = Track(t, "Subscription Renewed", "payment", false);
    j.Str("subscription_id", sub).Str("plan", "trail_club_monthly").Cents("revenue", Cents(sim_.options_.membership_price));
    j.Str("currency", "EUR").Int("period", c_.sub_months + 1);
    End(j, t, false);
  }
  if (c_.rng.Chance(sim_.options_.billing_error_rate)) FileComplaint(t + kDay + Gap(86400), 2, 1, false);
  if (c_.sub_months % 3 == 0 && c_.t_survey == kNever) c_.t_survey = t + kDay + Gap(86400), c_.survey_kind = 1;
  c_.t_renewal = t + 27 * kDay;
}

void Behaviour::Cancel(int64_t t, std::string_view reason) {
  if (!c_.subscribed) return;
  c_.subscribed = false;
  c_.renewal_notice_sent = false;
  c_.t_renewal = kNever;
  ++S().cancellations;
  if (!InHistory(t)) {}  // counted either way: live stats include live cancellations
  JsonLine j = Track(t, "Subscription Cancelled", "web", false);
  std::string sub = "sub-";
  AppendPadded(&sub, c_.index, 1);
  j.Str("subscription_id", sub).Str("reason", reason);
  if (reason == "competitor") j.Str("competitor", kCompetitors[c_.index % std::size(kCompetitors)]);
  End(j, t, false);
}

void Behaviour::Leave() {
  if (!c_.lost) ++S().lost_customers;
  c_.lost = true;
  c_.interest = 0.03f;
  c_.t_session = kNever;
  c_.t_competitor = kNever;
}

// ---- outbound and the outside world ---------------------------------------------------------------

void Behaviour::Newsletter() {
  const Persona& p = P();
  int64_t t = now_;
  c_.t_newsletter = kNever;
  if (!c_.consent_email) return;
  int64_t week = (t - sim_.options_.start_ms) / (7 * kDay);
  std::string campaign = "newsletter-w";
  AppendPadded(&campaign, static_cast<uint64_t>(week), 2);
  {
    JsonLine j = Track(t, "Email Sent", "email", true);
    j.Str("email_type", "newsletter").Str("campaign", campaign);
    End(j, t, true);
  }
  double open = p.email_affinity * Clamp(0.3 + c_.interest + 0.4 * c_.mood, 0.05, 1.5);
  if (c_.rng.Chance(Clamp(open, 0, 0.95))) {
    int64_t o = t + Gap(6 * 3600);
    {
      JsonLine j = Track(o, "Email Opened", "email", false);
      j.Str("email_type", "newsletter").Str("campaign", campaign);
      End(j, o, false);
    }
    if (c_.rng.Chance(0.22)) {
      int64_t k = o + Gap(30);
      JsonLine j = Track(k, "Email Clicked", "email", false);
      j.Str("email_type", "newsletter").Str("campaign", campaign).Str("link", "/deals");
      End(j, k, false);
      // A click brings the customer back, and can win back one who had drifted or left.
      c_.interest = static_cast<float>(std::min(1.0, c_.interest + 0.2));
      if (c_.lost && c_.rng.Chance(0.15)) c_.lost = false;
      if (!c_.lost) c_.t_session = std::min(c_.t_session, k + Gap(60));
    }
  }
  bool unsubscribe = c_.rng.Chance(0.004 + (c_.mood < -0.3 ? 0.06 : 0.0) + (c_.lost ? 0.05 : 0.0));
  if (unsubscribe) {
    int64_t u = t + Gap(8 * 3600);
    c_.consent_email = false;
    JsonLine j = Track(u, "Consent Updated", "email", false);
    j.Str("purpose", "marketing").Str("consent_channel", "email").Bool("granted", false);
    j.Str("lawful_basis", "consent").Str("source", "unsubscribe_link");
    End(j, u, false);
    return;
  }
  c_.t_newsletter = t + static_cast<int64_t>(sim_.options_.newsletter_every_days * kDay) + Gap(3 * 3600);
}

void Behaviour::Sms() {
  const Persona& p = P();
  int64_t t = now_;
  c_.t_sms = kNever;
  if (!c_.consent_sms) return;
  {
    JsonLine j = Track(t, "SMS Sent", "sms", true);
    j.Str("sms_type", "promotion").Str("campaign", "monthly-deal");
    End(j, t, true);
  }
  if (c_.rng.Chance(p.sms_affinity * Clamp(0.5 + c_.interest + 0.3 * c_.mood, 0.1, 1.5))) {
    int64_t k = t + Gap(1200);
    JsonLine j = Track(k, "SMS Clicked", "sms", false);
    j.Str("sms_type", "promotion").Str("campaign", "monthly-deal");
    End(j, k, false);
    c_.cart_boost = true;
    if (!c_.lost) c_.t_session = std::min(c_.t_session, k + Gap(30));
  } else if (c_.rng.Chance(0.02 + (c_.mood < -0.3 ? 0.1 : 0.0))) {
    int64_t u = t + Gap(3600);
    c_.consent_sms = false;
    JsonLine j = Track(u, "Consent Updated", "sms", false);
    j.Str("purpose", "marketing").Str("consent_channel", "sms").Bool("granted", false);
    j.Str("lawful_basis", "consent").Str("source", "sms_stop");
    End(j, u, false);
    return;
  }
  c_.t_sms = t + 30 * kDay + Gap(2 * 86400);
}

void Behaviour::CartReminder() {
  const Persona& p = P();
  int64_t t = now_;
  c_.t_cart = kNever;
  if (!c_.cart_open || !c_.consent_email) return;
  {
    JsonLine j = Track(t, "Email Sent", "email", true);
    j.Str("email_type", "cart_reminder").Cents("cart_value", c_.cart_cents);
    End(j, t, true);
  }
  if (c_.rng.Chance(Clamp(p.email_affinity * 1.4, 0, 0.9))) {
    int64_t o = t + Gap(3 * 3600);
    {
      JsonLine j = Track(o, "Email Opened", "email", false);
      j.Str("email_type", "cart_reminder");
      End(j, o, false);
    }
    if (c_.rng.Chance(0.4)) {
      int64_t k = o + Gap(30);
      JsonLine j = Track(k, "Email Clicked", "email", false);
      j.Str("email_type", "cart_reminder").Str("link", "/cart");
      End(j, k, false);
      c_.cart_boost = true;
      c_.t_session = std::min(c_.t_session, k + Gap(30));
    }
  }
  c_.cart_open = false;
}

void Behaviour::CompetitorOffer() {
  const Persona& p = P();
  int64_t t = now_;
  c_.t_competitor = kNever;
  if (c_.lost) return;
  // We only see some of them: a chat mention, a price-comparison visit, a sales note.
  if (c_.rng.Chance(0.5)) {
    ++S().competitor_considered;
    std::string_view source = p.business ? "sales_note" : (c_.rng.Chance(0.5) ? "chat_mention" : "price_comparison");
    JsonLine j = Track(t, "Competitor Considered", p.business ? "phone" : (source == "chat_mention" ? "chat" : "web"), false);
    j.Str("competitor", Pick(c_.rng, kCompetitors)).Str("offer", Pick(c_.rng, kOffers)).Str("source", source);
    End(j, t, false);
  }
  Mood(-0.12);
  c_.tempted = true;
  c_.tempted_until = t + 60 * kDay;
  // Some switch: the susceptible, and the unhappy.
  if (c_.rng.Chance(p.competitor_susceptibility * Clamp(0.35 - c_.mood, 0.05, 1.2))) {
    if (c_.subscribed && c_.rng.Chance(0.3)) Cancel(t + Gap(3 * 86400), "competitor");
    Leave();
    return;
  }
  c_.t_competitor = t + Gap(365.0 * 86400 / sim_.options_.competitor_offers_per_year);
}

// ---- the B2B pipeline -----------------------------------------------------------------------------
// b2b_stage: 0 researching, 1 contact made, 2 qualified, 3 demo, 4 proposal, 5 negotiation,
// 6 lost, 7 won (an account that re-orders).

void Behaviour::B2bStep() {
  int64_t t = now_;
  c_.t_sales = kNever;
  // Deals move in days; one in four stalls for weeks (a lead going cold).
  auto next = [&](double mean_days) {
    double d = c_.rng.Chance(0.25) ? 25 + c_.rng.Exp(20) : c_.rng.Exp(mean_days);
    c_.t_sales = t + kHour + static_cast<int64_t>(d * kDay);
  };
  auto lose = [&](std::string_view reason) {
    ++S().deals_lost;
    JsonLine j = Track(t, "Deal Lost", "phone", false);
    j.Str("reason", reason);
    if (reason == "competitor") j.Str("competitor", Pick(c_.rng, kCompetitors));
    j.Cents("deal_value", c_.deal_cents);
    End(j, t, false);
    c_.b2b_stage = 6;
    Leave();
  };
  switch (c_.b2b_stage) {
    case 1: {  // sales calls back
      JsonLine j = Track(t, "Call Made", "phone", true);
      bool answered = c_.rng.Chance(0.75);
      j.Str("purpose", "sales").Str("outcome", answered ? "answered" : "no_answer").Int("duration_s", answered ? 120 + c_.rng.Below(900) : 0);
      End(j, t, true);
      if (!answered) return next(3);
      if (!c_.rng.Chance(0.65)) return Leave();  // not a fit: goes quiet
      t += 20 * kMinute;
      JsonLine k = Track(t, "Lead Qualified", "phone", false);
      k.Int("score", 50 + c_.rng.Below(50)).Int("seats", 10 + c_.rng.Below(120));
      End(k, t, false);
      c_.b2b_stage = 2;
      return next(5);
    }
    case 2: {
      if (!c_.rng.Chance(0.75)) return Leave();
      JsonLine j = Track(t, "Demo Requested", "web", false);
      j.Str("product", "teams");
      End(j, t, false);
      c_.b2b_stage = 3;
      return next(6);
    }
    case 3: {
      c_.deal_cents = Cents(c_.rng.LogNormal(6000, 0.6));
      JsonLine j = Track(t, "Proposal Sent", "email", true);
      j.Cents("proposal_value", c_.deal_cents).Str("currency", "EUR");
      End(j, t, true);
      c_.b2b_stage = 4;
      return next(7);
    }
    case 4: {
      if (!c_.rng.Chance(0.7)) return lose(c_.rng.Chance(0.5) ? "timing" : "no_decision");
      JsonLine j = Track(t, "Negotiation Started", "phone", false);
      j.Cents("deal_value", c_.deal_cents);
      End(j, t, false);
      c_.b2b_stage = 5;
      return next(8);
    }
    case 5: {
      if (!c_.rng.Chance(Clamp(0.55 + 0.25 * c_.mood - (c_.tempted ? 0.2 : 0.0), 0.05, 0.95)))
        return lose(c_.tempted || c_.rng.Chance(0.4) ? "competitor" : "price");
      int64_t revenue = static_cast<int64_t>(static_cast<double>(c_.deal_cents) * c_.rng.Uniform(0.85, 1.0));
      ++S().deals_won;
      ++S().converted;
      ++c_.orders;
      S().revenue_cents += revenue;
      JsonLine j = Track(t, "Deal Won", "phone", false);
      j.Cents("revenue", revenue).Str("currency", "EUR").Int("seats", 10 + c_.rng.Below(120));
      End(j, t, false);
      c_.b2b_stage = 7;
      Mood(0.35);
      c_.interest = 0.6f;
      int64_t o = t + 5 * kDay + Gap(5 * 86400);
      JsonLine k = Track(o, "Onboarding Completed", "web", false);
      k.Str("plan", "teams").Int("steps", 6);
      End(k, o, false);
      c_.t_survey = o + 7 * kDay, c_.survey_kind = 0;
      c_.t_session = std::min(c_.t_session, o + kDay);
      return;
    }
    default:
      return;
  }
}

void Behaviour::ScheduleNextSession(int64_t t) {
  const Persona& p = P();
  c_.t_session = kNever;
  if (c_.lost) return;
  if (p.business && c_.b2b_stage > 0 && c_.b2b_stage < 6) return;  // the sales steps drive them
  // Prospects who lost interest stop coming (emails may bring them back).
  if (c_.orders == 0 && c_.interest < 0.12) return;
  if (c_.orders > 0 && c_.interest < 0.05) return;
  double engagement = Clamp(0.15 + c_.interest + 0.5 * c_.mood, 0.05, 2);
  double mean_days = 7.0 / (p.sessions_per_week * engagement);
  c_.t_session = t + 10 * kMinute + static_cast<int64_t>(c_.rng.Exp(mean_days) * kDay);
}

// ---- the closed loop ------------------------------------------------------------------------------

bool Behaviour::Respond(const Action& action) {
  const Persona& p = P();
  Relax();
  int64_t t = now_;
  auto come_back = [&](double within_days) {
    c_.lost = false;
    c_.t_session = std::min(c_.t_session, t + Gap(within_days * 86400));
  };
  switch (action.kind) {
    case Action::Kind::kAngry:  // a dedicated, empowered agent
      if (!(c_.ticket_open || c_.mood < -0.2)) return false;
      if (!c_.rng.Chance(0.65 + 0.2 * p.patience)) return false;
      if (c_.ticket_open) {
        c_.ticket_forced_good = true;
        c_.t_ticket = std::min(c_.t_ticket, t + Gap(4 * 3600));
      } else {
        c_.mood = static_cast<float>(std::max<double>(c_.mood, 0.0) + 0.3);
      }
      come_back(5);
      return true;
    case Action::Kind::kCompetitor:  // value demonstration or counter-offer
      if (!c_.tempted && !c_.lost) return false;
      if (!c_.rng.Chance(0.45 + 0.2 * (1 - p.competitor_susceptibility))) return false;
      c_.tempted = false;
      Mood(0.15);
      c_.cart_boost = true;
      come_back(3);
      return true;
    case Action::Kind::kRenewalDoubt:  // usage review, help to use the product more fully
      if (!c_.subscribed) return false;
      if (!c_.rng.Chance(0.55)) return false;
      c_.usage = static_cast<float>(std::max<double>(c_.usage, 0.65));
      Mood(0.1);
      come_back(2);
      return true;
    case Action::Kind::kGoingCold:  // ask what they look for, send stories that show it
      if (!c_.rng.Chance(0.25 + 0.2 * c_.interest)) return false;
      c_.interest = static_cast<float>(std::min(1.0, c_.interest + 0.4));
      come_back(4);
      return true;
    case Action::Kind::kOffer:
      if (!c_.rng.Chance(0.2)) return false;
      c_.cart_boost = true;
      come_back(3);
      return true;
    case Action::Kind::kOther:
      return false;
  }
  return false;
}

}  // namespace cairn::sim
