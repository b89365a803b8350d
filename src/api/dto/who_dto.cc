#include "api/dto/who_dto.h"

#include <boost/json.hpp>
#include <charconv>
#include <string>

#include "api/dto/customer_dto.h"

namespace cairn::api {
namespace json = boost::json;

Result<uint64_t> DecodeCustomerCursor(const json::value& v, std::string_view field) {
  if (v.is_null()) return uint64_t{0};
  const auto bad = InvalidArgument(std::string(field) + ": expected a cursor like \"c:123\"");
  if (!v.is_string()) return bad;
  std::string_view d = v.as_string();
  if (d.starts_with("c:")) d.remove_prefix(2);
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), id);
  if (d.empty() || ec != std::errc() || end != d.data() + d.size()) return bad;
  return id;
}

Result<analytics::WhoPage> DecodeWhoPage(const json::object& o, std::string_view field) {
  analytics::WhoPage page;
  if (const json::value* v = o.if_contains("limit"); v && !v->is_null()) {
    const std::string name = std::string(field) + ".limit";
    int64_t n = -1;
    if (v->is_int64()) n = v->as_int64();
    else if (v->is_uint64()) n = v->as_uint64() > 10000 ? 10001 : static_cast<int64_t>(v->as_uint64());
    else return InvalidArgument(name + ": must be an integer");
    if (n < 1 || n > 10000) return InvalidArgument(name + ": must be 1..10000");
    page.limit = static_cast<size_t>(n);
  }
  if (const json::value* v = o.if_contains("after")) {
    ASSIGN_OR_RETURN(page.after, DecodeCustomerCursor(*v, std::string(field) + ".after"));
  }
  return page;
}

void WriteWhoList(const analytics::WhoList& list, JsonWriter* w) {
  w->Key("customers").BeginArray();
  for (uint64_t id : list.customers) w->String(CustomerIdString(id));
  w->EndArray().Key("next");
  if (list.next) w->String(CustomerIdString(*list.next));
  else w->Null();
}

}  // namespace cairn::api
