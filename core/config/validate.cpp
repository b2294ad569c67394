// validate(): the checks that need the plugins (ports, parameters, payload
// types) and the whole graph (references, cycles, reachability,
// fallbacks). Each problem is reported once, at the node that causes it;
// follow-on problems are suppressed (a stage whose input is already
// reported as broken is not also reported as unreachable).
#include <cascade/abi/cascade_abi.h>
#include <cascade/core/config.hpp>
#include <cascade/core/graph.hpp>
#include <cascade/core/loader.hpp>

#include "suggest.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace cascade::config {

using detail::did_you_mean;
using detail::quoted_list;

namespace {

template <class V>
std::vector<std::string> names_of(const V& items) {
  std::vector<std::string> n;
  for (const auto& i : items) n.push_back(i.name);
  return n;
}

// "; did you mean 'x'?" or " (it has: 'a', 'b')".
std::string hint(std::string_view word, const std::vector<std::string>& known, std::string_view what) {
  std::string s = did_you_mean(word, known);
  if (s.empty()) s = " (" + std::string(what) + ": " + quoted_list(known) + ")";
  return s;
}

const SourcePos& pos_in(const std::map<std::string, SourcePos>& m, const std::string& key, const SourcePos& fallback) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

bool param_type_ok(uint32_t declared, uint32_t given) {
  // An integer literal is a fine double ("weight = 1").
  return declared == given || (declared == CASCADE_PARAM_DOUBLE && given == CASCADE_PARAM_INT);
}

class Validator {
 public:
  Validator(const PipelineConfig& cfg, const PluginCatalog& catalog) : cfg_(cfg), catalog_(catalog) {}

  std::vector<Diagnostic> run() {
    const size_t n = cfg_.stages.size();
    info_.assign(n, nullptr);
    seed_.assign(n, false);
    for (size_t i = 0; i < n; ++i) {
      if (!cfg_.stages[i].id.empty()) index_.emplace(cfg_.stages[i].id, i);  // first wins; C020 was reported at load
      ids_.push_back(cfg_.stages[i].id);
    }
    for (size_t i = 0; i < n; ++i) find_plugin(i);
    for (size_t i = 0; i < n; ++i) check_params(i);
    for (size_t i = 0; i < n; ++i) check_inputs(i);
    check_fallbacks();
    check_graph();
    check_output();
    return std::move(out_);
  }

 private:
  void error(std::string code, std::string message, const SourcePos& p) {
    out_.push_back(Diagnostic{std::move(code), std::move(message), p.file, p.line, p.column});
  }

  void find_plugin(size_t i) {
    const StageConfig& s = cfg_.stages[i];
    if (s.plugin.empty()) return;  // C003/C005 at load
    if (const LoadedPlugin* p = catalog_.find(s.plugin)) {
      if (p->info.kind == CASCADE_KIND_STAGE) {
        info_[i] = &p->info;
        return;
      }
      error("C013",
            "plugin '" + s.plugin + "' for stage '" + s.id + "' is an " + std::string(kind_name(p->info.kind)) +
                ", not a stage (analyzers run with `cascade isolate`/`cascade analyze`, not in a pipeline)",
            s.where.plugin);
      return;
    }
    std::string searched;
    for (const auto& d : catalog_.searched()) searched += (searched.empty() ? "" : ", ") + d.string();
    error("C010",
          "unknown plugin '" + s.plugin + "' for stage '" + s.id + "' (searched: " +
              (searched.empty() ? std::string("no plugin directory") : searched) + ")",
          s.where.plugin);
  }

  void check_params(size_t i) {
    const StageConfig& s = cfg_.stages[i];
    const PluginInfo* pi = info_[i];
    if (pi == nullptr) return;
    for (const auto& [name, value] : s.params) {
      const ParamInfo* decl = pi->param(name);
      if (decl == nullptr) {
        error("C011",
              "plugin '" + pi->name + "' (stage '" + s.id + "') has no parameter '" + name + "'" +
                  hint(name, names_of(pi->params), "its parameters"),
              pos_in(s.where.param_name, name, value.pos));
      } else if (!param_type_ok(decl->type, value.type)) {
        error("C012",
              "parameter '" + name + "' of plugin '" + pi->name + "' is " + std::string(param_type_name(decl->type)) +
                  ", got " + std::string(param_type_name(value.type)) + " " +
                  (value.type == CASCADE_PARAM_STRING ? "\"" + value.text + "\"" : value.text),
              value.pos);
      }
    }
    // In worker processes each worker has its own instance: the plugin's
    // max_concurrency holds within each, not across them.
    if (s.isolation == Isolation::InProcess && s.concurrency > 0 && pi->max_concurrency > 0 &&
        s.concurrency > pi->max_concurrency) {
      error("C005",
            "stage '" + s.id + "': concurrency " + std::to_string(s.concurrency) + " exceeds the max_concurrency " +
                std::to_string(pi->max_concurrency) + " of plugin '" + pi->name + "'",
            s.where.concurrency);
    }
  }

