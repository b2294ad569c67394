#include "eval/fpi.hpp"
#include "eval/fpi_isolators.hpp"
#include "eval/fpi_live.hpp"
#include "eval/fpi_recorded.hpp"

#include <cascade/core/analysis_file.hpp>
#include <cascade/core/analyze.hpp>
#include <cascade/core/config.hpp>
#include <cascade/core/diagnostic.hpp>
#include <cascade/core/run.hpp>
#include <cascade/core/scoring_json.hpp>
#include <cascade/trace/reader.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>

namespace cascade::language::eval {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::vector<std::string>& kClasses = cascade::failure_classes();

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A failure-point isolator labels turns with the oracle's classes only
// (other analyzers, e.g. implicit feedback, say other things).
bool labels_failure_points(const LoadedPlugin& p) {
  if (p.info.labels.empty()) return false;
  for (const auto& l : p.info.labels)
    if (std::find(kClasses.begin(), kClasses.end(), l) == kClasses.end()) return false;
  return true;
}

std::vector<const LoadedPlugin*> isolator_plugins(const PluginRegistry& reg, const std::vector<std::string>& names) {
  std::vector<const LoadedPlugin*> out;
  if (names.empty()) {
    for (const LoadedPlugin* p : reg.all())
      if (p->info.kind == CASCADE_KIND_ANALYZER && p->info.name != "oracle" && labels_failure_points(*p))
        out.push_back(p);
    return out;
  }
  for (const auto& n : names) {
    const LoadedPlugin* p = reg.find(n);
    if (p == nullptr || p->info.kind != CASCADE_KIND_ANALYZER)
      throw CascadeError("N001", "no analyzer plugin '" + n + "' on the search path");
    out.push_back(p);
  }
  return out;
}

// An isolator that must be trained first: a "model" parameter with no
// default (the `learned` plugin).
bool needs_model(const LoadedPlugin& p) {
  for (const auto& param : p.info.params)
    if (param.name == "model" && param.default_value.empty()) return true;
  return false;
}

// Step 5 for one voice: the test side of the voice's runs, an isolator
// that learns trained on the train side of every other run.
HeldOutVoice held_out_voice(const std::string& voice, const std::vector<FpiRun>& runs,
                            const std::vector<FpiRun>& training_runs,
                            const std::vector<std::map<uint64_t, TurnLabels>>& rows_by_run,
                            const std::vector<std::string>& isolators, const std::set<std::string>& trained,
                            const std::filesystem::path& oracle_train, const FpiRequest& rq) {
  HeldOutVoice h;
  h.voice = voice;
  std::vector<FpiRun> train_runs;
  std::vector<size_t> test_runs;
  for (size_t ri = 0; ri < runs.size(); ++ri) {
    if (runs[ri].variant.voice == voice) {
      test_runs.push_back(ri);
      h.test_runs.push_back(runs[ri].variant.name);
    } else {
      train_runs.push_back(runs[ri]);
      h.train_runs.push_back(runs[ri].variant.name);
    }
  }
  // The TRAIN-fold runs too, but not those whose recogniser channel was
  // estimated from speech runs of every voice, the held-out one included.
  for (const auto& r : training_runs)
    if (r.variant.family != "recorded") train_runs.push_back(r);
  PluginRegistry registry;
  registry.scan(PluginRegistry::search_path({}));
  for (const auto& name : isolators) {
    IsolatorScore s;
    s.name = name;
    // Labels per test run: a model trained without the voice, or the
    // shipped isolator's labels from step 2.
    std::vector<std::map<uint64_t, std::string>> labels(runs.size());
    if (trained.contains(name)) {
      const auto model =
          train_isolator(*registry.find(name), train_runs, oracle_train, rq.data.out_dir, s.note, "-without-" + voice);
      if (!model) continue;
      s.note = "trained on the train side of the runs without voice " + voice;
      for (const size_t ri : test_runs)
        labels[ri] = run_isolator(*registry.find(name), runs[ri].variant, trace::read_turns(runs[ri].trace),
                                  rq.jobs, {{"model", model->string()}}, s);
    } else {
      s.note = "used as shipped";
      for (const size_t ri : test_runs)
        for (const auto& [seq, row] : rows_by_run[ri]) labels[ri][seq] = row.isolators.at(name);
    }
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const size_t ri : test_runs)
      for (const auto& [seq, row] : rows_by_run[ri]) {
        if (row.side != "test") continue;
        const auto l = labels[ri].find(seq);
        pairs.emplace_back(row.oracle, l != labels[ri].end() && !l->second.empty() ? l->second : "(none)");
      }
    h.test_turns = pairs.size();
    s.test = score(pairs, kClasses);
    h.isolators.push_back(std::move(s));
  }
  return h;
}

}  // namespace

