// ForecastMemo: an answer from the memo is exactly ForecastEta's on the same input; any change of
// the input (one day's value, the remaining target, the deadline, the options) is forecast anew.
#include "dashboard/forecast_memo.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cairn::dashboard {
namespace {

std::vector<double> Series(int days, double slope) {
  std::vector<double> y;
  for (int t = 0; t < days; ++t) y.push_back(100 + slope * t + 20 * std::sin(t * 0.9) + (t * 37 % 11));
  return y;
}

void ExpectSame(const EtaForecast& a, const EtaForecast& b) {
  EXPECT_EQ(a.eta, b.eta);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_EQ(a.p_by_deadline, b.p_by_deadline);
  EXPECT_EQ(a.method, b.method);
}

ForecastOptions Small() {  // cheaper than the default; the memo does not care
  ForecastOptions o;
  o.paths = 100;
  o.refits = 5;
  return o;
}

TEST(ForecastMemoTest, AHitIsForecastEtasAnswerAndEveryInputChangeRecomputes) {
  ForecastMemo memo;
  const ForecastOptions o = Small();
  const std::vector<double> y = Series(120, 0.5);
  ExpectSame(memo.Get(y, 5000, 30, o), ForecastEta(y, 5000, 30, o));
  EXPECT_EQ(memo.misses(), 1u);
  ExpectSame(memo.Get(y, 5000, 30, o), ForecastEta(y, 5000, 30, o));
  EXPECT_EQ(memo.hits(), 1u);

  // Each of these differs from the memoised input in one thing, and so must be recomputed (a hit
  // would give the answer above, which differs from the true one).
  std::vector<double> late = y;
  late[60] += 900;  // a late interaction on a past day
  std::vector<double> longer = Series(121, 0.5);  // a day ended
  ForecastOptions seed = o;
  seed.seed = 7;
  ForecastOptions band = o;
  band.band_high = 0.95;
  struct Case {
    const char* what;
    std::vector<double> y;
    double remaining;
    int deadline;
    ForecastOptions options;
  };
  const Case cases[] = {{"late value", late, 5000, 30, o},     {"one more day", longer, 5000, 30, o},
                        {"remaining", y, 9000, 30, o},         {"deadline", y, 5000, 10, o},
                        {"seed", y, 5000, 30, seed},           {"band", y, 5000, 30, band}};
  uint64_t misses = memo.misses();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectSame(memo.Get(c.y, c.remaining, c.deadline, c.options), ForecastEta(c.y, c.remaining, c.deadline, c.options));
    EXPECT_EQ(memo.misses(), ++misses);
  }
  // The answers do differ for some of them (else the test above could not fail).
  EXPECT_NE(ForecastEta(y, 9000, 30, o).eta, ForecastEta(y, 5000, 30, o).eta);
  EXPECT_NE(ForecastEta(y, 5000, 10, o).p_by_deadline, ForecastEta(y, 5000, 30, o).p_by_deadline);
  EXPECT_NE(ForecastEta(late, 5000, 30, o).eta, ForecastEta(y, 5000, 30, o).eta);
}

TEST(ForecastMemoTest, KeepsTheMostRecentlyUsedWithinItsCapacity) {
  ForecastMemo memo(2);
  const ForecastOptions o = Small();
  const auto a = Series(60, 0.1), b = Series(60, 0.2), c = Series(60, 0.3);
  memo.Get(a, 1000, 10, o);
  memo.Get(b, 1000, 10, o);
  memo.Get(a, 1000, 10, o);  // hit: a is now the most recent
  memo.Get(c, 1000, 10, o);  // evicts b
  EXPECT_EQ(memo.hits(), 1u);
  memo.Get(a, 1000, 10, o);
  EXPECT_EQ(memo.hits(), 2u);
  memo.Get(b, 1000, 10, o);
  EXPECT_EQ(memo.hits(), 2u);
  EXPECT_EQ(memo.misses(), 4u);
}

}  // namespace
}  // namespace cairn::dashboard
