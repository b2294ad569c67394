// eval/fpi_fold_models.cpp — stage models per TRAIN fold, and scored turns
// routed to them (fpi_fold_models.hpp).
#include "eval/fpi_fold_models.hpp"

#include "eval/fpi_train_folds.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace cascade::language::eval {
namespace {

using nlohmann::json;

// Runs a build tool; its output goes to `log` (the first thing to read
// when a fold fails).
void run_tool(const std::string& cmd, const std::filesystem::path& log) {
  const std::string full = cmd + " > " + shell_quote(log.string()) + " 2>&1";
  if (std::system(full.c_str()) != 0)
    throw std::runtime_error("TRAIN-fold data: a build tool failed (see " + log.string() + "): " + cmd);
}

// Whether a --set override points a stage at a model these folds replace.
bool sets_a_model(const std::string& override_) {
  for (const char* key : {"stages.nlu.params.model=", "stages.nlu.params.slots=", "stages.er.params.catalog="})
    if (override_.starts_with(key)) return true;
  return false;
}

// The slurp_id of a parsed turn, or -1 (not a turn, or none).
long id_of(const json& t) {
  return t.is_object() && t.contains("slurp_id") && t["slurp_id"].is_number_integer() ? t["slurp_id"].get<long>() : -1;
}

}  // namespace

long slurp_id_of(const std::string& line) { return id_of(json::parse(line, nullptr, false)); }

std::set<long> slurp_ids(const std::filesystem::path& turns, bool addressed_only) {
  std::set<long> ids;
  std::ifstream in(turns);
  for (std::string line; std::getline(in, line);) {
    const json t = json::parse(line, nullptr, false);
    if (addressed_only && !(t.is_object() && t.value("addressed", false))) continue;
    if (const long id = id_of(t); id >= 0) ids.insert(id);
  }
  return ids;
}

std::vector<std::string> FoldModels::overrides(const std::string& degradation) const {
  const auto catalog = dir / (degradation.find("er-cut") != std::string::npos ? "catalog-er-cut.json" : "catalog.json");
  return {"stages.nlu.params.model=" + toml_string((dir / "nlu" / "intent.bin").string()),
          "stages.nlu.params.slots=" + toml_string((dir / "slot_lexicon.json").string()),
          "stages.er.params.catalog=" + toml_string(catalog.string())};
}

std::map<std::string, std::string> FoldModels::isolator_params() const {
  return {{"requests", (dir / "train_fasttext.txt").string()}, {"lexicon", (dir / "slot_lexicon.json").string()}};
}

std::vector<FoldModels> build_fold_models(const TrainFoldRequest& tf, const FpiDataRequest& data, std::string& note) {
  if (tf.folds < 2) {
    note = "off";
    return {};
  }
  if (!std::filesystem::is_regular_file(tf.slurp)) {
    note = "skipped (no SLURP file at " + tf.slurp.string() + ")";
    return {};
  }
  const auto data_tool = tf.tools_dir / "cascade-assistant-data";
  const auto nlu_tool = tf.tools_dir / "cascade-nlu-train";
  for (const auto& t : {data_tool, nlu_tool})
    if (!std::filesystem::exists(t)) {
      note = "skipped (" + t.filename().string() + " is not next to cascade-eval)";
      return {};
    }
  std::vector<FoldModels> out;
  for (uint32_t k = 0; k < tf.folds; ++k) {
    FoldModels m;
    m.fold = k;
    m.dir = std::filesystem::absolute(data.out_dir / "train-folds" / std::to_string(k));
    std::filesystem::create_directories(m.dir / "nlu");
    run_tool(shell_quote(data_tool.string()) + " --input " + shell_quote(tf.slurp.string()) + " --output-dir " +
                 shell_quote(m.dir.string()) + " --folds " + std::to_string(tf.folds) + " --fold " + std::to_string(k),
             m.dir / "data.log");
    run_tool(shell_quote(nlu_tool.string()) + " --input " + shell_quote((m.dir / "train_fasttext.txt").string()) +
                 " --output " + shell_quote((m.dir / "nlu" / "intent.bin").string()),
             m.dir / "nlu.log");
    write_degraded_catalog(m.dir / "catalog.json", m.dir / "catalog-er-cut.json", kCatalogCut, kCatalogSeed);
    m.requests = slurp_ids(m.dir / "eval_dialogues.jsonl", /*addressed_only=*/true);  // the fold's requests
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<FpiVariant> route_to_fold_models(const std::vector<FpiVariant>& variants,
                                             const std::vector<FoldModels>& models, const FpiDataRequest& data,
                                             std::string& note) {
  std::map<long, const FoldModels*> fold_of_request;
  for (const auto& m : models)
    for (const long id : m.requests) fold_of_request[id] = &m;
  const auto dir = std::filesystem::absolute(data.out_dir / "fold-routed");
  // A variant's turns: its own, and those of each fold; read once per
  // input file, since the variants of a grid share one.
  struct Partition {
    std::string own;
    std::map<uint32_t, std::string> by_fold;
  };
  std::map<std::filesystem::path, Partition> partitions;
  uint64_t moved = 0, runs = 0;
  std::vector<FpiVariant> out;
  for (const auto& v : variants) {
    const auto input = v.input.empty() ? data.input : v.input;
    auto [at, fresh] = partitions.try_emplace(input);
    Partition& part = at->second;
    if (fresh) {
      std::ifstream in(input);
      for (std::string line; std::getline(in, line);) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto it = fold_of_request.find(slurp_id_of(line));
        if (it == fold_of_request.end()) {
          part.own += line + "\n";
        } else {
          part.by_fold[it->second->fold] += line + "\n";
          ++moved;
        }
      }
    }
    if (part.by_fold.empty()) {
      out.push_back(v);
      continue;
    }
    std::filesystem::create_directories(dir);
    const auto write = [&](const std::string& name, const std::string& text) {
      auto path = dir / (name + ".jsonl");
      std::ofstream f(path, std::ios::trunc);
      f << text;
      f.flush();
      if (!f) throw std::runtime_error("cannot write " + path.string());
      return path;
    };
    if (!part.own.empty()) {
      FpiVariant mine = v;
      mine.input = write(v.name, part.own);
      out.push_back(std::move(mine));
    }
    for (const auto& [k, text] : part.by_fold) {
      const uint32_t fold = k;  // a lambda cannot capture a structured binding before C++20's P1091 (clang 14)
      const FoldModels& m = *std::find_if(models.begin(), models.end(), [&](const FoldModels& x) { return x.fold == fold; });
      FpiVariant f = v;
      f.name = v.name + "-fold" + std::to_string(k);
      f.condition = v.condition + ", TRAIN fold " + std::to_string(k) + " on models built without it";
      f.input = write(f.name, text);
      std::erase_if(f.overrides, sets_a_model);
      for (auto& o : m.overrides(v.degradation)) f.overrides.push_back(std::move(o));
      for (const auto& [key, value] : m.isolator_params()) f.isolator_params[key] = value;
      ++runs;
      out.push_back(std::move(f));
    }
  }
  note = moved == 0 ? "no scored turn holds a SLURP TRAIN request"
                    : std::to_string(moved) + " scored turns hold SLURP TRAIN requests: " + std::to_string(runs) +
                          " runs take them on the models of their fold (built without it), not the shipped ones";
  return out;
}

}  // namespace cascade::language::eval
