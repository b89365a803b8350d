#include "app/value_cmd.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "api/dto/value_dto.h"
#include "app/config.h"
#include "app/consent_wiring.h"
#include "app/hub.h"
#include "app/yaml_fields.h"
#include "journey/engine.h"
#include "store/segment_format.h"
#include "store/segment_reader.h"
#include "value/bgnbd.h"
#include "value/cdnow.h"
#include "value/gamma_gamma.h"
#include "value/pareto_nbd.h"

namespace cairn::app {
namespace {

// Published values for the 2,357-customer CDNOW sample: BG/NBD, Fader, Hardie & Lee (2005a);
// Pareto/NBD, Fader & Hardie's note on implementing the Pareto/NBD model; Gamma-Gamma, Fader,
// Hardie & Lee (2005b). NaN = not published.
struct Published {
  const char* name;
  double value;
};
constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

std::string Cell(double v) { return std::isnan(v) ? "" : fmt::format("{:.4f}", v); }

void PrintRows(const char* model, std::initializer_list<std::pair<Published, double>> rows, const value::FitReport& rep) {
  bool first = true;
  for (const auto& [pub, fitted] : rows) {
    std::printf("%-12s %-6s %14s %14s\n", first ? model : "", pub.name, Cell(fitted).c_str(),
                std::isnan(pub.value) ? "-" : fmt::format("{:g}", pub.value).c_str());
    first = false;
  }
  std::printf("%-12s %-6s %14.3f\n", "", "LL", rep.log_likelihood);
  std::printf("%-12s %s (%d evaluations, %.2f s, %lld customers in %lld distinct rows)\n", "", rep.message.c_str(),
              rep.evaluations, rep.seconds, static_cast<long long>(rep.customers), static_cast<long long>(rep.rows));
}

}  // namespace

namespace {

// The value module's facts in the journey map's vocabulary (both list the channel groups in the
// same order; a static_assert below keeps them so).
journey::ValueFacts ToJourneyFacts(const value::CustomerFacts& in) {
  static_assert(std::size(journey::kPersonaChannels) == value::kChannelGroups.size());
  journey::ValueFacts f;
  f.clv = in.value.clv;
  f.prob_alive = in.value.prob_alive;
  f.expected_purchases = in.value.expected_purchases;
  f.recency_days = in.behaviour.recency_days;
  f.tenure_days = in.behaviour.tenure_days;
  f.purchase_days = in.behaviour.purchases;
  f.average_spend = in.behaviour.average_order;
  for (size_t g = 0; g < value::kChannelGroups.size(); ++g) f.channel[g] = in.behaviour.channel_share[g];
  return f;
}

using yaml_fields::Bad;
using yaml_fields::Scalar;
using yaml_fields::StringList;


Status ApplyPersonas(const YAML::Node& node, value::PersonaOptions* o) {
  if (!node.IsMap()) return Bad("value.personas", node, "expected a mapping");
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>(), key = "value.personas." + name;
    const YAML::Node& v = kv.second;
    if (name == "k") RETURN_IF_ERROR(Scalar(v, key, &o->k));
    else if (name == "k_min") RETURN_IF_ERROR(Scalar(v, key, &o->k_min));
    else if (name == "k_max") RETURN_IF_ERROR(Scalar(v, key, &o->k_max));
    else if (name == "restarts") RETURN_IF_ERROR(Scalar(v, key, &o->restarts));
    else if (name == "seed") RETURN_IF_ERROR(Scalar(v, key, &o->seed));
    else if (name == "min_customers") RETURN_IF_ERROR(Scalar(v, key, &o->min_customers));
    else return Bad(key, kv.first, "unknown key (expected k, k_min, k_max, restarts, seed, min_customers)");
  }
  if (Status s = value::ValidatePersonaOptions(*o); !s.ok()) return Bad("value.personas", node, s.message());
  return Status::Ok();
}

Status ApplySubscriptions(const YAML::Node& node, value::ValueEngineOptions* e) {
  if (!node.IsMap()) return Bad("value.subscriptions", node, "expected a mapping");
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>(), key = "value.subscriptions." + name;
    const YAML::Node& v = kv.second;
    std::string* event = name == "started" ? &e->subscription_started : name == "renewed" ? &e->subscription_renewed
                         : name == "cancelled" ? &e->subscription_cancelled : nullptr;
    if (event) {
      RETURN_IF_ERROR(Scalar(v, key, event));
      if (event->empty()) return Bad(key, v, "expected an event name");
    } else if (name == "discount_rate") {
      RETURN_IF_ERROR(Scalar(v, key, &e->subscription_discount_rate));
      if (!(e->subscription_discount_rate >= 0) || e->subscription_discount_rate >= 1)
        return Bad(key, v, "must be in [0, 1) (per renewal period)");
    } else if (name == "renewal_probability") {
      RETURN_IF_ERROR(Scalar(v, key, &e->subscription_renewal_probability));
      if (!(e->subscription_renewal_probability >= 0) || e->subscription_renewal_probability >= 1)
        return Bad(key, v, "must be in [0, 1) (0 = fit the shifted-beta-geometric on renewals)");
    } else {
      return Bad(key, kv.first, "unknown key (expected started, renewed, cancelled, discount_rate, renewal_probability)");
    }
  }
  return Status::Ok();
}

