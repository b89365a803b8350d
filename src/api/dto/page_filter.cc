#include "api/dto/page_filter.h"

#include <algorithm>

#include "api/dto/segment_dto.h"
#include "api/url.h"
#include "dashboard/dashboard_service.h"

namespace cairn::api {

std::string PageFilter::Key() const {
  auto day = [](const std::optional<int64_t>& d) { return d ? std::to_string(*d) : std::string("-"); };
  return day(from_day) + '\x1f' + day(to_day) + '\x1f' + segment.Key();
}

Result<PageFilter> DecodePageFilter(std::string_view query) {
  PageFilter f;
  ASSIGN_OR_RETURN(f.segment, DecodeSegmentQuery(query));
  ASSIGN_OR_RETURN(auto params, ParseQuery(query));
  for (const auto& [name, value] : params) {
    if (name != "from" && name != "to") continue;
    std::optional<int64_t> d = dashboard::ParseDay(value);
    if (!d) return InvalidArgument(name + ": '" + value.substr(0, 40) + "' is not a date YYYY-MM-DD");
    (name == "from" ? f.from_day : f.to_day) = d;
  }
  if (f.from_day && f.to_day && *f.from_day > *f.to_day)
    return InvalidArgument("from: " + dashboard::DayString(*f.from_day) + " is after to: " + dashboard::DayString(*f.to_day));
  return f;
}

Result<std::optional<std::vector<uint64_t>>> SegmentMembers(const Services& services, const analytics::Segment& segment) {
  if (segment.empty()) return std::optional<std::vector<uint64_t>>();
  if (!services.segment_members) return FailedPrecondition("segment: this server resolves no segments (no analytics engine)");
  ASSIGN_OR_RETURN(std::vector<uint64_t> members, services.segment_members(segment));
  if (!std::is_sorted(members.begin(), members.end())) std::sort(members.begin(), members.end());  // resolvers give them sorted
  return std::optional<std::vector<uint64_t>>(std::move(members));
}

}  // namespace cairn::api
