#include "api/dto/value_dto.h"

#include <chrono>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "api/dto/json_writer.h"

namespace cairn::api {
namespace {

std::string IsoMs(int64_t ms) {
  const auto tp = std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms));
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", tp);
}

std::string IsoDay(int64_t day) {
  const auto tp = std::chrono::sys_days(std::chrono::days(day));
  return fmt::format("{:%Y-%m-%d}", tp);
}

void Report(JsonWriter& w, const value::FitReport& r) {
  w.BeginObject();
  w.Key("converged").Bool(r.converged);
  w.Key("message").String(r.message);
  w.Key("logLikelihood").Double(r.log_likelihood);
  w.Key("evaluations").Int(r.evaluations);
  w.Key("starts").Int(r.starts);
  w.Key("startsAgreeing").Int(r.starts_agreeing);
  w.Key("gradientNorm").Double(r.gradient_norm);
  w.Key("seconds").Double(r.seconds);
  w.Key("customers").Int(r.customers);
  w.Key("rows").Int(r.rows);
  w.EndObject();
}

void Fit(JsonWriter& w, const value::FitOutcome& f) {
  w.BeginObject();
  w.Key("fittedAt").String(IsoMs(f.fitted_at_ms));
  w.Key("calibrationEnd").String(IsoDay(f.calibration_end_day));
  w.Key("timeUnitDays").Double(f.days_per_unit);
  w.Key("interactionsScanned").Int(f.interactions_scanned);
  w.Key("purchases").Int(f.purchases);
  w.Key("customers").Int(f.customers);
  w.Key("model").String(f.model == value::PurchaseModelKind::kBgNbd ? "bgnbd" : "pareto_nbd");
  w.Key("params").BeginObject();
  if (f.model == value::PurchaseModelKind::kBgNbd) {
    w.Key("r").Double(f.bgnbd.r).Key("alpha").Double(f.bgnbd.alpha).Key("a").Double(f.bgnbd.a).Key("b").Double(f.bgnbd.b);
  } else {
    w.Key("r").Double(f.pareto_nbd.r).Key("alpha").Double(f.pareto_nbd.alpha).Key("s").Double(f.pareto_nbd.s);
    w.Key("beta").Double(f.pareto_nbd.beta);
  }
  w.EndObject();
  w.Key("diagnostics");
  Report(w, f.purchase_report);
  w.Key("spend").BeginObject();
  w.Key("fitted").Bool(f.spend_fitted);
  if (f.spend_fitted) {
    w.Key("params").BeginObject();
    w.Key("p").Double(f.gamma_gamma.p).Key("q").Double(f.gamma_gamma.q).Key("gamma").Double(f.gamma_gamma.gamma);
    w.EndObject();
    w.Key("diagnostics");
    Report(w, f.spend_report);
  } else {
    w.Key("reason").String(f.spend_report.message);
  }
  w.EndObject();
  w.Key("clv").BeginObject();
  w.Key("horizon").Double(f.clv.horizon).Key("step").Double(f.clv.step).Key("discountRate").Double(f.clv.discount_rate);
  w.EndObject();
  w.Key("seconds").BeginObject();
  w.Key("scan").Double(f.scan_seconds).Key("fit").Double(f.fit_seconds).Key("score").Double(f.score_seconds);
  w.EndObject();
  w.Key("subscriptions").BeginObject();
  w.Key("subscribers").Int(f.subscribers).Key("fitted").Bool(f.subscription_fitted);
  if (f.subscription_fitted) {
    w.Key("model").String("sbg");
    w.Key("params").BeginObject().Key("alpha").Double(f.sbg.alpha).Key("beta").Double(f.sbg.beta).EndObject();
    w.Key("discountRate").Double(f.subscription_discount_rate);
    w.Key("diagnostics");
    Report(w, f.subscription_report);
  } else if (f.subscription_renewal_probability > 0) {
    w.Key("model").String("rule");
    w.Key("renewalProbability").Double(f.subscription_renewal_probability);
    w.Key("discountRate").Double(f.subscription_discount_rate);
    w.Key("reason").String(f.subscription_reason);
  } else {
    w.Key("reason").String(f.subscription_reason);
  }
  w.EndObject();
  w.EndObject();
}

void PersonaCentroid(JsonWriter& w, const value::PersonaInput& c) {
  w.BeginObject();
  w.Key("recencyDays").Double(c.recency_days).Key("purchases").Double(c.purchases);
  w.Key("averageOrder").Double(c.average_order).Key("tenureDays").Double(c.tenure_days);
  w.Key("channels").BeginObject();
  for (size_t g = 0; g < value::kChannelGroups.size(); ++g) w.Key(value::kChannelGroups[g]).Double(c.channel_share[g]);
  w.EndObject();
  w.EndObject();
}

