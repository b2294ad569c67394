// feedback/phonetic.hpp — a small phonetic code for requests: American
// Soundex per word, and a similarity of two requests by their codes.
//
// Why Soundex and not (Double) Metaphone: Soundex is thirty lines anyone
// can check against its published definition (below), it is what the
// rephrase literature's "phonetic similarity" baselines use, and it
// already merges the confusions a speech recogniser makes between similar
// consonants ("dragons"/"dragon's"/"draggins" -> D625). Its known blind
// spot: it keeps the first letter, so an error at a word's start ("maj"
// vs "imagine") is not merged; the text similarity (character 3-grams)
// beside it covers part of that. Metaphone's English pronunciation rules
// would do better on such cases but are ten times the code.
//
// Soundex of one word (letters a-z; anything else is dropped, a word with
// no letter is kept as written so "10" still matches "10"):
//   1. keep the first letter (upper case);
//   2. map the rest: b f p v -> 1; c g j k q s x z -> 2; d t -> 3; l -> 4;
//      m n -> 5; r -> 6; vowels a e i o u y -> separator; h w -> nothing;
//   3. drop a digit equal to the one before it (also the first letter's own
//      digit) unless a vowel separated them; h and w do not separate;
//   4. cut or pad with '0' to four characters.
//
// Used by the feedback analyzer (rephrase detection) and the online
// rewriting stage (plugins/rewriting/online: the phonetic retrieval key).
// Lifecycle/threading: pure functions; reentrant.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cascade::phonetic {

// The Soundex code of one word ("robert" -> "R163", "tymczak" -> "T522").
std::string soundex(std::string_view word);

// The codes of a text's words (words split on anything but letters, digits
// and apostrophes), in order.
std::vector<std::string> codes(std::string_view text);

// Dice coefficient of two texts' code multisets, in [0, 1]: 1 when both say
// the same sounds in any order; 0 when either has no word.
double similarity(std::string_view a, std::string_view b);

}  // namespace cascade::phonetic