FpiReport run_fpi(const FpiRequest& rq) {
  const auto t0 = Clock::now();
  FpiReport rep;
  rep.size = rq.data.size;
  // 1. The traces: the stage models of each TRAIN fold, the scored runs
  // (their turns of TRAIN requests on those models), then the TRAIN-fold runs.
  const auto t_runs = Clock::now();
  const auto planned = plan_variants(rq.data);  // first: it refuses a bad size
  std::string models_note, routed_note;
  const std::vector<FoldModels> fold_models = build_fold_models(rq.train_folds, rq.data, models_note);
  const auto variants = route_to_fold_models(planned, fold_models, rq.data, routed_note);
  if (!fold_models.empty()) rep.notes.push_back("scored turns: " + routed_note);
  std::vector<FpiRun> runs = run_variants(variants, rq.data);
  std::string recorded_note;
  for (auto& r : run_variants(plan_recorded(runs, rq.data, rq.data.recorded_pipeline, recorded_note), rq.data))
    runs.push_back(std::move(r));
  rep.notes.push_back(recorded_note);
  std::string live_note;
  for (auto& r : run_variants(plan_live(scored_live_sources(runs, rq.data.size), rq.data, live_note), rq.data))
    runs.push_back(std::move(r));
  rep.notes.push_back(live_note);
  std::string folds_note;
  const std::vector<FpiRun> training_runs =
      run_variants(plan_train_folds(rq.train_folds, rq.data, fold_models, runs, folds_note), rq.data);
  rep.notes.push_back(fold_models.empty() ? "TRAIN-fold runs: " + models_note : folds_note);
  rep.run_seconds = since(t_runs);

  // 2. The oracle, the baseline and the isolators that need no training,
  // trace by trace (one trace in memory at a time).
  std::vector<std::map<uint64_t, TurnLabels>> rows_by_run(runs.size());
  std::map<std::string, std::set<std::string>> dialogues;  // side -> dialogue ids
  std::map<std::string, IsolatorScore> iso;
  std::set<std::string> to_train;
  AnalysisFile oracle_file;
  for (size_t ri = 0; ri < runs.size() + training_runs.size(); ++ri) {
    const bool training = ri >= runs.size();
    const FpiRun& run = training ? training_runs[ri - runs.size()] : runs[ri];
    LoadedPipeline vp = load_variant(run.variant);
    const trace::TraceData data = trace::read_turns(run.trace);
    for (const auto& d : data.damage) std::cerr << "warning: " << d.format() << "\n";

    AnalysisOptions oo;
    oo.jobs = rq.jobs;
    oo.replay_plan = &vp.plan;
    const LoadedPlugin* oracle_plugin = vp.registry->find("oracle");
    if (oracle_plugin == nullptr) throw CascadeError("N001", "no analyzer plugin 'oracle' on the search path");
    AnalyzerHost oracle(*oracle_plugin, oo);
    AnalysisResult oracle_result = oracle.run(data);
    rep.oracle_seconds += oracle_result.seconds;
    const auto oracle_labels = labels_of(oracle_result);
    oracle_file.header.analyzer = oracle_plugin->info.name;
    oracle_file.header.analyzer_version = oracle_plugin->info.version;
    oracle_file.header.labels = oracle_plugin->info.labels;
    oracle_file.header.traces.push_back(run.trace.string());
    oracle_file.header.turns += oracle_result.verdicts.size();
    oracle_file.header.replays += oracle_result.replays;
    oracle_file.header.seconds += oracle_result.seconds;
    for (auto& v : oracle_result.verdicts) oracle_file.lines.push_back({run.trace.string(), std::move(v)});

    FpiRunSummary sum;
    sum.run = run;
    sum.replays = oracle_result.replays;
    if (training) {  // labels to train on, nothing to score
      for (const auto& [seq, label] : oracle_labels)
        if (!label.empty()) {
          ++sum.oracle[label];
          ++rep.oracle_training[label];
        }
      if (rq.data.progress)
        std::cerr << "fpi: " << run.variant.name << ": " << sum.run.run.turns << " turns (training only), oracle "
                  << oracle_result.replays << " replays\n";
      rep.training_runs.push_back(std::move(sum));
      continue;
    }

    std::map<std::string, std::map<uint64_t, std::string>> iso_labels;
    std::map<std::string, std::map<uint64_t, double>> iso_scores;
    for (const LoadedPlugin* p : isolator_plugins(*vp.registry, rq.isolators)) {
      if (needs_model(*p)) {
        to_train.insert(p->info.name);
        continue;
      }
      iso_labels[p->info.name] =
          run_isolator(*p, run.variant, data, rq.jobs, {}, iso[p->info.name], &iso_scores[p->info.name]);
    }

    rep.replays += oracle_result.replays;
    for (const auto& t : data.turns) {
      if (!t.record) continue;
      TurnLabels row;
      row.dialogue_id = t.id.dialogue_id;
      row.side = split_side(t.id.dialogue_id);
      row.family = run.variant.family;
      dialogues[row.side].insert(t.id.dialogue_id);
      auto o = oracle_labels.find(t.id.turn_seq);
      row.oracle = o != oracle_labels.end() ? o->second : "";
      row.lowest = lowest_confidence_label(t);
      for (const auto& [name, labels] : iso_labels) {
        auto l = labels.find(t.id.turn_seq);
        row.isolators[name] = l != labels.end() ? l->second : "";
        row.scores[name] = score_at(iso_scores[name], t.id.turn_seq);
      }
      ++rep.turns;
      if (row.oracle.empty()) {
        ++rep.unlabelled;
        continue;
      }
      ++rep.labelled;
      ++sum.oracle[row.oracle];
      ++rep.oracle_all[row.oracle];
      ++(row.side == "test" ? rep.oracle_test : rep.oracle_train)[row.oracle];
      rows_by_run[ri][t.id.turn_seq] = std::move(row);
    }
    if (rq.data.progress)
      std::cerr << "fpi: " << run.variant.name << ": " << sum.run.run.turns << " turns, oracle " << oracle_result.replays
                << " replays\n";
    rep.runs.push_back(std::move(sum));
  }
  const std::filesystem::path oracle_path = rq.data.out_dir / "oracle.jsonl";
  {
    std::ofstream f(oracle_path);
    write_analysis(f, oracle_file);
    f.flush();
    if (!f) throw CascadeError("N013", "cannot write the oracle's analysis file", oracle_path.string());
  }

  // 2b. Isolators that learn: trained on the train side's oracle labels and
  // the TRAIN-fold runs' (OUT/oracle-train.jsonl), then run over every
  // scored trace.
  const std::filesystem::path oracle_train =
      write_oracle_subset(oracle_file, rq.data.out_dir / "oracle-train.jsonl", [&](const AnalysisLine& line) {
        return is_training_line(line, training_runs) || split_side(line.verdict.dialogue_id) == "train";
      });
  std::vector<FpiRun> train_on = runs;
  train_on.insert(train_on.end(), training_runs.begin(), training_runs.end());
  if (!to_train.empty()) {
    PluginRegistry registry;
    registry.scan(PluginRegistry::search_path({}));
    for (const auto& name : to_train) {
      std::string note;
      const auto model = train_isolator(*registry.find(name), train_on, oracle_train, rq.data.out_dir, note);
      IsolatorScore& s = iso[name];
      s.note = note;
      rep.notes.push_back(name + ": " + note);  // how it was trained (the TRAIN-fold runs' weight), or why not
      if (!model) {
        iso.erase(name);
        continue;
      }
      for (size_t ri = 0; ri < runs.size(); ++ri) {
        const trace::TraceData data = trace::read_turns(runs[ri].trace);
        std::map<uint64_t, double> scores;
        const auto labels = run_isolator(*registry.find(name), runs[ri].variant, data, rq.jobs,
                                         {{"model", model->string()}}, s, &scores);
        for (auto& [seq, row] : rows_by_run[ri]) {
          auto l = labels.find(seq);
          row.isolators[name] = l != labels.end() ? l->second : "";
          row.scores[name] = score_at(scores, seq);
        }
        const LoadedPlugin& plugin = *registry.find(name);
        for (const Ablation& ab : ablations()) {
          const bool declared = std::any_of(plugin.info.params.begin(), plugin.info.params.end(),
                                            [&](const auto& p) { return p.name == ab.param; });
          if (!declared || !ab.applies(runs[ri].variant)) continue;
          IsolatorScore unread;
          const auto blind = run_isolator(plugin, runs[ri].variant, data, rq.jobs,
                                          {{"model", model->string()}, {ab.param, ab.value}}, unread);
          for (auto& [seq, row] : rows_by_run[ri]) {
            auto l = blind.find(seq);
            row.ablated[name + ", " + ab.name] = l != blind.end() ? l->second : "";
          }
        }
      }
    }
  }
  // 5. Held-out voice (before the rows are pooled: it reads them per run).
  std::set<std::string> voices;
  for (const auto& run : runs)
    if (!run.variant.voice.empty()) voices.insert(run.variant.voice);
  if (voices.size() >= 2) {
    std::vector<std::string> names;
    for (const auto& [name, s] : iso) names.push_back(name);
    for (const auto& voice : voices)
      rep.held_out_voice.push_back(
          held_out_voice(voice, runs, training_runs, rows_by_run, names, to_train, oracle_train, rq));
  } else {
    rep.notes.push_back("held-out voice: not measured (the runs have fewer than two voices)");
  }
  // 6. Cross-validation by dialogue.
  if (rq.folds >= 2) {
    std::vector<std::string> names;
    for (const auto& [name, s] : iso) names.push_back(name);
    rep.cross_validation = cross_validate(rq.folds, runs, training_runs, rows_by_run, oracle_file, names, to_train, rq);
  }

  std::vector<TurnLabels> rows;
  for (auto& by_seq : rows_by_run)
    for (auto& [seq, row] : by_seq) rows.push_back(std::move(row));
  std::set<std::string> isolator_names;
  for (const auto& [name, s] : iso) isolator_names.insert(name);

  // 3. The split: dialogue ids are the same under every condition.
  rep.train_dialogues = dialogues["train"].size();
  rep.test_dialogues = dialogues["test"].size();

  // 4. Scores on the test side; the majority class from the train side.
  for (const auto& [c, n] : rep.oracle_train)
    if (rep.majority_class.empty() || n > rep.oracle_train[rep.majority_class]) rep.majority_class = c;
  if (rep.majority_class.empty()) rep.majority_class = "correct";
  std::vector<std::pair<std::string, std::string>> majority, lowest;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> pairs;
  std::map<std::string, std::vector<ScoredLabel>> by_score;
  std::map<std::string, std::map<std::string, std::vector<std::pair<std::string, std::string>>>> family_pairs;
  for (const auto& row : rows) {
    if (row.side != "test") {
      ++rep.train_turns;
      continue;
    }
    ++rep.test_turns;
    majority.emplace_back(row.oracle, rep.majority_class);
    lowest.emplace_back(row.oracle, row.lowest);
    family_pairs[row.family]["lowest confidence"].emplace_back(row.oracle, row.lowest);
    for (const auto& [name, label] : row.isolators) {
      pairs[name].emplace_back(row.oracle, label.empty() ? std::string("(none)") : label);
      by_score[name].push_back({pairs[name].back().first, pairs[name].back().second, score_at(row.scores, name)});
      family_pairs[row.family][name].emplace_back(row.oracle, label.empty() ? std::string("(none)") : label);
      if (label.empty()) ++iso[name].unlabelled;
    }
    for (const auto& [name, label] : row.ablated)
      family_pairs[row.family][name].emplace_back(row.oracle, label.empty() ? std::string("(none)") : label);
  }
  for (const auto& [family, by_name] : family_pairs)
    for (const auto& [name, p] : by_name) rep.by_family[family][name] = score(p, kClasses);
  rep.majority = score(majority, kClasses);
  rep.lowest_confidence = score(lowest, kClasses);
  for (const auto& name : isolator_names) {
    IsolatorScore s = iso[name];
    s.test = score(pairs[name], kClasses);
    s.coverage = coverage_of(by_score[name]);
    if (s.note.empty()) s.note = "used as shipped: nothing is trained on the train side";
    rep.isolators.push_back(std::move(s));
  }
  if (isolator_names.empty()) rep.notes.push_back("no isolator plugin besides the oracle was found");
  rep.total_seconds = since(t0);
  return rep;
}

