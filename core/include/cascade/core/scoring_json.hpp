// cascade/core/scoring_json.hpp — the JSON shape of scoring.hpp's results,
// one for `cascade isolate --json` and `cascade eval fpi --json` alike.
// Free functions; no threads. Include only where JSON is written: it pulls
// in nlohmann/json.
#pragma once

#include <cascade/core/scoring.hpp>

#include <nlohmann/json.hpp>

#include <vector>

namespace cascade {

// {"turns", "accuracy", "macro_f1", "classes", "per_class": {class:
// {"precision", "recall", "f1", "support", "predicted"}}, "confusion"}.
nlohmann::json scores_json(const Scores& s);

// [{"min_score", "coverage", "turns", "accuracy", "macro_f1"}, ...], most
// turns first; a min_score of -infinity (every label kept, some without a
// score) is written as null.
nlohmann::json coverage_json(const std::vector<CoveragePoint>& curve);

}  // namespace cascade
