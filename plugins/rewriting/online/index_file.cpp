// The online index file: writing, reading and checking (index_file.hpp).
//
// Reading, in order (the first failing step throws TableError):
//   1. the bytes (W010)  2. JSON (W011, with line:col)
//   3. an object with "cascade_online_index" (W012)  4. its version (W013)
//   5. every entry typed, texts canonical and non-empty (W014)
#include "online/index_file.hpp"

#include "table/table.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <tuple>

namespace cascade::rewriting {

namespace {

using Json = nlohmann::ordered_json;

std::string entry_text(const Json& e, const std::string& path, const std::string& key, const std::string& file) {
  const auto it = e.find(key);
  if (it == e.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    throw TableError("W014", file, path + "." + key + " must be a non-empty string");
  return it->get<std::string>();
}

uint64_t entry_count(const Json& e, const std::string& path, const std::string& key, const std::string& file) {
  const auto it = e.find(key);
  if (it == e.end() || !it->is_number_unsigned()) throw TableError("W014", file, path + "." + key + " must be a count (>= 0)");
  return it->get<uint64_t>();
}

std::pair<size_t, size_t> position(std::string_view bytes, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t k = 0; k < offset && k < bytes.size(); ++k) {
    if (bytes[k] == '\n') ++line, column = 1;
    else ++column;
  }
  return {line, column};
}

}  // namespace

std::string online_index_id(std::string_view file_bytes) {
  uint64_t h = 14695981039346656037ULL;  // FNV-1a 64, as table_id()
  for (const char c : file_bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return "cascade_online_index/" + std::to_string(kOnlineIndexVersion) + ":" + hex;
}

std::string to_json(const OnlineIndexFile& index) {
  std::ostringstream out;
  out << "{\"cascade_online_index\": " << kOnlineIndexVersion << ",\n \"params\": "
      << Json{{"min_support", index.min_support}}.dump() << ",\n \"global\": [";
  for (size_t i = 0; i < index.global.size(); ++i) {
    const auto& g = index.global[i];
    out << (i ? ",\n  " : "\n  ") << Json{{"text", g.text}, {"successes", g.successes}, {"users", g.users}}.dump();
  }
  out << "\n ],\n \"personal\": [";
  for (size_t i = 0; i < index.personal.size(); ++i) {
    const auto& p = index.personal[i];
    out << (i ? ",\n  " : "\n  ") << Json{{"user", p.user}, {"text", p.text}, {"successes", p.successes}}.dump();
  }
  out << "\n ]\n}\n";
  return out.str();
}

OnlineIndexFile parse_online_index(std::string_view bytes, const std::string& file) {
  Json j;
  try {
    j = Json::parse(bytes);
  } catch (const Json::parse_error& e) {
    const auto [line, column] = position(bytes, e.byte == 0 ? 0 : e.byte - 1);
    std::string why = e.what();
    if (const auto tag = why.find("] "); tag != std::string::npos) why = why.substr(tag + 2);
    throw TableError("W011", file, "not JSON: " + why, line, column);
  }
  if (!j.is_object() || !j.contains("cascade_online_index"))
    throw TableError("W012", file, "not an online rewriting index (no \"cascade_online_index\" key)");
  const Json& version = j["cascade_online_index"];
  if (!version.is_number_integer() || version.get<int64_t>() != kOnlineIndexVersion)
    throw TableError("W013", file, "online index version " + version.dump() + ", this reader reads version " +
                                       std::to_string(kOnlineIndexVersion));
  OnlineIndexFile out;
  if (auto p = j.find("params"); p != j.end() && p->is_object())
    if (auto m = p->find("min_support"); m != p->end() && m->is_number_unsigned()) out.min_support = m->get<uint64_t>();
  const auto list = [&](const char* key) -> const Json& {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_array()) throw TableError("W014", file, std::string(key) + " must be an array");
    return *it;
  };
  const auto canonical = [&](std::string text, const std::string& path) {
    if (canonical_request(text) != text) throw TableError("W014", file, path + ".text is not in canonical form");
    return text;
  };
  const Json& global = list("global");
  for (size_t i = 0; i < global.size(); ++i) {
    const std::string path = "global[" + std::to_string(i) + "]";
    if (!global[i].is_object()) throw TableError("W014", file, path + " must be an object");
    out.global.push_back({canonical(entry_text(global[i], path, "text", file), path),
                          entry_count(global[i], path, "successes", file), entry_count(global[i], path, "users", file)});
  }
  const Json& personal = list("personal");
  for (size_t i = 0; i < personal.size(); ++i) {
    const std::string path = "personal[" + std::to_string(i) + "]";
    if (!personal[i].is_object()) throw TableError("W014", file, path + " must be an object");
    out.personal.push_back({entry_text(personal[i], path, "user", file),
                            canonical(entry_text(personal[i], path, "text", file), path),
                            entry_count(personal[i], path, "successes", file)});
  }
  return out;
}

OnlineIndexFile read_online_index(const std::filesystem::path& path, std::string* id) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TableError("W010", path.string(), "cannot open the online rewriting index");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  OnlineIndexFile index = parse_online_index(text, path.string());
  if (id != nullptr) *id = online_index_id(text);
  return index;
}

std::string write_online_index(const OnlineIndexFile& index, const std::filesystem::path& path) {
  const std::string text = to_json(index);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw TableError("W015", path.string(), "cannot write the online rewriting index");
  return online_index_id(text);
}

}  // namespace cascade::rewriting
