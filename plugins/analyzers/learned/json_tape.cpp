// json_tape.cpp — the tape's one pass (Parser) and the lookups on it.
//
// The shape of the work (Parser::document):
//   1. a byte order mark, then one value; containers are opened and closed
//      with an explicit stack (JsonTape::open_), so the loop never recurses;
//   2. every value gets an Entry: scalars their text, strings their content
//      (decoded only when it has escapes), containers the index past their
//      subtree once closed;
//   3. only whitespace may follow the value.
#include "json_tape.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace cascade::learned {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A JSON number's text as a double, the way nlohmann::json reads it and
// get<double>() returns it: an integer through int64/uint64 when it fits
// (so "-0" is +0.0), else strtod's correctly rounded value (from_chars
// gives the same value without the copy strtod needs; strtod only for what
// from_chars calls out of range: overflow, and underflow to a denormal).
double number_of(std::string_view token, bool integer) {
  const char* first = token.data();
  const char* last = first + token.size();
  if (integer) {
    if (token.front() == '-') {
      int64_t v = 0;
      if (const auto r = std::from_chars(first, last, v); r.ec == std::errc() && r.ptr == last)
        return static_cast<double>(v);
    } else {
      uint64_t v = 0;
      if (const auto r = std::from_chars(first, last, v); r.ec == std::errc() && r.ptr == last)
        return static_cast<double>(v);
    }
  }
  double v = 0;
  if (const auto r = std::from_chars(first, last, v); r.ec == std::errc() && r.ptr == last) return v;
  const std::string copy(token);
  return std::strtod(copy.c_str(), nullptr);
}

bool is_integer_token(std::string_view token) { return token.find_first_of(".eE") == std::string_view::npos; }

}  // namespace

class JsonTape::Parser {
 public:
  Parser(JsonTape& tape, std::string_view text) : tape_(tape), s_(text) {}

  bool document() {
    if (s_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // nlohmann skips a UTF-8 byte order mark
    if (!value()) return false;
    skip_whitespace();
    return pos_ == s_.size();
  }

 private:
  // One value, containers and all (step 1).
  bool value() {
    bool value_next = true;
    for (;;) {
      if (value_next) {
        skip_whitespace();
        if (at_end()) return false;
        const char c = s_[pos_];
        if (c == '{' || c == '[') {
          if (!open(c == '{' ? Kind::Object : Kind::Array)) return false;
          value_next = !close_if(c == '{' ? '}' : ']');
          if (value_next && c == '{' && !member_key()) return false;
          continue;
        }
        if (!scalar()) return false;
        value_next = false;
        continue;
      }
      if (tape_.open_.empty()) return true;
      skip_whitespace();
      if (at_end()) return false;
      const bool in_object = tape_.entries_[tape_.open_.back()].kind == Kind::Object;
      if (s_[pos_] == ',') {
        ++pos_;
        if (in_object && !member_key()) return false;
        value_next = true;
      } else if (!close_if(in_object ? '}' : ']')) {
        return false;
      }
    }
  }

  bool open(Kind kind) {
    tape_.open_.push_back(static_cast<uint32_t>(tape_.entries_.size()));
    push(kind, pos_);
    ++pos_;
    return true;
  }

  // Closes the innermost container when `bracket` is next.
  bool close_if(char bracket) {
    skip_whitespace();
    if (at_end() || s_[pos_] != bracket) return false;
    ++pos_;
    Entry& e = tape_.entries_[tape_.open_.back()];
    e.end = static_cast<uint32_t>(tape_.entries_.size());
    e.text_size = static_cast<uint32_t>(pos_) - e.text_begin;
    tape_.open_.pop_back();
    return true;
  }

  // "key": — the key goes on the tape as a string, before its value.
  bool member_key() {
    skip_whitespace();
    if (at_end() || s_[pos_] != '"' || !string()) return false;
    skip_whitespace();
    if (at_end() || s_[pos_] != ':') return false;
    ++pos_;
    return true;
  }

  bool scalar() {
    const char c = s_[pos_];
    if (c == '"') return string();
    if (c == '-' || is_digit(c)) return number();
    for (const auto& [word, kind] : {std::pair{std::string_view("true"), Kind::True},
                                     std::pair{std::string_view("false"), Kind::False},
                                     std::pair{std::string_view("null"), Kind::Null}}) {
      if (s_.substr(pos_, word.size()) == word) {
        push(kind, pos_);
        pos_ += word.size();
        finish_scalar();
        return true;
      }
    }
    return false;
  }

  bool number() {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (at_end()) return false;
    const size_t integer_start = pos_;
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (is_digit(s_[pos_])) {
      while (!at_end() && is_digit(s_[pos_])) ++pos_;
    } else {
      return false;
    }
    const size_t integer_digits = pos_ - integer_start;
    if (!at_end() && s_[pos_] == '.') {
      ++pos_;
      if (!digits()) return false;
    }
    bool exponent = false;
    if (!at_end() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      exponent = true;
      ++pos_;
      if (!at_end() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return false;
    }
    // nlohmann refuses a number that overflows a double (its error 406).
    // Only an exponent or an integer part of over 300 digits can: the
    // common number is converted later, if a feature asks for it.
    const std::string_view token = s_.substr(start, pos_ - start);
    if ((exponent || integer_digits > 300) && !std::isfinite(number_of(token, is_integer_token(token)))) return false;
    push(Kind::Number, start);
    finish_scalar();
    return true;
  }

  bool digits() {
    if (at_end() || !is_digit(s_[pos_])) return false;
    while (!at_end() && is_digit(s_[pos_])) ++pos_;
    return true;
  }

  // A string: control characters and malformed UTF-8 refused as nlohmann
  // does; without escapes its content is a view into the input, with them
  // it is decoded into the tape's decoded_ buffer.
  bool string() {
    const size_t start = pos_++;
    const size_t content = pos_;
    std::string& decoded = tape_.decoded_;
    const size_t decoded_start = decoded.size();
    bool escaped = false;
    for (;;) {
      if (at_end()) return false;
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') break;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (!escaped) decoded.append(s_.substr(content, pos_ - content));
        escaped = true;
        if (!escape(decoded)) return false;
        continue;
      }
      const size_t length = c < 0x80 ? 1 : utf8_length();
      if (length == 0) return false;
      if (escaped) decoded.append(s_.substr(pos_, length));
      pos_ += length;
    }
    ++pos_;
    Entry& e = push(Kind::String, start);
    e.escaped = escaped;
    e.begin = static_cast<uint32_t>(escaped ? decoded_start : content);
    e.size = static_cast<uint32_t>(escaped ? decoded.size() - decoded_start : pos_ - 1 - content);
    finish_scalar();
    return true;
  }

  // The bytes of the UTF-8 sequence at pos_, 0 when it is malformed
  // (RFC 3629's table, which nlohmann's lexer checks).
  size_t utf8_length() const {
    const auto byte = [&](size_t i) { return pos_ + i < s_.size() ? static_cast<unsigned char>(s_[pos_ + i]) : 0; };
    const auto in = [](unsigned char b, unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
    const unsigned char lead = byte(0);
    if (in(lead, 0xC2, 0xDF)) return in(byte(1), 0x80, 0xBF) ? 2 : 0;
    if (in(lead, 0xE0, 0xEF)) {
      const unsigned lo = lead == 0xE0 ? 0xA0 : 0x80, hi = lead == 0xED ? 0x9F : 0xBF;
      return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) ? 3 : 0;
    }
    if (in(lead, 0xF0, 0xF4)) {
      const unsigned lo = lead == 0xF0 ? 0x90 : 0x80, hi = lead == 0xF4 ? 0x8F : 0xBF;
      return in(byte(1), lo, hi) && in(byte(2), 0x80, 0xBF) && in(byte(3), 0x80, 0xBF) ? 4 : 0;
    }
    return 0;
  }

  // A backslash escape at pos_, appended to `out` decoded; a \u pair
  // joins a surrogate pair, a lone surrogate is an error (as in nlohmann).
  bool escape(std::string& out) {
    if (pos_ + 1 >= s_.size()) return false;
    const char e = s_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    int32_t cp = hex4();
    if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (s_.substr(pos_, 2) != "\\u") return false;
      pos_ += 2;
      const int32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, static_cast<uint32_t>(cp));
    return true;
  }

