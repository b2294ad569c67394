// eval/fpi_isolators.cpp — running and training isolators for `cascade
// eval fpi` (fpi_isolators.hpp).
#include "eval/fpi_isolators.hpp"

#include <cstdlib>

namespace cascade::language::eval {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::map<uint64_t, std::string> labels_of(const AnalysisResult& r) {
  std::map<uint64_t, std::string> out;
  for (const auto& v : r.verdicts) out[v.turn_seq] = v.analyzed ? v.label : "";
  return out;
}

std::map<uint64_t, std::string> run_isolator(const LoadedPlugin& p, const trace::TraceData& data, uint32_t jobs,
                                             std::map<std::string, std::string> params, IsolatorScore& s) {
  AnalysisOptions o;
  o.jobs = jobs;
  o.params = std::move(params);
  AnalyzerHost host(p, o);
  const AnalysisResult r = host.run(data);
  s.name = p.info.name;
  s.version = p.info.version;
  s.seconds += r.seconds;
  return labels_of(r);
}

std::optional<std::filesystem::path> train_isolator(const std::string& name, const std::vector<FpiRun>& runs,
                                                    const std::filesystem::path& oracle, const std::filesystem::path& out,
                                                    std::string& note, const std::string& tag,
                                                    const std::string& dialogues) {
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
  cmd += " --against " + shell_quote(oracle.string()) + " --dialogues " + dialogues + " --out " +
         shell_quote(model.string()) + " > " + shell_quote(log.string()) + " 2>&1";
  const int status = std::system(cmd.c_str());
  if (status != 0 || !std::filesystem::exists(model)) {
    note = "not measured: training failed (see " + log.string() + ")";
    return std::nullopt;
  }
  note = dialogues == "train"
             ? "trained on the train side's oracle labels (cascade isolate train --dialogues train, defaults)"
             : "trained with cascade isolate train --dialogues " + dialogues + " (defaults)";
  return model;
}

}  // namespace cascade::language::eval
