// Comment themes on a small labelled set.
#include "feedback/comments.h"

#include <gtest/gtest.h>

namespace cairn::feedback {
namespace {

TEST(Tokenize, LowercasesSplitsAndDropsApostrophes) {
  EXPECT_EQ(Tokenize("Don't  REFUND-me, ok?!"), (std::vector<std::string>{"dont", "refund", "me", "ok"}));
  EXPECT_EQ(Tokenize("café au lait"), (std::vector<std::string>{"café", "au", "lait"}));
  EXPECT_TRUE(Tokenize("  ...  ").empty());
}

TEST(CommentAnalyzer, SentimentOnALabelledSet) {
  CommentAnalyzer a;
  EXPECT_GT(a.lexicon_size(), 100u);
  EXPECT_TRUE(a.IsStopWord("the"));
  EXPECT_FALSE(a.IsStopWord("refund"));
  struct Labelled {
    const char* text;
    int sign;
  };
  const Labelled set[] = {
      {"Great service, the agent was friendly and quick", 1},
      {"Love the new app, checkout is so easy", 1},
      {"Delivery was fast and the support team was helpful", 1},
      {"Excellent, problem solved in minutes. Thanks!", 1},
      {"Not bad at all", 1},
      {"Terrible experience, the parcel arrived damaged", -1},
      {"Support was rude and unhelpful, still waiting for my refund", -1},
      {"The app crashes every time I pay. Useless.", -1},
      {"Overcharged again, this is ridiculous", -1},
      {"Not helpful, I was ignored for a week", -1},
  };
  int right = 0;
  for (const auto& l : set) {
    int s = a.Sentiment(l.text);
    if ((s > 0 ? 1 : s < 0 ? -1 : 0) == l.sign) ++right;
    else ADD_FAILURE() << l.text << " scored " << s;
  }
  EXPECT_EQ(right, 10);
}

TEST(CommentAnalyzer, ThemesPerBand) {
  CommentAnalyzer a;
  std::vector<std::pair<int, std::string>> rows = {
      {1, "Late delivery and no refund"},
      {2, "late delivery again, refund please"},
      {3, "The refund never came"},
      {5, ""},
      {8, "Okay product"},
      {10, "Friendly support, fast delivery"},
      {9, "friendly support team"},
  };
  CommentThemes t = a.Themes(SurveyKind::kNps, rows, 3);
  EXPECT_EQ(t.comments, 6);
  ASSERT_EQ(t.bands.size(), 3u);
  EXPECT_EQ(t.bands[0].band, "detractor");
  EXPECT_EQ(t.bands[0].comments, 3);
  ASSERT_FALSE(t.bands[0].terms.empty());
  EXPECT_EQ(t.bands[0].terms[0].term, "refund");
  EXPECT_EQ(t.bands[0].terms[0].count, 3);
  ASSERT_FALSE(t.bands[0].bigrams.empty());
  EXPECT_EQ(t.bands[0].bigrams[0].term, "late delivery");
  EXPECT_EQ(t.bands[0].bigrams[0].count, 2);
  EXPECT_EQ(t.bands[2].band, "promoter");
  EXPECT_EQ(t.bands[2].bigrams[0].term, "friendly support");
  ASSERT_FALSE(t.annoyance.empty());
  ASSERT_FALSE(t.delight.empty());
  EXPECT_EQ(t.delight[0].term, "friendly");
}

}  // namespace
}  // namespace cairn::feedback
