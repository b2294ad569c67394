// text/text.hpp — the text helpers every language piece shares: sentence
// normalisation, number words, string similarity and a stable hash.
//
// Why one place: the data tool normalises training sentences, the NLU and
// ER plugins normalise their input, and the judges canonicalise outputs. If
// any two of them disagreed on what "normalised" means, gold and prediction
// would differ for reasons no stage is responsible for. Where written text
// enters (the NLU's input, the judges), spoken.hpp first reads numerals
// and "a.m." as the words SLURP writes.
//
// Lifecycle: free functions, no state. Threading: all functions are pure
// and safe to call from any number of threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::language {

// Lower-cases ASCII, turns every punctuation character into a space except
// an apostrophe inside a word ("what's" stays, the ASR dictionary has it),
// folds runs of white space and trims. "Set an alarm, 7 A.M.!" ->
// "set an alarm 7 a m".
std::string normalize_sentence(std::string_view text);

// Splits on single spaces after normalize_sentence().
std::vector<std::string> tokenize(std::string_view text);

// Joins tokens [begin, end) with single spaces.
std::string join(const std::vector<std::string>& tokens, size_t begin, size_t end);
std::string join(const std::vector<std::string>& tokens);

// Value of a cardinal number word ("zero".."ninety", "hundred",
// "thousand" are handled by parse_number); nullopt otherwise.
std::optional<int> number_word(std::string_view word);
// Value of an ordinal word or numeral ("first", "twenty", "3rd" -> 3);
// only 1..31 (days of a month). Compound ordinals need two tokens
// ("twenty third") and are handled by parse_ordinal.
std::optional<int> ordinal_word(std::string_view word);

// Parses the longest number at tokens[pos...]: digits ("10"), or words
// ("twenty five", "two thousand seventeen", "one hundred and five").
// Returns the value and the number of tokens used; nullopt if none.
struct ParsedNumber {
  long value = 0;
  size_t used = 0;
};
std::optional<ParsedNumber> parse_number(const std::vector<std::string>& tokens, size_t pos);
// Parses a day-of-month ordinal at tokens[pos...] ("twenty third", "3rd",
// "fifteenth"). Cardinals do not count here.
std::optional<ParsedNumber> parse_ordinal(const std::vector<std::string>& tokens, size_t pos);

// Replaces every run of number words by its digits ("set ten alarms" ->
// "set 10 alarms"). Used by the judges: "10" and "ten" mean the same.
std::vector<std::string> numbers_to_digits(const std::vector<std::string>& tokens);

// Levenshtein distance over bytes.
size_t levenshtein(std::string_view a, std::string_view b);
// 1 - distance / max(len): 1.0 for equal strings, 0.0 for nothing shared.
double char_similarity(std::string_view a, std::string_view b);
// Token-set ratio: the best char_similarity among (sorted intersection)
// vs (intersection + rest of a), (intersection + rest of b), as popularised
// by fuzzywuzzy. Order and repeated words stop mattering.
double token_set_similarity(std::string_view a, std::string_view b);
// max(char_similarity, token_set_similarity): the score ER reports.
double similarity(std::string_view a, std::string_view b);

// FNV-1a 64-bit: a hash that is the same on every platform and run, used
// where the simulated world needs "random but fixed" values.
uint64_t stable_hash(std::string_view s);

}  // namespace cascade::language