json to_json(const FpiReport& r) {
  json iso = json::object();
  const json baselines = {{"majority", scores_json(r.majority)}, {"majority_class", r.majority_class},
                          {"lowest_confidence", scores_json(r.lowest_confidence)}};
  for (const auto& s : r.isolators) {
    json j = scores_json(s.test);
    j["coverage"] = coverage_json(s.coverage);
    j["version"] = s.version;
    j["unlabelled"] = s.unlabelled;
    j["seconds"] = s.seconds;
    j["note"] = s.note;
    j["baselines"] = baselines;
    iso[s.name] = std::move(j);
  }
  const auto runs_json = [](const std::vector<FpiRunSummary>& summaries) {
    json runs = json::array();
    for (const auto& s : summaries)
      runs.push_back({{"variant", s.run.variant.name},
                      {"condition", s.run.variant.condition},
                      {"voice", s.run.variant.voice},
                      {"family", s.run.variant.family},
                      {"degradation", s.run.variant.degradation},
                      {"trace", s.run.trace.string()},
                      {"turns", s.run.run.turns},
                      {"failed", s.run.run.failed},
                      {"seconds", s.run.run.seconds},
                      {"oracle", s.oracle},
                      {"replays", s.replays}});
    return runs;
  };
  json by_family = json::object();
  for (const auto& [family, by_name] : r.by_family)
    for (const auto& [name, sc] : by_name) by_family[family][name] = scores_json(sc);
  json held_out = json::array();
  for (const auto& h : r.held_out_voice) {
    json by_isolator = json::object();
    for (const auto& s : h.isolators) {
      by_isolator[s.name] = scores_json(s.test);
      by_isolator[s.name]["note"] = s.note;
    }
    held_out.push_back({{"voice", h.voice},
                        {"train_runs", h.train_runs},
                        {"test_runs", h.test_runs},
                        {"test_turns", h.test_turns},
                        {"isolators", by_isolator}});
  }
  json cross_validation = nullptr;
  if (r.cross_validation.folds > 0) {
    json by_isolator = json::object();
    for (const auto& s : r.cross_validation.isolators) {
      by_isolator[s.name] = scores_json(s.test);
      by_isolator[s.name]["coverage"] = coverage_json(s.coverage);
      by_isolator[s.name]["note"] = s.note;
    }
    cross_validation = {{"folds", r.cross_validation.folds},
                        {"rule", "FNV-1a 64 of dialogue_id modulo folds"},
                        {"turns", r.cross_validation.turns},
                        {"isolators", by_isolator}};
  }
  const double per_turn = r.labelled > 0 ? static_cast<double>(r.replays) / static_cast<double>(r.labelled) : 0.0;
  json out = {{"size", r.size},
              {"isolators", iso},
              {"baselines", baselines},
              {"oracle",
               {{"class_balance",
                 {{"all", r.oracle_all},
                  {"train", r.oracle_train},
                  {"test", r.oracle_test},
                  {"training_runs", r.oracle_training}}},
                {"turns", r.turns},
                {"labelled", r.labelled},
                {"unlabelled", r.unlabelled},
                {"replays", r.replays},
                {"replays_per_turn", per_turn},
                {"seconds", r.oracle_seconds}}},
              {"split",
               {{"rule", "FNV-1a 64 of dialogue_id: odd -> test, even -> train"},
                {"train_dialogues", r.train_dialogues},
                {"test_dialogues", r.test_dialogues},
                {"train_turns", r.train_turns},
                {"test_turns", r.test_turns}}},
              {"runs", runs_json(r.runs)},
              {"training_runs", runs_json(r.training_runs)},
              {"by_family", by_family},
              {"held_out_voice", held_out},
              {"cross_validation", cross_validation},
              {"timings", {{"runs_seconds", r.run_seconds}, {"oracle_seconds", r.oracle_seconds},
                           {"total_seconds", r.total_seconds}}},
              {"notes", r.notes}};
  // The first isolator's scores at the top, so `jq .accuracy` answers.
  if (!r.isolators.empty()) {
    const json& first = iso[r.isolators.front().name];
    out["isolator"] = r.isolators.front().name;
    for (const char* k : {"accuracy", "macro_f1", "per_class", "confusion", "classes"}) out[k] = first[k];
  }
  return out;
}

}  // namespace cascade::language::eval
