// checker.cpp — the learned isolator's second opinion (checker.hpp).
//
// The shape of the work:
//   load:  read the TRAIN file; index its requests (TF-IDF, L2-normalised);
//   check: per request, the nearest TRAIN requests, a few microseconds:
//          scratch lives in thread_local buffers, so a turn allocates little.
#include "checker.hpp"

#include "common/words.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace cascade::learned {
namespace {

using analyzers::split_words;

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kNeighbours = 5;

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;
uint64_t fnv(uint64_t h, std::string_view s) {
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
  return h;
}
uint64_t fnv(std::string_view s) { return fnv(kFnvOffset, s); }

// The hashes of a request's TF-IDF features, one per occurrence: words
// ("w" + word) and word pairs ("b" + w1 + " " + w2). Character trigrams
// were tried as well (an ASR slip keeps most of a word's trigrams): no
// better on the cross-validation, and their long postings lists doubled
// the isolator's cost per turn.
void feature_hashes(std::string_view text, std::vector<uint64_t>& out) {
  out.clear();
  const auto ws = split_words(text);
  for (size_t i = 0; i < ws.size(); ++i) {
    out.push_back(fnv(fnv("w"), ws[i]));
    if (i + 1 < ws.size()) out.push_back(fnv(fnv(fnv(fnv("b"), ws[i]), " "), ws[i + 1]));
  }
  std::sort(out.begin(), out.end());
}

}  // namespace

RequestChecker::RequestChecker() = default;
RequestChecker::~RequestChecker() = default;

std::unique_ptr<RequestChecker> RequestChecker::load(const std::string& train_path) {
  std::ifstream in(train_path);
  if (!in) throw std::runtime_error("TRAIN requests '" + train_path + "' cannot be read");
  std::vector<std::pair<std::string, std::string>> examples;  // intent, text
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    if (!line.starts_with("__label__") || space == std::string::npos)
      throw std::runtime_error("TRAIN requests '" + train_path + "':" + std::to_string(number) +
                               ": not \"__label__<intent> <text>\"");
    examples.emplace_back(line.substr(9, space - 9), line.substr(space + 1));
  }
  if (examples.empty()) throw std::runtime_error("TRAIN requests '" + train_path + "' hold no request");
  std::unique_ptr<RequestChecker> c(new RequestChecker());
  c->index(examples);
  return c;
}

void RequestChecker::index(const std::vector<std::pair<std::string, std::string>>& examples) {
  // Nearest neighbours: document frequencies, then each request's
  // normalised TF-IDF vector into the postings.
  std::vector<uint64_t> hashes;
  std::unordered_map<uint64_t, uint32_t> df;
  for (const auto& [intent, text] : examples) {
    feature_hashes(text, hashes);
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    for (const uint64_t h : hashes) ++df[h];
  }
  const double n = static_cast<double>(examples.size());
  for (const auto& [h, count] : df) features_[h].idf = static_cast<float>(std::log((n + 1) / (count + 1)) + 1);
  unseen_idf_ = static_cast<float>(std::log(n + 1) + 1);
  for (uint32_t doc = 0; doc < examples.size(); ++doc) {
    const auto& [intent, text] = examples[doc];
    const auto [it, added] = intent_id_.emplace(intent, static_cast<uint32_t>(intent_id_.size()));
    doc_intent_.push_back(it->second);
    feature_hashes(text, hashes);
    std::vector<std::pair<uint64_t, double>> weights;
    for (size_t i = 0; i < hashes.size();) {
      size_t j = i;
      while (j < hashes.size() && hashes[j] == hashes[i]) ++j;
      weights.emplace_back(hashes[i], static_cast<double>(j - i) * features_[hashes[i]].idf);
      i = j;
    }
    double norm = 0;
    for (const auto& [h, w] : weights) norm += w * w;
    norm = std::sqrt(norm);
    for (const auto& [h, w] : weights) features_[h].postings.emplace_back(doc, static_cast<float>(w / norm));
  }

}

CheckerOpinion RequestChecker::check(std::string_view text, std::string_view intent) const {
  CheckerOpinion o{kMissing, kMissing, kMissing};
  if (split_words(text).empty()) return o;
  nearest(text, intent, o);
  return o;
}

void RequestChecker::nearest(std::string_view text, std::string_view intent, CheckerOpinion& o) const {
  thread_local std::vector<uint64_t> hashes;
  thread_local std::vector<float> scores;
  feature_hashes(text, hashes);
  scores.assign(doc_intent_.size(), 0.0f);
  // The postings walk is the lookup's whole cost: a plain multiply-add per
  // posting, the best requests found afterwards by one pass over all.
  double norm = 0;
  for (size_t i = 0; i < hashes.size();) {
    size_t j = i;
    while (j < hashes.size() && hashes[j] == hashes[i]) ++j;
    const auto f = features_.find(hashes[i]);
    const float w = static_cast<float>(j - i) * (f != features_.end() ? f->second.idf : unseen_idf_);
    norm += static_cast<double>(w) * w;
    if (f != features_.end())
      for (const auto& [doc, dw] : f->second.postings) scores[doc] += w * dw;
    i = j;
  }
  // The kNeighbours best, best first (ties: the earlier request).
  std::array<uint32_t, kNeighbours> best{};
  size_t found = 0;
  for (uint32_t doc = 0; doc < scores.size(); ++doc) {
    if (scores[doc] <= 0.0f || (found == kNeighbours && scores[doc] <= scores[best[found - 1]])) continue;
    size_t at = found < kNeighbours ? found++ : kNeighbours - 1;
    for (; at > 0 && scores[best[at - 1]] < scores[doc]; --at) best[at] = best[at - 1];
    best[at] = doc;
  }
  if (found == 0 || norm == 0) {
    o.knn_similarity = 0;
    o.knn_agrees = 0;
    o.knn_intent_share = 0;
    return;
  }
  const auto it = intent_id_.find(std::string(intent));
  const int64_t want = it != intent_id_.end() ? it->second : -1;
  double all = 0, same = 0;
  for (size_t i = 0; i < found; ++i) {
    all += scores[best[i]];
    same += doc_intent_[best[i]] == want ? scores[best[i]] : 0.0;
  }
  o.knn_similarity = scores[best[0]] / std::sqrt(norm);
  o.knn_agrees = doc_intent_[best[0]] == want ? 1.0 : 0.0;
  o.knn_intent_share = same / all;
}

}  // namespace cascade::learned
