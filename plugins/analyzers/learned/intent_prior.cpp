// intent_prior.cpp — the trainer's per-intent table (intent_prior.hpp).
#include "intent_prior.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <stdexcept>

namespace cascade::learned {
namespace {

std::vector<double> row(const nlohmann::json& j, size_t classes, const std::string& what) {
  if (!j.is_array() || j.size() != classes)
    throw std::runtime_error("intent priors: " + what + " is not " + std::to_string(classes) + " numbers");
  std::vector<double> out;
  for (const auto& x : j) {
    if (!x.is_number() || !std::isfinite(x.get<double>()) || x.get<double>() < 0 || x.get<double>() > 1)
      throw std::runtime_error("intent priors: " + what + " holds a value outside [0, 1]");
    out.push_back(x.get<double>());
  }
  return out;
}

}  // namespace

IntentPrior IntentPrior::from_json(std::string_view text, size_t classes) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("global") || !j.contains("intents") || !j["intents"].is_object())
    throw std::runtime_error("intent priors: want {\"global\": [...], \"intents\": {...}}");
  IntentPrior p;
  p.global_ = row(j["global"], classes, "\"global\"");
  for (const auto& [intent, values] : j["intents"].items())
    p.by_intent_.emplace(intent, row(values, classes, "intent '" + intent + "'"));
  return p;
}

const std::vector<double>& IntentPrior::lookup(std::string_view intent) const {
  const auto it = by_intent_.find(std::string(intent));
  return it != by_intent_.end() ? it->second : global_;
}

}  // namespace cascade::learned
