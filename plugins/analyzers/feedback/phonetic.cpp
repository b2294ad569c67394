// Soundex per word and the code-multiset similarity (phonetic.hpp).
#include "phonetic.hpp"

#include <algorithm>
#include <cctype>

namespace cascade::phonetic {

namespace {

// Step 2's table: '0' for a vowel (separator), 0 for h/w (ignored).
char digit_of(char lower) {
  switch (lower) {
    case 'b': case 'f': case 'p': case 'v': return '1';
    case 'c': case 'g': case 'j': case 'k': case 'q': case 's': case 'x': case 'z': return '2';
    case 'd': case 't': return '3';
    case 'l': return '4';
    case 'm': case 'n': return '5';
    case 'r': return '6';
    case 'h': case 'w': return 0;
    default: return '0';  // a e i o u y
  }
}

}  // namespace

std::string soundex(std::string_view word) {
  std::string letters;
  for (const char c : word)
    if (std::isalpha(static_cast<unsigned char>(c)) != 0) letters += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (letters.empty()) return std::string(word);
  std::string code(1, static_cast<char>(std::toupper(static_cast<unsigned char>(letters[0]))));
  char last = digit_of(letters[0]);
  for (size_t i = 1; i < letters.size() && code.size() < 4; ++i) {
    const char d = digit_of(letters[i]);
    if (d == 0) continue;  // h, w: neither a digit nor a separator
    if (d != '0' && d != last) code += d;
    last = d;
  }
  code.resize(4, '0');
  return code;
}

std::vector<std::string> codes(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  const auto flush = [&] {
    if (!word.empty()) out.push_back(soundex(word)), word.clear();
  };
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '\'')
      word += c;
    else
      flush();
  }
  flush();
  return out;
}

double similarity(std::string_view a, std::string_view b) {
  std::vector<std::string> ca = codes(a), cb = codes(b);
  if (ca.empty() || cb.empty()) return 0;
  std::sort(ca.begin(), ca.end());
  std::sort(cb.begin(), cb.end());
  std::vector<std::string> common;
  std::set_intersection(ca.begin(), ca.end(), cb.begin(), cb.end(), std::back_inserter(common));
  return 2.0 * static_cast<double>(common.size()) / static_cast<double>(ca.size() + cb.size());
}

}  // namespace cascade::phonetic
