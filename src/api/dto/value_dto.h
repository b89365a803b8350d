#pragma once
// Customer value DTOs (docs/value.md "API"): value::FitOutcome / CustomerValueView /
// ValueSummaryView → JSON. Times are ISO-8601 UTC; model time is in `timeUnitDays`-day units.
//
// POST /v1/value/fit → the fit object:
//   {"fittedAt","calibrationEnd","timeUnitDays","interactionsScanned","purchases","customers",
//    "model":"bgnbd"|"pareto_nbd","params":{"r","alpha","a","b"}|{"r","alpha","s","beta"},
//    "diagnostics":{report},"spend":{"fitted","params":{"p","q","gamma"},"diagnostics":{report}},
//    "clv":{"horizon","step","discountRate"},"seconds":{"scan","fit","score"},
//    "subscriptions":{"subscribers","fitted","model":"sbg","params":{"alpha","beta"},"discountRate",
//                     "diagnostics":{report}} | {"subscribers","fitted":false,"reason"}}
//   report = {"converged","message","logLikelihood","evaluations","starts","startsAgreeing",
//             "gradientNorm","seconds","customers","rows"}
// GET /v1/customers/{id}/value:
//   {"customer":"c:<n>","modelled":bool,"fittedAt",
//    "rfm":{"x","tx","T","averageRepeatSpend","firstPurchase"},
//    "probAlive","expectedPurchases","expectedSpend","clv","persona":{"id","name"}|null,
//    "offers":[{"kind":"feature_update"|"complement"|"co_purchase","item","score",
//               "confidence","lift" (co_purchase),"because","reason"}],
//    "offersWithheld" (when consent for personalisation is missing),"consent" (the evidence),
//    "subscription":{"renewals","active","valuePerPeriod","retentionNext","expectedPayments","clv"}
//    (subscribers, when the sBG is fitted)}
//   (modelled=false: no rfm/values/persona; offers may still be present)
// GET /v1/value/summary:
//   {"fit":{fit object},"clv":{"total","mean","quantiles":[{"q","value"}]},
//    "probAlive":{"mean","bands":[{"from","to","customers"}]},"personas":{personas object}}
// GET /v1/value/personas → the personas object:
//   {"available":false,"reason"} | {"available":true,"fittedAt","customers","k",
//    "chosenBy":"silhouette"|"config","silhouette","silhouetteByK":[{"k","silhouette"}],
//    "features":[…],"constantFeatures":[…],"personas":[{"id","name","description","size","share",
//    "meanClv","centroid":{"recencyDays","purchases","averageOrder","tenureDays",
//    "channels":{"web","mobile","email","store","other"}},"z":{feature: sd from the mean}}]}

#include <string>

#include "value/value_service.h"

namespace cairn::api {

std::string ValueFitToJson(const value::FitOutcome& fit);
std::string CustomerValueToJson(const value::CustomerValueView& v);
std::string ValueSummaryToJson(const value::ValueSummaryView& s);
std::string PersonasToJson(const value::PersonasView& v);

}  // namespace cairn::api
