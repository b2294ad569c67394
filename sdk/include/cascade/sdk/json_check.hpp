// cascade/sdk/json_check.hpp — "is this exactly one JSON value?", without a
// JSON library: what an analyzer host checks before it takes a piece of
// evidence (cascade_analyzer_host::add_evidence). The SDK's analyzer
// harness uses it; tests/analyzers holds it to the parser of the core host
// (nlohmann::json) on a table of valid and broken texts.
//
// Stateless functions; any thread.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>

namespace cascade::sdk::json_check {

namespace detail {

class JsonCheck {
 public:
  static bool one_value(std::string_view text) {
    JsonCheck c(text);
    c.skip_space();
    if (!c.value(0)) return false;
    c.skip_space();
    return c.i_ == c.s_.size();
  }

 private:
  explicit JsonCheck(std::string_view s) : s_(s) {}
  [[nodiscard]] bool more() const { return i_ < s_.size(); }
  [[nodiscard]] unsigned char peek() const { return static_cast<unsigned char>(s_[i_]); }
  bool eat(char c) {
    if (!more() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  void skip_space() {
    while (more() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  bool value(int depth) {
    if (!more() || depth > 512) return false;
    switch (s_[i_]) {
      case '{': return members(depth, '}', true);
      case '[': return members(depth, ']', false);
      case '"': return string();
      case 't': return word("true");
      case 'f': return word("false");
      case 'n': return word("null");
      default: return number();
    }
  }
  bool members(int depth, char close, bool object) {
    ++i_;
    skip_space();
    if (eat(close)) return true;
    do {
      skip_space();
      if (object) {
        if (!string()) return false;
        skip_space();
        if (!eat(':')) return false;
        skip_space();
      }
      if (!value(depth + 1)) return false;
      skip_space();
    } while (eat(','));
    return eat(close);
  }
  bool digits() {
    const size_t from = i_;
    while (more() && peek() >= '0' && peek() <= '9') ++i_;
    return i_ > from;
  }
  bool number() {
    const size_t from = i_;
    eat('-');
    if (!eat('0') && !(more() && peek() >= '1' && peek() <= '9' && digits())) return false;
    bool real = false;
    if (eat('.')) {
      if (!digits()) return false;
      real = true;
    }
    if (more() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (!eat('+')) eat('-');
      if (!digits()) return false;
      real = true;
    }
    if (!real) return true;  // an integer too large for 64 bits is still a number
    const std::string n(s_.substr(from, i_ - from));
    return std::isfinite(std::strtod(n.c_str(), nullptr));  // 1e400 overflows: refused
  }
  int hex4() {
    int v = 0;
    for (int k = 0; k < 4; ++k) {
      if (!more()) return -1;
      const unsigned char c = peek();
      ++i_;
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }
  bool escape() {
    if (!more()) return false;
    const char e = s_[i_++];
    if (e != 'u') return std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos;
    const int u = hex4();
    if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF)) return false;  // a lone low surrogate
    if (u >= 0xD800 && u <= 0xDBFF) {                         // must be followed by a low one
      if (!eat('\\') || !eat('u')) return false;
      const int low = hex4();
      return low >= 0xDC00 && low <= 0xDFFF;
    }
    return true;
  }
  // The continuation bytes of a UTF-8 sequence led by `lead` (RFC 3629: no
  // overlong forms, no surrogates, nothing above U+10FFFF).
  bool utf8(unsigned char lead) {
    int n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) n = 1;
    else if (lead == 0xE0) n = 2, lo = 0xA0;
    else if (lead == 0xED) n = 2, hi = 0x9F;
    else if (lead >= 0xE1 && lead <= 0xEF) n = 2;
    else if (lead == 0xF0) n = 3, lo = 0x90;
    else if (lead >= 0xF1 && lead <= 0xF3) n = 3;
    else if (lead == 0xF4) n = 3, hi = 0x8F;
    else return false;
    for (int k = 0; k < n; ++k, lo = 0x80, hi = 0xBF) {
      if (!more() || peek() < lo || peek() > hi) return false;
      ++i_;
    }
    return true;
  }
  bool string() {
    if (!eat('"')) return false;
    while (more()) {
      const unsigned char c = peek();
      ++i_;
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\' && !escape()) return false;
      if (c >= 0x80 && !utf8(c)) return false;
    }
    return false;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace detail

// Whether `text` is exactly one JSON value: RFC 8259, strings checked to be
// UTF-8, numbers that overflow a double refused, nesting up to 512 deep.
inline bool one_value(std::string_view text) { return detail::JsonCheck::one_value(text); }

// `text` without the JSON whitespace around it.
inline std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace cascade::sdk::json_check
