// cascade/core/config.hpp — pipeline configs: TOML file(s) -> PipelineConfig,
// validation against the loaded plugins, Graphviz export.
//
// A config is read in two steps, each reporting EVERY problem it finds
// (never only the first) as Diagnostics with stable C0xx codes
// (docs/error-codes.md, section C) and the file:line:column of the TOML
// node at fault:
//   1. load_config(): syntax, `extends` chain, keys, value types and
//      ranges, --set overrides. Needs no plugin.
//   2. validate(): plugins, parameters, ports, payload types, the graph
//      (unknown stages, cycles, unreachable stages), fallbacks. Needs the
//      PluginCatalog the pipeline will run with.
//
// `extends`: the named file (relative to the extending file) is loaded
// first, then the extending file is applied on top of it, key by key:
// a scalar or array replaces the base's value; [[stages]] with an id the
// base already has are merged into that stage (their `inputs` and
// `params` entry by entry), stages with new ids are appended. Chains are
// allowed; a cycle is C030. Overrides (--set) are applied last.
//
// Fallbacks: a stage named in another stage's `fallback` is a STANDBY
// stage: it runs only when that stage fails, in its place, on the same
// inputs (a standby stage may omit `inputs`; it then inherits the primary
// stage's, and StageConfig::inputs_inherited is set), and its outputs are
// published under the primary stage's id. Nothing may read a standby
// stage's outputs directly.
//
// The turn's payload is the pseudo-stage "input" with output ports "text"
// (text), "audio" (audio) and "json" (json); "input" is therefore not a
// valid stage id.
//
// Lifecycle: plain values; a PipelineConfig is built once by load_config
// and then only read. Threading: every function here is reentrant; a
// PipelineConfig may be read from any number of threads once built.
// toml++ stays out of this header on purpose (it is included widely).
#pragma once

#include <cascade/core/diagnostic.hpp>
#include <cascade/core/isolation.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace CLI {
class App;
}

namespace cascade {
class PluginCatalog;
}

namespace cascade::config {

// Where something was written. For a --set override: file is
// kCommandLine, line 0, column = 1-based position in that argument.
struct SourcePos {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
};
inline constexpr std::string_view kCommandLine = "<command line>";

// The pseudo-stage carrying the turn's payload, and its output ports.
inline constexpr std::string_view kInputStage = "input";

// A stage parameter as written: canonical text (what the plugin receives
// from host->get_param: "true"/"false", "42", "0.5" (shortest round-trip
// form), or the string itself) and the cascade_param_type of the TOML
// value (validate() checks it against the plugin's declared type).
struct ParamValue {
  std::string text;
  uint32_t type = 0;  // cascade_param_type
  SourcePos pos;      // the value
};

enum class ErrorPolicy { Fail, Skip, Fallback };
std::string_view error_policy_name(ErrorPolicy p);  // "fail", "skip", "fallback"

struct StageConfig {
  std::string id;      // [a-z0-9_]+, unique, not "input"
  std::string plugin;  // plugin name as the catalog knows it
  // input port -> (stage id or "input", output port)
  std::map<std::string, std::pair<std::string, std::string>> inputs;
  std::map<std::string, ParamValue> params;
  std::optional<uint32_t> timeout_ms;  // per-stage deadline; unset = run.default_timeout_ms
  ErrorPolicy on_error = ErrorPolicy::Fail;
  std::string fallback;  // stage id, set iff on_error == Fallback
  uint32_t concurrency = 0;           // 0 = the plugin's max_concurrency
  std::optional<bool> deterministic;  // unset = the plugin's flag
  Isolation isolation = Isolation::InProcess;  // isolation = "in_process" | "process"
  ProcessOptions process;                      // [stages.process]
  SourcePos pos;                      // the [[stages]] header

  // Derived by load_config (not written by the user):
  std::string fallback_for;       // the stage this one stands by for ("" = a normal stage)
  bool inputs_inherited = false;  // standby stage that took its primary's inputs

