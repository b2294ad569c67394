// load_config's small helpers on toml++ nodes and on text
// (load_internal.hpp says what each does).
#include <cascade/core/config.hpp>

#include "load_internal.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <tuple>

namespace cascade::config::detail {

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

SourcePos pos_of(const toml::source_region& r) {
  SourcePos p;
  if (r.path) p.file = *r.path;
  p.line = r.begin.line;
  p.column = r.begin.column;
  // Override values are parsed as one-line documents named kCommandLine;
  // their "line" is meaningless to the user, the column is the one that
  // points into the --set argument.
  if (p.file == kCommandLine) p.line = 0;
  return p;
}

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

bool valid_id(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::optional<std::pair<std::string, std::string>> split_ref(std::string_view s, bool allow_bare) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) {
    if (allow_bare && !s.empty()) return std::make_pair(std::string(s), std::string());
    return std::nullopt;
  }
  if (dot == 0 || dot + 1 == s.size() || s.find('.', dot + 1) != std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(s.substr(0, dot)), std::string(s.substr(dot + 1)));
}

std::string double_text(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
}

std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> v;
  for (auto&& [k, n] : t) v.emplace_back(&k, &n);
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    const auto& x = a.first->source().begin;
    const auto& y = b.first->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  return v;
}

std::string toml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace cascade::config::detail
