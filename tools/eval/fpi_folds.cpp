// eval/fpi_folds.cpp — step 6 of `cascade eval fpi`: K-fold
// cross-validation by dialogue (fpi_isolators.hpp). One split by dialogue
// leaves a few dozen `er` and `result` turns on its test side, so a change
// worth a point or two is lost in the noise; here every labelled turn is
// predicted once, by a model that never saw its dialogue (under any
// condition or voice: a dialogue is in one fold everywhere).
#include "eval/fpi_isolators.hpp"

#include <cascade/core/analysis_file.hpp>
#include <cascade/core/baselines.hpp>
#include <cascade/core/diagnostic.hpp>


namespace cascade::language::eval {
namespace {
const std::vector<std::string>& kClasses = cascade::failure_classes();
}  // namespace

uint32_t fold_of(std::string_view dialogue_id, uint32_t folds) {
  return static_cast<uint32_t>(cascade::fnv1a(split_key(dialogue_id)) % folds);  // the hash split_side() takes
}

CrossValidation cross_validate(uint32_t folds, const std::vector<FpiRun>& runs,
                               const std::vector<FpiRun>& training_runs,
                               const std::vector<std::map<uint64_t, TurnLabels>>& rows_by_run,
                               const AnalysisFile& oracle, const std::vector<std::string>& isolators,
                               const std::set<std::string>& trained, const FpiRequest& rq) {
  CrossValidation cv;
  cv.folds = folds;
  for (const auto& by_seq : rows_by_run) cv.turns += by_seq.size();

  // The oracle's labels of every fold but k (and of the TRAIN-fold runs):
  // what fold k's model learns from.
  std::vector<std::filesystem::path> oracle_without(folds);
  for (uint32_t k = 0; k < folds; ++k)
    oracle_without[k] = write_oracle_subset(
        oracle, rq.data.out_dir / ("oracle-fold-" + std::to_string(k) + ".jsonl"), [&](const AnalysisLine& line) {
          return is_training_line(line, training_runs) || fold_of(line.verdict.dialogue_id, folds) != k;
        });
  std::vector<FpiRun> train_on = runs;
  train_on.insert(train_on.end(), training_runs.begin(), training_runs.end());

  PluginRegistry registry;
  registry.scan(PluginRegistry::search_path({}));
  for (const auto& name : isolators) {
    IsolatorScore s;
    s.name = name;
    std::vector<std::pair<std::string, std::string>> pairs;
    std::vector<ScoredLabel> by_score;
    const auto add = [&](const TurnLabels& row, const std::string& label, double score) {
      pairs.emplace_back(row.oracle, label.empty() ? std::string("(none)") : label);
      by_score.push_back({pairs.back().first, pairs.back().second, score});
    };
    if (!trained.contains(name)) {
      s.note = "used as shipped";
      for (const auto& by_seq : rows_by_run)
        for (const auto& [seq, row] : by_seq) add(row, row.isolators.at(name), score_at(row.scores, name));
    } else {
      bool failed = false;
      for (uint32_t k = 0; k < folds && !failed; ++k) {
        const auto model =
            train_isolator(*registry.find(name), train_on, oracle_without[k], rq.data.out_dir, s.note,
                           "-fold-" + std::to_string(k), "all");
        if (!model) {
          failed = true;
          break;
        }
        for (size_t ri = 0; ri < runs.size(); ++ri) {
          std::map<uint64_t, double> scores;
          const auto labels = run_isolator(*registry.find(name), runs[ri].variant, trace::read_turns(runs[ri].trace),
                                           rq.jobs, {{"model", model->string()}}, s, &scores);
          for (const auto& [seq, row] : rows_by_run[ri]) {
            if (fold_of(row.dialogue_id, folds) != k) continue;
            const auto l = labels.find(seq);
            add(row, l != labels.end() ? l->second : "", score_at(scores, seq));
          }
        }
      }
      if (failed) continue;
      s.note = "each fold predicted by a model trained on the other " + std::to_string(folds - 1) + " folds" +
               (training_runs.empty() ? "" : " and the TRAIN-fold runs") + " (cascade isolate train, defaults)";
    }
    s.test = score(pairs, kClasses);
    s.coverage = coverage_of(by_score);
    cv.isolators.push_back(std::move(s));
  }
  return cv;
}

}  // namespace cascade::language::eval
