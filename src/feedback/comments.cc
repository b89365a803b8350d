#include "feedback/comments.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace cairn::assets {
extern const std::string_view FeedbackStopWords;  // data/stopwords.txt, via cairn_embed
extern const std::string_view FeedbackLexicon;    // data/sentiment_lexicon.tsv
}  // namespace cairn::assets

namespace cairn::feedback {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'' || c >= 0x80;
}

bool IsNegator(std::string_view t) {
  static constexpr std::string_view kNeg[] = {"not",   "no",     "never", "dont",    "didnt", "doesnt", "isnt",
                                              "wasnt", "werent", "cant",  "couldnt", "wont",  "wouldnt",
                                              "without", "hardly", "nothing", "arent", "havent", "hasnt"};
  return std::find(std::begin(kNeg), std::end(kNeg), t) != std::end(kNeg);
}

// Lines of an embedded file without '#' comments.
template <typename Fn>
void ForEachLine(std::string_view data, Fn fn) {
  while (!data.empty()) {
    size_t nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    data = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    fn(line);
  }
}

std::vector<TermCount> Top(const std::map<std::string, int64_t>& counts, size_t top) {
  std::vector<TermCount> v;
  v.reserve(counts.size());
  for (const auto& [t, c] : counts) v.push_back({t, c});
  // std::map iterates alphabetically; a stable sort by count keeps that order among ties.
  std::stable_sort(v.begin(), v.end(), [](const TermCount& a, const TermCount& b) { return a.count > b.count; });
  if (v.size() > top) v.resize(top);
  return v;
}

}  // namespace

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (unsigned char c : text) {
    if (!IsWordByte(c)) {
      flush();
      continue;
    }
    if (c == '\'') continue;
    cur.push_back(c < 0x80 ? static_cast<char>(std::tolower(c)) : static_cast<char>(c));
  }
  flush();
  return out;
}

CommentAnalyzer::CommentAnalyzer() {
  ForEachLine(assets::FeedbackStopWords, [&](std::string_view line) {
    for (const std::string& w : Tokenize(line)) stop_.insert(w);
  });
  ForEachLine(assets::FeedbackLexicon, [&](std::string_view line) {
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) return;
    std::string_view num = line.substr(tab + 1);
    while (!num.empty() && (num.back() == '\r' || num.back() == ' ')) num.remove_suffix(1);
    int score = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), score);
    if (ec == std::errc() && p == num.data() + num.size()) lexicon_[std::string(line.substr(0, tab))] = score;
  });
}

int CommentAnalyzer::LexiconScore(std::string_view token) const {
  auto it = lexicon_.find(std::string(token));
  return it == lexicon_.end() ? 0 : it->second;
}

int CommentAnalyzer::Sentiment(std::string_view text) const {
  std::vector<std::string> tokens = Tokenize(text);
  int total = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    int s = LexiconScore(tokens[i]);
    if (s == 0) continue;
    bool negated = (i >= 1 && IsNegator(tokens[i - 1])) || (i >= 2 && IsNegator(tokens[i - 2]));
    total += negated ? -s : s;
  }
  return total;
}

CommentThemes CommentAnalyzer::Themes(SurveyKind kind, const std::vector<std::pair<int, std::string>>& score_comments,
                                      size_t top) const {
  std::map<std::string, int64_t> terms[3], bigrams[3], delight, annoyance;
  int64_t band_comments[3] = {0, 0, 0};
  CommentThemes out;
  for (const auto& [score, comment] : score_comments) {
    std::vector<std::string> tokens = Tokenize(comment);
    if (tokens.empty()) continue;
    const int b = static_cast<int>(BandOf(kind, score));
    ++band_comments[b];
    ++out.comments;
    const int sentiment = Sentiment(comment);
    if (sentiment > 0) ++out.positive;
    if (sentiment < 0) ++out.negative;
    const std::string* prev = nullptr;
    for (const std::string& t : tokens) {
      if (IsStopWord(t) || IsNegator(t)) {
        prev = nullptr;  // a bigram never spans a stop word
        continue;
      }
      ++terms[b][t];
      if (sentiment > 0) ++delight[t];
      if (sentiment < 0) ++annoyance[t];
      if (prev != nullptr) ++bigrams[b][*prev + " " + t];
      prev = &t;
    }
  }
  for (int b = 0; b < 3; ++b) {
    if (band_comments[b] == 0) continue;
    out.bands.push_back({std::string(BandName(kind, static_cast<Band>(b))), band_comments[b], Top(terms[b], top),
                         Top(bigrams[b], top)});
  }
  out.delight = Top(delight, top);
  out.annoyance = Top(annoyance, top);
  return out;
}

}  // namespace cairn::feedback
