// eval/fpi_train_folds.cpp — the TRAIN-fold runs of `cascade eval fpi`
// (fpi_train_folds.hpp).
#include "eval/fpi_train_folds.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace cascade::language::eval {
namespace {

// Runs a build tool; its output goes to `log` (the first thing to read
// when a fold fails).
void run_tool(const std::string& cmd, const std::filesystem::path& log) {
  const std::string full = cmd + " > " + shell_quote(log.string()) + " 2>&1";
  if (std::system(full.c_str()) != 0)
    throw std::runtime_error("TRAIN-fold data: a build tool failed (see " + log.string() + "): " + cmd);
}

}  // namespace

std::vector<FpiVariant> plan_train_folds(const TrainFoldRequest& tf, const FpiDataRequest& data, std::string& note) {
  if (tf.folds < 2) {
    note = "TRAIN-fold runs: off";
    return {};
  }
  if (data.text_pipeline.empty()) {
    note = "TRAIN-fold runs: skipped (they run the text pipeline, and there is none)";
    return {};
  }
  if (!std::filesystem::is_regular_file(tf.slurp)) {
    note = "TRAIN-fold runs: skipped (no SLURP file at " + tf.slurp.string() + ")";
    return {};
  }
  const auto data_tool = tf.tools_dir / "cascade-assistant-data";
  const auto nlu_tool = tf.tools_dir / "cascade-nlu-train";
  for (const auto& t : {data_tool, nlu_tool})
    if (!std::filesystem::exists(t)) {
      note = "TRAIN-fold runs: skipped (" + t.filename().string() + " is not next to cascade-eval)";
      return {};
    }

  const bool small = data.size == "small";
  const uint32_t used = small ? 2 : tf.folds;
  std::vector<FpiVariant> out;
  for (uint32_t k = 0; k < used; ++k) {
    const auto dir = std::filesystem::absolute(data.out_dir / "train-folds" / std::to_string(k));
    std::filesystem::create_directories(dir / "nlu");
    run_tool(shell_quote(data_tool.string()) + " --input " + shell_quote(tf.slurp.string()) + " --output-dir " +
                 shell_quote(dir.string()) + " --folds " + std::to_string(tf.folds) + " --fold " + std::to_string(k),
             dir / "data.log");
    run_tool(shell_quote(nlu_tool.string()) + " --input " + shell_quote((dir / "train_fasttext.txt").string()) +
                 " --output " + shell_quote((dir / "nlu" / "intent.bin").string()),
             dir / "nlu.log");
    write_degraded_catalog(dir / "catalog.json", dir / "catalog-er-cut.json", kCatalogCut, kCatalogSeed);

    auto variant = [&](const std::string& degradation) {
      FpiVariant v;
      v.name = "fold" + std::to_string(k) + "-text" + (degradation.empty() ? "" : "-" + degradation);
      v.condition = "TRAIN fold " + std::to_string(k) + ", text pipeline" + (degradation.empty() ? "" : ", " + degradation);
      v.degradation = degradation;
      v.family = "text";
      v.pipeline = data.text_pipeline;
      v.input = dir / (small ? "eval_dialogues_small.jsonl" : "eval_dialogues.jsonl");
      v.train_only = true;
      const auto catalog = dir / (degradation == "er-cut" ? "catalog-er-cut.json" : "catalog.json");
      v.overrides = {"trace.audio=\"hash\"",
                     "stages.nlu.params.model=" + toml_string((dir / "nlu" / "intent.bin").string()),
                     "stages.nlu.params.slots=" + toml_string((dir / "slot_lexicon.json").string()),
                     "stages.er.params.catalog=" + toml_string(catalog.string())};
      if (degradation == "broken-skill")
        v.overrides.push_back(std::string("stages.result.params.broken_skill=") + toml_string(kBrokenSkills));
      v.isolator_params = {{"requests", (dir / "train_fasttext.txt").string()}};
      out.push_back(std::move(v));
    };
    variant("");
    if (!small) {
      variant("er-cut");
      variant("broken-skill");
    }
  }
  note = "TRAIN-fold runs: " + std::to_string(out.size()) + " text runs of SLURP TRAIN requests (" +
         std::to_string(used) + " of " + std::to_string(tf.folds) +
         " folds), each with an NLU, slot lexicon and catalogue built without its fold; training data only";
  return out;
}

}  // namespace cascade::language::eval
