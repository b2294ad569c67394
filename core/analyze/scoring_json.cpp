// scoring_json.cpp — see cascade/core/scoring_json.hpp.
#include <cascade/core/scoring_json.hpp>

namespace cascade {

nlohmann::json scores_json(const Scores& s) {
  nlohmann::json per = nlohmann::json::object();
  for (const auto& c : s.classes) {
    const ClassScore& cs = s.per_class.at(c);
    per[c] = {{"precision", cs.precision}, {"recall", cs.recall}, {"f1", cs.f1}, {"support", cs.support},
              {"predicted", cs.predicted}};
  }
  return {{"turns", s.turns},     {"accuracy", s.accuracy}, {"macro_f1", s.macro_f1},
          {"classes", s.classes}, {"per_class", per},       {"confusion", s.confusion}};
}

nlohmann::json coverage_json(const std::vector<CoveragePoint>& curve) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : curve)
    out.push_back({{"min_score", c.min_score}, {"coverage", c.coverage}, {"turns", c.turns},
                   {"accuracy", c.accuracy}, {"macro_f1", c.macro_f1}});
  return out;
}

}  // namespace cascade
