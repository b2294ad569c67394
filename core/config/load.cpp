// load_config: TOML file(s) + --set overrides -> PipelineConfig.
//
// Shape of the work: (1) read the `extends` chain, main file first, each
// file parsed once; (2) apply the files base-first onto one
// PipelineConfig, key by key, checking each key's name (C002), type (C004)
// and value (C005) as it is applied; (3) apply the overrides through the
// SAME per-key functions, so a --set value is checked exactly like a
// written one; (4) check what must be present (C003) and derive the
// fallback links and the default result.
// Positions are copied out of the toml++ nodes while the documents are
// alive; nothing of toml++ escapes this file.
#include <cascade/abi/cascade_abi.h>
#include <cascade/core/config.hpp>
#include <cascade/core/graph.hpp>

#include "suggest.hpp"

#include <toml++/toml.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>

namespace cascade::config {

namespace fs = std::filesystem;
using detail::did_you_mean;

std::string_view error_policy_name(ErrorPolicy p) {
  switch (p) {
    case ErrorPolicy::Fail: return "fail";
    case ErrorPolicy::Skip: return "skip";
    case ErrorPolicy::Fallback: return "fallback";
  }
  return "fail";
}

const StageConfig* PipelineConfig::stage(std::string_view id) const {
  auto it = std::find_if(stages.begin(), stages.end(), [&](const StageConfig& s) { return s.id == id; });
  return it == stages.end() ? nullptr : &*it;
}

size_t PipelineConfig::edge_count() const {
  size_t n = 0;
  for (const auto& s : stages) n += s.inputs.size();
  return n;
}

namespace {

const std::vector<std::string> kTopKeys{"pipeline", "plugins", "run", "trace", "output", "stages"};
const std::vector<std::string> kPipelineKeys{"name", "version", "extends", "description"};
const std::vector<std::string> kPluginsKeys{"paths"};
const std::vector<std::string> kRunKeys{"threads", "max_in_flight", "default_timeout_ms", "micro_batch"};
const std::vector<std::string> kTraceKeys{"enabled", "path", "audio", "rotate_mb"};
const std::vector<std::string> kOutputKeys{"result"};
const std::vector<std::string> kStageKeys{"id",       "plugin",      "inputs",       "params",       "timeout_ms",
                                          "on_error", "fallback",    "concurrency",  "deterministic"};

const std::vector<std::string>* section_keys(std::string_view section) {
  if (section == "pipeline") return &kPipelineKeys;
  if (section == "plugins") return &kPluginsKeys;
  if (section == "run") return &kRunKeys;
  if (section == "trace") return &kTraceKeys;
  if (section == "output") return &kOutputKeys;
  return nullptr;
}

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

// "stage.port" -> (stage, port); nullopt unless exactly one '.' splits two
// non-empty parts. With allow_bare, "stage" alone gives (stage, "").
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

// A table's entries in the order they were written (toml::table iterates
// by key order, but diagnostics should follow the file).
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

struct Document {
  fs::path path;
  toml::table root;
};

class Loader {
 public:
  explicit Loader(LoadResult& r) : r_(r), cfg_(r.config) {}

  void run(const fs::path& file, const std::vector<std::string>& overrides) {
    main_file_ = file.string();
    std::vector<Document> chain = read_chain(file);
    // Base first: each file is applied on top of the one it extends.
    for (size_t i = chain.size(); i-- > 0;) {
      cfg_.files.insert(cfg_.files.begin(), chain[i].path);
      apply_document(chain[i].root, chain.size() - 1 - i);
    }
    if (!chain.empty() || r_.complete) {
      for (const auto& o : overrides) apply_override(o);
    }
    finalize();
  }

 private:
  void error(std::string code, std::string message, const SourcePos& p) {
    r_.diagnostics.push_back(Diagnostic{std::move(code), std::move(message), p.file, p.line, p.column});
  }

  // ------------------------------------------------------------ reading