  // Payload type of `source.port`, or nullopt when it is unknown (the
  // reason is reported here unless `quiet`).
  std::optional<uint32_t> source_type(size_t i, const std::string& port_in, const std::pair<std::string, std::string>& ref,
                                      const SourcePos& at, bool quiet) {
    const auto& [stage, port] = ref;
    if (stage == kInputStage) {
      if (port == "text") return CASCADE_PAYLOAD_TEXT;
      if (port == "audio") return CASCADE_PAYLOAD_AUDIO;
      if (port == "json") return CASCADE_PAYLOAD_JSON;  // e.g. a recorded ASR hypothesis
      seed_[i] = true;
      if (!quiet) {
        error("C022", "the turn input has no port '" + port + "'" + hint(port, {"text", "audio", "json"}, "it has"), at);
      }
      return std::nullopt;
    }
    auto it = index_.find(stage);
    if (it == index_.end()) {
      seed_[i] = true;
      if (!quiet) {
        error("C021", "input '" + port_in + "' of stage '" + cfg_.stages[i].id + "' reads from unknown stage '" + stage +
                          "'" + did_you_mean(stage, ids_),
              at);
      }
      return std::nullopt;
    }
    const StageConfig& src = cfg_.stages[it->second];
    if (!src.fallback_for.empty() && !quiet) {
      error("C027",
            "input '" + port_in + "' of stage '" + cfg_.stages[i].id + "' reads '" + stage + "." + port + "', but '" +
                stage + "' is the fallback of '" + src.fallback_for + "' and runs only in its place: read '" +
                src.fallback_for + "." + port + "'",
            at);
    }
    const PluginInfo* pi = info_[it->second];
    if (pi == nullptr) return std::nullopt;
    if (const PortInfo* out = pi->output(port)) return out->type;
    if (!quiet) {
      error("C022",
            "stage '" + stage + "' (plugin '" + pi->name + "') has no output port '" + port + "'" +
                hint(port, names_of(pi->outputs), "its outputs"),
            at);
    }
    return std::nullopt;
  }

  void check_inputs(size_t i) {
    const StageConfig& s = cfg_.stages[i];
    const PluginInfo* pi = info_[i];
    // A standby stage that inherited its primary's inputs: the references
    // were checked on the primary; what can still be wrong is that THIS
    // plugin does not fit them, which is a fallback problem (C027), shown
    // where the fallback is named.
    const StageConfig* primary = s.inputs_inherited ? cfg_.stage(s.fallback_for) : nullptr;
    const std::string fb = primary ? "fallback stage '" + s.id + "' (plugin '" + (pi ? pi->name : s.plugin) +
                                         "') of '" + primary->id + "'"
                                   : std::string();
    for (const auto& [port, ref] : s.inputs) {
      const SourcePos& kpos = pos_in(s.where.input_port, port, s.pos);
      const SourcePos& rpos = pos_in(s.where.input_ref, port, s.pos);
      const PortInfo* in = pi ? pi->input(port) : nullptr;
      if (pi != nullptr && in == nullptr) {
        if (primary) {
          error("C027", fb + " has no input port '" + port + "' to take '" + ref.first + "." + ref.second + "'",
                primary->where.fallback);
        } else {
          error("C022",
                "plugin '" + pi->name + "' (stage '" + s.id + "') has no input port '" + port + "'" +
                    hint(port, names_of(pi->inputs), "its inputs"),
                kpos);
        }
      }
      const auto from = source_type(i, port, ref, rpos, /*quiet=*/primary != nullptr);
      if (in != nullptr && from && !payload_types_compatible(*from, in->type)) {
        const std::string what = "'" + ref.first + "." + ref.second + "' is " + std::string(payload_type_name(*from));
        if (primary) {
          error("C027", fb + ": " + what + ", but its input '" + port + "' takes " + std::string(payload_type_name(in->type)),
                primary->where.fallback);
        } else {
          error("C024",
                what + ", but input '" + port + "' of stage '" + s.id + "' (plugin '" + pi->name + "') takes " +
                    std::string(payload_type_name(in->type)),
                rpos);
        }
      }
    }
    if (pi == nullptr) return;
    for (const auto& in : pi->inputs) {
      if (in.optional || s.inputs.count(in.name) != 0) continue;
      if (s.where.input_port.count(in.name) != 0) {
        seed_[i] = true;  // written but rejected at load (C004/C005)
        continue;
      }
      seed_[i] = true;  // reported here; not also "unreachable"
      if (primary) {
        error("C027", fb + " needs input '" + in.name + "', which '" + primary->id + "' does not have connected",
              primary->where.fallback);
      } else {
        error("C023",
              "stage '" + s.id + "': required input '" + in.name + "' (" + std::string(payload_type_name(in.type)) +
                  ") of plugin '" + pi->name + "' is not connected",
              s.pos);
      }
    }
  }

