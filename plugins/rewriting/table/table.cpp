// The rewrite table: writing, reading and checking (table.hpp).
//
// Reading, in order (the first failing step throws):
//   1. the bytes (W001)  2. JSON (W002, with line:col)
//   3. an object whose "cascade_rewrites" is present (W003)
//   4. version == kTableVersion (W004)
//   5. every field of params/summary/rewrites/deployed, typed and in range (W005)
//   6. at most one rewrite per request (W006)
#include "table/table.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace cascade::rewriting {

namespace {

using Json = nlohmann::ordered_json;

std::string where(const std::string& file, size_t line, size_t column) {
  if (line == 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// Line and column (1-based) of a byte offset.
std::pair<size_t, size_t> position(std::string_view bytes, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t k = 0; k < offset && k < bytes.size(); ++k) {
    if (bytes[k] == '\n') ++line, column = 1;
    else ++column;
  }
  return {line, column};
}

// Field access for step 5: each failure names the path of the field.
class Fields {
 public:
  Fields(const Json& object, std::string path, const std::string& file) : o_(object), path_(std::move(path)), file_(file) {
    if (!o_.is_object()) fail("", "must be an object");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw TableError("W005", file_, path_ + (key.empty() ? "" : "." + key) + " " + what);
  }
  [[nodiscard]] const Json& at(const std::string& key) const {
    auto it = o_.find(key);
    if (it == o_.end()) fail(key, "is missing");
    return *it;
  }
  [[nodiscard]] std::string text(const std::string& key) const {
    const Json& v = at(key);
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) fail(key, "must be a non-empty string");
    return v.get<std::string>();
  }
  [[nodiscard]] uint64_t count(const std::string& key) const {
    const Json& v = at(key);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
      fail(key, "must be a whole number >= 0");
    return v.get<uint64_t>();
  }
  [[nodiscard]] double number(const std::string& key, double lo, double hi) const {
    const Json& v = at(key);
    if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi))
      fail(key, "must be a number in [" + fmt(lo) + ", " + fmt(hi) + "]");
    return v.get<double>();
  }
  [[nodiscard]] Fields sub(const std::string& key) const { return Fields(at(key), path_ + "." + key, file_); }

 private:
  static std::string fmt(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  }
  const Json& o_;
  std::string path_;
  const std::string& file_;
};

constexpr double kMaxDouble = 1.7976931348623157e308;
// Probabilities computed in floating point may overshoot 1 by rounding.
constexpr double kProbabilitySlack = 1e-9;

TableEntry parse_entry(const Json& j, size_t index, const std::string& file) {
  const Fields f(j, "rewrites[" + std::to_string(index) + "]", file);
  TableEntry e;
  e.from = f.text("from");
  e.to = f.text("to");
  if (canonical_request(e.from) != e.from)
    f.fail("from", "'" + e.from + "' is not in canonical form ('" + canonical_request(e.from) +
                       "'): the stage would never match it");
  if (e.from == e.to) f.fail("to", "rewrites '" + e.from + "' to itself");
  const Fields support = f.sub("support");
  e.from_support = support.count("from");
  e.to_support = support.count("to");
  const Fields success = f.sub("success");
  e.from_success = success.number("from", 0, 1 + kProbabilitySlack);
  e.to_success = success.number("to", 0, 1 + kProbabilitySlack);
  e.carried = f.number("carried", 0, 1 + kProbabilitySlack);
  return e;
}

DeployedTally parse_deployed(const Json& j, size_t index, const std::string& file) {
  const Fields f(j, "deployed[" + std::to_string(index) + "]", file);
  DeployedTally d{f.text("from"), f.text("to"), f.text("rewritten_by"), f.count("sessions"), f.count("successes")};
  if (d.successes > d.sessions) f.fail("successes", "exceeds sessions");
  return d;
}

const Json& array(const Json& doc, const char* key, const std::string& file) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_array()) throw TableError("W005", file, std::string(key) + " must be an array");
  return *it;
}

// 12 significant digits: 0.715, not 0.7150000000000001. The table records
// the evidence for a reviewer; the decisions were taken on the unrounded values.
double rounded(double probability) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", probability);
  return std::strtod(buf, nullptr);
}

}  // namespace

TableError::TableError(std::string code, const std::string& file, const std::string& message, size_t line, size_t column)
    : std::runtime_error(where(file, line, column) + ": error[" + code + "]: " + message), code_(std::move(code)) {}

