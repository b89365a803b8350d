#include "rescue/reachability.h"

#include <fmt/format.h>

namespace cairn::rescue {

namespace {

bool HasKind(const std::vector<std::string>& ids, std::string_view kind) {
  for (const std::string& id : ids)
    if (id.starts_with(kind)) return true;
  return false;
}

std::string Known(const std::vector<std::string>& ids) {
  if (ids.empty()) return "the customer has no identity Cairn can name";
  std::string out = "the customer is known only as ";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ", ";
    out += ids[i];
  }
  return out;
}

}  // namespace

std::string UnreachableReason(std::string_view channel, const std::vector<std::string>& ids) {
  const bool user = HasKind(ids, "userId:");
  if (channel == "email") {
    if (user || HasKind(ids, "email:")) return "";
    return "no reachable channel: email needs an email address or a userId; " + Known(ids);
  }
  if (channel == "sms" || channel == "phone") {
    if (user || HasKind(ids, "phone:")) return "";
    return fmt::format("no reachable channel: {} needs a phone number or a userId; {}", channel, Known(ids));
  }
  if (user || HasKind(ids, "anonymousId:")) return "";
  return fmt::format("no reachable channel: {} needs a userId or an anonymousId to address the action to; {}",
                     channel.empty() ? "the action" : channel, Known(ids));
}

}  // namespace cairn::rescue