  // Output ports of stage `i` that something reads (a stage input or the result).
  std::set<std::string> consumed_outputs(size_t i) const {
    std::set<std::string> used;
    const std::string& id = cfg_.stages[i].id;
    for (const auto& s : cfg_.stages) {
      for (const auto& [port, ref] : s.inputs) {
        if (ref.first == id) used.insert(ref.second);
      }
    }
    if (cfg_.output_result.first == id) {
      if (!cfg_.output_result.second.empty()) {
        used.insert(cfg_.output_result.second);
      } else if (info_[i] != nullptr && !info_[i]->outputs.empty()) {
        used.insert(info_[i]->outputs.front().name);
      }
    }
    return used;
  }

  void check_fallbacks() {
    std::map<std::string, std::string> standby_of;  // fallback id -> primary id
    for (size_t i = 0; i < cfg_.stages.size(); ++i) {
      const StageConfig& s = cfg_.stages[i];
      if (s.on_error != ErrorPolicy::Fallback || s.fallback.empty()) continue;
      const SourcePos& at = s.where.fallback;
      if (s.fallback == s.id) {
        error("C027", "stage '" + s.id + "' cannot be its own fallback", at);
        continue;
      }
      auto it = index_.find(s.fallback);
      if (it == index_.end()) {
        error("C027", "fallback stage '" + s.fallback + "' of stage '" + s.id + "' does not exist" +
                          did_you_mean(s.fallback, ids_),
              at);
        continue;
      }
      if (auto prev = standby_of.find(s.fallback); prev != standby_of.end()) {
        error("C027", "stage '" + s.fallback + "' is already the fallback of '" + prev->second +
                          "'; a stage can stand by for one stage only",
              at);
        continue;
      }
      standby_of.emplace(s.fallback, s.id);
      const size_t f = it->second;
      const StageConfig& fs = cfg_.stages[f];
      if (loops_back(i)) continue;
      if (!fs.inputs_inherited && fs.inputs != s.inputs) {
        error("C027",
              "fallback stage '" + fs.id + "' must take the same inputs as '" + s.id +
                  "' (leave out its 'inputs' to inherit them)",
              at);
      }
      if (info_[i] == nullptr || info_[f] == nullptr) continue;
      for (const auto& port : consumed_outputs(i)) {
        const PortInfo* mine = info_[i]->output(port);
        if (mine == nullptr) continue;  // C022 elsewhere
        const PortInfo* theirs = info_[f]->output(port);
        if (theirs == nullptr) {
          error("C027",
                "fallback stage '" + fs.id + "' (plugin '" + info_[f]->name + "') has no output '" + port +
                    "' to replace '" + s.id + "." + port + "'",
                at);
        } else if (!payload_types_compatible(theirs->type, mine->type)) {
          error("C027",
                "fallback stage '" + fs.id + "' (plugin '" + info_[f]->name + "') outputs " +
                    std::string(payload_type_name(theirs->type)) + " on '" + port + "', but '" + s.id + "." + port +
                    "' is " + std::string(payload_type_name(mine->type)),
                at);
        }
      }
    }
  }