std::string canonical_request(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isspace(u)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    out.push_back(static_cast<char>(std::tolower(u)));
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string table_id(std::string_view file_bytes) {
  uint64_t h = 14695981039346656037ULL;  // FNV-1a 64
  for (char c : file_bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return "cascade_rewrites/" + std::to_string(kTableVersion) + ":" + hex;
}

std::string to_json(const RewriteTable& t) {
  const Json params{{"min_gain", t.min_gain}, {"min_support", t.min_support}, {"session_gap_s", t.session_gap_s}};
  const Json summary{{"sessions", t.sessions},
                     {"held_out_sessions", t.held_out_sessions},
                     {"states", t.states},
                     {"components", t.components}};
  std::string out = "{\"cascade_rewrites\": " + std::to_string(kTableVersion) + ",\n";
  out += " \"params\": " + params.dump() + ",\n";
  out += " \"summary\": " + summary.dump() + ",\n";
  // One entry per line: a deployment's diff shows exactly the pairs that changed.
  const auto list = [&out](const char* key, const std::vector<Json>& items, bool last) {
    out += std::string(" \"") + key + "\": [";
    for (size_t k = 0; k < items.size(); ++k) out += (k == 0 ? "\n  " : ",\n  ") + items[k].dump();
    out += items.empty() ? "]" : "\n ]";
    out += last ? "\n" : ",\n";
  };
  std::vector<Json> rewrites, deployed;
  for (const auto& e : t.rewrites)
    rewrites.push_back(Json{{"from", e.from},
                            {"to", e.to},
                            {"support", {{"from", e.from_support}, {"to", e.to_support}}},
                            {"success", {{"from", rounded(e.from_success)}, {"to", rounded(e.to_success)}}},
                            {"carried", rounded(e.carried)}});
  for (const auto& d : t.deployed)
    deployed.push_back(Json{{"from", d.from},
                            {"to", d.to},
                            {"rewritten_by", d.rewritten_by},
                            {"sessions", d.sessions},
                            {"successes", d.successes}});
  list("rewrites", rewrites, false);
  list("deployed", deployed, true);
  out += "}\n";
  return out;
}

RewriteTable parse_table(std::string_view bytes, const std::string& file) {
  Json doc;
  try {
    doc = Json::parse(bytes);
  } catch (const Json::parse_error& e) {
    const auto [line, column] = position(bytes, e.byte == 0 ? 0 : e.byte - 1);
    throw TableError("W002", file, std::string("not JSON: ") + e.what(), line, column);
  }
  if (!doc.is_object() || !doc.contains("cascade_rewrites"))
    throw TableError("W003", file, "not a rewrite table: no \"cascade_rewrites\" version key (build one with `cascade rewrite build`)");
  const Json& version = doc["cascade_rewrites"];
  if (!version.is_number_integer() || version.get<int64_t>() != kTableVersion)
    throw TableError("W004", file, "rewrite table version " + version.dump() + ", this reader reads version " +
                                       std::to_string(kTableVersion));

  const Fields top(doc, "table", file);
  RewriteTable t;
  const Fields params = top.sub("params");
  t.min_gain = params.number("min_gain", 0, 1);
  t.min_support = params.count("min_support");
  t.session_gap_s = params.number("session_gap_s", 0, kMaxDouble);
  const Fields summary = top.sub("summary");
  t.sessions = summary.count("sessions");
  t.held_out_sessions = summary.count("held_out_sessions");
  t.states = summary.count("states");
  t.components = summary.count("components");

  const Json& rewrites = array(doc, "rewrites", file);
  std::set<std::string> seen;
  for (size_t k = 0; k < rewrites.size(); ++k) {
    t.rewrites.push_back(parse_entry(rewrites[k], k, file));
    if (!seen.insert(t.rewrites.back().from).second)
      throw TableError("W006", file, "rewrites[" + std::to_string(k) + "]: a second rewrite of '" +
                                         t.rewrites.back().from + "'");
  }
  const Json& deployed = array(doc, "deployed", file);
  for (size_t k = 0; k < deployed.size(); ++k) t.deployed.push_back(parse_deployed(deployed[k], k, file));
  return t;
}

RewriteTable read_table(const std::filesystem::path& path, std::string* id) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TableError("W001", path.string(), "cannot open the rewrite table");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw TableError("W001", path.string(), "cannot read the rewrite table");
  const std::string text = bytes.str();
  RewriteTable t = parse_table(text, path.string());
  if (id != nullptr) *id = table_id(text);
  return t;
}

std::string write_table(const RewriteTable& table, const std::filesystem::path& path) {
  const std::string text = to_json(table);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw TableError("W007", path.string(), "cannot write the rewrite table");
  return table_id(text);
}

}  // namespace cascade::rewriting