Status ApplyOffers(const YAML::Node& node, ValueSettings* out) {
  if (!node.IsMap()) return Bad("value.offers", node, "expected a mapping");
  value::OfferOptions& o = out->engine.offers;
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>(), key = "value.offers." + name;
    const YAML::Node& v = kv.second;
    if (name == "enabled") {
      RETURN_IF_ERROR(Scalar(v, key, &out->offers));
    } else if (name == "per_customer") {
      RETURN_IF_ERROR(Scalar(v, key, &out->engine.offers_per_customer));
    } else if (name == "min_common_buyers") {
      RETURN_IF_ERROR(Scalar(v, key, &o.min_common_buyers));
    } else if (name == "scoring") {
      std::string s;
      RETURN_IF_ERROR(Scalar(v, key, &s));
      if (s == "sum_confidence") o.scoring = value::OfferScoring::kSumConfidence;
      else if (s == "max_lift") o.scoring = value::OfferScoring::kLiftTimesMargin;
      else return Bad(key, v, "expected sum_confidence or max_lift");
    } else if (name == "default_margin") {
      RETURN_IF_ERROR(Scalar(v, key, &o.default_margin));
    } else if (name == "margins") {
      if (!v.IsMap()) return Bad(key, v, "expected a mapping {product id: margin}");
      for (const auto& m : v) RETURN_IF_ERROR(Scalar(m.second, key + "." + m.first.as<std::string>(), &o.margins[m.first.as<std::string>()]));
    } else if (name == "complements") {
      if (!v.IsSequence()) return Bad(key, v, "expected a list of product id lists");
      o.complements.clear();
      for (const auto& set : v) {
        std::vector<std::string> items;
        RETURN_IF_ERROR(StringList(set, key, &items));
        o.complements.push_back(std::move(items));
      }
    } else if (name == "latest_version") {
      RETURN_IF_ERROR(Scalar(v, key, &out->engine.latest_version));
    } else if (name == "version_trait") {
      RETURN_IF_ERROR(Scalar(v, key, &out->version_trait));
    } else {
      return Bad(key, kv.first,
                 "unknown key (expected enabled, per_customer, min_common_buyers, scoring, default_margin, margins, "
                 "complements, latest_version, version_trait)");
    }
  }
  if (Status s = value::ValidateOfferOptions(o); !s.ok()) return Bad("value.offers", node, s.message());
  return Status::Ok();
}

const boost::json::value* Field(const boost::json::object* o, std::string_view name) {
  return o ? o->if_contains(name) : nullptr;
}

// A product id from a JSON value: strings as they are, integral numbers printed.
bool ProductId(const boost::json::value* v, std::string* out) {
  if (!v) return false;
  if (v->is_string()) {
    *out = std::string(v->get_string());
    return !out->empty();
  }
  if (v->is_int64()) return *out = std::to_string(v->get_int64()), true;
  if (v->is_uint64()) return *out = std::to_string(v->get_uint64()), true;
  return false;
}

}  // namespace

