// The text tables of `cascade eval fpi` (format_text in eval/fpi.hpp).
#include "eval/fpi.hpp"

#include <cstdio>
#include <sstream>

namespace cascade::language::eval {
namespace {

const std::vector<std::string>& kClasses = cascade::failure_classes();

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string count_of(const std::map<std::string, uint64_t>& m, const std::string& c) {
  auto it = m.find(c);
  return std::to_string(it != m.end() ? it->second : 0);
}

void class_row(std::ostringstream& o, const std::string& head, const std::map<std::string, uint64_t>& counts) {
  char b[64];
  std::snprintf(b, sizeof b, "%-34s", head.c_str());
  o << b;
  uint64_t total = 0;
  for (const auto& c : kClasses) {
    std::snprintf(b, sizeof b, " %10s", count_of(counts, c).c_str());
    o << b;
    auto it = counts.find(c);
    total += it != counts.end() ? it->second : 0;
  }
  std::snprintf(b, sizeof b, " %7llu\n", static_cast<unsigned long long>(total));
  o << b;
}

void score_row(std::ostringstream& o, const std::string& name, const Scores& s) {
  char b[64];
  std::snprintf(b, sizeof b, "%-26s %8s %8s", name.c_str(), fmt("%.1f%%", s.accuracy * 100).c_str(),
                fmt("%.3f", s.macro_f1).c_str());
  o << b;
  for (const auto& c : kClasses) {
    const auto it = s.per_class.find(c);
    const bool has = it != s.per_class.end() && it->second.support > 0;
    std::snprintf(b, sizeof b, " %10s", has ? fmt("%.2f", it->second.recall).c_str() : "-");
    o << b;
  }
  o << "\n";
}

void confusion(std::ostringstream& o, const std::string& name, const Scores& s) {
  o << "\n" << name << " confusion on the test side (rows: oracle, columns: predicted)\n";
  char b[64];
  std::snprintf(b, sizeof b, "%-12s", "");
  o << b;
  for (const auto& c : s.classes) {
    std::snprintf(b, sizeof b, " %10s", c.c_str());
    o << b;
  }
  o << "\n";
  for (size_t r = 0; r < s.classes.size(); ++r) {
    std::snprintf(b, sizeof b, "%-12s", s.classes[r].c_str());
    o << b;
    for (uint64_t v : s.confusion[r]) {
      std::snprintf(b, sizeof b, " %10llu", static_cast<unsigned long long>(v));
      o << b;
    }
    o << "\n";
  }
}

// Each isolator's labels above a score (IsolatorScore::coverage): the
// share of the turns kept, the lowest score kept, and how right they are.
void coverage_rows(std::ostringstream& o, const std::string& title, const std::vector<IsolatorScore>& isolators) {
  char b[128];
  o << "\n" << title << ", keeping only the labels with a score of at least min score\n";
  std::snprintf(b, sizeof b, "%-26s %8s %10s %8s %8s\n", "isolator", "kept", "min score", "accuracy", "macro-F1");
  o << b;
  for (const auto& s : isolators)
    for (const auto& c : s.coverage) {
      std::snprintf(b, sizeof b, "%-26s %8s %10s %8s %8s\n", s.name.c_str(), fmt("%.1f%%", c.coverage * 100).c_str(),
                    fmt("%.3f", c.min_score).c_str(), fmt("%.1f%%", c.accuracy * 100).c_str(),
                    fmt("%.3f", c.macro_f1).c_str());
      o << b;
    }
}

}  // namespace

std::string format_text(const FpiReport& r) {
  std::ostringstream o;
  char b[128];
  o << "oracle class balance (turns)\n";
  std::snprintf(b, sizeof b, "%-34s", "run");
  o << b;
  for (const auto& c : kClasses) {
    std::snprintf(b, sizeof b, " %10s", c.c_str());
    o << b;
  }
  o << "   total\n";
  for (const auto& s : r.runs) class_row(o, s.run.variant.name, s.oracle);
  class_row(o, "all", r.oracle_all);
  class_row(o, "train side", r.oracle_train);
  class_row(o, "test side", r.oracle_test);
  if (!r.training_runs.empty()) {
    for (const auto& s : r.training_runs) class_row(o, s.run.variant.name + " (training only)", s.oracle);
    class_row(o, "TRAIN-fold runs (training only)", r.oracle_training);
  }
  o << "oracle: " << r.labelled << " of " << r.turns << " turns labelled, "
    << fmt("%.3f", r.labelled > 0 ? static_cast<double>(r.replays) / static_cast<double>(r.labelled) : 0.0)
    << " replays a turn; split by dialogue: " << r.train_dialogues << " train / " << r.test_dialogues
    << " test dialogues, " << r.train_turns << " / " << r.test_turns << " turns\n\n";

  o << "held-out (test side) scores against the oracle; per-class columns are recall\n";
  std::snprintf(b, sizeof b, "%-26s %8s %8s", "isolator", "accuracy", "macro-F1");
  o << b;
  for (const auto& c : kClasses) {
    std::snprintf(b, sizeof b, " %10s", c.c_str());
    o << b;
  }
  o << "\n";
  for (const auto& s : r.isolators) score_row(o, s.name, s.test);
  score_row(o, "majority (" + r.majority_class + ")", r.majority);
  score_row(o, "lowest confidence", r.lowest_confidence);
  for (const auto& s : r.isolators) confusion(o, s.name, s.test);
  coverage_rows(o, "held-out (test side)", r.isolators);
  for (const auto& [family, by_name] : r.by_family) {
    const uint64_t turns = by_name.empty() ? 0 : by_name.begin()->second.turns;
    o << "\ntest side, " << family << " runs only (" << turns << " turns)\n";
    for (const auto& [name, sc] : by_name) score_row(o, name, sc);
  }
  for (const auto& h : r.held_out_voice) {
    o << "\nheld-out voice " << h.voice << ": the test side of";
    for (const auto& run : h.test_runs) o << " " << run;
    o << " (" << h.test_turns << " turns); a model trained on the train side of the other runs\n";
    for (const auto& s : h.isolators) score_row(o, s.name, s.test);
  }
  if (r.cross_validation.folds > 0) {
    o << "\n" << r.cross_validation.folds << "-fold cross-validation by dialogue: all " << r.cross_validation.turns
      << " labelled turns, each predicted by a model trained on the other folds\n";
    for (const auto& s : r.cross_validation.isolators) score_row(o, s.name, s.test);
    for (const auto& s : r.cross_validation.isolators)
      if (s.name == "learned") confusion(o, s.name + " (cross-validated)", s.test);
    coverage_rows(o, std::to_string(r.cross_validation.folds) + "-fold cross-validation", r.cross_validation.isolators);
  }
  for (const auto& n : r.notes) o << "note: " << n << "\n";
  o << "\ntime: runs " << fmt("%.0f", r.run_seconds) << " s, oracle " << fmt("%.1f", r.oracle_seconds) << " s, total "
    << fmt("%.0f", r.total_seconds) << " s\n";
  return o.str();
}

}  // namespace language::eval
