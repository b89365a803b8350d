#pragma once
// Comment analysis: themes of delight and annoyance from free-text survey comments.
//
// - Tokenize: lower-cases ASCII, splits on anything that is not a letter, digit or apostrophe;
//   apostrophes are dropped ("don't" → "dont"); bytes ≥ 0x80 (UTF-8) stay inside words.
// - Stop words (data/stopwords.txt) are skipped for terms and bigrams; bigrams pair adjacent
//   non-stop-word tokens of one comment.
// - Sentiment: the sum of lexicon scores (data/sentiment_lexicon.tsv, -5..5) of a comment's
//   tokens; a negator (not, no, never, dont, ...) within the two tokens before a word flips it.
// - Themes: per score band, the most frequent terms and bigrams; "annoyance" terms are those of
//   comments with negative sentiment, "delight" those of comments with positive sentiment.
// Ties in every ranking break alphabetically so results are deterministic.
// Thread-safe (immutable after construction).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "feedback/survey.h"

namespace cairn::feedback {

std::vector<std::string> Tokenize(std::string_view text);

struct TermCount {
  std::string term;
  int64_t count = 0;
};

struct BandThemes {
  std::string band;
  int64_t comments = 0;
  std::vector<TermCount> terms;
  std::vector<TermCount> bigrams;
};

struct CommentThemes {
  std::vector<BandThemes> bands;       // low, mid, high (those with comments)
  std::vector<TermCount> delight;      // terms of positive comments
  std::vector<TermCount> annoyance;    // terms of negative comments
  int64_t comments = 0, positive = 0, negative = 0;
};

class CommentAnalyzer {
 public:
  // Uses the embedded stop words and lexicon.
  CommentAnalyzer();

  bool IsStopWord(std::string_view token) const { return stop_.contains(std::string(token)); }
  // Lexicon score of one token (0 if absent).
  int LexiconScore(std::string_view token) const;
  // Sentiment of a comment (see the file comment).
  int Sentiment(std::string_view text) const;

  // Themes of `responses` (those with an empty comment are skipped); `top` entries per list.
  CommentThemes Themes(SurveyKind kind, const std::vector<std::pair<int, std::string>>& score_comments,
                       size_t top) const;

  size_t lexicon_size() const { return lexicon_.size(); }

 private:
  std::unordered_set<std::string> stop_;
  std::unordered_map<std::string, int> lexicon_;
};

}  // namespace cairn::feedback
