// speech/common/cmudict.hpp — reading a CMU pronouncing dictionary and
// writing a trimmed one that holds only the words a model needs.
//
// WHY: pocketsphinx loads the full cmudict (134k words) in seconds; a
// dictionary with just the keyphrase (wake) or the domain vocabulary (asr)
// loads in milliseconds and also keeps the search small.
//
// Lifecycle: a CmuDict is built once by load() and read-only afterwards.
// Threading: const methods are safe from any number of threads.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::speech {

class CmuDict {
 public:
  // Reads "word PH PH ..." lines; alternates "word(2) ..." are kept under
  // the base word in file order. With `only`, keeps just those words (plus
  // the letters and digit names spell() needs): a few times faster than
  // building the whole 134k-word map when only a keyphrase is wanted.
  // Throws SpeechError A010 if the file is missing.
  static CmuDict load(const std::string& path, const std::set<std::string, std::less<>>* only = nullptr);

  // All pronunciations of a word (lower case), empty if unknown.
  [[nodiscard]] const std::vector<std::string>* find(std::string_view word) const;

  // A pronunciation made by spelling the word letter by letter (and digit
  // by digit, as number names), for words cmudict lacks ("tv", "rsvp").
  // Empty when some character has no pronunciation.
  [[nodiscard]] std::string spell(std::string_view word) const;

  // Dictionary text for `words` in pocketsphinx format, every alternate
  // included ("word(2) ..."). Words neither found nor spellable are
  // appended to *missing (when given) and left out.
  [[nodiscard]] std::string trimmed(const std::vector<std::string>& words, std::vector<std::string>* missing,
                                    std::vector<std::string>* spelled = nullptr) const;

  [[nodiscard]] size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> entries_;
};

// Lower-cases and splits a sentence into words: letters, digits and
// apostrophes are kept, everything else separates words.
std::vector<std::string> tokenize(std::string_view sentence);

}  // namespace cascade::speech
