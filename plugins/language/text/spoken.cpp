#include "text/spoken.hpp"

#include "text/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

namespace cascade::language {
namespace {

constexpr std::array<std::string_view, 20> kUnits{"zero",    "one",     "two",       "three",    "four",
                                                  "five",    "six",     "seven",     "eight",    "nine",
                                                  "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                                  "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 10> kTens{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

bool digits_only(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Below 1000: "one hundred twenty five".
std::string below_thousand(long n) {
  std::string out;
  auto add = [&](std::string_view w) {
    if (!out.empty()) out += ' ';
    out += w;
  };
  if (n >= 100) {
    add(kUnits[static_cast<size_t>(n / 100)]);
    add("hundred");
    n %= 100;
    if (n == 0) return out;
  }
  if (n < 20) {
    add(kUnits[static_cast<size_t>(n)]);
  } else {
    add(kTens[static_cast<size_t>(n / 10)]);
    if (n % 10 != 0) add(kUnits[static_cast<size_t>(n % 10)]);
  }
  return out;
}

// "1995" -> "nineteen ninety five", "2000" -> "two thousand", "1900" -> "nineteen hundred".
std::string year_words(long n) {
  const long hi = n / 100, lo = n % 100;
  if (lo == 0) return below_thousand(hi) + " hundred";
  return below_thousand(hi) + (lo < 10 ? " oh " : " ") + below_thousand(lo);
}

// A run of digits as it is read: by digit with a leading zero, as a year
// when it looks like one, else as a cardinal. nullopt: too long to read.
std::optional<std::string> numeral_words(std::string_view d) {
  if (d.size() > 9) return std::nullopt;
  if (d.size() > 1 && d.front() == '0') {
    std::string out;
    for (const char c : d) out += (out.empty() ? "" : " ") + std::string(kUnits[static_cast<size_t>(c - '0')]);
    return out;
  }
  const long n = std::stol(std::string(d));
  if (d.size() == 4 && ((n >= 1100 && n <= 1999) || (n >= 2010 && n <= 2099))) return year_words(n);
  return cardinal_words(n);
}

// "5:30" -> "five thirty"; nullopt unless H:MM with MM < 60.
std::optional<std::string> clock_words(std::string_view t) {
  const size_t colon = t.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || t.size() != colon + 3) return std::nullopt;
  const auto h = t.substr(0, colon), m = t.substr(colon + 1);
  if (!digits_only(h) || !digits_only(m)) return std::nullopt;
  const long hours = std::stol(std::string(h)), minutes = std::stol(std::string(m));
  if (hours > 24 || minutes > 59) return std::nullopt;
  std::string out = cardinal_words(hours);
  if (minutes == 0) return out;
  return out + (minutes < 10 ? " oh " : " ") + cardinal_words(minutes);
}

// "3.5" -> "three point five"; nullopt unless digits.digits.
std::optional<std::string> decimal_words(std::string_view t) {
  const size_t dot = t.find('.');
  if (dot == std::string_view::npos || !digits_only(t.substr(0, dot)) || !digits_only(t.substr(dot + 1)))
    return std::nullopt;
  auto whole = numeral_words(t.substr(0, dot));
  if (!whole) return std::nullopt;
  std::string out = *whole + " point";
  for (const char c : t.substr(dot + 1)) out += " " + std::string(kUnits[static_cast<size_t>(c - '0')]);
  return out;
}

// One written token (lower case, outer punctuation removed) in words;
// nullopt when it is not a form this file reads.
std::optional<std::string> token_words(std::string t) {
  if (t == "a.m" || t == "a.m." || t == "am") return "am";
  if (t == "p.m" || t == "p.m." || t == "pm") return "pm";
  if (t.find_first_of("0123456789") == std::string::npos) return std::nullopt;
  std::erase(t, ',');  // "1,000"
  if (digits_only(t)) return numeral_words(t);
  if (t.front() == '$') {  // "$5", "$4.50"
    const std::string_view v = std::string_view(t).substr(1);
    const size_t dot = v.find('.');
    const auto dollars = v.substr(0, dot);
    if (!digits_only(dollars)) return std::nullopt;
    auto words = numeral_words(dollars);
    if (!words) return std::nullopt;
    std::string out = *words + (dollars == "1" ? " dollar" : " dollars");
    if (dot != std::string_view::npos) {
      const auto cents = v.substr(dot + 1);
      if (cents.size() != 2 || !digits_only(cents)) return std::nullopt;
      if (cents != "00") out += " " + cardinal_words(std::stol(std::string(cents))) + (cents == "01" ? " cent" : " cents");
    }
    return out;
  }
  if (t.back() == '%') {
    const std::string v = t.substr(0, t.size() - 1);
    auto words = digits_only(v) ? numeral_words(v) : decimal_words(v);
    return words ? std::optional(*words + " percent") : std::nullopt;
  }
  for (const std::string_view suffix : {"a.m.", "a.m", "am", "p.m.", "p.m", "pm"})  // "5pm", "5:30pm"
    if (t.size() > suffix.size() && t.ends_with(suffix)) {
      const std::string time = t.substr(0, t.size() - suffix.size());
      auto words = digits_only(time) ? numeral_words(time) : clock_words(time);
      return words ? std::optional(*words + (suffix.front() == 'a' ? " am" : " pm")) : std::nullopt;
    }
  for (const std::string_view suffix : {"st", "nd", "rd", "th"})  // "23rd"
    if (t.size() > 2 && t.ends_with(suffix) && digits_only(std::string_view(t).substr(0, t.size() - 2)) &&
        t.size() - 2 <= 9)
      return ordinal_words(std::stol(t.substr(0, t.size() - 2)));
  if (auto c = clock_words(t)) return c;
  return decimal_words(t);
}

}  // namespace

std::string cardinal_words(long n) {
  if (n < 1000) return below_thousand(n);
  std::string out;
  if (n >= 1'000'000) {
    out = below_thousand(n / 1'000'000) + " million";
    n %= 1'000'000;
  }
  if (n >= 1000) {
    out += (out.empty() ? "" : " ") + below_thousand(n / 1000) + " thousand";
    n %= 1000;
  }
  if (n > 0) out += " " + below_thousand(n);
  return out;
}

std::string ordinal_words(long n) {
  // The ordinal is the cardinal with its last word changed.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kLast{{{"one", "first"},
                                                                                        {"two", "second"},
                                                                                        {"three", "third"},
                                                                                        {"five", "fifth"},
                                                                                        {"eight", "eighth"},
                                                                                        {"nine", "ninth"},
                                                                                        {"twelve", "twelfth"},
                                                                                        {"twenty", "twentieth"},
                                                                                        {"thirty", "thirtieth"},
                                                                                        {"forty", "fortieth"},
                                                                                        {"fifty", "fiftieth"},
                                                                                        {"sixty", "sixtieth"}}};
  std::string words = cardinal_words(n);
  const size_t space = words.rfind(' ');
  const std::string last = words.substr(space == std::string::npos ? 0 : space + 1);
  std::string head = words.substr(0, space == std::string::npos ? 0 : space + 1);
  for (const auto& [card, ord] : kLast)
    if (last == card) return head + std::string(ord);
  if (last == "seventy" || last == "eighty" || last == "ninety") return head + last.substr(0, last.size() - 1) + "ieth";
  return head + last + "th";
}

std::string spoken_form(std::string_view written) {
  std::string out;
  size_t i = 0;
  while (i < written.size()) {
    if (std::isspace(static_cast<unsigned char>(written[i])) != 0) {
      out += written[i++];
      continue;
    }
    size_t end = i;
    while (end < written.size() && std::isspace(static_cast<unsigned char>(written[end])) == 0) ++end;
    std::string token(written.substr(i, end - i));
    i = end;
    std::transform(token.begin(), token.end(), token.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // Outer punctuation ("(5:30", "10.", "a.m.,") is not part of the form,
    // but a trailing "." may be ("a.m.") and a "$" or "%" is.
    size_t b = 0, e = token.size();
    while (b < e && std::ispunct(static_cast<unsigned char>(token[b])) != 0 && token[b] != '$') ++b;
    while (e > b && std::ispunct(static_cast<unsigned char>(token[e - 1])) != 0 && token[e - 1] != '%' &&
           token[e - 1] != '.')
      --e;
    std::string core = token.substr(b, e - b);
    auto words = token_words(core);
    if (!words && !core.empty() && core.back() == '.') {  // "10." ends a sentence
      while (!core.empty() && core.back() == '.') core.pop_back();
      words = token_words(core);
    }
    out += words ? " " + *words + " " : token;
  }
  return normalize_sentence(out);
}

}  // namespace cascade::language
