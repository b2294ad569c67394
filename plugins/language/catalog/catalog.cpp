#include "catalog/catalog.hpp"

#include "catalog/temporal.hpp"
#include "text/text.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace cascade::language {

std::vector<Annotation> parse_annotation(std::string_view ann) {
  std::vector<Annotation> out;
  size_t tokens_so_far = 0;
  size_t pos = 0;
  while (pos < ann.size()) {
    size_t open = ann.find('[', pos);
    std::string_view plain = ann.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos);
    tokens_so_far += tokenize(plain).size();
    if (open == std::string_view::npos) break;
    size_t close = ann.find(']', open);
    if (close == std::string_view::npos)
      throw std::invalid_argument("unbalanced '[' at offset " + std::to_string(open));
    std::string_view inner = ann.substr(open + 1, close - open - 1);
    size_t colon = inner.find(" : ");
    if (colon == std::string_view::npos)
      throw std::invalid_argument("annotation without ' : ' at offset " + std::to_string(open));
    Annotation a;
    a.type = normalize_sentence(inner.substr(0, colon));
    std::replace(a.type.begin(), a.type.end(), ' ', '_');
    auto value_tokens = tokenize(inner.substr(colon + 3));
    a.value = join(value_tokens);
    a.token_begin = tokens_so_far;
    a.token_end = tokens_so_far + value_tokens.size();
    tokens_so_far = a.token_end;
    if (!a.value.empty()) out.push_back(std::move(a));
    pos = close + 1;
  }
  return out;
}

bool is_temporal(std::string_view type) { return type == "date" || type == "time"; }

namespace {

struct Alias {
  std::string_view type, from, to;
};
// Small, hand-written equivalences the fuzzy matcher cannot find (synonyms,
// abbreviations). Kept short on purpose: everything else is the catalogue's.
constexpr std::array<Alias, 49> kAliases{{
    {"house_place", "bed room", "bedroom"},
    {"house_place", "bath room", "bathroom"},
    {"house_place", "lounge", "living room"},
    {"house_place", "sitting room", "living room"},
    {"house_place", "hallway", "hall"},
    {"house_place", "flat", "house"},
    {"house_place", "apartment", "house"},
    {"house_place", "home", "house"},
    {"house_place", "interior", "house"},
    {"house_place", "whole house", "house"},
    {"device_type", "vacuum cleaner", "vacuum"},
    {"device_type", "robot vacuum", "vacuum"},
    {"device_type", "robot vacuum cleaner", "vacuum"},
    {"device_type", "roomba", "vacuum"},
    {"device_type", "hoover", "vacuum"},
    {"device_type", "wemo", "plug"},
    {"device_type", "wemo plug", "plug"},
    {"device_type", "wemo plug socket", "plug"},
    {"device_type", "smart plug", "plug"},
    {"device_type", "smart socket", "plug"},
    {"device_type", "smart plug socket", "plug"},
    {"device_type", "socket", "plug"},
    {"device_type", "coffee maker", "coffee machine"},
    {"device_type", "television", "tv"},
    {"device_type", "desk lamp one", "desk lamp"},
    {"device_type", "lamp light", "lamp"},
    {"list_name", "groceries", "grocery"},
    {"list_name", "things to do", "to do"},
    {"list_name", "todo", "to do"},
    {"list_name", "things to buy", "shopping"},
    {"place_name", "ny", "new york"},
    {"place_name", "nyc", "new york"},
    {"place_name", "new york city", "new york"},
    {"place_name", "la", "los angeles"},
    {"place_name", "sf", "san francisco"},
    {"place_name", "usa", "united states"},
    {"place_name", "america", "united states"},
    {"place_name", "us", "united states"},
    {"person", "mum", "mom"},
    {"person", "mother", "mom"},
    {"person", "father", "dad"},
    {"currency_name", "dollar", "us dollar"},
    {"currency_name", "dollars", "us dollar"},
    {"currency_name", "american dollar", "us dollar"},
    {"currency_name", "usd", "us dollar"},
    {"currency_name", "euros", "euro"},
    {"currency_name", "pounds", "british pound"},
    {"currency_name", "pound", "british pound"},
    {"currency_name", "yen", "japanese yen"},
}};

}  // namespace