  std::optional<toml::table> read_file(const fs::path& path, const SourcePos& referenced_at, bool is_extends) {
    std::error_code ec;
    std::ifstream in;
    if (fs::is_regular_file(path, ec)) in.open(path, std::ios::binary);
    if (!in.is_open()) {
      r_.complete = false;
      if (is_extends) {
        error("C030",
              "extends: file '" + path.string() + "' " + (fs::exists(path, ec) ? "is not a regular file" : "not found"),
              referenced_at);
      } else {
        error("C030",
              "cannot read pipeline config '" + path.string() + "': " +
                  (fs::exists(path, ec) ? "not a regular file" : "no such file"),
              SourcePos{path.string(), 0, 0});
      }
      return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    try {
      return toml::parse(text.str(), path.string());
    } catch (const toml::parse_error& e) {
      r_.complete = false;
      error("C001", "TOML syntax error: " + std::string(e.description()), pos_of(e.source()));
      return std::nullopt;
    }
  }

  // The main file, then each file it (transitively) extends.
  std::vector<Document> read_chain(const fs::path& file) {
    std::vector<Document> chain;
    std::vector<std::string> names;  // for the cycle message
    std::set<fs::path> seen;
    fs::path path = file;
    SourcePos from;
    bool is_extends = false;
    for (;;) {
      auto root = read_file(path, from, is_extends);
      if (!root) break;
      std::error_code ec;
      seen.insert(fs::weakly_canonical(path, ec));
      names.push_back(path.filename().string());
      chain.push_back(Document{path, std::move(*root)});

      const toml::node* ext = nullptr;
      if (const auto* p = chain.back().root.get_as<toml::table>("pipeline")) ext = p->get("extends");
      if (ext == nullptr) break;
      if (!ext->is_string()) {
        error("C004", "'pipeline.extends' must be a string (a file path), not " + type_name(*ext), pos_of(ext->source()));
        r_.complete = false;
        break;
      }
      from = pos_of(ext->source());
      fs::path next = (path.parent_path() / fs::path(**ext->as_string())).lexically_normal();
      if (seen.count(fs::weakly_canonical(next, ec)) != 0) {
        std::string cycle;
        for (const auto& n : names) cycle += n + " -> ";
        error("C030", "extends cycle: " + cycle + next.filename().string(), from);
        r_.complete = false;
        break;
      }
      path = next;
      is_extends = true;
    }
    return chain;
  }

  // ------------------------------------------------------ typed readers

  std::optional<std::string> str(const toml::node& n, const std::string& what) {
    if (const auto* s = n.as_string()) return s->get();
    error("C004", "'" + what + "' must be a string, not " + type_name(n), pos_of(n.source()));
    return std::nullopt;
  }

  std::optional<bool> boolean(const toml::node& n, const std::string& what) {
    if (const auto* b = n.as_boolean()) return b->get();
    error("C004", "'" + what + "' must be a boolean (true or false), not " + type_name(n), pos_of(n.source()));
    return std::nullopt;
  }

  std::optional<uint32_t> u32(const toml::node& n, const std::string& what, int64_t min = 0) {
    const auto* i = n.as_integer();
    if (i == nullptr) {
      error("C004", "'" + what + "' must be an integer, not " + type_name(n), pos_of(n.source()));
      return std::nullopt;
    }
    const int64_t v = i->get();
    if (v < min || v > std::numeric_limits<uint32_t>::max()) {
      error("C005",
            "'" + what + "' must be between " + std::to_string(min) + " and " +
                std::to_string(std::numeric_limits<uint32_t>::max()) + ", got " + std::to_string(v),
            pos_of(n.source()));
      return std::nullopt;
    }
    return static_cast<uint32_t>(v);
  }

  // ----------------------------------------------------------- applying

  void apply_document(const toml::table& root, size_t file_index) {
    for (const auto& [key, node] : in_file_order(root)) {
      const std::string k(key->str());
      if (k == "stages") {
        stages_key_seen_ = true;
        const auto* arr = node->as_array();
        if (arr == nullptr) {
          error("C004", "'stages' must be an array of tables ([[stages]]), not " + type_name(*node),
                pos_of(node->source()));
          continue;
        }
        for (const auto& el : *arr) {
          if (const auto* t = el.as_table()) {
            apply_stage_table(*t, file_index);
          } else {
            error("C004", "each entry of 'stages' must be a table, not " + type_name(el), pos_of(el.source()));
          }
        }
      } else if (const auto* keys = section_keys(k)) {
        const auto* t = node->as_table();
        if (t == nullptr) {
          error("C004", "'" + k + "' must be a table ([" + k + "]), not " + type_name(*node), pos_of(node->source()));
          continue;
        }
        if (k == "pipeline") pipeline_pos_ = pos_of(t->source());
        for (const auto& [sk, sn] : in_file_order(*t)) {
          const std::string name(sk->str());
          if (k == "pipeline" && name == "extends") continue;  // read_chain followed it
          if (!apply_section_key(k, name, *sn)) {
            error("C002", "unknown key '" + name + "' in [" + k + "]" + did_you_mean(name, *keys),
                  pos_of(sk->source()));
          }
        }
      } else {
        error("C002", "unknown key '" + k + "'" + did_you_mean(k, kTopKeys), pos_of(key->source()));
      }
    }
  }

  // False when `key` is not a key of `section`.
  bool apply_section_key(std::string_view section, std::string_view key, const toml::node& v) {
    const std::string what = std::string(section) + "." + std::string(key);
    if (section == "pipeline") {
      std::string* target = key == "name" ? &cfg_.name
                            : key == "version" ? &cfg_.version
                            : key == "description" ? &cfg_.description
                                                   : nullptr;
      if (target == nullptr) return false;
      if (auto s = str(v, what)) {
        if (s->empty() && key != "description") {
          error("C005", "'" + what + "' must not be empty", pos_of(v.source()));
        } else {
          *target = *s;
          if (key == "name") name_set_ = true;
          if (key == "version") version_set_ = true;
        }
      }
      return true;
    }
    if (section == "plugins") {
      if (key != "paths") return false;
      const auto* arr = v.as_array();
      if (arr == nullptr) {
        error("C004", "'plugins.paths' must be an array of strings, not " + type_name(v), pos_of(v.source()));
        return true;
      }
      std::vector<fs::path> paths;
      for (const auto& el : *arr) {
        auto s = str(el, "plugins.paths[]");
        if (!s) continue;
        // Relative to the file that wrote it (the working directory for
        // an override), so a config works from wherever it is run.
        fs::path base = el.source().path && *el.source().path != kCommandLine
                            ? fs::path(*el.source().path).parent_path()
                            : fs::path();
        std::error_code ec;
        fs::path p = fs::absolute(base / *s, ec).lexically_normal();
        paths.push_back(ec ? base / *s : p);
      }
      cfg_.plugin_paths = std::move(paths);
      return true;
    }
    if (section == "run") {
      uint32_t* target = key == "threads" ? &cfg_.run.threads
                         : key == "max_in_flight" ? &cfg_.run.max_in_flight
                         : key == "default_timeout_ms" ? &cfg_.run.default_timeout_ms
                         : key == "micro_batch" ? &cfg_.run.micro_batch
                                                       : nullptr;
      if (target == nullptr) return false;
      if (auto n = u32(v, what, key == "max_in_flight" || key == "micro_batch" ? 1 : 0)) *target = *n;
      return true;
    }
    if (section == "trace") {
      if (key == "enabled") {
        if (auto b = boolean(v, what)) cfg_.trace.enabled = *b;
      } else if (key == "path") {
        if (auto s = str(v, what)) {
          if (s->empty()) {
            error("C005", "'trace.path' must not be empty", pos_of(v.source()));
          } else {
            cfg_.trace.path = *s;
          }
        }
      } else if (key == "audio") {
        if (auto s = str(v, what)) {
          if (*s != "inline" && *s != "hash") {
            error("C005", "'trace.audio' must be \"inline\" or \"hash\", got \"" + *s + "\"" +
                              did_you_mean(*s, {"inline", "hash"}),
                  pos_of(v.source()));
          } else {
            cfg_.trace.audio = *s;
          }
        }
      } else if (key == "rotate_mb") {
        if (auto n = u32(v, what)) cfg_.trace.rotate_mb = *n;
      } else {
        return false;
      }
      return true;
    }
    if (section == "output") {
      if (key != "result") return false;
      if (auto s = str(v, what)) {
        if (auto ref = split_ref(*s, /*allow_bare=*/true)) {
          cfg_.output_result = *ref;
          cfg_.output_explicit = true;
          cfg_.output_pos = pos_of(v.source());
        } else {
          error("C005", "'output.result' must be \"<stage>\" or \"<stage>.<port>\", got \"" + *s + "\"",
                pos_of(v.source()));
        }
      }
      return true;
    }
    return false;
  }

  void apply_stage_table(const toml::table& t, size_t file_index) {
    const SourcePos table_pos = pos_of(t.source());
    ++stage_tables_;
    StageConfig scratch;  // receives the keys of a stage that cannot be kept, so they are still checked
    StageConfig* target = &scratch;
    std::string label = "stages[" + std::to_string(stage_tables_ - 1) + "]";
    const toml::node* id_node = t.get("id");
    if (id_node == nullptr) {
      error("C003", "stage has no 'id'", table_pos);
    } else if (auto id = str(*id_node, label + ".id")) {
      const SourcePos id_pos = pos_of(id_node->source());
      label = "stages." + *id;
      if (*id == kInputStage) {
        error("C005", "stage id 'input' is reserved for the turn's payload (input.text, input.audio, input.json); choose another",
              id_pos);
      } else {
        if (!valid_id(*id)) {
          error("C005", "stage id '" + *id + "' may only contain a-z, 0-9 and _", id_pos);
        }
        auto it = std::find_if(cfg_.stages.begin(), cfg_.stages.end(), [&](const StageConfig& s) { return s.id == *id; });
        if (it == cfg_.stages.end()) {
          cfg_.stages.emplace_back();
          owner_file_.push_back(file_index);
          target = &cfg_.stages.back();
          target->id = *id;
        } else {
          const size_t idx = static_cast<size_t>(it - cfg_.stages.begin());
          if (owner_file_[idx] == file_index) {
            error("C020",
                  "duplicate stage id '" + *id + "' (first defined at line " + std::to_string(it->where.id.line) + ")",
                  id_pos);
          } else {
            // A derived file refines the base's stage of the same id.
            owner_file_[idx] = file_index;
            target = &*it;
          }
        }
        if (target != &scratch) {
          target->pos = table_pos;
          target->where.id = id_pos;
        }
      }
    }
    for (const auto& [key, node] : in_file_order(t)) {
      const std::string k(key->str());
      if (k == "id") continue;
      if (!apply_stage_key(*target, label, k, *node)) {
        error("C002", "unknown key '" + k + "' in [[stages]]" + did_you_mean(k, kStageKeys), pos_of(key->source()));
      }
    }
  }

  // False when `key` is not a stage setting.
  bool apply_stage_key(StageConfig& s, const std::string& label, std::string_view key, const toml::node& v) {
    const std::string what = label + "." + std::string(key);
    const SourcePos vpos = pos_of(v.source());
    if (key == "plugin") {
      if (auto p = str(v, what)) {
        s.where.plugin = vpos;
        if (p->empty()) {
          error("C005", "'" + what + "' must not be empty", vpos);
        } else {
          s.plugin = *p;
        }
      }
    } else if (key == "inputs" || key == "params") {
      const auto* t = v.as_table();
      if (t == nullptr) {
        error("C004", "'" + what + "' must be a table (e.g. " + what + (key == "inputs" ? " = { text = \"input.text\" })" : " = { name = 1 })") + ", not " + type_name(v),
              vpos);
        return true;
      }
      for (const auto& [k, n] : in_file_order(*t)) {
        if (key == "inputs") {
          apply_input(s, label, std::string(k->str()), pos_of(k->source()), *n);
        } else {
          apply_param(s, label, std::string(k->str()), pos_of(k->source()), *n);
        }
      }
    } else if (key == "timeout_ms") {
      if (auto n = u32(v, what)) {
        s.timeout_ms = *n;
        s.where.timeout_ms = vpos;
      }
    } else if (key == "on_error") {
      if (auto p = str(v, what)) {
        s.where.on_error = vpos;
        if (*p == "fail") {
          s.on_error = ErrorPolicy::Fail;
        } else if (*p == "skip") {
          s.on_error = ErrorPolicy::Skip;
        } else if (*p == "fallback") {
          s.on_error = ErrorPolicy::Fallback;
        } else {
          error("C005",
                "'" + what + "' must be \"fail\", \"skip\" or \"fallback\", got \"" + *p + "\"" +
                    did_you_mean(*p, {"fail", "skip", "fallback"}),
                vpos);
        }
      }
    } else if (key == "fallback") {
      if (auto f = str(v, what)) {
        s.fallback = *f;
        s.where.fallback = vpos;
      }
    } else if (key == "concurrency") {
      if (auto n = u32(v, what)) {
        s.concurrency = *n;
        s.where.concurrency = vpos;
      }
    } else if (key == "deterministic") {
      if (auto b = boolean(v, what)) s.deterministic = *b;
    } else {
      return false;
    }
    return true;
  }

  void apply_input(StageConfig& s, const std::string& label, const std::string& port, const SourcePos& key_pos,
                   const toml::node& v) {
    // The port is recorded even when the value is bad, so validate() knows
    // the input was meant to be connected and does not pile C023/C026 on
    // top of this error.
    s.where.input_port[port] = key_pos;
    auto text = str(v, label + ".inputs." + port);
    if (!text) return;
    auto ref = split_ref(*text, /*allow_bare=*/false);
    if (!ref) {
      error("C005",
            "input '" + port + "' must name an output as \"<stage>.<port>\" (e.g. \"input.text\"), got \"" + *text + "\"",
            pos_of(v.source()));
      return;
    }
    s.inputs[port] = *ref;
    s.where.input_ref[port] = pos_of(v.source());
  }

  void apply_param(StageConfig& s, const std::string& label, const std::string& name, const SourcePos& key_pos,
                   const toml::node& v) {
    ParamValue p;
    p.pos = pos_of(v.source());
    if (const auto* b = v.as_boolean()) {
      p.text = b->get() ? "true" : "false";
      p.type = CASCADE_PARAM_BOOL;
    } else if (const auto* i = v.as_integer()) {
      p.text = std::to_string(i->get());
      p.type = CASCADE_PARAM_INT;
    } else if (const auto* d = v.as_floating_point()) {
      p.text = double_text(d->get());
      p.type = CASCADE_PARAM_DOUBLE;
    } else if (const auto* t = v.as_string()) {
      p.text = t->get();
      p.type = CASCADE_PARAM_STRING;
    } else {
      error("C004",
            "parameter '" + label + ".params." + name + "' must be a boolean, integer, float or string, not " +
                type_name(v),
            p.pos);
      return;
    }
    s.params[name] = std::move(p);
    s.where.param_name[name] = key_pos;
  }

  // --------------------------------------------------------- overrides

  void apply_override(const std::string& arg) {
    auto at = [](size_t column) { return SourcePos{std::string(kCommandLine), 0, static_cast<uint32_t>(column)}; };
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      error("C031", "override '" + arg + "' is not <key>=<value> (e.g. run.threads=1)", at(1));
      return;
    }
    struct Segment {
      std::string text;
      size_t column;  // 1-based, in the argument
    };
    std::vector<Segment> seg;
    for (size_t start = 0;;) {
      const size_t dot = arg.find('.', start);
      const size_t end = std::min(dot, eq);
      seg.push_back({arg.substr(start, end - start), start + 1});
      if (dot == std::string::npos || dot > eq) break;
      start = dot + 1;
    }
    for (const auto& s : seg) {
      if (s.text.empty()) {
        error("C031", "override '" + arg + "' has an empty key", at(s.column));
        return;
      }
    }
    if (eq + 1 == arg.size()) {
      error("C031", "override '" + arg.substr(0, eq) + "' has no value after '='", at(eq + 1));
      return;
    }
    const toml::table doc = parse_override_value(arg, eq);
    const toml::node& v = *doc.get("v");
    const std::string path = arg.substr(0, eq);

    if (const auto* keys = section_keys(seg[0].text)) {
      if (seg.size() != 2) {
        error("C031", "override '" + path + "' must be <section>.<key> (e.g. " + seg[0].text + "." + keys->front() + ")",
              at(seg.size() > 2 ? seg[2].column : seg[0].column));
      } else if (seg[0].text == "pipeline" && seg[1].text == "extends") {
        error("C031", "'pipeline.extends' cannot be overridden: it decides which files are read", at(seg[1].column));
      } else if (!apply_section_key(seg[0].text, seg[1].text, v)) {
        error("C031", "override '" + path + "': unknown key '" + seg[1].text + "' in [" + seg[0].text + "]" +
                          did_you_mean(seg[1].text, *keys),
              at(seg[1].column));
      }
      return;
    }
    if (seg[0].text != "stages") {
      error("C031", "override '" + path + "': unknown section '" + seg[0].text + "'" + did_you_mean(seg[0].text, kTopKeys),
            at(seg[0].column));
      return;
    }
    if (seg.size() < 3) {
      error("C031", "override '" + path + "' must be stages.<id>.<key> or stages.<id>.params.<name>",
            at(seg.back().column));
      return;
    }
    auto it = std::find_if(cfg_.stages.begin(), cfg_.stages.end(), [&](const StageConfig& s) { return s.id == seg[1].text; });
    if (it == cfg_.stages.end()) {
      std::vector<std::string> ids;
      for (const auto& s : cfg_.stages) ids.push_back(s.id);
      error("C031", "override '" + path + "': no stage '" + seg[1].text + "'" + did_you_mean(seg[1].text, ids),
            at(seg[1].column));
      return;
    }
    StageConfig& s = *it;
    const std::string label = "stages." + s.id;
    const std::string& key = seg[2].text;
    if (seg.size() == 3) {
      if (key == "id") {
        error("C031", "override '" + path + "': a stage's id cannot be overridden", at(seg[2].column));
      } else if (key == "inputs" || key == "params" || contains(kStageKeys, key)) {
        apply_stage_key(s, label, key, v);
      } else {
        // Shortcut: stages.<id>.<name> sets a parameter.
        apply_param(s, label, key, at(seg[2].column), v);
      }
      return;
    }
    if (seg.size() == 4 && (key == "params" || key == "inputs")) {
      if (key == "params") {
        apply_param(s, label, seg[3].text, at(seg[3].column), v);
      } else {
        apply_input(s, label, seg[3].text, at(seg[3].column), v);
      }
      return;
    }
    const size_t bad = (key == "params" || key == "inputs") ? 4 : 3;
    error("C031", "override '" + path + "' is too deep: use stages.<id>.<key>, stages.<id>.params.<name> or stages.<id>.inputs.<port>",
          at(seg[bad].column));
  }

