// asr/lm_builder.hpp — an in-domain n-gram language model in ARPA text
// format, built from the domain's training sentences, optionally with a
// vocabulary widened by general English words.
//
// WHY in-domain: pocketsphinx's general English LM gives 67-78% WER on
// synthetic assistant requests; a small LM over the requests the assistant
// expects gives 0-15% and loads in milliseconds. But a closed vocabulary
// cannot produce a word the training sentences lack, and ordinary words
// ("visit", "father", "device") are the bulk of what held-out requests
// add. So the unigram level can be mixed with a background distribution
// (the top words of the general LM, see general_lm.hpp).
//
// Smoothing: interpolated Witten-Bell. For a history h seen c(h) times with
// T(h) distinct followers,
//     P(w | h) = (c(h, w) + T(h) * P(w | h')) / (c(h) + T(h))
// where h' drops h's oldest word, down to a unigram interpolated with the
// uniform distribution over the domain words:
//     P_dom(w) = (c(w) + 1) / (N + V)
// With a background B of weight b the unigram level becomes
//     P1(w) = (1 - b) * P_dom(w) + b * B(w)
// over the union of both vocabularies (B renormalised over its words), and
// the higher orders interpolate with P1 as above. Written as an ARPA
// backoff model this is exact: the stored probability of a seen n-gram is
// the interpolated one and the backoff weight of h is T(h) / (c(h) + T(h)),
// so an unseen w gets alpha(h) * P(w | h') - what an ARPA reader computes.
//
// Threading: pure functions on values.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cascade::speech {

struct ArpaModel {
  std::string text;               // the ARPA file's content
  std::vector<size_t> counts;     // number of n-grams written per order (index 0 = unigrams)
  std::vector<std::string> vocab; // words (without <s>, </s>), sorted: domain and background
  size_t domain_words = 0;        // how many of them the sentences contain
};

// Extra words mixed into the unigram level (see above).
struct Background {
  std::vector<std::pair<std::string, double>> unigrams;  // word, probability (renormalised over the list)
  double weight = 0.0;                                   // b, in [0, 1)
};

// `sentences` are already tokenized (see common/cmudict.hpp tokenize()).
// `order` is 1..5. Empty sentences are ignored. Throws std::invalid_argument
// for an order out of range, a background weight outside [0, 1), a
// background probability that is not positive and finite, or when there is
// no word at all.
ArpaModel build_arpa(const std::vector<std::vector<std::string>>& sentences, int order,
                     const Background& background = {});

}  // namespace cascade::speech
