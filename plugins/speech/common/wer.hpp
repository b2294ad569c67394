// speech/common/wer.hpp — word error rate, for the speech tests and
// cascade-speech-bench.
//
// Pure functions; safe from any thread.
#pragma once

#include "cmudict.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace cascade::speech {

// Word-level Levenshtein distance (substitutions + insertions + deletions)
// between a reference and a hypothesis, after tokenize() on both.
inline size_t word_errors(std::string_view reference, std::string_view hypothesis) {
  const auto r = tokenize(reference), h = tokenize(hypothesis);
  std::vector<size_t> prev(h.size() + 1), cur(h.size() + 1);
  for (size_t j = 0; j <= h.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= r.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= h.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] == h[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[h.size()];
}

inline size_t word_count(std::string_view s) { return tokenize(s).size(); }

}  // namespace cascade::speech