  int32_t hex4() {
    if (pos_ + 4 > s_.size()) return -1;
    int32_t v = 0;
    for (size_t i = 0; i < 4; ++i) {
      const int h = hex_value(s_[pos_ + i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    pos_ += 4;
    return v;
  }

  Entry& push(Kind kind, size_t text_begin) {
    Entry& e = tape_.entries_.emplace_back();
    e.kind = kind;
    e.text_begin = static_cast<uint32_t>(text_begin);
    return e;
  }
  void finish_scalar() {
    Entry& e = tape_.entries_.back();
    e.end = static_cast<uint32_t>(tape_.entries_.size());
    e.text_size = static_cast<uint32_t>(pos_) - e.text_begin;
  }

  void skip_whitespace() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool at_end() const { return pos_ >= s_.size(); }

  JsonTape& tape_;
  std::string_view s_;
  size_t pos_ = 0;
};

bool JsonTape::parse(std::string_view text) {
  entries_.clear();
  open_.clear();
  decoded_.clear();
  input_ = text;
  // Offsets are 32-bit: a stage output of 4 GiB is refused, not misread.
  valid_ = text.size() < std::numeric_limits<uint32_t>::max() && Parser(*this, text).document();
  if (!valid_) entries_.clear();
  return valid_;
}

std::optional<JsonTape::Value> JsonTape::root() const {
  if (!valid_ || entries_.empty()) return std::nullopt;
  return Value(this, 0);
}

std::string_view JsonTape::Value::text() const {
  return tape_->input_.substr(entry().text_begin, entry().text_size);
}

double JsonTape::Value::number() const {
  if (!is_number()) return 0;
  const std::string_view token = text();
  return number_of(token, is_integer_token(token));
}

std::string_view JsonTape::Value::string() const {
  if (!is_string()) return {};
  const Entry& e = entry();
  return e.escaped ? std::string_view(tape_->decoded_).substr(e.begin, e.size) : tape_->input_.substr(e.begin, e.size);
}

std::optional<JsonTape::Value> JsonTape::Value::find(std::string_view key) const {
  if (!is_object()) return std::nullopt;
  std::optional<Value> found;
  // Members are key, value, key, value...: a key is a one-entry string, its
  // value's subtree ends where the next key starts.
  for (uint32_t k = index_ + 1; k < entry().end; k = tape_->entries_[k + 1].end)
    if (Value(tape_, k).string() == key) found = Value(tape_, k + 1);
  return found;
}

std::vector<JsonTape::Value> JsonTape::Value::elements() const {
  std::vector<Value> out;
  if (!is_array()) return out;
  for (uint32_t i = index_ + 1; i < entry().end; i = tape_->entries_[i].end) out.push_back(Value(tape_, i));
  return out;
}

}  // namespace cascade::learned
