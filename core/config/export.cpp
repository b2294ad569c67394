// Views of a PipelineConfig for people and machines: Graphviz DOT and the
// canonical JSON the digest is computed from.
#include <cascade/core/config.hpp>

#include <nlohmann/json.hpp>

namespace cascade::config {
namespace {

// Text inside a DOT string literal: quotes and backslashes escaped, raw
// line breaks flattened. Labels put the two-character escape \n between
// escaped parts on purpose (Graphviz's line break).
std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}
// Built in place: GCC 12 at -O3 reports a false -Wrestrict for
// `"\"" + std::string&&` (its inlined insert() at offset 0).
std::string q(std::string_view s) {
  std::string out = "\"";
  out += escape(s);
  out += '"';
  return out;
}

// Pseudo-node names no stage can take (stage ids are [a-z0-9_]+).
constexpr std::string_view kInputNode = "(input)";
constexpr std::string_view kResultNode = "(result)";

std::string node_of(const std::string& stage) { return stage == kInputStage ? q(kInputNode) : q(stage); }

}  // namespace

std::string to_dot(const PipelineConfig& config) {
  std::string d = "digraph " + q(config.name.empty() ? "pipeline" : config.name) + " {\n";
  d += "  rankdir=LR;\n";
  d += "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  d += "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  d += "  " + q(kInputNode) + " [shape=invhouse, label=\"input\"];\n";
  for (const auto& s : config.stages) {
    std::string attrs = "label=\"" + escape(s.id) + "\\n" + escape(s.plugin) + "\"";
    if (!s.fallback_for.empty()) attrs += ", style=\"rounded,dashed\"";
    d += "  " + q(s.id) + " [" + attrs + "];\n";
  }
  for (const auto& s : config.stages) {
    for (const auto& [port, ref] : s.inputs) {
      const std::string label = ref.second == port ? port : ref.second + " -> " + port;
      std::string attrs = "label=" + q(label);
      if (s.inputs_inherited) attrs += ", style=dashed";
      d += "  " + node_of(ref.first) + " -> " + q(s.id) + " [" + attrs + "];\n";
    }
  }
  for (const auto& s : config.stages) {
    if (s.on_error == ErrorPolicy::Fallback && !s.fallback.empty()) {
      d += "  " + q(s.id) + " -> " + q(s.fallback) + " [style=dotted, arrowhead=empty, label=\"on error\"];\n";
    }
  }
  if (!config.output_result.first.empty()) {
    d += "  " + q(kResultNode) + " [shape=house, label=\"result\"];\n";
    d += "  " + node_of(config.output_result.first) + " -> " + q(kResultNode) + " [label=" +
         q(config.output_result.second) + "];\n";
  }
  d += "}\n";
  return d;
}

std::string canonical_json(const PipelineConfig& config) {
  // nlohmann::json objects are std::maps: keys come out sorted, so equal
  // configs give byte-identical text.
  nlohmann::json j;
  j["name"] = config.name;
  j["version"] = config.version;
  // run.micro_batch and each stage's isolation are left out: they change
  // when and where a turn's stages run, not what they compute (the digest
  // names what is computed; a trace made in process replays isolated).
  j["run"] = {{"threads", config.run.threads},
              {"max_in_flight", config.run.max_in_flight},
              {"default_timeout_ms", config.run.default_timeout_ms}};
  j["output"] = {config.output_result.first, config.output_result.second};
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : config.stages) {
    nlohmann::json st;
    st["id"] = s.id;
    st["plugin"] = s.plugin;
    st["inputs"] = nlohmann::json::object();
    for (const auto& [port, ref] : s.inputs) st["inputs"][port] = ref.first + "." + ref.second;
    st["params"] = nlohmann::json::object();
    for (const auto& [name, p] : s.params) st["params"][name] = {{"type", p.type}, {"value", p.text}};
    st["timeout_ms"] = s.timeout_ms ? nlohmann::json(*s.timeout_ms) : nlohmann::json();
    st["on_error"] = std::string(error_policy_name(s.on_error));
    st["fallback"] = s.fallback;
    st["concurrency"] = s.concurrency;
    st["deterministic"] = s.deterministic ? nlohmann::json(*s.deterministic) : nlohmann::json();
    stages.push_back(std::move(st));
  }
  j["stages"] = std::move(stages);
  return j.dump();
}

}  // namespace cascade::config