Status ApplyValueSection(const YAML::Node& node, ValueSettings* out) {
  if (!node.IsMap()) return Bad("value", node, "expected a mapping");
  value::ValueEngineOptions& e = out->engine;
  for (const auto& kv : node) {
    const std::string name = kv.first.as<std::string>(), key = "value." + name;
    const YAML::Node& v = kv.second;
    if (name == "model") {
      std::string m;
      RETURN_IF_ERROR(Scalar(v, key, &m));
      if (m == "bgnbd") e.model = value::PurchaseModelKind::kBgNbd;
      else if (m == "pareto_nbd") e.model = value::PurchaseModelKind::kParetoNbd;
      else return Bad(key, v, "expected bgnbd or pareto_nbd");
    } else if (name == "time_unit_days") {
      RETURN_IF_ERROR(Scalar(v, key, &e.days_per_unit));
      if (!(e.days_per_unit > 0)) return Bad(key, v, "must be > 0");
    } else if (name == "horizon") {
      RETURN_IF_ERROR(Scalar(v, key, &e.clv.horizon));
    } else if (name == "discount_rate") {
      RETURN_IF_ERROR(Scalar(v, key, &e.clv.discount_rate));
    } else if (name == "discount_step") {
      RETURN_IF_ERROR(Scalar(v, key, &e.clv.step));
    } else if (name == "refit_interval_seconds") {
      RETURN_IF_ERROR(Scalar(v, key, &e.refit_interval_s));
      if (e.refit_interval_s < 0) return Bad(key, v, "must be >= 0 (0 = only on POST /v1/value/fit)");
    } else if (name == "purchase_events") {
      RETURN_IF_ERROR(StringList(v, key, &e.purchases.events));
    } else if (name == "any_positive_revenue") {
      RETURN_IF_ERROR(Scalar(v, key, &e.purchases.any_positive_revenue));
    } else if (name == "utc_offset_minutes") {
      RETURN_IF_ERROR(Scalar(v, key, &e.purchases.utc_offset_minutes));
      if (e.purchases.utc_offset_minutes < -14 * 60 || e.purchases.utc_offset_minutes > 14 * 60)
        return Bad(key, v, "must be within ±840 minutes");
    } else if (name == "personas") {
      RETURN_IF_ERROR(ApplyPersonas(v, &e.personas));
    } else if (name == "offers") {
      RETURN_IF_ERROR(ApplyOffers(v, out));
    } else if (name == "subscriptions") {
      RETURN_IF_ERROR(ApplySubscriptions(v, &e));
    } else if (name == "segment_trait") {
      if (!v.IsScalar()) return Bad(key, v, "expected a trait name (\"\" = no segments)");
      out->segment_trait = v.Scalar();
    } else {
      return Bad(key, kv.first,
                 "unknown key (expected model, time_unit_days, horizon, discount_rate, discount_step, "
                 "refit_interval_seconds, purchase_events, any_positive_revenue, utc_offset_minutes, personas, offers, "
                 "subscriptions, segment_trait)");
    }
  }
  if (Status s = value::ValidateClvOptions(e.clv); !s.ok()) return Bad("value", node, s.message());
  return Status::Ok();
}

void ExtractValueExtras(const store::Interaction& in, bool is_purchase, const std::string& version_trait,
                        value::ValueEngine::Extras* out, const std::string& segment_trait) {
  const bool identify = in.type == store::MessageType::kIdentify;
  if ((!is_purchase && !identify) || in.payload.empty()) return;
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(in.payload, ec);
  if (ec || !doc.is_object()) return;  // the payload was validated at ingest; be lenient here
  const auto& root = doc.get_object();
  if (identify) {
    const auto* traits = Field(&root, "traits");
    std::string text;
    if (traits && traits->is_object() && ProductId(Field(&traits->get_object(), version_trait), &text))
      out->version = text;
    if (!segment_trait.empty() && traits && traits->is_object() &&
        ProductId(Field(&traits->get_object(), segment_trait), &text))
      out->segment = text;
    return;
  }
  const auto* props = Field(&root, "properties");
  if (!props || !props->is_object()) return;
  const auto& p = props->get_object();
  std::string id;
  if (const auto* products = Field(&p, "products"); products && products->is_array()) {
    for (const auto& item : products->get_array()) {
      if (!item.is_object()) continue;
      const auto& o = item.get_object();
      if (ProductId(Field(&o, "product_id"), &id) || ProductId(Field(&o, "sku"), &id) || ProductId(Field(&o, "id"), &id))
        out->items.push_back(id);
    }
  }
  if (out->items.empty() && (ProductId(Field(&p, "product_id"), &id) || ProductId(Field(&p, "sku"), &id)))
    out->items.push_back(id);
}