  // Where each part was written, for diagnostics.
  struct Where {
    SourcePos id, plugin, on_error, fallback, concurrency, timeout_ms;
    std::map<std::string, SourcePos> input_port;  // the key (port name); kept even when the value was rejected
    std::map<std::string, SourcePos> input_ref;   // the value ("stage.port")
    std::map<std::string, SourcePos> param_name;  // the key
  } where;
};

struct RunConfig {
  uint32_t threads = 0;  // 0 = hardware concurrency
  uint32_t max_in_flight = 256;  // >= 1: back-pressure bound on turns in flight
  uint32_t default_timeout_ms = 0;  // 0 = none
  uint32_t micro_batch = 1;  // >= 1: turns a stage runs back to back (EngineOptions::micro_batch)
};

struct TraceConfig {
  bool enabled = false;
  std::string path = "trace.cas";  // relative to the working directory
  std::string audio = "inline";   // "inline" | "hash"
  uint32_t rotate_mb = 0;         // 0 = never rotate
};

struct PipelineConfig {
  std::string name;
  std::string version;
  std::string description;
  std::vector<std::filesystem::path> files;         // the main file, then each file it extends
  std::vector<std::filesystem::path> plugin_paths;  // absolute, in search order
  RunConfig run;
  TraceConfig trace;
  // (stage, port) whose value is the turn's result. Without [output] it is
  // the last non-standby stage in topological order with port "" meaning
  // "that stage's first output" (ports are known only to the catalog: see
  // result_output()). Empty stage when the graph has no such stage.
  std::pair<std::string, std::string> output_result;
  bool output_explicit = false;
  SourcePos output_pos;
  std::vector<StageConfig> stages;  // in file order (bases first)
  // xxh64 (seed 0) of canonical_json(*this): equal digests = same
  // effective pipeline, whichever files and overrides produced it.
  uint64_t digest = 0;

  [[nodiscard]] const StageConfig* stage(std::string_view id) const;
  // Number of data connections (stage inputs), inherited ones included.
  [[nodiscard]] size_t edge_count() const;
};

struct LoadResult {
  PipelineConfig config;
  std::vector<Diagnostic> diagnostics;  // every problem, in file order
  // False when a file could not be read or parsed, or `extends` failed
  // (C001, C030): the config is then partial and validate() would only
  // add noise.
  bool complete = true;
  [[nodiscard]] bool ok() const { return diagnostics.empty(); }
};

// Reads `file` (and what it extends), applies `overrides` in order.
// An override is "<path>=<value>": "run.threads=1",
// "stages.asr.params.noise_db=10", "stages.asr.noise_db=10" (a key that is
// not a stage setting is a parameter), "stages.asr.inputs.audio=input.audio".
// The value is read as a TOML value (10, true, 0.5, "s", [..]); if it is
// not valid TOML it is taken as a plain string (trace.path=out.cas).
// Never throws for bad input; every problem is a diagnostic.
LoadResult load_config(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

// Every problem that needs the plugins: C010..C012, C021..C027, and C005
// for a concurrency above the plugin's limit. Robust against a config that
// had load errors (skips what it cannot check).
std::vector<Diagnostic> validate(const PipelineConfig& config, const PluginCatalog& catalog);

// output_result with the default port resolved through the catalog
// (the stage's plugin's first output). Empty strings if it cannot be.
std::pair<std::string, std::string> result_output(const PipelineConfig& config, const PluginCatalog& catalog);

// Graphviz DOT: the input pseudo-node, one node per stage labelled
// "id\nplugin", one edge per connection labelled with its ports, dashed
// edges to fallback stages, and the result pseudo-node.
std::string to_dot(const PipelineConfig& config);

// The effective pipeline as canonical JSON (sorted keys, no white space):
// name, version, run, output, stages with every setting. Left out on
// purpose: description, files, plugin paths and trace settings — they do
// not change what the pipeline computes.
std::string canonical_json(const PipelineConfig& config);

// `cascade validate FILE [--set k=v]... [--json]` and
// `cascade graph FILE [--set k=v]...`. The callbacks store the exit code
// (0 ok, 2 config error) in `exit_code`; `make_catalog` loads the plugins
// the config will run with (it may throw CascadeError).
using CatalogFactory = std::function<std::unique_ptr<PluginCatalog>(const PipelineConfig&)>;
void register_commands(CLI::App& app, int& exit_code, CatalogFactory make_catalog);

}  // namespace cascade::config
