#pragma once
// SimOptions: everything that shapes the simulated business (docs/simulator.md). The defaults
// (DefaultSimOptions) are "Northwind Outfitters": an online outdoor-gear shop selling in EUR, a
// "Trail Club" monthly membership and a small B2B "Teams" line with a sales pipeline.
//
// Same options (seed included) → the same bytes, on every machine: only integer arithmetic and
// IEEE double operations in a fixed order decide anything.

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace cairn::sim {

// A type of customer. Probabilities are per opportunity (a session, an email, an order...).
struct Persona {
  std::string name;               // trait `sim_persona` (ground truth for tests and demos)
  double share = 0;               // of arrivals (weights; normalised over all personas)
  double sessions_per_week = 1;   // visits while engaged
  double mobile_share = 0.5;      // sessions in the app (screen) rather than the web (page)
  double email_affinity = 0.3;    // P(open) of a marketing email
  double sms_affinity = 0.1;      // P(click) of a marketing SMS
  double phone_affinity = 0.2;    // P(complaints and support by phone rather than chat/email)
  double signup_propensity = 0.5; // P(signs up) over the first weeks of interest
  double buy_propensity = 0.1;    // P(adds to cart) per product-viewing session
  double repeat_propensity = 0.3; // P(another order) per month as a happy customer
  double value_multiplier = 1;    // scales basket size and quantity
  double patience = 0.5;          // 0..1: higher → smaller anger on faults, slower to leave
  double subscribe_propensity = 0.1;  // P(starts the membership) after a first good order
  double competitor_susceptibility = 0.3;  // P(switches) when a competitor's offer reaches them
  double survey_propensity = 0.2; // P(answers a survey)
  bool business = false;          // B2B buyer: contact, demo, proposal, negotiation, deal
};

// Where customers come from. Paid campaigns spend `budget` over [start_day, end_day) at
// `cost_per_click` per arrival (an "Ad Clicked" interaction carries the cost).
struct Campaign {
  std::string name;    // properties.campaign / context.campaign.name
  std::string source;  // utm source: google, meta, tiktok, newsletter-partner...
  std::string medium;  // cpc, social, video, display
  std::string channel; // DOMAIN channel of the ad click: web, social, video
  double budget = 0;   // EUR over the campaign
  double cost_per_click = 1;
  int start_day = 0;   // days from SimOptions.start_ms
  int end_day = 365;
  std::vector<double> persona_weights;  // who the campaign reaches; empty = persona shares
};

struct Product {
  std::string id;        // "p-tent-2p"
  std::string name;      // "Ridge 2P Tent"
  std::string category;  // "tents"
  double price = 0;      // EUR
};

// The business's outcomes the defaults are tuned to, and the test asserts.
struct StatRanges {
  double conversion_min = 0.08, conversion_max = 0.25;  // arrivals placing an order / winning a deal
  double churn_min = 0.04, churn_max = 0.14;            // membership cancellations per renewal
  double nps_min = 0, nps_max = 45;                     // % promoters − % detractors
};

struct SimOptions {
  uint64_t seed = 1;
  uint64_t customers = 50000;  // arrivals over the run
  int days = 365;
  int64_t start_ms = 0;        // UTC ms of the first day's midnight; required (> 0)
  std::string id_prefix = "cust-";       // userId = prefix + 7 digits of the customer's index
  std::string email_domain = "example.com";
  double organic_share = 0.35;           // arrivals without a paid campaign
  double growth_per_year = 0.6;          // arrival intensity grows linearly by this over a year
  double weekend_factor = 0.8;           // arrival intensity on Saturday and Sunday
  double membership_price = 9.90;        // Trail Club, monthly
  double late_delivery_rate = 0.09;      // per order
  double damaged_rate = 0.035;           // per order: damaged or wrong item
  double billing_error_rate = 0.01;      // per payment (order or renewal)
  double good_resolution_rate = 0.72;    // P(a complaint is resolved to the customer's satisfaction)
  double competitor_offers_per_year = 2.5;  // offers reaching an engaged customer
  double newsletter_every_days = 14;     // to contacts who consented to marketing email
  std::vector<Persona> personas;
  std::vector<Campaign> campaigns;
  std::vector<Product> products;
  StatRanges targets;
};

// The Northwind Outfitters defaults for `customers`, `days`, `seed`, `start_ms`.
SimOptions DefaultSimOptions(uint64_t customers, int days, uint64_t seed, int64_t start_ms);

// InvalidArgument naming the first field out of range.
Status ValidateSimOptions(const SimOptions& options);

}  // namespace cairn::sim
