#include "general_lm.hpp"

#include "audio.hpp"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>
#include <sphinxbase/ngram_model.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

namespace cascade::speech {

std::vector<std::pair<std::string, double>> top_unigrams(const std::string& lm_path, size_t n,
                                                         const std::function<bool(const std::string&)>& keep) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(lm_path, ec)) throw SpeechError("A010", "model file not found: " + lm_path);
  err_set_logfp(nullptr);
  std::unique_ptr<logmath_t, decltype(&logmath_free)> lmath(logmath_init(1.0001, 0, 0), &logmath_free);
  std::unique_ptr<ngram_model_t, decltype(&ngram_model_free)> model(
      ngram_model_read(nullptr, lm_path.c_str(), NGRAM_AUTO, lmath.get()), &ngram_model_free);
  if (!model) throw SpeechError("A021", "cannot read language model " + lm_path);
  // sphinxbase of Debian 12 exports no n-gram iterator: unigrams are wids 0..count-1.
  const auto n_uni = static_cast<int32>(ngram_model_get_counts(model.get())[0]);
  std::vector<std::pair<std::string, double>> words;
  for (int32 wid = 0; wid < n_uni; ++wid) {
    const char* w = ngram_word(model.get(), wid);
    if (w == nullptr) continue;
    const std::string word(w);
    if (word.empty() || !std::all_of(word.begin(), word.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '\''; }))
      continue;  // <s>, </s>, <UNK>, upper case, digits, hyphens
    if (keep && !keep(word)) continue;
    int32 used = 0;
    const int32 score = ngram_ng_prob(model.get(), wid, nullptr, 0, &used);
    words.emplace_back(word, std::exp(logmath_log_to_ln(lmath.get(), score)));
  }
  const size_t k = std::min(n, words.size());
  std::partial_sort(words.begin(), words.begin() + static_cast<long>(k), words.end(),
                    [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  words.resize(k);
  return words;
}

}  // namespace cascade::speech
