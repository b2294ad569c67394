#include "text/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <utility>

namespace cascade::language {

std::string normalize_sentence(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto is_word = [](unsigned char c) { return std::isalnum(c) != 0 || c >= 0x80; };
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    char d = static_cast<char>(std::tolower(c));
    if (c == '\'') {
      // Keep an apostrophe only between two word characters: "what's".
      bool inside = i > 0 && i + 1 < text.size() && is_word(static_cast<unsigned char>(text[i - 1])) &&
                    is_word(static_cast<unsigned char>(text[i + 1]));
      if (!inside) d = ' ';
    } else if (!is_word(c)) {
      d = ' ';
    }
    if (d == ' ') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    out.push_back(d);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string norm = normalize_sentence(text);
  size_t start = 0;
  while (start < norm.size()) {
    size_t end = norm.find(' ', start);
    if (end == std::string::npos) end = norm.size();
    out.emplace_back(norm.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& tokens, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < tokens.size(); ++i) {
    if (!out.empty()) out.push_back(' ');
    out += tokens[i];
  }
  return out;
}
std::string join(const std::vector<std::string>& tokens) { return join(tokens, 0, tokens.size()); }

namespace {
constexpr std::array<std::pair<std::string_view, int>, 28> kCardinals{{
    {"zero", 0},      {"eighty", 80},   {"one", 1},        {"two", 2},       {"three", 3},
    {"four", 4},      {"five", 5},      {"six", 6},        {"seven", 7},     {"eight", 8},
    {"nine", 9},      {"ten", 10},      {"eleven", 11},    {"twelve", 12},   {"thirteen", 13},
    {"fourteen", 14}, {"fifteen", 15},  {"sixteen", 16},   {"seventeen", 17}, {"eighteen", 18},
    {"nineteen", 19}, {"twenty", 20},   {"thirty", 30},    {"forty", 40},    {"fifty", 50},
    {"sixty", 60},    {"seventy", 70},  {"ninety", 90},
}};
constexpr std::array<std::pair<std::string_view, int>, 22> kOrdinals{{
    {"first", 1},       {"second", 2},      {"third", 3},       {"fourth", 4},
    {"fifth", 5},       {"sixth", 6},       {"seventh", 7},     {"eighth", 8},
    {"ninth", 9},       {"tenth", 10},      {"eleventh", 11},   {"twelfth", 12},
    {"thirteenth", 13}, {"fourteenth", 14}, {"fifteenth", 15},  {"sixteenth", 16},
    {"seventeenth", 17}, {"eighteenth", 18}, {"nineteenth", 19}, {"twentieth", 20},
    {"thirtieth", 30},  {"twenty-first", 21},
}};
bool all_digits(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::optional<int> number_word(std::string_view word) {
  for (const auto& [w, v] : kCardinals)
    if (w == word) return v;
  return std::nullopt;
}

std::optional<int> ordinal_word(std::string_view word) {
  for (const auto& [w, v] : kOrdinals)
    if (w == word) return v;
  // "3rd", "21st", "15th"
  if (word.size() >= 3) {
    auto suffix = word.substr(word.size() - 2);
    auto digits = word.substr(0, word.size() - 2);
    if ((suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") && all_digits(digits) &&
        digits.size() <= 2) {
      int v = std::stoi(std::string(digits));
      if (v >= 1 && v <= 31) return v;
    }
  }
  return std::nullopt;
}

std::optional<ParsedNumber> parse_number(const std::vector<std::string>& tokens, size_t pos) {
  if (pos >= tokens.size()) return std::nullopt;
  if (all_digits(tokens[pos]) && tokens[pos].size() <= 9) return ParsedNumber{std::stol(tokens[pos]), 1};
  // Words: total = thousands + group; a group is [units|teens|tens [unit]]
  // optionally times "hundred" plus another such part. "five twenty" is two
  // numbers (a time), so a second small number after a complete one stops.
  long total = 0, group = 0, part = 0;
  bool any = false, part_open = true, tens_open = false;
  size_t i = pos, end = pos;
  while (i < tokens.size()) {
    const std::string& w = tokens[i];
    if (auto v = number_word(w)) {
      if (part_open && part == 0 && !tens_open) {
        part = *v;
        tens_open = *v >= 20 && *v % 10 == 0;
        part_open = tens_open;
      } else if (tens_open && *v >= 1 && *v <= 9) {
        part += *v;
        tens_open = part_open = false;
      } else {
        break;
      }
      any = true;
      end = ++i;
      continue;
    }
    if (any && (w == "hundred" || w == "thousand")) {
      if (w == "hundred") {
        group += (part == 0 ? 1 : part) * 100;
      } else {
        total += (group + part == 0 ? 1 : group + part) * 1000;
        group = 0;
      }
      part = 0;
      part_open = true;
      tens_open = false;
      end = ++i;
      if (i + 1 < tokens.size() && tokens[i] == "and" && number_word(tokens[i + 1])) ++i;
      continue;
    }
    break;
  }
  if (!any) return std::nullopt;
  return ParsedNumber{total + group + part, end - pos};
}

std::optional<ParsedNumber> parse_ordinal(const std::vector<std::string>& tokens, size_t pos) {
  if (pos >= tokens.size()) return std::nullopt;
  if (auto v = ordinal_word(tokens[pos])) return ParsedNumber{*v, 1};
  // "twenty third", "thirty first"
  auto tens = number_word(tokens[pos]);
  if (tens && (*tens == 20 || *tens == 30) && pos + 1 < tokens.size()) {
    if (auto u = ordinal_word(tokens[pos + 1]); u && *u < 10) {
      int v = *tens + *u;
      if (v <= 31) return ParsedNumber{v, 2};
    }
  }
  return std::nullopt;
}

std::vector<std::string> numbers_to_digits(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  for (size_t i = 0; i < tokens.size();) {
    auto n = parse_number(tokens, i);
    if (n && n->used > 0) {
      out.push_back(std::to_string(n->value));
      i += n->used;
    } else {
      out.push_back(tokens[i]);
      ++i;
    }
  }
  return out;
}

size_t levenshtein(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

double char_similarity(std::string_view a, std::string_view b) {
  size_t m = std::max(a.size(), b.size());
  if (m == 0) return 1.0;
  return 1.0 - static_cast<double>(levenshtein(a, b)) / static_cast<double>(m);
}

double token_set_similarity(std::string_view a, std::string_view b) {
  auto ta = tokenize(a), tb = tokenize(b);
  std::set<std::string> sa(ta.begin(), ta.end()), sb(tb.begin(), tb.end());
  std::vector<std::string> inter, only_a, only_b;
  std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(inter));
  std::set_difference(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(only_a));
  std::set_difference(sb.begin(), sb.end(), sa.begin(), sa.end(), std::back_inserter(only_b));
  std::string i = join(inter);
  auto with = [&](const std::vector<std::string>& rest) {
    std::string r = join(rest);
    if (i.empty()) return r;
    return r.empty() ? i : i + " " + r;
  };
  std::string ca = with(only_a), cb = with(only_b);
  double best = char_similarity(ca, cb);
  return best;
}

double similarity(std::string_view a, std::string_view b) {
  return std::max(char_similarity(a, b), token_set_similarity(a, b));
}

uint64_t stable_hash(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace cascade::language
