// asr/general_lm.hpp — the most frequent words of a general English
// language model (pocketsphinx's en-us.lm.bin), to widen the in-domain
// model's vocabulary at build time (see lm_builder.hpp, Background).
//
// Threading: reads a file; no shared state.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace cascade::speech {

// The `n` words with the highest unigram probability in the model at
// `lm_path` (ARPA, DMP or the binary trie format, as sphinxbase reads
// them) among those that are lower-case letters and apostrophes only and
// that `keep` accepts, most probable first, with their probabilities.
// <s>, </s> and <UNK> are never returned. Throws SpeechError A010 when the
// file is missing and A021 when sphinxbase cannot read it.
std::vector<std::pair<std::string, double>> top_unigrams(const std::string& lm_path, size_t n,
                                                         const std::function<bool(const std::string&)>& keep);

}  // namespace cascade::speech
