// isolate_train_cv.cpp — the cross-validation step of `cascade isolate
// train` (isolate_train_cv.hpp).
#include "isolate_train_cv.hpp"

#include <cascade/core/baselines.hpp>
#include <cascade/core/scoring.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace cascade::isolate_train {

namespace {

// `v` with `digits` after the point.
std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

// One line of scores: accuracy, macro-F1 and the recall of each class.
std::string fit_line(const Fit& f) {
  std::string out = "accuracy " + fixed(f.accuracy * 100, 1) + "%, macro-F1 " + fixed(f.macro_f1, 3) + "; recall";
  for (size_t c = 0; c < failure_classes().size(); ++c)
    if (!std::isnan(f.recall[c])) out += " " + failure_classes()[c] + " " + fixed(f.recall[c], 2);
  return out;
}

Objective objective_of(const CvOptions& o) {
  return o.objective == "accuracy"   ? Objective::Accuracy
         : o.objective == "macro-f1" ? Objective::MacroF1
                                     : Objective::Mean;
}

uint32_t threads(uint32_t jobs) { return jobs == 0 ? 2 : jobs; }

// The rows the cross-validation is scored on, with their out-of-fold
// probabilities: those that are not auxiliary, or every row when all are.
struct Scored {
  std::vector<Example> rows;
  std::vector<float> oof;
};
Scored scored_rows(const std::vector<Example>& rows, const std::vector<float>& oof) {
  const size_t k = failure_classes().size();
  const bool all_auxiliary = std::all_of(rows.begin(), rows.end(), [](const Example& r) { return r.auxiliary; });
  Scored s;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].auxiliary && !all_auxiliary) continue;
    s.rows.push_back(rows[i]);
    s.oof.insert(s.oof.end(), oof.begin() + static_cast<ptrdiff_t>(i * k),
                 oof.begin() + static_cast<ptrdiff_t>((i + 1) * k));
  }
  return s;
}

void set_auxiliary_weight(std::vector<Example>& rows, float w) {
  for (auto& r : rows)
    if (r.auxiliary) r.weight = w;
}

// One candidate weight's cross-validation: the out-of-fold probabilities,
// and the scored rows' decisions under the decision weights chosen for it.
struct Candidate {
  float weight = 1;
  std::vector<float> oof;
  std::vector<int> decided;  // per scored row
  double value = 0;          // the objective
};

// The objective over the scored rows `idx` (with repeats) of decisions `d`.
double objective_over(const Scored& s, const std::vector<int>& d, const std::vector<size_t>& idx, Objective obj) {
  const auto& names = failure_classes();
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(idx.size());
  for (const size_t i : idx)
    pairs.emplace_back(names[static_cast<size_t>(s.rows[i].label)], names[static_cast<size_t>(d[i])]);
  const Scores sc = score(pairs, names);
  return objective_value(obj, sc.accuracy, sc.macro_f1);
}

// The standard deviation of (objective of `a` - objective of `b`) over
// kBootstrap resamples of the scored rows' dialogues (split keys, with
// replacement): how much of a difference the cross-validation's noise
// makes on these dialogues. Seeded: the same rows give the same number.
constexpr int kBootstrap = 200;
double bootstrap_sd(const Scored& s, const std::vector<int>& a, const std::vector<int>& b, Objective obj,
                    uint64_t seed) {
  std::map<std::string, std::vector<size_t>> by_dialogue;
  for (size_t i = 0; i < s.rows.size(); ++i) by_dialogue[std::string(split_key(s.rows[i].dialogue))].push_back(i);
  std::vector<const std::vector<size_t>*> dialogues;
  for (const auto& [d, rows] : by_dialogue) dialogues.push_back(&rows);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, dialogues.size() - 1);
  double sum = 0, sum2 = 0;
  for (int r = 0; r < kBootstrap; ++r) {
    std::vector<size_t> idx;
    for (size_t k = 0; k < dialogues.size(); ++k) {
      const auto& rows = *dialogues[pick(rng)];
      idx.insert(idx.end(), rows.begin(), rows.end());
    }
    const double d = objective_over(s, a, idx, obj) - objective_over(s, b, idx, obj);
    sum += d;
    sum2 += d * d;
  }
  const double mean = sum / kBootstrap;
  return std::sqrt(std::max(0.0, sum2 / kBootstrap - mean * mean));
}

