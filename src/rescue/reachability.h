#pragma once
// Reachability: whether a rescue path's action can reach the customer at all, judged from the
// identities Cairn holds of them (docs/rescue.md "No reachable channel").
//
// An email needs an address: the customer's email, or a userId (the business's own system holds
// the addresses of its users; the webhook names the customer by userId). Likewise sms and phone
// need a phone number or a userId. Other channels (web, mobile, chat, im, ...) reach whoever
// Cairn can name: a userId or an anonymousId (an on-site message to the visitor's browser). An
// anonymous visitor — only an anonymousId — is therefore out of reach by email, and a rescue by
// email for them could never be sent, whatever their consent.

#include <string>
#include <string_view>
#include <vector>

namespace cairn::rescue {

// "" when an action on `channel` can reach a customer with these identities ("userId:alice",
// "anonymousId:a-1", "email:a@x.io", "phone:+33..."), else why not, naming the channel, what it
// needs and what the customer has, e.g. "no reachable channel: email needs an email address or a
// userId; the customer is known only as anonymousId:a-1".
std::string UnreachableReason(std::string_view channel, const std::vector<std::string>& ids);

}  // namespace cairn::rescue