  // The value as a one-key TOML document whose value starts at the same
  // column as in the argument, so node positions point into the argument.
  static toml::table parse_override_value(const std::string& arg, size_t eq) {
    const std::string pad(eq - 1, ' ');
    try {
      toml::table t = toml::parse("v" + pad + "=" + arg.substr(eq + 1), kCommandLine);
      if (t.size() == 1 && t.contains("v")) return t;
    } catch (const toml::parse_error&) {
      // Not TOML: a plain string (trace.path=out.cas, inputs.text=norm.text).
    }
    return toml::parse("v" + pad + "=\"" + toml_escape(arg.substr(eq + 1)) + "\"", kCommandLine);
  }

  // ---------------------------------------------------------- finishing

  void finalize() {
    const SourcePos top{main_file_, 1, 1};
    if (r_.complete) {
      const SourcePos at = pipeline_pos_.file.empty() ? top : pipeline_pos_;
      if (!name_set_) error("C003", "missing required key 'name' in [pipeline]", at);
      if (!version_set_) error("C003", "missing required key 'version' in [pipeline]", at);
      if (!stages_key_seen_) error("C003", "no [[stages]]: a pipeline needs at least one stage", top);
      for (const auto& s : cfg_.stages) {
        if (s.where.plugin.file.empty()) error("C003", "stage '" + s.id + "' has no 'plugin'", s.pos);
        if (s.on_error == ErrorPolicy::Fallback && s.where.fallback.file.empty()) {
          error("C003", "stage '" + s.id + "' has on_error = \"fallback\" but no 'fallback' stage", s.where.on_error);
        }
      }
    }
    for (const auto& s : cfg_.stages) {
      if (!s.where.fallback.file.empty() && s.on_error != ErrorPolicy::Fallback) {
        error("C005",
              "stage '" + s.id + "' names a fallback but its on_error is \"" + std::string(error_policy_name(s.on_error)) +
                  "\": set on_error = \"fallback\" or remove 'fallback'",
              s.where.fallback);
      }
    }
    link_fallbacks();
    default_output();
    const std::string canonical = canonical_json(cfg_);
    cfg_.digest = XXH64(canonical.data(), canonical.size(), 0);
  }