Status ScanValueColumns(const store::Snapshot& snapshot, bool payload,
                        const std::function<bool(store::CustomerId)>& skip, value::InteractionSink& sink) {
  using store::segment::Bit;
  using store::segment::Column;
  store::ScanOptions scan;
  scan.columns = Bit(Column::kCustomer) | Bit(Column::kTimestamp) | Bit(Column::kEvent) | Bit(Column::kType) |
                 Bit(Column::kChannel) | Bit(Column::kRevenue);
  auto hidden_or_skipped = [&](store::CustomerId c) { return snapshot.Hidden(c) || (skip && skip(c)); };
  store::FixedColumns payloads;  // the current block's payload column, decoded on first ask
  for (const auto& segment : snapshot.segments()) {
    const store::SegmentReader& reader = *segment;
    const Status scanned = reader.Scan(scan, [&](const store::FixedColumns& cols) {
      bool loaded = false;
      value::InteractionBlock block;
      block.events = reader.events();
      block.channels = reader.channels();
      block.customer = cols.customer;
      block.timestamp_ms = cols.timestamp_ms;
      block.event = cols.event;
      block.channel = cols.channel;
      block.type = cols.type;
      block.revenue = cols.revenue;
      if (payload)
        block.payload = [&](size_t row) -> Result<std::string_view> {
          if (!loaded) {
            RETURN_IF_ERROR(reader.ReadBlock(cols.block, Bit(Column::kPayload), &payloads));
            loaded = true;
          }
          return payloads.payload[row];
        };
      block.skip = hidden_or_skipped;
      return sink.Block(block);
    });
    RETURN_IF_ERROR(scanned);
  }
  for (const store::Interaction& row : snapshot.MemTableRows())  // hidden rows already left out
    if (!(skip && skip(row.customer))) RETURN_IF_ERROR(sink.Row(row));
  return Status::Ok();
}

std::unique_ptr<value::ValueEngine> MakeValueEngine(Hub* hub, const ValueSettings& settings) {
  value::ValueEngineOptions o = settings.engine;
  if (const char* env = std::getenv("CAIRN_VALUE_REFIT_SECONDS")) o.refit_interval_s = std::atoll(env);
  store::Store* st = hub->store();
  const ingest::IdentityResolver* identity = hub->identity();
  const bool offers = settings.offers;
  const bool payload = offers || !settings.segment_trait.empty();
  ConsentLedger* consents = hub->consents();
  // The column path: segment blocks decoded column by column, payloads only of the blocks with a
  // purchase or identify to read (products of purchases, version and segment traits).
  auto scan = [st, payload, identity, consents](value::InteractionSink& sink) {
    // Customers who denied `analytics` consent are left out of value models (docs/consent.md).
    auto excluded = consents ? consents->AnalyticsExclusions() : nullptr;
    std::function<bool(store::CustomerId)> skip;
    if (excluded && !excluded->empty())
      skip = [&](store::CustomerId c) { return excluded->count(identity->FindOrSelf(c)) > 0; };
    return ScanValueColumns(*st->GetSnapshot(), payload, skip, sink);
  };
  // An id the resolver does not know is its own customer (as the journey and the dashboard file it).
  auto canonical = [identity](store::CustomerId c) { return identity->FindOrSelf(c); };
  auto resolve = [hub](const std::string& any) -> Result<store::CustomerId> {
    ASSIGN_OR_RETURN(auto profile, hub->GetProfile(any));
    return profile.id;
  };
  auto engine = std::make_unique<value::ValueEngine>(o, scan, canonical, resolve);
  engine->SetSegmentTrait(settings.segment_trait);
  if (payload)
    engine->SetExtractor([trait = offers ? settings.version_trait : std::string(), segment = settings.segment_trait](
                             const store::Interaction& in, bool purchase, value::ValueEngine::Extras* out) {
      // Without offers only identify traits are read (a purchase's products are not needed).
      ExtractValueExtras(in, purchase && !trait.empty(), trait, out, segment);
    });
  // Rule personas: the journey map's rules, judged on the journey state and the fit's facts.
  if (journey::JourneyEngine* journey = hub->journey())
    engine->SetRulePersonas([journey](store::CustomerId c, const value::CustomerFacts* facts) {
      if (!facts) return journey->RulePersona(c, nullptr);
      const journey::ValueFacts f = ToJourneyFacts(*facts);
      return journey->RulePersona(c, &f);
    });
  // Consent for `personalisation` (DOMAIN.md §11, docs/consent.md): offers are withheld after a
  // denial or withdrawal for any channel ("*"); unknown is allowed, as in the actions' consent
  // policy (only marketing needs a recorded grant). A ledger error withholds them (the engine fails closed).
  if (consents)
    engine->SetPersonalisationConsent([consents](store::CustomerId c) -> Result<value::ValueEngine::ConsentAnswer> {
      ASSIGN_OR_RETURN(auto answer, consents->Check(c, "personalisation", "*"));
      value::ValueEngine::ConsentAnswer out;
      out.allowed = answer.verdict != actions::ConsentVerdict::kDenied;
      out.evidence = answer.evidence.empty()
                         ? std::string(answer.verdict == actions::ConsentVerdict::kGranted ? "personalisation: granted"
                                                                                           : "personalisation: no statement (allowed)")
                         : answer.evidence;
      return out;
    });
  return engine;
}

