// eval/fpi_isolators.cpp — running and training isolators for `cascade
// eval fpi` (fpi_isolators.hpp).
#include "eval/fpi_isolators.hpp"

#include "learned/model_attributes.hpp"

#include <cascade/core/diagnostic.hpp>
#include <cascade/core/run.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <limits>

namespace cascade::language::eval {

LoadedPipeline load_variant(const FpiVariant& v) { return load_pipeline(v.pipeline, v.overrides).take(); }

const std::vector<Ablation>& ablations() {
  static const std::vector<Ablation> a = {
      {"reactions unread", "dialogue", "scripted", [](const FpiVariant& v) { return v.live; }},
      {"alternatives unread", "alternatives", "0",
       [](const FpiVariant& v) {
         // Runs whose recogniser gave an n-best ("recorded-text" logged the transcript only).
         return v.family.starts_with("speech") || (v.family.starts_with("recorded") && !v.family.starts_with("recorded-text"));
       }},
  };
  return a;
}

std::map<uint64_t, std::string> labels_of(const AnalysisResult& r) {
  std::map<uint64_t, std::string> out;
  for (const auto& v : r.verdicts) out[v.turn_seq] = v.analyzed ? v.label : "";
  return out;
}

std::map<uint64_t, double> scores_of(const AnalysisResult& r) {
  std::map<uint64_t, double> out;
  for (const auto& v : r.verdicts) out[v.turn_seq] = v.analyzed ? v.score : std::numeric_limits<double>::quiet_NaN();
  return out;
}

std::vector<CoveragePoint> coverage_of(const std::vector<ScoredLabel>& labels) {
  return coverage_curve(labels, cascade::failure_classes(), default_coverages());
}

std::map<std::string, std::string> run_params(const LoadedPlugin& p, const FpiVariant& variant) {
  std::map<std::string, std::string> given = variant.isolator_params;
  given["dialogue"] = variant.live ? "live" : "scripted";
  std::map<std::string, std::string> out;
  for (const auto& param : p.info.params)
    if (auto v = given.find(param.name); v != given.end()) out.insert(*v);
  return out;
}

std::map<uint64_t, std::string> run_isolator(const LoadedPlugin& p, const FpiVariant& variant,
                                             const trace::TraceData& data, uint32_t jobs,
                                             std::map<std::string, std::string> params, IsolatorScore& s,
                                             std::map<uint64_t, double>* scores) {
  const LoadedPipeline pipeline = load_variant(variant);
  AnalysisOptions o;
  o.jobs = jobs;
  o.params = run_params(p, variant);
  o.replay_plan = &pipeline.plan;
  for (auto& [k, v] : params) o.params[k] = std::move(v);
  AnalyzerHost host(p, o);
  const AnalysisResult r = host.run(data);
  s.name = p.info.name;
  s.version = p.info.version;
  s.seconds += r.seconds;
  if (scores != nullptr) *scores = scores_of(r);
  return labels_of(r);
}

namespace {

// The weight the trainer gave the auxiliary (TRAIN-fold) rows, as the
// model file records it; nullopt when it records none.
std::optional<std::string> auxiliary_weight(const std::filesystem::path& model) {
  std::ifstream f(model);
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  const nlohmann::json::json_pointer at(std::string("/learner/attributes/") +
                                        learned::model_attributes::kAuxiliaryWeight);
  if (j.is_discarded() || !j.contains(at) || !j[at].is_string()) return std::nullopt;
  return j[at].get<std::string>();
}

}  // namespace

std::optional<std::filesystem::path> train_isolator(const LoadedPlugin& plugin,
                                                    const std::vector<FpiRun>& runs,
                                                    const std::filesystem::path& oracle, const std::filesystem::path& out,
                                                    std::string& note, const std::string& tag,
                                                    const std::string& dialogues) {
  const std::string& name = plugin.info.name;
  std::error_code ec;
  const auto tool = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "cascade-isolate-train";
  if (ec || !std::filesystem::exists(tool)) {
    note = "not measured: it needs a model and cascade-isolate-train is not next to cascade-eval";
    return std::nullopt;
  }
  if (name != "learned") {
    note = "not measured: it needs a model, and cascade-isolate-train trains only 'learned'";
    return std::nullopt;
  }
  const auto model = out / ("model-" + name + tag + ".json");
  const auto log = out / ("train-" + name + tag + ".log");
  std::string cmd = shell_quote(tool.string());
  for (const auto& r : runs) cmd += " " + shell_quote(r.trace.string());
  // Runs whose pipeline had other models (the TRAIN folds) tell the
  // plugin which TRAIN data those models learnt from (`requests`, the
  // NLU's training file), so that no feature of a fold's turn reads that
  // fold; every run says whether its dialogues were scripted or live, and
  // gives its pipeline (with the run's overrides) for the plugin's replays.
  const auto params = out / ("trace-params-" + name + tag + ".jsonl");
  {
    std::ofstream f(params);
    for (const auto& r : runs) {
      nlohmann::json given = nlohmann::json::object();
      for (const auto& [k, v] : run_params(plugin, r.variant)) given[k] = v;
      f << nlohmann::json{{"trace", r.trace.string()},
                          {"params", given},
                          {"pipeline", r.variant.pipeline.string()},
                          {"set", r.variant.overrides},
                          {"auxiliary", r.variant.train_only}}
               .dump()
        << "\n";
    }
    f.flush();
    if (!f) throw CascadeError("N013", "cannot write the trace parameters file", params.string());
  }
  cmd += " --trace-params " + shell_quote(params.string());
  cmd += " --against " + shell_quote(oracle.string()) + " --dialogues " + dialogues + " --out " +
         shell_quote(model.string()) + " > " + shell_quote(log.string()) + " 2>&1";
  const int status = std::system(cmd.c_str());
  if (status != 0 || !std::filesystem::exists(model)) {
    note = "not measured: training failed (see " + log.string() + ")";
    return std::nullopt;
  }
  note = "trained with cascade isolate train (defaults) on the oracle labels of " + oracle.filename().string();
  if (const auto w = auxiliary_weight(model))
    note += "; the TRAIN-fold runs' turns weighed " + *w + " (chosen by cross-validation on the scored runs)";
  return model;
}

std::filesystem::path write_oracle_subset(const AnalysisFile& oracle, const std::filesystem::path& path,
                                          const std::function<bool(const AnalysisLine&)>& keep) {
  AnalysisFile part;
  part.header = oracle.header;
  for (const auto& line : oracle.lines)
    if (keep(line)) part.lines.push_back(line);
  std::ofstream f(path);
  write_analysis(f, part);
  f.flush();
  if (!f) throw CascadeError("N013", "cannot write the oracle's analysis file", path.string());
  return path;
}

bool is_training_line(const AnalysisLine& line, const std::vector<FpiRun>& training_runs) {
  for (const auto& r : training_runs)
    if (r.trace.string() == line.trace) return true;
  return false;
}

}  // namespace cascade::language::eval
