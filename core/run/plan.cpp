// Config -> plan: resolve stage ids, ports and plugins to indices, and put
// the stages in topological order (core/graph).
#include <cascade/core/graph.hpp>
#include <cascade/core/run.hpp>

#include <map>
#include <ostream>

namespace cascade {
namespace {

// Index of output port `name` (validation has made sure it exists).
uint32_t output_index(const PluginInfo& info, std::string_view name) {
  for (uint32_t p = 0; p < info.outputs.size(); ++p)
    if (info.outputs[p].name == name) return p;
  return 0;
}

}  // namespace

std::unique_ptr<PluginRegistry> load_catalog(const config::PipelineConfig& cfg,
                                             const std::vector<std::filesystem::path>& extra_dirs,
                                             std::vector<Diagnostic>* refused) {
  auto reg = std::make_unique<PluginRegistry>();
  std::vector<std::filesystem::path> dirs(cfg.plugin_paths.begin(), cfg.plugin_paths.end());
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  auto r = reg->scan(PluginRegistry::search_path(dirs));
  if (refused != nullptr) *refused = std::move(r);
  return reg;
}

PipelinePlan make_plan(const config::PipelineConfig& cfg, const PluginCatalog& catalog) {
  if (auto diags = config::validate(cfg, catalog); !diags.empty()) throw CascadeError(diags.front());
  const size_t n = cfg.stages.size();
  std::map<std::string, size_t, std::less<>> index;
  for (size_t i = 0; i < n; ++i) index[cfg.stages[i].id] = i;

  // Standby stages inherit their primary's inputs; edges follow data.
  auto inputs_of = [&](const config::StageConfig& s) -> const config::StageConfig& {
    if (s.inputs_inherited && !s.fallback_for.empty()) return cfg.stages[index.at(s.fallback_for)];
    return s;
  };
  std::vector<graph::Edge> edges;
  for (size_t i = 0; i < n; ++i)
    for (const auto& [port, ref] : inputs_of(cfg.stages[i]).inputs)
      if (ref.first != config::kInputStage) edges.emplace_back(index.at(ref.first), i);
  const auto order = graph::topological_order(n, edges);
  std::vector<uint32_t> pos(n);
  for (size_t k = 0; k < n; ++k) pos[order[k]] = static_cast<uint32_t>(k);

  PipelinePlan plan;
  plan.name = cfg.name;
  plan.version = cfg.version;
  plan.digest = cfg.digest;
  for (size_t k = 0; k < n; ++k) {
    const auto& sc = cfg.stages[order[k]];
    const LoadedPlugin* lp = catalog.find(sc.plugin);
    StagePlan sp;
    sp.id = sc.id;
    sp.plugin = lp;
    for (const auto& [name, v] : sc.params) sp.params[name] = v.text;
    const auto& src = inputs_of(sc);
    for (const auto& port : lp->info.inputs) {
      Binding b;
      if (auto it = src.inputs.find(port.name); it != src.inputs.end()) {
        const auto& [stage, out] = it->second;
        if (stage == config::kInputStage) {
          b.kind = Binding::Kind::TurnInput;
        } else {
          // Readers of a stage see a fallback's outputs under the primary
          // stage's id: the engine copies them into the primary's slots.
          const size_t from = index.at(stage);
          b.kind = Binding::Kind::StageOutput;
          b.stage = pos[from];
          b.port = output_index(catalog.find(cfg.stages[from].plugin)->info, out);
        }
      }
      sp.inputs.push_back(b);
    }
    sp.timeout_ms = sc.timeout_ms.value_or(cfg.run.default_timeout_ms);
    sp.on_error = sc.on_error == config::ErrorPolicy::Fail   ? ErrorPolicy::Fail
                  : sc.on_error == config::ErrorPolicy::Skip ? ErrorPolicy::Skip
                                                             : ErrorPolicy::Fallback;
    sp.fallback = sc.fallback.empty() ? -1 : static_cast<int32_t>(pos[index.at(sc.fallback)]);
    sp.standby = !sc.fallback_for.empty();
    sp.concurrency = sc.concurrency;
    sp.isolation = sc.isolation;
    sp.process = sc.process;
    sp.deterministic = sc.deterministic.value_or(lp->info.deterministic());
    plan.stages.push_back(std::move(sp));
  }
  const auto [rs, rp] = config::result_output(cfg, catalog);
  if (!rs.empty()) {
    const size_t from = index.at(rs);
    plan.result.kind = Binding::Kind::StageOutput;
    plan.result.stage = pos[from];
    plan.result.port = output_index(catalog.find(cfg.stages[from].plugin)->info, rp);
  }
  return plan;
}

PipelineLoad load_pipeline(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                           const std::vector<std::filesystem::path>& extra_dirs) {
  PipelineLoad out;
  auto lr = config::load_config(file, overrides);
  if (!lr.ok()) {
    out.problems = std::move(lr.diagnostics);
    return out;
  }
  LoadedPipeline p;
  p.config = std::move(lr.config);
  p.registry = load_catalog(p.config, extra_dirs, &out.refused);
  out.problems = config::validate(p.config, *p.registry);
  if (!out.problems.empty()) return out;
  p.plan = make_plan(p.config, *p.registry);
  out.pipeline = std::move(p);
  return out;
}

void PipelineLoad::print(std::ostream& os) const {
  for (const auto& d : problems) os << d.format() << "\n";
  if (problems.empty()) return;
  for (const auto& d : refused) os << "note: refused plugin: " << d.format() << "\n";
}

LoadedPipeline PipelineLoad::take() && {
  if (pipeline) return std::move(*pipeline);
  Diagnostic d = problems.empty() ? Diagnostic{} : problems.front();
  for (const auto& r : refused) d.message += "\n  note: refused plugin: " + r.format();
  throw CascadeError(std::move(d));
}

}  // namespace cascade
