// common/words.hpp — the word-level text measures the analyzers share:
// words of a request (lower case, letters, digits and apostrophes) and the
// word-set Jaccard similarity a rephrase test reads. Header-only, compiled
// into each analyzer plugin. Pure functions: any thread.
#pragma once

#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cascade::analyzers {

// The space-separated words of an already normalised text, as views into
// it (no copy: the text must outlive them).
inline std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}


inline std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string w;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '\'') {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      out.push_back(w);
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

// |A and B| / |A or B| over the two texts' sets of words; 0 when either is empty.
inline double word_jaccard(std::string_view a, std::string_view b) {
  const auto wa = words(a), wb = words(b);
  const std::set<std::string> sa(wa.begin(), wa.end()), sb(wb.begin(), wb.end());
  if (sa.empty() || sb.empty()) return 0;
  size_t common = 0;
  for (const auto& w : sa) common += sb.count(w);
  return static_cast<double>(common) / static_cast<double>(sa.size() + sb.size() - common);
}

}  // namespace cascade::analyzers
