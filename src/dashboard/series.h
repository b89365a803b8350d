#pragma once
// Daily metric series computed from a store snapshot (docs/dashboard.md "Metrics"). One pass
// over the customer, timestamp, event and revenue columns (payloads are never decoded).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace cairn::dashboard {

struct SeriesOptions {
  // Track events counted as orders (metric "orders"; "new_customers" = first of these per customer).
  std::vector<std::string> order_events = {"Order Completed", "Deal Won"};
  // Outbound touches for the rev counter (series "touches").
  std::vector<std::string> outbound_events = {"Email Sent", "SMS Sent", "Call Made", "Proposal Sent", "Survey Sent"};
  std::string complaint_event = "Complaint Filed";  // series "complaints"
  std::string signup_event = "Signed Up";           // metric "signups"
};

struct DailySeries {
  int64_t first_day = 0;       // index 0 of every vector
  int64_t first_data_day = -1; // the first day any interaction falls on (-1: store empty)
  // metric → value per day in [first_day, last_day]. Always holds revenue, orders, new_customers,
  // signups, interactions, touches, complaints, plus each requested "event:<Name>".
  std::map<std::string, std::vector<double>> values;
};

using Canonicalizer = std::function<store::CustomerId(store::CustomerId)>;

// `members`: when set (canonical ids, sorted ascending), only those customers' interactions count
// (the dashboard's segment filter); null = everyone.
Result<DailySeries> ComputeSeries(const store::Snapshot& snapshot, const Canonicalizer& canonical,
                                  const std::vector<std::string>& extra_metrics, int64_t first_day, int64_t last_day,
                                  const SeriesOptions& options, const std::vector<uint64_t>* members = nullptr);

}  // namespace cairn::dashboard