  void link_fallbacks() {
    for (auto& s : cfg_.stages) {
      if (s.on_error != ErrorPolicy::Fallback || s.fallback.empty() || s.fallback == s.id) continue;
      for (auto& f : cfg_.stages) {
        if (f.id == s.fallback && f.fallback_for.empty()) f.fallback_for = s.id;
      }
    }
    // Inherit inputs along fallback chains (a -> b -> c), whatever order
    // the stages were written in: repeat until nothing changes.
    for (bool changed = true; changed;) {
      changed = false;
      for (auto& f : cfg_.stages) {
        if (f.fallback_for.empty() || !f.inputs.empty()) continue;
        const StageConfig* primary = cfg_.stage(f.fallback_for);
        if (primary == nullptr || primary->inputs.empty()) continue;
        f.inputs = primary->inputs;
        f.where.input_port = primary->where.input_port;
        f.where.input_ref = primary->where.input_ref;
        f.inputs_inherited = true;
        changed = true;
      }
    }
  }

  // Without [output]: the last non-standby stage in topological order.
  void default_output() {
    if (cfg_.output_explicit || cfg_.stages.empty()) return;
    std::vector<graph::Edge> edges;
    for (size_t to = 0; to < cfg_.stages.size(); ++to) {
      for (const auto& [port, ref] : cfg_.stages[to].inputs) {
        for (size_t from = 0; from < cfg_.stages.size(); ++from) {
          if (cfg_.stages[from].id == ref.first) edges.emplace_back(from, to);
        }
      }
    }
    try {
      const auto order = graph::topological_order(cfg_.stages.size(), edges);
      for (auto it = order.rbegin(); it != order.rend(); ++it) {
        if (cfg_.stages[*it].fallback_for.empty()) {
          cfg_.output_result = {cfg_.stages[*it].id, ""};
          return;
        }
      }
    } catch (const graph::CycleError&) {
      // validate() reports the cycle (C025); there is no "last" stage.
    }
  }

  LoadResult& r_;
  PipelineConfig& cfg_;
  std::string main_file_;
  std::vector<size_t> owner_file_;  // per stage: index (apply order) of the file that last defined it
  size_t stage_tables_ = 0;
  bool stages_key_seen_ = false;
  bool name_set_ = false;
  bool version_set_ = false;
  SourcePos pipeline_pos_;
};

}  // namespace

LoadResult load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  LoadResult r;
  Loader(r).run(file, overrides);
  return r;
}

}  // namespace cascade::config