  // True (and reported once, at the loop's first stage) when following
  // `fallback` from stage i comes back to i.
  bool loops_back(size_t i) {
    std::vector<size_t> chain{i};
    size_t cur = i;
    for (size_t steps = 0; steps <= cfg_.stages.size(); ++steps) {
      const StageConfig& s = cfg_.stages[cur];
      if (s.on_error != ErrorPolicy::Fallback) return false;
      auto it = index_.find(s.fallback);
      if (it == index_.end()) return false;
      cur = it->second;
      if (cur == i) break;
      chain.push_back(cur);
    }
    if (cur != i) return false;
    if (*std::min_element(chain.begin(), chain.end()) == i) {
      std::string names;
      for (size_t c : chain) names += cfg_.stages[c].id + " -> ";
      error("C027", "fallback chain loops: " + names + cfg_.stages[i].id, cfg_.stages[i].where.fallback);
    }
    return true;
  }

  void check_graph() {
    // Vertex 0 is the turn input; stage i is vertex i + 1.
    const size_t n = cfg_.stages.size();
    std::vector<graph::Edge> edges;
    for (size_t i = 0; i < n; ++i) {
      for (const auto& [port, ref] : cfg_.stages[i].inputs) {
        if (ref.first == kInputStage) {
          edges.emplace_back(0, i + 1);
        } else if (auto it = index_.find(ref.first); it != index_.end()) {
          edges.emplace_back(it->second + 1, i + 1);
        }
      }
    }
    for (const auto& cycle : graph::find_cycles(n + 1, edges)) {
      std::string names;
      for (size_t v : cycle) {
        names += cfg_.stages[v - 1].id + " -> ";
        seed_[v - 1] = true;  // on a cycle: not also "unreachable"
      }
      names += cfg_.stages[cycle.front() - 1].id;
      error("C025", "cycle: " + names, cfg_.stages[cycle.front() - 1].pos);
    }
    std::vector<size_t> sources{0};
    for (size_t i = 0; i < n; ++i) {
      if (seed_[i]) sources.push_back(i + 1);
    }
    for (size_t v : graph::unreachable_from(n + 1, edges, sources)) {
      const StageConfig& s = cfg_.stages[v - 1];
      error("C026",
            "stage '" + s.id +
                "' is not reachable from the turn input: no chain of inputs leads to it from input.text, input.audio or input.json",
            s.pos);
    }
  }

  void check_output() {
    const auto& [stage, port] = cfg_.output_result;
    if (stage.empty()) return;
    auto it = index_.find(stage);
    const SourcePos at = cfg_.output_explicit ? cfg_.output_pos : SourcePos{};
    if (it == index_.end()) {
      if (cfg_.output_explicit) error("C021", "'output.result' names unknown stage '" + stage + "'" + did_you_mean(stage, ids_), at);
      return;
    }
    const StageConfig& s = cfg_.stages[it->second];
    if (cfg_.output_explicit && !s.fallback_for.empty()) {
      error("C027",
            "'output.result' reads '" + stage + "', but it is the fallback of '" + s.fallback_for +
                "' and runs only in its place: name '" + s.fallback_for + "'",
            at);
    }
    const PluginInfo* pi = info_[it->second];
    if (pi == nullptr) return;
    if (!port.empty() && pi->output(port) == nullptr) {
      error("C022",
            "'output.result': stage '" + stage + "' (plugin '" + pi->name + "') has no output port '" + port + "'" +
                hint(port, names_of(pi->outputs), "its outputs"),
            at);
    } else if (port.empty() && pi->outputs.empty()) {
      error("C022", "stage '" + stage + "' (plugin '" + pi->name + "') has no output to be the turn's result; set [output] result",
            cfg_.output_explicit ? at : s.pos);
    }
  }

  const PipelineConfig& cfg_;
  const PluginCatalog& catalog_;
  std::vector<Diagnostic> out_;
  std::map<std::string, size_t> index_;
  std::vector<std::string> ids_;
  std::vector<const PluginInfo*> info_;
  std::vector<bool> seed_;  // stages reported broken: reachability starts from them too
};

}  // namespace

std::vector<Diagnostic> validate(const PipelineConfig& config, const PluginCatalog& catalog) {
  return Validator(config, catalog).run();
}

std::pair<std::string, std::string> result_output(const PipelineConfig& config, const PluginCatalog& catalog) {
  auto [stage, port] = config.output_result;
  if (stage.empty() || !port.empty()) return {stage, port};
  const StageConfig* s = config.stage(stage);
  const LoadedPlugin* p = s ? catalog.find(s->plugin) : nullptr;
  if (p == nullptr || p->info.outputs.empty()) return {};
  return {stage, p->info.outputs.front().name};
}

}  // namespace cascade::config