void Personas(JsonWriter& w, const value::PersonasView& v) {
  w.BeginObject();
  w.Key("available").Bool(v.available);
  if (!v.available) {
    w.Key("reason").String(v.reason);
    w.EndObject();
    return;
  }
  const auto& m = v.model;
  w.Key("fittedAt").String(IsoMs(v.fitted_at_ms));
  w.Key("customers").Int(m.customers);
  w.Key("k").Int(m.k);
  w.Key("chosenBy").String(m.k_from_silhouette ? "silhouette" : "config");
  w.Key("silhouette").Double(m.silhouette);
  w.Key("silhouetteByK").BeginArray();
  for (const auto& [k, s] : m.silhouette_by_k) w.BeginObject().Key("k").Int(k).Key("silhouette").Double(s).EndObject();
  w.EndArray();
  w.Key("features").BeginArray();
  for (const char* f : value::kPersonaFeatureNames) w.String(f);
  w.EndArray();
  w.Key("constantFeatures").BeginArray();
  for (const auto& f : m.constant_features) w.String(f);
  w.EndArray();
  w.Key("personas").BeginArray();
  for (const auto& p : m.personas) {
    w.BeginObject();
    w.Key("id").Int(p.id).Key("name").String(p.name).Key("description").String(p.description);
    w.Key("size").Int(p.size).Key("share").Double(p.share).Key("meanClv").Double(p.mean_clv);
    w.Key("centroid");
    PersonaCentroid(w, p.centroid);
    w.Key("z").BeginObject();
    for (size_t j = 0; j < value::kPersonaDims; ++j) w.Key(value::kPersonaFeatureNames[j]).Double(p.z[j]);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void ClvGroups(JsonWriter& w, const std::vector<value::ClvGroup>& groups) {
  w.BeginArray();
  for (const auto& g : groups) {
    w.BeginObject().Key("name").String(g.name).Key("source").String(g.source);
    if (g.id) w.Key("id").Int(g.id);
    w.Key("customers").Int(g.customers).Key("clvTotal").Double(g.clv_total).Key("clvMean").Double(g.clv_mean);
    w.Key("clvMedian").Double(g.clv_median).Key("probAliveMean").Double(g.mean_prob_alive);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string PersonasToJson(const value::PersonasView& v) {
  JsonWriter w;
  Personas(w, v);
  return w.Take();
}

std::string ValueFitToJson(const value::FitOutcome& fit) {
  JsonWriter w;
  Fit(w, fit);
  return w.Take();
}

std::string CustomerValueToJson(const value::CustomerValueView& v) {
  JsonWriter w;
  w.BeginObject();
  w.Key("customer").String(fmt::format("c:{}", v.customer));
  w.Key("modelled").Bool(v.modelled);
  w.Key("fittedAt").String(IsoMs(v.fitted_at_ms));
  if (v.modelled) {
    w.Key("rfm").BeginObject();
    w.Key("x").Int(v.rfm.x).Key("tx").Double(v.rfm.t_x).Key("T").Double(v.rfm.T);
    w.Key("averageRepeatSpend").Double(v.rfm.m_x);
    w.Key("firstPurchase").String(IsoDay(v.rfm.first_day));
    w.EndObject();
    w.Key("probAlive").Double(v.value.prob_alive);
    w.Key("expectedPurchases").Double(v.value.expected_purchases);
    w.Key("expectedSpend").Double(v.value.expected_spend);
    w.Key("clv").Double(v.value.clv);
  }
  // A rule persona can hold for a customer the fit did not model (e.g. a funnel-stage rule).
  if (v.persona) {
    w.Key("persona").BeginObject().Key("id").Int(v.persona->id).Key("name").String(v.persona->name);
    w.Key("source").String(v.persona->source).EndObject();
  } else {
    w.Key("persona").Null();
  }
  if (v.subscription) {
    const auto& sub = *v.subscription;
    w.Key("subscription").BeginObject();
    w.Key("renewals").Int(sub.renewals).Key("active").Bool(sub.active).Key("valuePerPeriod").Double(sub.value_per_period);
    w.Key("retentionNext").Double(sub.retention_next).Key("expectedPayments").Double(sub.expected_payments);
    w.Key("clv").Double(sub.clv);
    w.EndObject();
  }
  w.Key("offers").BeginArray();
  for (const auto& o : v.offers) {
    w.BeginObject();
    w.Key("kind").String(o.kind).Key("item").String(o.item).Key("score").Double(o.score);
    if (o.kind == "co_purchase") w.Key("confidence").Double(o.confidence).Key("lift").Double(o.lift);
    if (!o.because.empty()) w.Key("because").String(o.because);
    w.Key("reason").String(o.reason);
    w.EndObject();
  }
  w.EndArray();
  if (!v.offers_withheld.empty()) w.Key("offersWithheld").String(v.offers_withheld);
  if (!v.consent_evidence.empty()) w.Key("consent").String(v.consent_evidence);
  w.EndObject();
  return w.Take();
}

std::string ValueSummaryToJson(const value::ValueSummaryView& s) {
  JsonWriter w;
  w.BeginObject();
  w.Key("fit");
  Fit(w, s.fit);
  w.Key("clv").BeginObject();
  w.Key("total").Double(s.clv_total).Key("mean").Double(s.clv_mean);
  w.Key("quantiles").BeginArray();
  for (const auto& [q, v] : s.clv_quantiles) w.BeginObject().Key("q").Double(q).Key("value").Double(v).EndObject();
  w.EndArray();
  w.EndObject();
  w.Key("probAlive").BeginObject();
  w.Key("mean").Double(s.mean_prob_alive);
  w.Key("bands").BeginArray();
  for (size_t i = 0; i < s.prob_alive_bands.size(); ++i)
    w.BeginObject().Key("from").Double(0.25 * i).Key("to").Double(0.25 * (i + 1)).Key("customers").Int(s.prob_alive_bands[i]).EndObject();
  w.EndArray();
  w.EndObject();
  w.Key("personas");
  Personas(w, s.personas);
  w.Key("byPersona");
  ClvGroups(w, s.by_persona);
  w.Key("segmentTrait").String(s.segment_trait);
  w.Key("bySegment");
  ClvGroups(w, s.by_segment);
  w.EndObject();
  return w.Take();
}

}  // namespace cairn::api
