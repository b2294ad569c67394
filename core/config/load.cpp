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
// alive; nothing of toml++ escapes the load files.
//
// The work is split by what it reads: this file holds the order above, the
// reading of the chain, the top-level sections and the finishing checks;
// load_stages.cpp the [[stages]] tables; load_overrides.cpp the --set
// arguments; load_toml.cpp the small helpers on toml++ nodes they share
// (load_internal.hpp declares them all).
#include <cascade/core/config.hpp>
#include <cascade/core/graph.hpp>

#include "load_internal.hpp"
#include "suggest.hpp"

#include <toml++/toml.h>
#include <xxhash.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace cascade::config {

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

namespace detail {

const std::vector<std::string> kTopKeys{"pipeline", "plugins", "run", "trace", "output", "stages"};
const std::vector<std::string> kPipelineKeys{"name", "version", "extends", "description"};
const std::vector<std::string> kPluginsKeys{"paths"};
const std::vector<std::string> kRunKeys{"threads", "max_in_flight", "default_timeout_ms", "micro_batch"};
const std::vector<std::string> kTraceKeys{"enabled", "path", "audio", "rotate_mb"};
const std::vector<std::string> kOutputKeys{"result"};

const std::vector<std::string>* section_keys(std::string_view section) {
  if (section == "pipeline") return &kPipelineKeys;
  if (section == "plugins") return &kPluginsKeys;
  if (section == "run") return &kRunKeys;
  if (section == "trace") return &kTraceKeys;
  if (section == "output") return &kOutputKeys;
  return nullptr;
}

void Loader::run(const fs::path& file, const std::vector<std::string>& overrides) {
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

void Loader::error(std::string code, std::string message, const SourcePos& p) {
  r_.diagnostics.push_back(Diagnostic{std::move(code), std::move(message), p.file, p.line, p.column});
}

std::optional<toml::table> Loader::read_file(const fs::path& path, const SourcePos& referenced_at, bool is_extends) {
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

std::vector<Document> Loader::read_chain(const fs::path& file) {
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

std::optional<std::string> Loader::str(const toml::node& n, const std::string& what) {
  if (const auto* s = n.as_string()) return s->get();
  error("C004", "'" + what + "' must be a string, not " + type_name(n), pos_of(n.source()));
  return std::nullopt;
}

std::optional<bool> Loader::boolean(const toml::node& n, const std::string& what) {
  if (const auto* b = n.as_boolean()) return b->get();
  error("C004", "'" + what + "' must be a boolean (true or false), not " + type_name(n), pos_of(n.source()));
  return std::nullopt;
}

std::optional<uint32_t> Loader::u32(const toml::node& n, const std::string& what, int64_t min) {
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

void Loader::apply_document(const toml::table& root, size_t file_index) {
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

bool Loader::apply_section_key(std::string_view section, std::string_view key, const toml::node& v) {
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

void Loader::finalize() {
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

void Loader::link_fallbacks() {
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

void Loader::default_output() {
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

}  // namespace detail

LoadResult load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides) {
  LoadResult r;
  detail::Loader(r).run(file, overrides);
  return r;
}

}  // namespace cascade::config
