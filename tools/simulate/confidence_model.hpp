// simulate/confidence_model.hpp — the confidence a real recogniser reports
// for a hypothesis, given how many word errors that hypothesis has.
//
// Estimated, not invented: every addressed turn of a real speech-pipeline
// trace gives a pair (word errors of the asr stage's hypothesis against the
// gold transcript, the confidence the asr stage reported: pocketsphinx's
// mean per-word lattice posterior). The pairs are split by error count into
// four buckets, 0, 1, 2 and 3 or more, and each bucket keeps the empirical
// quantiles of its confidences. A simulated turn that made e errors draws
// its confidence from bucket e by inverting that quantile function (linear
// between quantiles), so the confidence is exactly as informative about
// the errors as the real recogniser's was on the eval set: no cleaner.
//
// Lifecycle: build once (estimate_confidence / confidence_from_json), then
// only read. Threading: const methods are safe from any number of threads.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cascade::sim {

inline constexpr size_t kErrorBuckets = 4;  // 0, 1, 2, 3+ word errors
[[nodiscard]] size_t error_bucket(uint32_t errors);
[[nodiscard]] std::string bucket_name(size_t bucket);  // "0", "1", "2", "3+"

// One bucket: how many turns it was estimated from, and the confidence at
// probabilities 0, 1/(n-1), ..., 1 (nondecreasing, within [0, 1]).
struct ConfidenceDistribution {
  uint64_t turns = 0;
  std::vector<double> quantiles;

  // The confidence at probability u in [0, 1]: the inverse of the
  // empirical distribution, linear between quantiles.
  [[nodiscard]] double at(double u) const;
};

struct ConfidenceModel {
  std::array<ConfidenceDistribution, kErrorBuckets> buckets;

  // Draws the confidence of a hypothesis with `errors` word errors, u
  // uniform in [0, 1]. An empty bucket cannot be drawn from:
  // std::logic_error (confidence_from_json refuses such a model).
  [[nodiscard]] double draw(uint32_t errors, double u) const;
};

// (word errors, reported confidence) per turn -> the buckets, each with
// `quantiles` quantiles (type 7: linear between order statistics).
// Buckets no turn fell in stay empty.
[[nodiscard]] ConfidenceModel estimate_confidence(const std::vector<std::pair<uint32_t, double>>& turns,
                                                  size_t quantiles = 21);

// {"0": {"turns": N, "quantiles": [...]}, "1": ..., "2": ..., "3+": ...}
[[nodiscard]] nlohmann::json to_json(const ConfidenceModel& model);
// Throws std::invalid_argument naming the bucket that is missing, empty,
// or whose quantiles are not nondecreasing values in [0, 1].
[[nodiscard]] ConfidenceModel confidence_from_json(const nlohmann::json& j);

}  // namespace cascade::sim