void SetJourneyValueFacts(journey::JourneyEngine* journey, value::ValueEngine* value) {
  journey->SetValueFacts([value](store::CustomerId c) -> std::optional<journey::ValueFacts> {
    auto facts = value->FactsOf(c);
    if (!facts) return std::nullopt;
    return ToJourneyFacts(*facts);
  });
}

int RunValueFit(const std::string& data_dir, bool json) {
  CliFlags flags;
  flags.data = data_dir;
  auto cfg = BuildConfig(flags);
  if (!cfg.ok()) {
    std::fprintf(stderr, "cairn value fit: %s\n", cfg.status().ToString().c_str());
    return 1;
  }
  cfg->hub.create_keys_if_none = false;  // a read-only look: no keys created as a side effect
  auto hub = Hub::Open(cfg->hub);
  if (!hub.ok()) {
    std::fprintf(stderr, "cairn value fit: %s\n", hub.status().ToString().c_str());
    return 1;
  }
  auto engine = MakeValueEngine(hub->get(), cfg->value);
  auto fit = engine->Fit();
  int rc = 0;
  if (!fit.ok()) {
    std::fprintf(stderr, "cairn value fit: %s\n", fit.status().ToString().c_str());
    rc = fit.status().Is(Code::kFailedPrecondition) ? 3 : 1;
  } else {
    auto sum = engine->Summary();
    if (json) {
      std::printf("%s\n", api::ValueSummaryToJson(*sum).c_str());
    } else {
      const auto& f = *fit;
      std::printf("value fit on %s: %lld interactions, %lld purchases, %lld customers\n", data_dir.c_str(),
                  static_cast<long long>(f.interactions_scanned), static_cast<long long>(f.purchases),
                  static_cast<long long>(f.customers));
      std::printf("BG/NBD r=%.4f alpha=%.4f a=%.4f b=%.4f LL=%.3f: %s\n", f.bgnbd.r, f.bgnbd.alpha, f.bgnbd.a,
                  f.bgnbd.b, f.purchase_report.log_likelihood, f.purchase_report.message.c_str());
      if (f.spend_fitted)
        std::printf("Gamma-Gamma p=%.4f q=%.4f gamma=%.4f: %s\n", f.gamma_gamma.p, f.gamma_gamma.q, f.gamma_gamma.gamma,
                    f.spend_report.message.c_str());
      else
        std::printf("Gamma-Gamma not fitted (%s): spend = each customer's own average\n", f.spend_report.message.c_str());
      std::printf("CLV over %.0f weeks: total %.2f, mean %.2f, median %.2f; mean P(alive) %.3f\n", f.clv.horizon,
                  sum->clv_total, sum->clv_mean, sum->clv_quantiles[2].second, sum->mean_prob_alive);
      std::printf("seconds: scan %.2f, fit %.2f, score %.2f\n", f.scan_seconds, f.fit_seconds, f.score_seconds);
    }
  }
  Status s = (*hub)->Close();
  if (!s.ok() && rc == 0) rc = 1;
  return rc;
}

