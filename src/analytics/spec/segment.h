#pragma once
// Segment: the customers an analytics query is restricted to (the dashboard's page-wide segment
// filter, docs/dashboard-ui.md). Every query kind (funnel, retention, trends, lifecycle,
// stickiness, paths) takes one as `"segment":{"persona":…,"lifecycle":…,"channel":…}`.
//
// Semantics: a customer is in the segment when every given field holds (AND; an empty field is
// "any"); the query then runs on exactly those customers' interactions — all of them, so "first
// ever" definitions (retention cohorts, lifecycle `new`) keep their meaning — as if nobody else
// existed.
//   persona   = the customer's persona now: the journey's persona (rule personas of the journey
//               map, else its default persona; docs/journey.md "Personas").
//   lifecycle = the customer's lifecycle stage now (journey view `lifecycle`).
//   channel   = the acquisition channel: the channel of the customer's first interaction
//               (ordered by event time, then arrival; "" when it had none).
// Persona and lifecycle are current state, not as of the query's range: a segment is a set of
// customers, and the range then selects their interactions.

#include <string>

namespace cairn::analytics {

struct Segment {
  std::string persona;    // "" = any
  std::string lifecycle;  // "" = any
  std::string channel;    // "" = any
  bool empty() const { return persona.empty() && lifecycle.empty() && channel.empty(); }
  // A cache key: equal keys, equal segments.
  std::string Key() const { return persona + '\x1f' + lifecycle + '\x1f' + channel; }
  bool operator==(const Segment&) const = default;
};

}  // namespace cairn::analytics
