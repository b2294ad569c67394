#include "confidence_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cascade::sim {

size_t error_bucket(uint32_t errors) { return std::min<size_t>(errors, kErrorBuckets - 1); }

std::string bucket_name(size_t bucket) {
  return bucket + 1 < kErrorBuckets ? std::to_string(bucket) : std::to_string(kErrorBuckets - 1) + "+";
}

double ConfidenceDistribution::at(double u) const {
  if (quantiles.empty()) throw std::logic_error("confidence distribution: no quantiles");
  if (quantiles.size() == 1) return quantiles.front();
  const double x = std::clamp(u, 0.0, 1.0) * static_cast<double>(quantiles.size() - 1);
  const auto below = std::min(static_cast<size_t>(x), quantiles.size() - 2);
  const double t = x - static_cast<double>(below);
  return quantiles[below] + t * (quantiles[below + 1] - quantiles[below]);
}

double ConfidenceModel::draw(uint32_t errors, double u) const {
  const auto& bucket = buckets[error_bucket(errors)];
  if (bucket.turns == 0)
    throw std::logic_error("confidence model: bucket '" + bucket_name(error_bucket(errors)) + "' is empty");
  return bucket.at(u);
}

ConfidenceModel estimate_confidence(const std::vector<std::pair<uint32_t, double>>& turns, size_t quantiles) {
  if (quantiles < 2) throw std::invalid_argument("confidence model: at least 2 quantiles");
  std::array<std::vector<double>, kErrorBuckets> seen;
  for (const auto& [errors, confidence] : turns) seen[error_bucket(errors)].push_back(confidence);
  ConfidenceModel m;
  for (size_t b = 0; b < kErrorBuckets; ++b) {
    auto& values = seen[b];
    if (values.empty()) continue;
    std::sort(values.begin(), values.end());
    auto& out = m.buckets[b];
    out.turns = values.size();
    // Type 7 (R's default): the value at p is linear between the order
    // statistics around p * (n - 1); a bucket of one turn is that turn.
    for (size_t q = 0; q < quantiles; ++q) {
      const double x = static_cast<double>(q) / static_cast<double>(quantiles - 1) * static_cast<double>(values.size() - 1);
      const auto lo = static_cast<size_t>(std::floor(x));
      const size_t hi = std::min(lo + 1, values.size() - 1);
      out.quantiles.push_back(values[lo] + (x - static_cast<double>(lo)) * (values[hi] - values[lo]));
    }
  }
  return m;
}

nlohmann::json to_json(const ConfidenceModel& m) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t b = 0; b < kErrorBuckets; ++b) {
    nlohmann::json rounded = nlohmann::json::array();
    // Four decimals: the file stays readable and a draw moves by < 1e-4.
    for (const double q : m.buckets[b].quantiles) rounded.push_back(std::round(q * 1e4) / 1e4);
    j[bucket_name(b)] = {{"turns", m.buckets[b].turns}, {"quantiles", rounded}};
  }
  return j;
}

ConfidenceModel confidence_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("asr error model: 'confidence' is not an object");
  ConfidenceModel m;
  for (size_t b = 0; b < kErrorBuckets; ++b) {
    const std::string name = "confidence." + bucket_name(b);
    const auto it = j.find(bucket_name(b));
    if (it == j.end()) throw std::invalid_argument("asr error model: missing '" + name + "'");
    auto& out = m.buckets[b];
    try {
      out.turns = it->at("turns").get<uint64_t>();
      out.quantiles = it->at("quantiles").get<std::vector<double>>();
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument("asr error model: '" + name + "' needs 'turns' (a count) and 'quantiles' (numbers)");
    }
    if (out.turns == 0 || out.quantiles.empty())
      throw std::invalid_argument("asr error model: '" + name +
                                  "' was estimated from no turn (estimate from a trace with more errors)");
    for (size_t q = 0; q < out.quantiles.size(); ++q)
      if (!(out.quantiles[q] >= 0.0 && out.quantiles[q] <= 1.0) || (q > 0 && out.quantiles[q] < out.quantiles[q - 1]))
        throw std::invalid_argument("asr error model: '" + name + ".quantiles' must be nondecreasing values in [0, 1]");
  }
  return m;
}

}  // namespace cascade::sim
