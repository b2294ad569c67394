// load_config, the [[stages]] tables: a stage's id (new, or refining the
// stage of the same id in a file it extends), then each of its keys, each
// checked as it is applied. --set stages.<id>.<key> comes through the same
// apply_stage_key / apply_input / apply_param (load_overrides.cpp).
#include <cascade/abi/cascade_abi.h>
#include <cascade/core/config.hpp>

#include "load_internal.hpp"
#include "suggest.hpp"

#include <toml++/toml.h>

#include <algorithm>

namespace cascade::config::detail {

// A new stage key goes here and in apply_stage_key.
const std::vector<std::string> kStageKeys{"id",          "plugin",        "inputs",    "params",  "timeout_ms", "on_error",
                                          "fallback",    "concurrency",   "deterministic", "isolation", "process"};
// The keys of a stage's [stages.process] table (core/isolation.hpp).
const std::vector<std::string> kProcessKeys{"workers",          "memory_mb",          "cpu_s",
                                            "max_payload_mb",   "restart_backoff_ms", "quarantine_after",
                                            "quarantine_window_s", "start_timeout_ms"};

void Loader::apply_stage_table(const toml::table& t, size_t file_index) {
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

bool Loader::apply_stage_key(StageConfig& s, const std::string& label, std::string_view key, const toml::node& v) {
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
  } else if (key == "isolation") {
    if (auto p = str(v, what)) {
      if (*p == "in_process") {
        s.isolation = Isolation::InProcess;
      } else if (*p == "process") {
        s.isolation = Isolation::Process;
      } else {
        error("C005",
              "'" + what + "' must be \"in_process\" or \"process\", got \"" + *p + "\"" +
                  did_you_mean(*p, {"in_process", "process"}),
              vpos);
      }
    }
  } else if (key == "process") {
    const auto* t = v.as_table();
    if (t == nullptr) {
      error("C004", "'" + what + "' must be a table (e.g. [" + what + "] or " + what + " = { workers = 2 }), not " +
                        type_name(v),
            vpos);
      return true;
    }
    for (const auto& [k, n] : in_file_order(*t))
      if (!apply_process_key(s, label, k->str(), *n))
        error("C002",
              "unknown key '" + std::string(k->str()) + "' in [" + what + "]" + did_you_mean(std::string(k->str()), kProcessKeys),
              pos_of(k->source()));
  } else {
    return false;
  }
  return true;
}

bool Loader::apply_process_key(StageConfig& s, const std::string& label, std::string_view key, const toml::node& v) {
  ProcessOptions& p = s.process;
  uint32_t* target = key == "workers"               ? &p.workers
                     : key == "memory_mb"           ? &p.memory_mb
                     : key == "cpu_s"               ? &p.cpu_s
                     : key == "max_payload_mb"      ? &p.max_payload_mb
                     : key == "restart_backoff_ms"  ? &p.restart_backoff_ms
                     : key == "quarantine_after"    ? &p.quarantine_after
                     : key == "quarantine_window_s" ? &p.quarantine_window_s
                     : key == "start_timeout_ms"    ? &p.start_timeout_ms
                                                    : nullptr;
  if (target == nullptr) return false;
  if (auto n = u32(v, label + ".process." + std::string(key), key == "start_timeout_ms" ? 1 : 0)) *target = *n;
  return true;
}

void Loader::apply_input(StageConfig& s, const std::string& label, const std::string& port, const SourcePos& key_pos,
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

void Loader::apply_param(StageConfig& s, const std::string& label, const std::string& name, const SourcePos& key_pos,
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

}  // namespace cascade::config::detail