int RunValueCdnow(const std::string& file, bool json) {
  auto rows = value::ReadCdnowFile(file);
  if (!rows.ok()) {
    std::fprintf(stderr, "cairn value cdnow: %s\n", rows.status().ToString().c_str());
    return 1;
  }
  const value::SummaryTable table = value::SummarizeCdnow(*rows, value::CdnowRfmOptions());
  const value::FitData data = value::CompressForFit(table.rows);
  auto bg = value::FitBgNbd(data);
  auto pn = value::FitParetoNbd(data);
  auto gg = value::FitGammaGamma(value::SpendDataOf(table.rows));
  for (const Status* s : {&bg.status(), &pn.status(), &gg.status()}) {
    if (!s->ok()) {
      std::fprintf(stderr, "cairn value cdnow: %s\n", s->ToString().c_str());
      return 1;
    }
  }
  if (json) {
    boost::json::object out;
    out["bgnbd"] = {{"r", bg->params.r}, {"alpha", bg->params.alpha}, {"a", bg->params.a}, {"b", bg->params.b},
                    {"ll", bg->report.log_likelihood}};
    out["pareto_nbd"] = {{"r", pn->params.r}, {"alpha", pn->params.alpha}, {"s", pn->params.s},
                         {"beta", pn->params.beta}, {"ll", pn->report.log_likelihood}};
    out["gamma_gamma"] = {{"p", gg->params.p}, {"q", gg->params.q}, {"gamma", gg->params.gamma},
                          {"ll", gg->report.log_likelihood}};
    std::printf("%s\n", boost::json::serialize(out).c_str());
  } else {
    int64_t holdout = 0, zero = 0;
    for (const auto& r : table.rows) {
      holdout += r.holdout_x;
      zero += r.x == 0;
    }
    std::printf("CDNOW %s: %zu rows, %zu customers (%lld with no repeat purchase); calibration weeks 1-39 "
                "(to 1997-09-30), %lld repeat transactions in weeks 40-78\n",
                file.c_str(), rows->size(), table.rows.size(), static_cast<long long>(zero),
                static_cast<long long>(holdout));
    std::printf("Published: the 2,357-customer sample (Fader, Hardie & Lee 2005a/b; Fader & Hardie 2005).\n\n");
    std::printf("%-12s %-6s %14s %14s\n", "model", "param", "cairn", "published");
    PrintRows("BG/NBD", {{{"r", 0.243}, bg->params.r}, {{"alpha", 4.414}, bg->params.alpha},
                         {{"a", 0.793}, bg->params.a}, {{"b", 2.426}, bg->params.b}}, bg->report);
    std::printf("%-12s %-6s %14s %14s\n", "", "LL*", "", "-9582.4");
    PrintRows("Pareto/NBD", {{{"r", 0.553}, pn->params.r}, {{"alpha", 10.578}, pn->params.alpha},
                             {{"s", 0.606}, pn->params.s}, {{"beta", 11.669}, pn->params.beta}}, pn->report);
    std::printf("%-12s %-6s %14s %14s\n", "", "LL*", "", "-9595.0");
    PrintRows("Gamma-Gamma", {{{"p", 6.25}, gg->params.p}, {{"q", 3.74}, gg->params.q},
                              {{"gamma", 15.44}, gg->params.gamma}}, gg->report);
    std::printf("\n* published log-likelihood\n");
  }
  bool ok = true;
  for (const auto* rep : {&bg->report, &pn->report, &gg->report}) {
    if (!rep->converged) {
      std::fprintf(stderr, "cairn value cdnow: warning: %s\n", rep->message.c_str());
      ok = false;
    }
  }
  return ok ? 0 : 3;
}

void AddValueCommands(CLI::App* cli) {
  auto* value = cli->add_subcommand("value", "Customer value: CLV models (BG/NBD, Pareto/NBD, Gamma-Gamma)");
  value->require_subcommand(1);

  struct CdnowArgs {
    std::string file;
    bool json = false;
  };
  auto args = std::make_shared<CdnowArgs>();
  auto* cdnow = value->add_subcommand(
      "cdnow", "Fit the three models to a CDNOW-format transaction file (weeks; calibration to 1997-09-30) and "
               "print the parameters beside the published ones");
  cdnow->add_option("FILE", args->file, "CDNOW_master.txt, CDNOW_sample.txt or cdnowElog.csv")->required();
  cdnow->add_flag("--json", args->json, "print {\"bgnbd\":{...},\"pareto_nbd\":{...},\"gamma_gamma\":{...}}");
  cdnow->final_callback([args] {
    const int rc = RunValueCdnow(args->file, args->json);
    std::fflush(stdout);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  struct FitArgs {
    std::string data;
    bool json = false;
  };
  auto fit_args = std::make_shared<FitArgs>();
  auto* fit = value->add_subcommand("fit", "Fit BG/NBD + Gamma-Gamma on a stopped data directory and print the "
                                           "parameters, diagnostics and the CLV summary");
  fit->add_option("--data", fit_args->data, "data directory (stopped)")->required();
  fit->add_flag("--json", fit_args->json, "print the GET /v1/value/summary JSON");
  fit->final_callback([fit_args] {
    const int rc = RunValueFit(fit_args->data, fit_args->json);
    std::fflush(stdout);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace cairn::app
