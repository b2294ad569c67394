// score_accuracy.cpp — the trainer's score table (score_accuracy.hpp).
#include "score_accuracy.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace cascade::learned {

ScoreAccuracy ScoreAccuracy::from_json(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  const auto bad = [](const std::string& why) {
    return std::runtime_error("score accuracy table: " + why +
                              " (want [{\"min_score\": ..., \"accuracy\": ..., \"coverage\": ...}, ...])");
  };
  if (!j.is_array() || j.empty()) throw bad("not a non-empty array");
  ScoreAccuracy s;
  for (const auto& row : j) {
    const auto number = [&](const char* key) {
      if (!row.is_object() || !row.contains(key) || !row[key].is_number())
        throw bad("a row has no number \"" + std::string(key) + "\": " + row.dump());
      return row[key].get<double>();
    };
    const double min_score = number("min_score"), accuracy = number("accuracy"), share = number("coverage");
    if (!std::isfinite(min_score) || !(accuracy >= 0 && accuracy <= 1) || !(share >= 0 && share <= 1))
      throw bad("a row is out of range: " + row.dump());
    s.rows_.emplace_back(min_score, accuracy);
  }
  std::sort(s.rows_.begin(), s.rows_.end());
  return s;
}

std::optional<double> ScoreAccuracy::at(double score) const {
  // The last row whose min_score is <= score.
  const auto it = std::upper_bound(rows_.begin(), rows_.end(), score,
                                   [](double s, const std::pair<double, double>& r) { return s < r.first; });
  if (it == rows_.begin()) return std::nullopt;
  return std::prev(it)->second;
}

}  // namespace cascade::learned
