#include "error_model.hpp"

#include "text/text.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace cascade::sim {

namespace {

using language::levenshtein;
using language::stable_hash;
using language::tokenize;

enum class Op { Match, Sub, Del, Ins };

// Minimum-edit alignment of two word sequences. Among alignments with the
// fewest edits, substitutions of similar words win (a hundredth of a point
// per word at most, so the edit count is never traded): "prepare coffee
// please" / "prepare toffee" is coffee->toffee and a deletion, not a
// deletion and please->toffee.
std::vector<std::pair<Op, std::pair<size_t, size_t>>> align(const std::vector<std::string>& hyp,
                                                            const std::vector<std::string>& ref) {
  const size_t n = ref.size(), m = hyp.size();
  auto sub = [&](size_t i, size_t j) {
    return ref[i] == hyp[j] ? 0.0 : 1.0 + 0.01 * (1.0 - language::char_similarity(ref[i], hyp[j]));
  };
  std::vector<std::vector<double>> d(n + 1, std::vector<double>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<double>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<double>(j);
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j)
      d[i][j] = std::min({d[i - 1][j - 1] + sub(i - 1, j - 1), d[i - 1][j] + 1, d[i][j - 1] + 1});
  std::vector<std::pair<Op, std::pair<size_t, size_t>>> ops;
  size_t i = n, j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + sub(i - 1, j - 1)) {
      ops.push_back({ref[i - 1] == hyp[j - 1] ? Op::Match : Op::Sub, {i - 1, j - 1}});
      --i, --j;
    } else if (i > 0 && d[i][j] == d[i - 1][j] + 1) {
      ops.push_back({Op::Del, {i - 1, 0}});
      --i;
    } else {
      ops.push_back({Op::Ins, {0, j - 1}});
      --j;
    }
  }
  std::reverse(ops.begin(), ops.end());
  return ops;
}

template <class T>
T get(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) throw std::invalid_argument(std::string("asr error model: missing '") + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(std::string("asr error model: '") + key + "' has the wrong type");
  }
}

}  // namespace

uint32_t word_errors(const std::string& heard, const std::string& said) {
  uint32_t errors = 0;
  for (const auto& [op, at] : align(tokenize(heard), tokenize(said))) errors += op == Op::Match ? 0 : 1;
  return errors;
}

AsrErrorModel estimate(const std::vector<AsrTurn>& turns, const std::string& snr) {
  AsrErrorModel m;
  std::vector<std::pair<uint32_t, double>> confidences;
  for (const auto& turn : turns) {
    const auto hyp = tokenize(turn.heard), ref = tokenize(turn.said);
    m.reference_words += ref.size();
    uint32_t errors = 0;
    for (const auto& [op, at] : align(hyp, ref)) {
      switch (op) {
        case Op::Match: continue;
        case Op::Sub:
          ++m.substitutions;
          ++m.confusions[ref[at.first]][hyp[at.second]];
          break;
        case Op::Del: ++m.deletions; break;
        case Op::Ins:
          ++m.insertions;
          ++m.inserted[hyp[at.second]];
          break;
      }
      ++errors;
    }
    if (turn.has_confidence) confidences.emplace_back(errors, turn.confidence);
  }
  m.confidence[snr] = estimate_confidence(confidences);
  return m;
}

nlohmann::json to_json(const AsrErrorModel& m) {
  nlohmann::json confidence = nlohmann::json::object();
  for (const auto& [snr, model] : m.confidence) confidence[snr] = to_json(model);
  return {{"cascade_asr_error_model", kAsrErrorModelVersion},
          {"source", m.source},
          {"condition", m.condition},
          {"reference_words", m.reference_words},
          {"substitutions", m.substitutions},
          {"deletions", m.deletions},
          {"insertions", m.insertions},
          {"voice_factor", m.voice_factor},
          {"snr_factor", m.snr_factor},
          {"confusions", m.confusions},
          {"inserted", m.inserted},
          {"confidence", confidence}};
}

AsrErrorModel model_from_json(const nlohmann::json& j) {
  if (const int version = get<int>(j, "cascade_asr_error_model"); version != kAsrErrorModelVersion)
    throw std::invalid_argument("asr error model version " + std::to_string(version) + ", this reader reads version " +
                                std::to_string(kAsrErrorModelVersion) +
                                (version == 1 ? " (version 1 has no estimated confidence: re-estimate it with "
                                                "`cascade simulate --learn-asr`, tools/simulate/README.md)"
                                              : ""));
  AsrErrorModel m;
  m.source = get<std::string>(j, "source");
  m.condition = get<std::string>(j, "condition");
  m.reference_words = get<uint64_t>(j, "reference_words");
  m.substitutions = get<uint64_t>(j, "substitutions");
  m.deletions = get<uint64_t>(j, "deletions");
  m.insertions = get<uint64_t>(j, "insertions");
  m.voice_factor = get<std::map<std::string, double>>(j, "voice_factor");
  m.snr_factor = get<std::map<std::string, double>>(j, "snr_factor");
  m.confusions = get<std::map<std::string, std::map<std::string, uint64_t>>>(j, "confusions");
  m.inserted = get<std::map<std::string, uint64_t>>(j, "inserted");
  const auto confidences = get<nlohmann::json>(j, "confidence");
  if (!confidences.is_object()) throw std::invalid_argument("asr error model: 'confidence' is not an object");
  for (const auto& [snr, confidence] : confidences.items()) {
    try {
      m.confidence[snr] = confidence_from_json(confidence);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string(e.what()) + " (noise '" + snr + "')");
    }
  }
  for (const auto& [snr, factor] : m.snr_factor)
    if (!m.confidence.contains(snr))
      throw std::invalid_argument("asr error model: 'confidence' has no model for noise '" + snr + "'");
  if (m.reference_words == 0) throw std::invalid_argument("asr error model: 'reference_words' is 0");
  return m;
}