// The auxiliary rows' weight, set on them; the out-of-fold probabilities
// at that weight when the search made them (else empty).
std::vector<float> settle_auxiliary_weight(std::vector<Example>& rows, size_t prior_column, const CvOptions& o,
                                           uint32_t jobs, std::optional<double>& chosen) {
  size_t auxiliary = 0;
  std::set<uint32_t> own_groups;
  for (const auto& r : rows) {
    if (r.auxiliary) ++auxiliary;
    else if (o.folds >= 2) own_groups.insert(dialogue_group(r.dialogue, o.folds));
  }
  if (auxiliary == 0) return {};
  std::cerr << "auxiliary rows: " << auxiliary << " of " << rows.size() << " (traces marked auxiliary: training only)";
  const auto settle = [&](float w, const std::string& why) {
    set_auxiliary_weight(rows, w);
    chosen = w;
    std::cerr << ", weight " << w << " (" << why << ")\n";
  };
  if (o.auxiliary_weight != "auto") {
    settle(std::stof(o.auxiliary_weight), "--auxiliary-weight");
    return {};
  }
  if (o.folds < 2) {
    settle(1, "no cross-validation to choose one by: --cv " + std::to_string(o.folds));
    return {};
  }
  if (own_groups.size() < 2) {
    settle(1, "the other rows fall in fewer than two dialogue groups: too few to choose a weight");
    return {};
  }
  std::cerr << "; their weight, by a cross-validation scored on the other " << rows.size() - auxiliary
            << " rows (each weight with its own decision weights):\n";
  const Objective obj = objective_of(o);
  std::vector<Candidate> tried;
  Scored scored;
  for (const float w : kAuxiliaryWeights) {
    set_auxiliary_weight(rows, w);
    Candidate c;
    c.weight = w;
    c.oof = cross_validate(rows, o.folds, o.fit, threads(jobs), prior_column);
    scored = scored_rows(rows, c.oof);
    const std::vector<double> dw = choose_decision_weights(scored.rows, scored.oof, obj);
    for (size_t i = 0; i < scored.rows.size(); ++i)
      c.decided.push_back(decide(&scored.oof[i * failure_classes().size()], dw));
    const Fit f = score_decisions(scored.rows, scored.oof, dw);
    c.value = objective_value(obj, f.accuracy, f.macro_f1);
    std::cerr << "  " << fixed(w, 2) << ": " << fit_line(f) << "\n";
    tried.push_back(std::move(c));
  }
  // The best; a weight below 1 only when it beats 1 by more than the
  // bootstrap's standard deviation of the difference (a one-standard-error
  // rule): at a few hundred turns the scores of the weights differ by
  // about that much from noise alone, and 1 keeps every auxiliary row.
  const Candidate& one = tried.front();
  size_t best = 0;
  for (size_t i = 1; i < tried.size(); ++i)
    if (tried[i].value > tried[best].value + 1e-12) best = i;
  size_t keep = 0;
  if (best != 0) {
    const double gain = tried[best].value - one.value;
    const double sd = bootstrap_sd(scored, tried[best].decided, one.decided, obj, o.fit.seed);
    std::cerr << "  " << fixed(tried[best].weight, 2) << " beats 1 by " << fixed(gain, 4)
              << " on the objective; the bootstrap over dialogues gives that difference a standard deviation of "
              << fixed(sd, 4) << (gain > sd ? ": beyond the noise\n" : ": within the noise, 1 kept\n");
    if (gain > sd) keep = best;
  }
  set_auxiliary_weight(rows, tried[keep].weight);
  chosen = tried[keep].weight;
  std::cerr << "auxiliary weight: " << *chosen << "\n";
  return std::move(tried[keep].oof);
}

}  // namespace

CrossValidated cross_validated(std::vector<Example>& rows, size_t prior_column, const CvOptions& o, uint32_t jobs) {
  CrossValidated cv;
  cv.weights.assign(failure_classes().size(), 1.0);
  std::vector<float> oof = settle_auxiliary_weight(rows, prior_column, o, jobs, cv.auxiliary_weight);
  if (o.folds == 0) return cv;
  if (oof.empty()) oof = cross_validate(rows, o.folds, o.fit, threads(jobs), prior_column);
  if (oof.empty()) {
    std::cerr << "cross-validation: skipped (the turns come from fewer than two dialogue groups); decision weights 1\n";
    return cv;
  }
  const Scored s = scored_rows(rows, oof);
  const std::vector<double> ones = cv.weights;
  cv.weights = choose_decision_weights(s.rows, s.oof, objective_of(o));
  const auto line = [&](const std::string& what, const std::vector<double>& weights) {
    std::cerr << "  " << what << ": " << fit_line(score_decisions(s.rows, s.oof, weights)) << "\n";
  };
  std::cerr << "cross-validation, " << o.folds << " folds by dialogue (each turn predicted by a model that never saw "
            << "its dialogue)" << (s.rows.size() < rows.size() ? ", scored on the rows that are not auxiliary" : "")
            << ":\n";
  line("most probable class", ones);
  line("with the decision weights (objective " + o.objective + ")", cv.weights);
  std::cerr << "  the same, keeping only the labels whose score (the label's probability) is at least:\n";
  cv.score_accuracy = score_coverage(s.rows, s.oof, cv.weights);
  for (const auto& c : cv.score_accuracy)
    std::cerr << "    " << fixed(c.min_score, 2) << ": " << fixed(c.coverage * 100, 0) << "% of the turns, accuracy "
              << fixed(c.accuracy * 100, 1) << "%\n";
  std::cerr << "decision weights:";
  for (size_t c = 0; c < failure_classes().size(); ++c) std::cerr << " " << failure_classes()[c] << " " << cv.weights[c];
  std::cerr << "\n";
  return cv;
}

}  // namespace cascade::isolate_train