std::string canonicalize(std::string_view type, std::string_view value) {
  auto toks = tokenize(value);
  for (auto& t : toks)
    if (t.size() > 2 && t.compare(t.size() - 2, 2, "'s") == 0) t.resize(t.size() - 2);
  size_t b = 0;
  while (b + 1 < toks.size() && (toks[b] == "the" || toks[b] == "my" || toks[b] == "a" || toks[b] == "an")) ++b;
  std::string s = join(toks, b, toks.size());
  if (type == "list_name" && s.size() > 5 && s.ends_with(" list")) s.resize(s.size() - 5);
  for (const auto& a : kAliases)
    if (a.type == type && a.from == s) return std::string(a.to);
  return s;
}

void Catalog::add(std::string_view type, std::string_view value) {
  std::string surface = normalize_sentence(value);
  std::string canonical;
  if (type == "date") {
    auto d = normalize_date(surface);
    if (!d) return;
    canonical = *d;
  } else if (type == "time") {
    auto t = normalize_time(surface);
    if (!t) return;
    canonical = *t;
  } else {
    canonical = canonicalize(type, surface);
  }
  if (canonical.empty()) return;
  Entry& e = types_[std::string(type)][canonical];
  ++e.count;
  auto it = std::lower_bound(e.variants.begin(), e.variants.end(), surface);
  if (it == e.variants.end() || *it != surface) e.variants.insert(it, surface);
}

Resolution Catalog::resolve(std::string_view type, std::string_view value, double threshold) const {
  if (type == "date") {
    auto d = normalize_date(value);
    return d ? Resolution{*d, 1.0} : Resolution{std::nullopt, 0.0};
  }
  if (type == "time") {
    auto t = normalize_time(value);
    return t ? Resolution{*t, 1.0} : Resolution{std::nullopt, 0.0};
  }
  auto it = types_.find(std::string(type));
  if (it == types_.end()) return {std::nullopt, 0.0};
  std::string c = canonicalize(type, value);
  if (c.empty()) return {std::nullopt, 0.0};
  if (it->second.count(c) != 0) return {c, 1.0};
  const std::string* best = nullptr;
  double best_score = 0.0;
  // Map iteration is in key order and only a strictly better score wins,
  // so ties resolve to the alphabetically first canonical: deterministic.
  for (const auto& [canonical, entry] : it->second) {
    double s = similarity(c, canonical);
    for (const auto& v : entry.variants) s = std::max(s, similarity(c, v));
    if (s > best_score) {
      best_score = s;
      best = &canonical;
    }
  }
  if (best != nullptr && best_score >= threshold) return {*best, best_score};
  return {std::nullopt, best_score};
}

nlohmann::json Catalog::to_json() const {
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [type, table] : types_) {
    nlohmann::json t = nlohmann::json::object();
    for (const auto& [canonical, e] : table) t[canonical] = {{"count", e.count}, {"variants", e.variants}};
    types[type] = std::move(t);
  }
  return {{"version", 1}, {"types", std::move(types)}};
}

Catalog Catalog::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("types") || !j["types"].is_object())
    throw std::invalid_argument("catalog: expected an object with a \"types\" object");
  Catalog c;
  for (const auto& [type, table] : j["types"].items()) {
    if (!table.is_object()) throw std::invalid_argument("catalog: type '" + type + "' is not an object");
    for (const auto& [canonical, e] : table.items()) {
      Entry entry;
      entry.count = e.value("count", 0);
      if (e.contains("variants")) entry.variants = e["variants"].get<std::vector<std::string>>();
      std::sort(entry.variants.begin(), entry.variants.end());
      c.types_[type][canonical] = std::move(entry);
    }
  }
  return c;
}

Catalog Catalog::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("A010: catalog file not found: " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
    return from_json(j);
  } catch (const std::exception& e) {
    throw std::invalid_argument("A012: " + path + ": " + e.what());
  }
}

}  // namespace cascade::language
