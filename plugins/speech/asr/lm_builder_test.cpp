// Checks that the ARPA model build_arpa() writes is a proper distribution
// when read back the way a decoder reads it (backoff through stored values).
#include "lm_builder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

using cascade::speech::build_arpa;

namespace {
using Gram = std::vector<std::string>;

// A minimal ARPA reader: log10 probabilities and backoff weights.
struct Arpa {
  std::map<Gram, double> lp, bo;
  explicit Arpa(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    int order = 0;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '\\') {
        if (line.size() > 2 && line.find("-grams:") != std::string::npos) order = line[1] - '0';
        continue;
      }
      if (order == 0) continue;
      std::istringstream f(line);
      double p = 0;
      f >> p;
      Gram g(static_cast<size_t>(order));
      for (auto& w : g) f >> w;
      lp[g] = p;
      double b = 0;
      if (f >> b) bo[g] = b;
    }
  }
  double prob(Gram h, const std::string& w) const {
    Gram g = h;
    g.push_back(w);
    if (auto it = lp.find(g); it != lp.end()) return std::pow(10.0, it->second);
    if (h.empty()) return 0.0;
    double b = 0;
    if (auto it = bo.find(h); it != bo.end()) b = it->second;
    return std::pow(10.0, b) * prob(Gram(h.begin() + 1, h.end()), w);
  }
};

const std::vector<std::vector<std::string>> kSentences = {
    {"turn", "on", "the", "lights"}, {"turn", "off", "the", "lights"}, {"turn", "on", "the", "radio"},
    {"play", "the", "radio"},        {"what", "time", "is", "it"},     {"set", "the", "time"}};

double total(const Arpa& m, const Gram& h, const std::vector<std::string>& vocab) {
  double s = 0;
  for (const auto& w : vocab) s += m.prob(h, w);
  return s + m.prob(h, "</s>");
}
}  // namespace

TEST(LmBuilder, EveryHistoryGivesADistributionSummingToOne) {
  auto lm = build_arpa(kSentences, 3);
  Arpa m(lm.text);
  for (const Gram& h : std::vector<Gram>{{}, {"<s>"}, {"the"}, {"turn", "on"}, {"<s>", "turn"}, {"lights"},
                                         {"radio", "the"} /* unseen history */}) {
    EXPECT_NEAR(total(m, h, lm.vocab), 1.0, 1e-4) << "history of size " << h.size();
  }
}

TEST(LmBuilder, SeenContinuationIsLikelierThanUnseen) {
  Arpa m(build_arpa(kSentences, 3).text);
  EXPECT_GT(m.prob({"turn", "on"}, "the"), 0.5);
  EXPECT_GT(m.prob({"turn", "on"}, "the"), 10 * m.prob({"turn", "on"}, "time"));
  EXPECT_GT(m.prob({"the"}, "time"), 0.0);  // unseen bigram still possible
}

TEST(LmBuilder, HeaderCountsMatchTheEntries) {
  auto lm = build_arpa(kSentences, 2);
  EXPECT_NE(lm.text.find("ngram 1=" + std::to_string(lm.counts[0])), std::string::npos);
  EXPECT_NE(lm.text.find("ngram 2=" + std::to_string(lm.counts[1])), std::string::npos);
  EXPECT_EQ(lm.counts[0], lm.vocab.size() + 2);  // + <s>, </s>
  EXPECT_NE(lm.text.find("-99 <s>"), std::string::npos);
  EXPECT_NE(lm.text.find("\\end\\"), std::string::npos);
}

TEST(LmBuilder, RejectsNoWordsAndBadOrder) {
  EXPECT_THROW(build_arpa({}, 3), std::invalid_argument);
  EXPECT_THROW(build_arpa(kSentences, 0), std::invalid_argument);
}

// A background (general English) widens the vocabulary at the unigram level.
const cascade::speech::Background kBackground{{{"the", 0.5}, {"visit", 0.3}, {"father", 0.2}}, 0.3};

TEST(LmBuilder, BackgroundWordsJoinTheVocabularyAndDistributionsStayProper) {
  auto lm = build_arpa(kSentences, 3, kBackground);
  EXPECT_EQ(lm.domain_words, build_arpa(kSentences, 3).vocab.size());
  EXPECT_EQ(lm.vocab.size(), lm.domain_words + 2);  // "visit", "father"; "the" was already there
  EXPECT_EQ(lm.counts[0], lm.vocab.size() + 2);
  Arpa m(lm.text);
  for (const Gram& h : std::vector<Gram>{{}, {"<s>"}, {"the"}, {"turn", "on"}, {"radio", "the"}})
    EXPECT_NEAR(total(m, h, lm.vocab), 1.0, 1e-4) << "history of size " << h.size();
  // The unigram is the mixture: 0.7 * domain + 0.3 * background.
  EXPECT_NEAR(m.prob({}, "visit"), 0.3 * 0.3, 1e-6);
  EXPECT_GT(m.prob({"the"}, "father"), 0.0);
  // Seen domain continuations still dominate.
  EXPECT_GT(m.prob({"turn", "on"}, "the"), 10 * m.prob({"turn", "on"}, "visit"));
}

TEST(LmBuilder, BackgroundWeightGrowsTheGeneralWordsShare) {
  auto low = cascade::speech::Background{kBackground.unigrams, 0.05};
  auto high = cascade::speech::Background{kBackground.unigrams, 0.5};
  EXPECT_LT(Arpa(build_arpa(kSentences, 3, low).text).prob({"the"}, "visit"),
            Arpa(build_arpa(kSentences, 3, high).text).prob({"the"}, "visit"));
}

TEST(LmBuilder, RejectsBadBackground) {
  EXPECT_THROW(build_arpa(kSentences, 3, {kBackground.unigrams, 1.0}), std::invalid_argument);
  EXPECT_THROW(build_arpa(kSentences, 3, {kBackground.unigrams, -0.1}), std::invalid_argument);
  EXPECT_THROW(build_arpa(kSentences, 3, {{{"visit", 0.0}}, 0.2}), std::invalid_argument);
}
