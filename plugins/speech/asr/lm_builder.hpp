// asr/lm_builder.hpp — an in-domain n-gram language model in ARPA text
// format, built from the domain's training sentences.
//
// WHY in-domain: pocketsphinx's general English LM gives 67-78% WER on
// synthetic assistant requests; a small LM over the requests the assistant
// expects gives 0-15% and loads in milliseconds.
//
// Smoothing: interpolated Witten-Bell. For a history h seen c(h) times with
// T(h) distinct followers,
//     P(w | h) = (c(h, w) + T(h) * P(w | h')) / (c(h) + T(h))
// where h' drops h's oldest word, down to a unigram interpolated with the
// uniform distribution. Written as an ARPA backoff model this is exact: the
// stored probability of a seen n-gram is the interpolated one and the
// backoff weight of h is T(h) / (c(h) + T(h)), so an unseen w gets
// alpha(h) * P(w | h') - what an ARPA reader computes.
//
// Threading: pure functions on values.
#pragma once

#include <string>
#include <vector>

namespace cascade::speech {

struct ArpaModel {
  std::string text;               // the ARPA file's content
  std::vector<size_t> counts;     // number of n-grams written per order (index 0 = unigrams)
  std::vector<std::string> vocab; // words (without <s>, </s>), sorted
};

// `sentences` are already tokenized (see common/cmudict.hpp tokenize()).
// `order` is 1..5. Empty sentences are ignored. Throws std::invalid_argument
// for an order out of range or when there is no word at all.
ArpaModel build_arpa(const std::vector<std::vector<std::string>>& sentences, int order);

}  // namespace cascade::speech
