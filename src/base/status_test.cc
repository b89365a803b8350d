#include "base/status.h"

#include <gtest/gtest.h>

#include "base/result.h"

namespace cairn {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgument("v must be positive");
  return v;
}

Status UseIt(int v, int* out) {
  ASSIGN_OR_RETURN(*out, ParsePositive(v));
  RETURN_IF_ERROR(v == 7 ? NotFound("seven") : Status::Ok());
  return Status::Ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status().ok());
  Status s = Corruption("bad crc");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.ToString(), "Corruption: bad crc");
  EXPECT_EQ(s.WithContext("wal 3").ToString(), "Corruption: wal 3: bad crc");
}

TEST(StatusTest, ResultAndMacros) {
  int out = 0;
  EXPECT_TRUE(UseIt(3, &out).ok());
  EXPECT_EQ(out, 3);
  EXPECT_EQ(UseIt(-1, &out).code(), Code::kInvalidArgument);
  EXPECT_EQ(UseIt(7, &out).code(), Code::kNotFound);
  EXPECT_EQ(*ParsePositive(5), 5);
}

}  // namespace
}  // namespace cairn
