#include "sim/options.h"

#include <cmath>
#include <string>

namespace cairn::sim {

SimOptions DefaultSimOptions(uint64_t customers, int days, uint64_t seed, int64_t start_ms) {
  SimOptions o;
  o.customers = customers;
  o.days = days;
  o.seed = seed;
  o.start_ms = start_ms;

  auto persona = [](std::string name, double share) {
    Persona p;
    p.name = std::move(name);
    p.share = share;
    return p;
  };
  // Price-driven, reads promotions, switches for a better offer.
  Persona bargain = persona("bargain_hunter", 0.28);
  bargain.sessions_per_week = 1.6, bargain.mobile_share = 0.45, bargain.email_affinity = 0.38;
  bargain.sms_affinity = 0.22, bargain.phone_affinity = 0.15, bargain.signup_propensity = 0.55;
  bargain.buy_propensity = 0.16, bargain.repeat_propensity = 0.22, bargain.value_multiplier = 0.7;
  bargain.patience = 0.5, bargain.subscribe_propensity = 0.12, bargain.competitor_susceptibility = 0.45;
  bargain.survey_propensity = 0.22;
  // Outdoor regulars: the app, the membership, high spend, forgiving.
  Persona loyal = persona("loyal_enthusiast", 0.15);
  loyal.sessions_per_week = 2.4, loyal.mobile_share = 0.7, loyal.email_affinity = 0.5;
  loyal.sms_affinity = 0.15, loyal.phone_affinity = 0.2, loyal.signup_propensity = 0.85;
  loyal.buy_propensity = 0.24, loyal.repeat_propensity = 0.4, loyal.value_multiplier = 1.35;
  loyal.patience = 0.8, loyal.subscribe_propensity = 0.5, loyal.competitor_susceptibility = 0.12;
  loyal.survey_propensity = 0.4;
  // Buys quickly and well, has no time for problems: faults make them angry fast.
  Persona busy = persona("busy_professional", 0.19);
  busy.sessions_per_week = 0.9, busy.mobile_share = 0.75, busy.email_affinity = 0.18;
  busy.sms_affinity = 0.3, busy.phone_affinity = 0.55, busy.signup_propensity = 0.6;
  busy.buy_propensity = 0.3, busy.repeat_propensity = 0.25, busy.value_multiplier = 1.6;
  busy.patience = 0.2, busy.subscribe_propensity = 0.25, busy.competitor_susceptibility = 0.3;
  busy.survey_propensity = 0.12;
  // Reads the blog, rarely buys.
  Persona casual = persona("casual_browser", 0.35);
  casual.sessions_per_week = 0.7, casual.mobile_share = 0.5, casual.email_affinity = 0.15;
  casual.sms_affinity = 0.05, casual.phone_affinity = 0.1, casual.signup_propensity = 0.3;
  casual.buy_propensity = 0.07, casual.repeat_propensity = 0.1, casual.value_multiplier = 0.85;
  casual.patience = 0.6, casual.subscribe_propensity = 0.06, casual.competitor_susceptibility = 0.3;
  casual.survey_propensity = 0.1;
  // Outfits a school, club or company: a sales pipeline, large deals, phone and email.
  Persona team = persona("team_buyer", 0.03);
  team.sessions_per_week = 1.0, team.mobile_share = 0.1, team.email_affinity = 0.45;
  team.sms_affinity = 0.0, team.phone_affinity = 0.7, team.signup_propensity = 1.0;
  team.buy_propensity = 0.5, team.repeat_propensity = 0.12, team.value_multiplier = 1.0;
  team.patience = 0.45, team.subscribe_propensity = 0.0, team.competitor_susceptibility = 0.35;
  team.survey_propensity = 0.35, team.business = true;
  o.personas = {bargain, loyal, busy, casual, team};

  // A year's plan, dates and budgets scaled to `days`. EUR; clicks are in proportion to budget / CPC.
  auto day = [days](int d365) { return static_cast<int>(std::lround(d365 * (days / 365.0))); };
  auto campaign = [&](std::string name, std::string source, std::string medium, std::string channel,
                      double budget, double cpc, int from, int to, std::vector<double> weights) {
    Campaign c;
    c.name = std::move(name), c.source = std::move(source), c.medium = std::move(medium);
    c.channel = std::move(channel), c.budget = budget * (days / 365.0), c.cost_per_click = cpc;
    c.start_day = day(from), c.end_day = std::max(day(to), day(from) + 1);
    c.persona_weights = std::move(weights);
    return c;
  };
  o.campaigns = {
      campaign("always-on-search", "google", "cpc", "web", 90000, 1.5, 0, 365, {}),
      campaign("spring-trails", "google", "cpc", "web", 45000, 1.2, 60, 150, {0.3, 0.25, 0.2, 0.25, 0}),
      campaign("summer-peaks", "meta", "social", "social", 60000, 0.9, 140, 240, {0.3, 0.2, 0.15, 0.35, 0}),
      campaign("autumn-layers", "tiktok", "video", "video", 30000, 0.6, 240, 320, {0.35, 0.1, 0.15, 0.4, 0}),
      campaign("black-friday", "meta", "social", "social", 40000, 0.8, 320, 335, {0.55, 0.15, 0.15, 0.15, 0}),
      campaign("teams-outreach", "linkedin", "cpc", "web", 30000, 6.0, 0, 365, {0, 0, 0, 0, 1}),
  };

  auto product = [](std::string id, std::string name, std::string category, double price) {
    return Product{std::move(id), std::move(name), std::move(category), price};
  };
  o.products = {
      product("p-tent-2p", "Ridge 2P Tent", "tents", 289),
      product("p-tent-4p", "Basecamp 4P Tent", "tents", 469),
      product("p-tent-ul", "Featherlite UL Tent", "tents", 559),
      product("p-bag-3s", "Three-Season Sleeping Bag", "sleeping", 149),
      product("p-bag-down", "Alpine Down Bag", "sleeping", 379),
      product("p-mat", "Air Sleeping Mat", "sleeping", 89),
      product("p-pack-28", "Daypack 28L", "packs", 79),
      product("p-pack-55", "Trek Pack 55L", "packs", 219),
      product("p-boot-hike", "Hillwalker Boots", "footwear", 169),
      product("p-shoe-trail", "Trail Runner Shoes", "footwear", 129),
      product("p-jacket-rain", "Stormshell Rain Jacket", "clothing", 199),
      product("p-jacket-down", "Summit Down Jacket", "clothing", 259),
      product("p-fleece", "Grid Fleece", "clothing", 69),
      product("p-socks", "Merino Hiking Socks", "clothing", 19),
      product("p-stove", "Pocket Gas Stove", "cooking", 49),
      product("p-cookset", "Titanium Cook Set", "cooking", 75),
      product("p-headlamp", "Headlamp 400", "accessories", 39),
      product("p-poles", "Carbon Trekking Poles", "accessories", 119),
      product("p-bottle", "Insulated Bottle", "accessories", 29),
      product("p-gps", "Trail GPS Watch", "electronics", 329),
  };
  return o;
}

Status ValidateSimOptions(const SimOptions& o) {
  if (o.customers == 0 || o.customers > 100'000'000) return InvalidArgument("customers: must be 1..100000000");
  if (o.days < 1 || o.days > 3660) return InvalidArgument("days: must be 1..3660");
  if (o.start_ms <= 0) return InvalidArgument("start: must be a date after 1970-01-01");
  if (o.personas.empty() || o.personas.size() > 32) return InvalidArgument("personas: need 1..32");
  double share = 0;
  for (const auto& p : o.personas) {
    if (p.name.empty()) return InvalidArgument("personas: a persona has no name");
    if (!(p.share >= 0)) return InvalidArgument("personas." + p.name + ".share: must be >= 0");
    share += p.share;
  }
  if (!(share > 0)) return InvalidArgument("personas: shares sum to 0");
  if (o.products.empty()) return InvalidArgument("products: need at least one");
  if (!(o.organic_share >= 0 && o.organic_share <= 1)) return InvalidArgument("organic_share: must be 0..1");
  if (o.campaigns.empty() && o.organic_share < 1) return InvalidArgument("campaigns: none, so organic_share must be 1");
  if (o.campaigns.size() > 200) return InvalidArgument("campaigns: at most 200");
  for (const auto& c : o.campaigns) {
    if (c.name.empty()) return InvalidArgument("campaigns: a campaign has no name");
    if (!(c.budget > 0)) return InvalidArgument("campaigns." + c.name + ".budget: must be > 0");
    if (!(c.cost_per_click > 0)) return InvalidArgument("campaigns." + c.name + ".cost_per_click: must be > 0");
    if (c.start_day < 0 || c.end_day <= c.start_day)
      return InvalidArgument("campaigns." + c.name + ": start_day must be >= 0 and before end_day");
    if (!c.persona_weights.empty() && c.persona_weights.size() != o.personas.size())
      return InvalidArgument("campaigns." + c.name + ".persona_weights: one weight per persona");
  }
  if (!(o.weekend_factor > 0)) return InvalidArgument("weekend_factor: must be > 0");
  if (!(o.growth_per_year > -1)) return InvalidArgument("growth_per_year: must be > -1");
  if (!(o.membership_price > 0)) return InvalidArgument("membership_price: must be > 0");
  for (double r : {o.late_delivery_rate, o.damaged_rate, o.billing_error_rate, o.good_resolution_rate})
    if (!(r >= 0 && r <= 1)) return InvalidArgument("rates (late_delivery_rate, damaged_rate, billing_error_rate, good_resolution_rate): must be 0..1");
  if (!(o.newsletter_every_days >= 1)) return InvalidArgument("newsletter_every_days: must be >= 1");
  const auto& t = o.targets;
  if (!(t.conversion_min <= t.conversion_max && t.churn_min <= t.churn_max && t.nps_min <= t.nps_max))
    return InvalidArgument("targets: each min must be <= its max");
  return Status::Ok();
}

}  // namespace cairn::sim