AsrChannel::AsrChannel(AsrErrorModel model, std::vector<std::string> vocabulary)
    : model_(std::move(model)), vocabulary_(std::move(vocabulary)) {
  std::sort(vocabulary_.begin(), vocabulary_.end());
  vocabulary_.erase(std::unique(vocabulary_.begin(), vocabulary_.end()), vocabulary_.end());
  uint64_t total = 0;
  for (const auto& [word, count] : model_.inserted) inserted_.emplace_back(word, total += count);
}

double AsrChannel::factor(const std::string& voice, const std::string& snr) const {
  const auto v = model_.voice_factor.find(voice);
  if (v == model_.voice_factor.end()) throw std::invalid_argument("asr error model: no factor for voice '" + voice + "'");
  const auto s = model_.snr_factor.find(snr);
  if (s == model_.snr_factor.end()) throw std::invalid_argument("asr error model: no factor for noise '" + snr + "' dB");
  return v->second * s->second;
}

const ConfidenceModel& AsrChannel::confidence(const std::string& snr) const {
  const auto c = model_.confidence.find(snr);
  if (c == model_.confidence.end()) throw std::invalid_argument("asr error model: no confidence for noise '" + snr + "' dB");
  return c->second;
}

std::string AsrChannel::nearest(const std::string& word) const {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  uint64_t best_tie = 0;
  for (const auto& candidate : vocabulary_) {
    if (candidate == word) continue;
    const size_t gap = candidate.size() > word.size() ? candidate.size() - word.size() : word.size() - candidate.size();
    if (gap > 2 || gap > best_distance) continue;
    const size_t distance = levenshtein(word, candidate);
    const uint64_t tie = stable_hash(word + "\x1f" + candidate);
    if (distance < best_distance || (distance == best_distance && tie < best_tie))
      best = candidate, best_distance = distance, best_tie = tie;
  }
  // A word with no near neighbour (long, rare) is lost rather than turned
  // into something unrelated.
  return best_distance <= std::max<size_t>(1, word.size() / 2) ? best : std::string();
}

std::string AsrChannel::misheard(const std::string& word, Rng& rng) const {
  if (const auto c = model_.confusions.find(word); c != model_.confusions.end()) {
    uint64_t total = 0;
    for (const auto& [heard, count] : c->second) total += count;
    uint64_t pick = rng.below(total);
    for (const auto& [heard, count] : c->second) {
      if (pick < count) return heard;
      pick -= count;
    }
  }
  return nearest(word);
}

Heard AsrChannel::hear(std::string_view said, const std::string& voice, const std::string& snr, Rng& rng) const {
  const double f = factor(voice, snr);
  const ConfidenceModel& confidence_model = confidence(snr);
  const double p_sub = std::min(0.9, f * model_.rate(model_.substitutions));
  const double p_del = std::min(0.9, f * model_.rate(model_.deletions));
  const double p_ins = std::min(0.9, f * model_.rate(model_.insertions));
  Heard out;
  std::vector<std::string> words;
  for (const auto& w : tokenize(said)) {
    const double u = rng.uniform();
    if (u < p_del) {
      ++out.errors;
    } else if (u < p_del + p_sub) {
      std::string heard = misheard(w, rng);
      ++out.errors;
      if (!heard.empty()) words.push_back(std::move(heard));
    } else {
      words.push_back(w);
    }
    if (!inserted_.empty() && rng.chance(p_ins)) {
      const uint64_t pick = rng.below(inserted_.back().second);
      words.push_back(std::upper_bound(inserted_.begin(), inserted_.end(), pick,
                                       [](uint64_t p, const auto& e) { return p < e.second; })
                          ->first);
      ++out.errors;
    }
  }
  out.text = language::join(words);
  // What the real recogniser reported for hypotheses with as many errors
  // (confidence_model.hpp), drawn after the words so that the words a
  // seed gives are the same as before the confidence was estimated.
  out.confidence = confidence_model.draw(out.errors, rng.uniform());
  return out;
}

}  // namespace cascade::sim
