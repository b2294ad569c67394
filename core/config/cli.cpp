// `cascade validate` and `cascade graph`.
//
// validate prints EVERY problem (load + plugin/graph checks) on stdout —
// the report is the command's output, as with other linters — one
// "file:line:col: error[CODE]: message" per line, or a JSON array with
// --json, and exits 2 if there is any. The plugin checks are skipped when
// a file could not be read or parsed (they would only add noise).
#include <cascade/core/config.hpp>
#include <cascade/core/loader.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <limits>
#include <tuple>

namespace cascade::config {
namespace {

constexpr int kOk = 0;
constexpr int kConfigError = 2;

struct Options {
  std::string file;
  std::vector<std::string> sets;
  bool json = false;
};

void add_common(CLI::App* cmd, Options& o) {
  cmd->add_option("FILE", o.file, "Pipeline config (TOML)")->required();
  cmd->add_option("--set", o.sets,
                  "Override a setting, e.g. run.threads=1, stages.asr.params.noise_db=10 or stages.asr.noise_db=10 "
                  "(repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
}

// For a --set argument the line is 0 and the column is the useful part;
// Diagnostic::format() keeps it: "<command line>:0:23: error[C012]: ...".
std::string human(const Diagnostic& d) { return d.format(); }

// Sorted by position, so the report reads top to bottom of each file
// whichever check found the problem. Files keep the order they first
// appear in; the --set arguments come last.
void sort_for_reading(std::vector<Diagnostic>& diags) {
  std::vector<std::string> files;
  auto rank = [&](const std::string& f) -> size_t {
    if (f == kCommandLine) return std::numeric_limits<size_t>::max();
    auto it = std::find(files.begin(), files.end(), f);
    return static_cast<size_t>(it - files.begin());
  };
  for (const auto& d : diags) {
    if (d.file != kCommandLine && std::find(files.begin(), files.end(), d.file) == files.end()) files.push_back(d.file);
  }
  std::stable_sort(diags.begin(), diags.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    return std::make_tuple(rank(a.file), a.line, a.column) < std::make_tuple(rank(b.file), b.line, b.column);
  });
}

// Every problem of a config: loading, then (if it loaded) the plugin and
// graph checks. validate prints them; graph refuses to draw on any.
std::vector<Diagnostic> diagnose(const Options& o, const CatalogFactory& make_catalog, LoadResult& r) {
  r = load_config(o.file, o.sets);
  std::vector<Diagnostic> diags = std::move(r.diagnostics);
  if (r.complete) {
    try {
      if (auto catalog = make_catalog(r.config)) {
        auto more = validate(r.config, *catalog);
        diags.insert(diags.end(), more.begin(), more.end());
      }
    } catch (const CascadeError& e) {
      diags.push_back(e.diagnostic());
    }
  }
  sort_for_reading(diags);
  return diags;
}

int run_validate(const Options& o, const CatalogFactory& make_catalog) {
  LoadResult r;
  const std::vector<Diagnostic> diags = diagnose(o, make_catalog, r);
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& d : diags) {
      arr.push_back({{"code", d.code}, {"message", d.message}, {"file", d.file}, {"line", d.line}, {"column", d.column}});
    }
    std::cout << arr.dump(2) << "\n";
  } else if (diags.empty()) {
    std::cout << o.file << ": ok (" << r.config.stages.size() << " stages, " << r.config.edge_count() << " edges)\n";
  } else {
    for (const auto& d : diags) std::cout << human(d) << "\n";
  }
  return diags.empty() ? kOk : kConfigError;
}

// The same checks as validate: a DAG is drawn only for a config that runs.
int run_graph(const Options& o, const CatalogFactory& make_catalog) {
  LoadResult r;
  const std::vector<Diagnostic> diags = diagnose(o, make_catalog, r);
  if (!diags.empty()) {
    for (const auto& d : diags) std::cerr << human(d) << "\n";
    return kConfigError;
  }
  std::cout << to_dot(r.config);
  return kOk;
}

}  // namespace

void register_commands(CLI::App& app, int& exit_code, CatalogFactory make_catalog) {
  auto vo = std::make_shared<Options>();
  CLI::App* v = app.add_subcommand(
      "validate", "Check a pipeline config and report every problem at once (exit 2 if there is any)");
  add_common(v, *vo);
  v->add_flag("--json", vo->json, "Print the problems as a JSON array of {code, message, file, line, column}");
  v->callback([vo, &exit_code, make_catalog] { exit_code = run_validate(*vo, make_catalog); });

  auto go = std::make_shared<Options>();
  CLI::App* g = app.add_subcommand("graph", "Print a pipeline's DAG as Graphviz DOT (pipe into `dot -Tsvg`)");
  add_common(g, *go);
  g->callback([go, &exit_code, make_catalog = std::move(make_catalog)] { exit_code = run_graph(*go, make_catalog); });
}

}  // namespace cascade::config
