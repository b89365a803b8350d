// UnreachableReason: which identities reach which channel (docs/rescue.md "No reachable channel").
#include "rescue/reachability.h"

#include <gtest/gtest.h>

namespace cairn::rescue {
namespace {

TEST(ReachabilityTest, EmailNeedsAnAddressOrAUserId) {
  EXPECT_EQ(UnreachableReason("email", {"userId:alice"}), "");
  EXPECT_EQ(UnreachableReason("email", {"anonymousId:a-1", "email:a@x.io"}), "");
  EXPECT_EQ(UnreachableReason("email", {"anonymousId:a-1"}),
            "no reachable channel: email needs an email address or a userId; the customer is known only as anonymousId:a-1");
  EXPECT_EQ(UnreachableReason("email", {"anonymousId:a-1", "phone:+331"}),
            "no reachable channel: email needs an email address or a userId; the customer is known only as "
            "anonymousId:a-1, phone:+331");
}

TEST(ReachabilityTest, SmsAndPhoneNeedANumberOrAUserId) {
  EXPECT_EQ(UnreachableReason("sms", {"anonymousId:a-1", "phone:+331"}), "");
  EXPECT_EQ(UnreachableReason("phone", {"userId:bob"}), "");
  EXPECT_EQ(UnreachableReason("sms", {"email:a@x.io"}),
            "no reachable channel: sms needs a phone number or a userId; the customer is known only as email:a@x.io");
}

TEST(ReachabilityTest, OtherChannelsReachAnyoneCairnCanName) {
  EXPECT_EQ(UnreachableReason("web", {"anonymousId:a-1"}), "");
  EXPECT_EQ(UnreachableReason("chat", {"userId:alice"}), "");
  EXPECT_EQ(UnreachableReason("web", {"email:a@x.io"}),
            "no reachable channel: web needs a userId or an anonymousId to address the action to; the customer is "
            "known only as email:a@x.io");
  EXPECT_EQ(UnreachableReason("", {}),
            "no reachable channel: the action needs a userId or an anonymousId to address the action to; the customer "
            "has no identity Cairn can name");
}

}  // namespace
}  // namespace cairn::rescue
